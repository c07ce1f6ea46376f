/*
Copyright 2026 The hookrun Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers

import (
	"context"
	"fmt"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// jobWatcher watches a namespace's Jobs for the whole test and remembers the
// largest number of unfinished Jobs ever seen at once in one group, and the
// order Jobs were created in. It checks the invariant at every observed
// moment, not only at the end.
type jobWatcher struct {
	mu        sync.Mutex
	active    map[string]map[string]bool // group label -> job names
	maxActive int
	created   []string
	stop      func()
}

func watchJobs(t *testing.T, ns string) *jobWatcher {
	t.Helper()
	wc, err := client.NewWithWatch(testCfg, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatalf("watch client: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := wc.Watch(ctx, &batchv1.JobList{}, client.InNamespace(ns))
	if err != nil {
		cancel()
		t.Fatalf("watch Jobs: %v", err)
	}
	jw := &jobWatcher{active: map[string]map[string]bool{}}
	done := make(chan struct{})
	jw.stop = func() { cancel(); w.Stop(); <-done }
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			job, ok := ev.Object.(*batchv1.Job)
			if !ok {
				continue
			}
			jw.observe(ev.Type, job)
		}
	}()
	t.Cleanup(jw.stop)
	return jw
}

func (jw *jobWatcher) observe(typ watch.EventType, job *batchv1.Job) {
	jw.mu.Lock()
	defer jw.mu.Unlock()
	group := job.Labels[hooksv1alpha1.LabelGroup]
	if jw.active[group] == nil {
		jw.active[group] = map[string]bool{}
	}
	if typ == watch.Added {
		jw.created = append(jw.created, job.Name)
	}
	running := typ != watch.Deleted && job.DeletionTimestamp == nil && !outcomeOf(job).phase.IsFinished()
	if running {
		jw.active[group][job.Name] = true
	} else {
		delete(jw.active[group], job.Name)
	}
	if n := len(jw.active[group]); n > jw.maxActive {
		jw.maxActive = n
	}
}

func (jw *jobWatcher) max() int {
	jw.mu.Lock()
	defer jw.mu.Unlock()
	return jw.maxActive
}

func (jw *jobWatcher) order() []string {
	jw.mu.Lock()
	defer jw.mu.Unlock()
	return append([]string(nil), jw.created...)
}

// jobNames lists the namespace's Jobs that are not being deleted.
func jobNames(g Gomega, ns string) []string {
	jobs := &batchv1.JobList{}
	g.Expect(k8sClient.List(context.Background(), jobs, client.InNamespace(ns))).To(Succeed())
	var names []string
	for _, j := range jobs.Items {
		if j.DeletionTimestamp == nil {
			names = append(names, j.Name)
		}
	}
	return names
}

// runJobToCompletion starts and completes a run's Job as the job controller would.
func runJobToCompletion(t *testing.T, ns, name string) {
	t.Helper()
	waitForJob(t, ns, name)
	updateJobStatus(t, ns, name, jobStarted)
	updateJobStatus(t, ns, name, jobCompleted)
	waitForPhase(t, ns, name, hooksv1alpha1.PhaseSucceeded)
}

// startPolicyTest starts a manager in a fresh namespace, watches its Jobs
// and creates the template "site" with the given concurrency.
func startPolicyTest(t *testing.T, c hooksv1alpha1.ConcurrencySpec) (*WithT, string, *jobWatcher) {
	t.Helper()
	needEnvtest(t)
	t.Parallel()
	ns := newNamespace(t)
	jobs := watchJobs(t, ns)
	startManager(t, ns, setupAll)
	create(t, templateWithPolicy(ns, c))
	return NewWithT(t), ns, jobs
}

// updateTemplate changes a template's spec, retrying on conflicts.
func updateTemplate(t *testing.T, tmpl *hooksv1alpha1.HookTemplate, mutate func(*hooksv1alpha1.HookTemplate)) {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		current := &hooksv1alpha1.HookTemplate{}
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(tmpl), current); err != nil {
			return err
		}
		mutate(current)
		return k8sClient.Update(context.Background(), current)
	}, timeout, poll).Should(Succeed())
}

func templateWithPolicy(ns string, c hooksv1alpha1.ConcurrencySpec) *hooksv1alpha1.HookTemplate {
	tmpl := newTemplate(ns, "site")
	tmpl.Spec.Concurrency = c
	return tmpl
}

// createRuns creates runs q-1 … q-n "at once" (delivery order = name order).
func createRuns(t *testing.T, ns string, n int) []string {
	t.Helper()
	var names []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("site-q%02d", i) // names sort in delivery order
		create(t, newRun(ns, "site", name))
		names = append(names, name)
	}
	return names
}

func TestQueueRunsOneAtATimeInOrder(t *testing.T) {
	g, ns, jobs := startPolicyTest(t, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue})
	runs := createRuns(t, ns, 4)

	for i, name := range runs {
		waitForJob(t, ns, name)
		// Everyone behind is Queued with its position.
		for j, behind := range runs[i+1:] {
			g.Eventually(func(g Gomega) {
				got := getRun(g, ns, behind)
				g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseQueued))
				g.Expect(got.Status.QueuePosition).To(Equal(int32(j+1)), "position of %s", behind)
			}, timeout, poll).Should(Succeed())
		}
		g.Expect(jobNames(g, ns)).To(HaveLen(i + 1))
		runJobToCompletion(t, ns, name)
	}
	g.Expect(jobs.order()).To(Equal(runs), "Jobs start in delivery order")
	g.Expect(jobs.max()).To(Equal(1), "never more than one active Job in the group")
}

// A deep queue shows exact positions for its first queuePositionWindow
// runs only; a run that moves into the window gets its position.
func TestQueuePositionWindow(t *testing.T) {
	g, ns, jobs := startPolicyTest(t, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue})
	runs := createRuns(t, ns, queuePositionWindow+3)
	expectPositions := func(waiting []string) {
		t.Helper()
		for i, name := range waiting {
			want := int32(i + 1)
			if i >= queuePositionWindow {
				want = 0
			}
			g.Eventually(func(g Gomega) {
				got := getRun(g, ns, name)
				g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseQueued))
				g.Expect(got.Status.QueuePosition).To(Equal(want), "position of %s", name)
				if want == 0 {
					g.Expect(got.Status.Message).To(ContainSubstring(fmt.Sprintf("more than %d runs ahead", queuePositionWindow)))
				}
			}, timeout, poll).Should(Succeed())
		}
	}

	waitForJob(t, ns, runs[0])
	expectPositions(runs[1:])
	runJobToCompletion(t, ns, runs[0])
	waitForJob(t, ns, runs[1])
	expectPositions(runs[2:]) // the first run beyond the window moved into it
	g.Expect(jobs.order()).To(Equal(runs[:2]))
}

func TestQueueMaxRunning(t *testing.T) {
	g, ns, jobs := startPolicyTest(t, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, MaxRunning: ptr.To[int32](2)})
	runs := createRuns(t, ns, 5)

	g.Eventually(func(g Gomega) { g.Expect(jobNames(g, ns)).To(ConsistOf(runs[0], runs[1])) }, timeout, poll).Should(Succeed())
	waitForPhase(t, ns, runs[2], hooksv1alpha1.PhaseQueued)
	runJobToCompletion(t, ns, runs[0])
	g.Eventually(func(g Gomega) { g.Expect(jobNames(g, ns)).To(ContainElement(runs[2])) }, timeout, poll).Should(Succeed())
	for _, name := range runs[1:] {
		runJobToCompletion(t, ns, name)
	}
	g.Expect(jobs.max()).To(Equal(2))
}

func TestForbidSkipsRunsThatArriveWhileOneIsActive(t *testing.T) {
	g, ns, jobs := startPolicyTest(t, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyForbid})
	runs := createRuns(t, ns, 3)

	waitForJob(t, ns, runs[0])
	for _, name := range runs[1:] {
		got := waitForPhase(t, ns, name, hooksv1alpha1.PhaseSkipped)
		g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonConcurrentRunActive))
		g.Expect(got.Status.JobName).To(BeEmpty())
	}
	runJobToCompletion(t, ns, runs[0])
	// Once nothing runs, a new delivery starts.
	create(t, newRun(ns, "site", "site-later"))
	runJobToCompletion(t, ns, "site-later")
	g.Expect(jobs.order()).To(Equal([]string{runs[0], "site-later"}))
	g.Expect(jobs.max()).To(Equal(1))
}

func TestReplaceCancelsTheActiveRun(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	create(t, templateWithPolicy(ns, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyReplace}))
	create(t, newRun(ns, "site", "site-old"))
	oldJob := waitForJob(t, ns, "site-old")
	updateJobStatus(t, ns, "site-old", jobStarted)
	waitForPhase(t, ns, "site-old", hooksv1alpha1.PhaseRunning)

	create(t, newRun(ns, "site", "site-new"))
	got := waitForPhase(t, ns, "site-old", hooksv1alpha1.PhaseCancelled)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonSuperseded))
	g.Expect(got.Status.Message).To(ContainSubstring("site-new"))
	g.Eventually(func() bool {
		current := &batchv1.Job{}
		err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(oldJob), current)
		return isNotFound(err) || current.DeletionTimestamp != nil
	}, timeout, poll).Should(BeTrue(), "the superseded Job is being deleted")
	runJobToCompletion(t, ns, "site-new")
	// The old run stays Cancelled: its own reconcile did not turn it into JobDeleted.
	g.Expect(getRun(g, ns, "site-old").Status.Reason).To(Equal(hooksv1alpha1.ReasonSuperseded))
}

func TestQueueLatestSkipsSupersededRuns(t *testing.T) {
	g, ns, jobs := startPolicyTest(t, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Pending: hooksv1alpha1.PendingLatest})
	create(t, newRun(ns, "site", "site-q0"))
	waitForJob(t, ns, "site-q0")
	updateJobStatus(t, ns, "site-q0", jobStarted)
	runs := createRuns(t, ns, 3)
	for _, name := range runs {
		waitForPhase(t, ns, name, hooksv1alpha1.PhaseQueued)
	}
	g.Eventually(func(g Gomega) {
		g.Expect(getRun(g, ns, runs[2]).Status.QueuePosition).To(Equal(int32(1)), "the newest starts next")
	}, timeout, poll).Should(Succeed())

	updateJobStatus(t, ns, "site-q0", jobCompleted)
	runJobToCompletion(t, ns, runs[2])
	for _, name := range runs[:2] {
		got := waitForPhase(t, ns, name, hooksv1alpha1.PhaseSkipped)
		g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonSuperseded))
	}
	g.Expect(jobs.order()).To(Equal([]string{"site-q0", runs[2]}))
	g.Expect(jobs.max()).To(Equal(1))
}

func TestGroupsRunIndependently(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	create(t, templateWithPolicy(ns, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Group: "$(HOOK_REF)"}))
	main1, main2, dev := newRun(ns, "site", "site-main1"), newRun(ns, "site", "site-main2"), newRun(ns, "site", "site-dev")
	dev.Spec.Delivery.Ref = "refs/heads/dev"
	create(t, main1)
	create(t, main2)
	create(t, dev)

	g.Eventually(func(g Gomega) { g.Expect(jobNames(g, ns)).To(ConsistOf("site-main1", "site-dev")) }, timeout, poll).Should(Succeed())
	waitForPhase(t, ns, "site-main2", hooksv1alpha1.PhaseQueued)
	runJobToCompletion(t, ns, "site-main1")
	runJobToCompletion(t, ns, "site-main2")
	runJobToCompletion(t, ns, "site-dev")
}

func TestQueueSurvivesManagerRestart(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	jobs := watchJobs(t, ns)
	first := startManager(t, ns, setupAll)
	create(t, templateWithPolicy(ns, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue}))
	runs := createRuns(t, ns, 3)
	waitForJob(t, ns, runs[0])
	waitForPhase(t, ns, runs[2], hooksv1alpha1.PhaseQueued)
	first.stop()

	updateJobStatus(t, ns, runs[0], jobStarted)
	updateJobStatus(t, ns, runs[0], jobCompleted)
	startManager(t, ns, setupAll)
	waitForPhase(t, ns, runs[0], hooksv1alpha1.PhaseSucceeded)
	runJobToCompletion(t, ns, runs[1])
	runJobToCompletion(t, ns, runs[2])
	g.Expect(jobs.order()).To(Equal(runs))
	g.Expect(jobs.max()).To(Equal(1))
}

func TestSuspendRecordsRunsAndResumesInOrder(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	jobs := watchJobs(t, ns)
	startManager(t, ns, setupAll)
	tmpl := templateWithPolicy(ns, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue})
	tmpl.Spec.Suspend = true
	create(t, tmpl)
	runs := createRuns(t, ns, 2)
	for i, name := range runs {
		got := waitForPhase(t, ns, name, hooksv1alpha1.PhaseQueued)
		g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonTemplateSuspended))
		g.Eventually(func(g Gomega) {
			g.Expect(getRun(g, ns, name).Status.QueuePosition).To(Equal(int32(i + 1)))
		}, timeout, poll).Should(Succeed())
	}
	g.Expect(jobNames(g, ns)).To(BeEmpty())

	updateTemplate(t, tmpl, func(h *hooksv1alpha1.HookTemplate) { h.Spec.Suspend = false })
	runJobToCompletion(t, ns, runs[0])
	runJobToCompletion(t, ns, runs[1])
	g.Expect(jobs.order()).To(Equal(runs))
}

func TestCancelQueuedRunLeavesTheQueue(t *testing.T) {
	g, ns, jobs := startPolicyTest(t, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue})
	runs := createRuns(t, ns, 3)
	waitForJob(t, ns, runs[0])
	waitForPhase(t, ns, runs[2], hooksv1alpha1.PhaseQueued)

	cancelRun(t, ns, runs[1])
	got := waitForPhase(t, ns, runs[1], hooksv1alpha1.PhaseCancelled)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonCancelledByUser))
	g.Eventually(func(g Gomega) {
		g.Expect(getRun(g, ns, runs[2]).Status.QueuePosition).To(Equal(int32(1)))
	}, timeout, poll).Should(Succeed())
	runJobToCompletion(t, ns, runs[0])
	runJobToCompletion(t, ns, runs[2])
	g.Expect(jobs.order()).To(Equal([]string{runs[0], runs[2]}))
}

func TestHistoryDeletesTheOldestFinishedRuns(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	tmpl := templateWithPolicy(ns, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyAllow})
	tmpl.Spec.History = hooksv1alpha1.HistorySpec{Succeeded: ptr.To[int32](2), Failed: ptr.To[int32](1)}
	create(t, tmpl)
	runs := createRuns(t, ns, 4)
	for _, name := range runs {
		runJobToCompletion(t, ns, name)
	}
	failedRuns := []string{"site-f1", "site-f2"}
	for _, name := range failedRuns {
		create(t, newRun(ns, "site", name))
		waitForJob(t, ns, name)
		updateJobStatus(t, ns, name, jobStarted)
		updateJobStatus(t, ns, name, jobFailed(batchv1.JobReasonBackoffLimitExceeded, "failed"))
		waitForPhase(t, ns, name, hooksv1alpha1.PhaseFailed)
	}
	g.Eventually(func(g Gomega) {
		list := &hooksv1alpha1.HookRunList{}
		g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
		var names []string
		for _, r := range list.Items {
			if r.DeletionTimestamp == nil {
				names = append(names, r.Name)
			}
		}
		g.Expect(names).To(ConsistOf(runs[2], runs[3], "site-f2"))
	}, timeout, poll).Should(Succeed())
}

func TestTemplateStatus(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	tmpl := newTemplate(ns, "site")
	create(t, tmpl)
	readyIs := func(status metav1.ConditionStatus, reason string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			got := &hooksv1alpha1.HookTemplate{}
			g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
			cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(status))
			g.Expect(cond.Reason).To(Equal(reason))
			g.Expect(cond.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(got.Status.WebhookPath).To(Equal("/hooks/" + ns + "/site"))
		}, timeout, poll).Should(Succeed())
	}
	readyIs(metav1.ConditionFalse, hooksv1alpha1.ReasonSecretNotFound)

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-webhook", Namespace: ns}, Data: map[string][]byte{"other": []byte("x")}}
	create(t, secret)
	readyIs(metav1.ConditionFalse, hooksv1alpha1.ReasonSecretKeyMissing)

	secret.Data = map[string][]byte{"secret": []byte("s3cr3t-value")}
	g.Expect(k8sClient.Update(context.Background(), secret)).To(Succeed())
	readyIs(metav1.ConditionTrue, hooksv1alpha1.ReasonReady)

	updateTemplate(t, tmpl, func(h *hooksv1alpha1.HookTemplate) {
		h.Spec.Params = []hooksv1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name"}}
	})
	readyIs(metav1.ConditionFalse, hooksv1alpha1.ReasonInvalidParam)

	updateTemplate(t, tmpl, func(h *hooksv1alpha1.HookTemplate) { h.Spec.Params = nil })
	readyIs(metav1.ConditionTrue, hooksv1alpha1.ReasonReady)

	g.Expect(k8sClient.Delete(context.Background(), secret)).To(Succeed())
	readyIs(metav1.ConditionFalse, hooksv1alpha1.ReasonSecretNotFound)

	// Runs show up in the template's status.
	runs := createRuns(t, ns, 2)
	g.Eventually(func(g Gomega) {
		got := &hooksv1alpha1.HookTemplate{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
		g.Expect(got.Status.LastRun).NotTo(BeNil())
		g.Expect(got.Status.LastRun.Name).To(Equal(runs[1]))
		g.Expect(got.Status.LastRun.Phase).To(Equal(hooksv1alpha1.PhaseQueued))
		g.Expect(got.Status.ActiveRuns).To(Equal(int32(1)))
		g.Expect(got.Status.QueuedRuns).To(Equal(int32(1)))
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(eventReasons(g, ns, "site")).To(ContainElements(hooksv1alpha1.ReasonSecretNotFound, hooksv1alpha1.ReasonReady))
	}, timeout, poll).Should(Succeed())
}

// A template is judged again when a Secret it reads only for reporting
// appears or changes, not on its own next event (the e2e suite creates the
// report Secret just before the template: a manager whose cache had not yet
// seen it stayed ReportCredentialsNotFound).
func TestTemplateReadyWhenItsReportSecretAppears(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-webhook", Namespace: ns}, Data: map[string][]byte{"secret": []byte("s3cr3t-value")}})
	tmpl := newTemplate(ns, "site")
	tmpl.Spec.Report = &hooksv1alpha1.ReportSpec{
		Provider:       hooksv1alpha1.ReportGitea,
		URL:            "https://gitea.example.org",
		CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: "gitea-api"},
	}
	create(t, tmpl)
	readyIs := func(status metav1.ConditionStatus, reason string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			got := &hooksv1alpha1.HookTemplate{}
			g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
			cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(status))
			g.Expect(cond.Reason).To(Equal(reason))
		}, timeout, poll).Should(Succeed())
	}
	readyIs(metav1.ConditionFalse, hooksv1alpha1.ReasonReportCredentialsNotFound)

	report := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gitea-api", Namespace: ns}, Data: map[string][]byte{"token": []byte("t0ken-value")}}
	create(t, report)
	readyIs(metav1.ConditionTrue, hooksv1alpha1.ReasonReady)

	g.Expect(k8sClient.Delete(context.Background(), report)).To(Succeed())
	readyIs(metav1.ConditionFalse, hooksv1alpha1.ReasonReportCredentialsNotFound)
}
