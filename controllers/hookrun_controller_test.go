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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func TestRunCreatesJob(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	tmpl := newTemplate(ns, "site")
	create(t, tmpl)
	run := newRun(ns, "site", "site-aaaa000001")
	run.Spec.Params = map[string]string{"PUSHER": "$(whoami); rm -rf /"}
	create(t, run)

	job := waitForJob(t, ns, run.Name)
	g.Expect(metav1.IsControlledBy(job, run)).To(BeTrue(), "Job is controlled by its HookRun")
	g.Expect(job.Labels).To(HaveKeyWithValue(hooksv1alpha1.LabelTemplate, "site"))
	g.Expect(job.Labels).To(HaveKeyWithValue(hooksv1alpha1.LabelRun, run.Name))
	g.Expect(job.Spec.BackoffLimit).To(Equal(ptr.To[int32](1)))
	g.Expect(job.Spec.ActiveDeadlineSeconds).To(Equal(ptr.To[int64](300)))
	pod := job.Spec.Template.Spec
	g.Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
	g.Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	g.Expect(c.Name).To(Equal("run"))
	g.Expect(c.Command).To(Equal([]string{"/bin/sh", "-c", "echo deploying $HOOK_SHA"}))
	g.Expect(c.TerminationMessagePolicy).To(Equal(corev1.TerminationMessageFallbackToLogsOnError))
	g.Expect(c.Env).To(ContainElements(
		corev1.EnvVar{Name: "HOOK_RUN", Value: run.Name},
		corev1.EnvVar{Name: "HOOK_TEMPLATE", Value: "site"},
		corev1.EnvVar{Name: "HOOK_BRANCH", Value: "main"},
		corev1.EnvVar{Name: "HOOK_SHA", Value: run.Spec.Delivery.SHA},
		corev1.EnvVar{Name: "PUSHER", Value: "$$(whoami); rm -rf /"},
	))

	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(got.Status.JobName).To(Equal(job.Name))
		g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhasePending))
		g.Expect(got.Status.ShortSHA).To(Equal("0123456"))
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionSucceeded)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionUnknown))
		g.Expect(cond.ObservedGeneration).To(Equal(got.Generation))
		// A run is labelled with and owned by its template.
		g.Expect(got.Labels).To(HaveKeyWithValue(hooksv1alpha1.LabelTemplate, "site"))
		g.Expect(metav1.IsControlledBy(got, tmpl)).To(BeTrue())
	}, timeout, poll).Should(Succeed())
}

func TestRunMirrorsJobUntilSucceeded(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	create(t, newTemplate(ns, "site"))
	run := newRun(ns, "site", "site-aaaa000002")
	create(t, run)
	waitForJob(t, ns, run.Name)

	updateJobStatus(t, ns, run.Name, jobStarted)
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseRunning)
	g.Expect(got.Status.Attempts).To(Equal(int32(1)))
	g.Expect(got.Status.StartTime).NotTo(BeNil())

	updateJobStatus(t, ns, run.Name, jobRetried)
	g.Eventually(func(g Gomega) {
		g.Expect(getRun(g, ns, run.Name).Status.Attempts).To(Equal(int32(2)))
	}, timeout, poll).Should(Succeed())

	updateJobStatus(t, ns, run.Name, jobCompleted)
	got = waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseSucceeded)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonCompleted))
	g.Expect(got.Status.Attempts).To(Equal(int32(2)))
	g.Expect(got.Status.ExitCode).To(Equal(ptr.To[int32](0)), "a complete Job's last attempt exited 0")
	g.Expect(got.Status.StartTime).NotTo(BeNil())
	g.Expect(got.Status.CompletionTime).NotTo(BeNil())
	g.Expect(got.Status.CompletionTime.Before(got.Status.StartTime)).To(BeFalse())
	cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionSucceeded)
	g.Expect(cond).NotTo(BeNil())
	g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(cond.ObservedGeneration).To(Equal(got.Generation))

	g.Eventually(func(g Gomega) {
		g.Expect(eventReasons(g, ns, run.Name)).To(ContainElements(
			hooksv1alpha1.EventJobCreated, hooksv1alpha1.EventRunStarted, hooksv1alpha1.EventRunSucceeded))
	}, timeout, poll).Should(Succeed())
}

func TestRunFailedWithExitCodeAndOutput(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	create(t, newTemplate(ns, "site"))
	run := newRun(ns, "site", "site-aaaa000003")
	create(t, run)
	waitForJob(t, ns, run.Name)

	updateJobStatus(t, ns, run.Name, jobStarted)
	firstExit := time.Now()
	createTerminatedPod(t, ns, run.Name, run.Name+"-1", firstExit, 1, "first attempt\n")
	updateJobStatus(t, ns, run.Name, jobRetried)
	createTerminatedPod(t, ns, run.Name, run.Name+"-2", firstExit.Add(10*time.Second), 3, "cloning…\nerror: deploy.sh failed\n")
	updateJobStatus(t, ns, run.Name, jobFailed(batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"))

	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal("BackoffLimitExceeded"))
	g.Expect(got.Status.Attempts).To(Equal(int32(2)))
	g.Expect(got.Status.ExitCode).To(Equal(ptr.To[int32](3)))
	g.Expect(got.Status.Message).To(Equal("cloning…\nerror: deploy.sh failed\n"))
	g.Expect(got.Status.CompletionTime).NotTo(BeNil())
	cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionSucceeded)
	g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(cond.Reason).To(Equal("BackoffLimitExceeded"))
	g.Eventually(func(g Gomega) {
		g.Expect(eventReasons(g, ns, run.Name)).To(ContainElement(hooksv1alpha1.EventRunFailed))
	}, timeout, poll).Should(Succeed())
}

func TestRunDeadlineExceeded(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	create(t, newTemplate(ns, "site"))
	run := newRun(ns, "site", "site-aaaa000004")
	create(t, run)
	waitForJob(t, ns, run.Name)
	updateJobStatus(t, ns, run.Name, jobStarted)
	updateJobStatus(t, ns, run.Name, jobFailed(batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline"))

	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal("DeadlineExceeded"))
	g.Expect(got.Status.Message).To(Equal("Job was active longer than specified deadline"))
	g.Expect(got.Status.ExitCode).To(BeNil())
}

func TestJobDeletedByHandFailsRunAndIsNotRecreated(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	create(t, newTemplate(ns, "site"))
	run := newRun(ns, "site", "site-aaaa000005")
	create(t, run)
	job := waitForJob(t, ns, run.Name)
	updateJobStatus(t, ns, run.Name, jobStarted)
	waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseRunning)

	g.Expect(k8sClient.Delete(context.Background(), job)).To(Succeed())
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonJobDeleted))
	// envtest has no garbage collector, so the deleted Job may linger with
	// its orphan finalizer; what must never appear is a new Job.
	g.Consistently(func() bool {
		current := &batchv1.Job{}
		err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(job), current)
		return isNotFound(err) || (current.UID == job.UID && current.DeletionTimestamp != nil)
	}, "1s", poll).Should(BeTrue(), "the Job must not be recreated")
}

func TestTemplateNotFound(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	run := newRun(ns, "missing", "missing-aaaa000006")
	create(t, run)

	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonTemplateNotFound))
	g.Expect(got.Status.Message).To(ContainSubstring("missing"))
	g.Expect(got.Status.JobName).To(BeEmpty())
	jobs := &batchv1.JobList{}
	g.Expect(k8sClient.List(context.Background(), jobs, client.InNamespace(ns))).To(Succeed())
	g.Expect(jobs.Items).To(BeEmpty())
}

func TestManagerRestartKeepsOneJob(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	first := startManager(t, ns, setupRunReconciler)
	create(t, newTemplate(ns, "site"))
	run := newRun(ns, "site", "site-aaaa000007")
	create(t, run)
	waitForJob(t, ns, run.Name)
	waitForPhase(t, ns, run.Name, hooksv1alpha1.PhasePending)
	first.stop()

	// The worst case for a restart: the Job was created but the status
	// patch that records it was lost.
	lost := getRun(g, ns, run.Name)
	patch := client.MergeFrom(lost.DeepCopy())
	lost.Status = hooksv1alpha1.HookRunStatus{}
	g.Expect(k8sClient.Status().Patch(context.Background(), lost, patch)).To(Succeed())
	g.Expect(getRun(g, ns, run.Name).Status.JobName).To(BeEmpty())

	startManager(t, ns, setupRunReconciler)
	g.Eventually(func(g Gomega) {
		g.Expect(getRun(g, ns, run.Name).Status.JobName).To(Equal(run.Name))
	}, timeout, poll).Should(Succeed())
	updateJobStatus(t, ns, run.Name, jobStarted)
	updateJobStatus(t, ns, run.Name, jobCompleted)
	waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseSucceeded)

	jobs := &batchv1.JobList{}
	g.Expect(k8sClient.List(context.Background(), jobs, client.InNamespace(ns))).To(Succeed())
	g.Expect(jobs.Items).To(HaveLen(1), "exactly one Job across a manager restart")
}

func TestCancelStopsJob(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	create(t, newTemplate(ns, "site"))
	run := newRun(ns, "site", "site-aaaa000008")
	create(t, run)
	job := waitForJob(t, ns, run.Name)
	updateJobStatus(t, ns, run.Name, jobStarted)
	waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseRunning)

	cancelRun(t, ns, run.Name)
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseCancelled)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonCancelledByUser))
	// Foreground deletion: envtest has no garbage collector to finish it, so
	// the Job is either gone or marked for deletion.
	g.Eventually(func() bool {
		current := &batchv1.Job{}
		err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(job), current)
		return isNotFound(err) || current.DeletionTimestamp != nil
	}, timeout, poll).Should(BeTrue())
}

func cancelRun(t *testing.T, ns, name string) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func() error {
		run := &hooksv1alpha1.HookRun{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, run); err != nil {
			return err
		}
		run.Spec.Cancel = true
		return k8sClient.Update(context.Background(), run)
	}, timeout, poll).Should(Succeed())
}

func TestInvalidTemplatesAreRefused(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	ns := newNamespace(t)
	tests := []struct {
		name    string
		mutate  func(*hooksv1alpha1.HookTemplate)
		message string
	}{
		{name: "empty shell", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Run.Shell = "" }, message: "spec.run.shell"},
		{name: "blank shell", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Run.Shell = "  \n" }, message: "run.shell must not be blank"},
		{name: "negative retries", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Run.Retries = ptr.To[int32](-1) }, message: "spec.run.retries"},
		{name: "zero timeout", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Run.TimeoutSeconds = ptr.To[int64](0) }, message: "spec.run.timeoutSeconds"},
		{name: "unknown provider", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Source.Provider = "svn" }, message: "spec.source.provider"},
		{name: "unknown concurrency policy", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Concurrency.Policy = "Sometimes" }, message: "spec.concurrency.policy"},
		{name: "no image", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Run.Image = "" }, message: "run.image is required"},
		{name: "podTemplate without containers and no image", mutate: func(h *hooksv1alpha1.HookTemplate) {
			h.Spec.Run.Image = ""
			h.Spec.Run.PodTemplate = &corev1.PodTemplateSpec{Spec: corev1.PodSpec{HostNetwork: true}}
		}, message: "run.image is required"},
		{name: "param in the reserved HOOK_ namespace", mutate: func(h *hooksv1alpha1.HookTemplate) {
			h.Spec.Params = []hooksv1alpha1.ParamSpec{{Name: "HOOK_REF", Path: "{.ref}"}}
		}, message: "reserved"},
		{name: "param that is not an env var name", mutate: func(h *hooksv1alpha1.HookTemplate) {
			h.Spec.Params = []hooksv1alpha1.ParamSpec{{Name: "my-var", Path: "{.ref}"}}
		}, message: "spec.params[0].name"},
		{name: "pending Latest without Queue", mutate: func(h *hooksv1alpha1.HookTemplate) {
			h.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyAllow, Pending: hooksv1alpha1.PendingLatest}
		}, message: "Latest only applies to policy Queue"},
		// With a key, so that the Go client sends secretRef (an all-zero
		// secretRef is omitted: then the source has neither form).
		{name: "no secret name", mutate: func(h *hooksv1alpha1.HookTemplate) {
			h.Spec.Source.SecretRef = hooksv1alpha1.SecretKeyRef{Key: "secret"}
		}, message: "spec.source.secretRef.name"},
		{name: "no secretRef", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Spec.Source.SecretRef = hooksv1alpha1.SecretKeyRef{} },
			message: "source needs either provider and secretRef, or sourceRef"},
		{name: "negative run.nodes.maxParallel", mutate: func(h *hooksv1alpha1.HookTemplate) {
			h.Spec.Run.Nodes = &hooksv1alpha1.NodesSpec{MaxParallel: ptr.To[int32](-1)}
		}, message: "run.nodes.maxParallel must be 0 (every node at once) or more"},
		{name: "name longer than a label value", mutate: func(h *hooksv1alpha1.HookTemplate) { h.Name = strings.Repeat("a", 64) }, message: "at most 63 characters"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := newTemplate(ns, "bad-"+string(rune('a'+i)))
			tt.mutate(tmpl)
			err := k8sClient.Create(context.Background(), tmpl)
			if err == nil {
				t.Fatalf("the API server accepted an invalid template")
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not mention %q", err, tt.message)
			}
		})
	}
}

func TestTemplateDefaults(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	tmpl := newTemplate(ns, "defaults")
	tmpl.Spec.Run.Retries = nil
	create(t, tmpl)
	got := &hooksv1alpha1.HookTemplate{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
	g.Expect(got.Spec.Concurrency.Policy).To(Equal(hooksv1alpha1.ConcurrencyQueue))
	g.Expect(got.Spec.Concurrency.Pending).To(Equal(hooksv1alpha1.PendingAll))
	g.Expect(got.Spec.Concurrency.MaxRunning).To(Equal(ptr.To[int32](1)))
	g.Expect(got.Spec.History.Succeeded).To(Equal(ptr.To[int32](10)))
	g.Expect(got.Spec.History.Failed).To(Equal(ptr.To[int32](20)))
	g.Expect(got.Spec.Run.Retries).To(Equal(ptr.To[int32](0)))
	g.Expect(got.Spec.Source.SecretRef.Key).To(Equal("secret"))
}

func TestRunSpecIsImmutableButCancel(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	run := newRun(ns, "site", "site-immutable")
	create(t, run)

	changed := getRun(g, ns, run.Name)
	changed.Spec.Delivery.Ref = "refs/heads/other"
	err := k8sClient.Update(context.Background(), changed)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.delivery is immutable"))

	changed = getRun(g, ns, run.Name)
	changed.Spec.TemplateRef.Name = "other"
	err = k8sClient.Update(context.Background(), changed)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.templateRef is immutable"))

	cancelRun(t, ns, run.Name)
	undo := getRun(g, ns, run.Name)
	undo.Spec.Cancel = false
	err = k8sClient.Update(context.Background(), undo)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.cancel cannot be undone"))
}
