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
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// fakeGitea is a Gitea commit status API: it checks every request's shape,
// answers from a script of failures, and records what it accepted.
type fakeGitea struct {
	t     *testing.T
	token string
	srv   *httptest.Server

	mu       sync.Mutex
	raw      []string         // every request body, accepted or not
	accepted []map[string]any // bodies answered 201, in order
	answer   func(body map[string]any, n int) (int, http.Header)
}

func newFakeGitea(t *testing.T, token string, answer func(body map[string]any, n int) (int, http.Header)) *fakeGitea {
	f := &fakeGitea{t: t, token: token, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitea) serve(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var body map[string]any
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raw = append(f.raw, string(data)+" "+r.URL.String()+" "+strings.Join(r.Header.Values("Authorization"), ","))
	switch {
	case r.Method != http.MethodPost || r.URL.EscapedPath() != "/api/v1/repos/acme/site/statuses/0123456789abcdef0123456789abcdef01234567":
		f.t.Errorf("request %s %s", r.Method, r.URL.EscapedPath())
	case r.Header.Get("Authorization") != "token "+f.token:
		f.t.Errorf("Authorization %q", r.Header.Get("Authorization"))
	case json.Unmarshal(data, &body) != nil:
		f.t.Errorf("body %q", data)
	}
	code, h := http.StatusCreated, http.Header(nil)
	if f.answer != nil {
		code, h = f.answer(body, len(f.raw))
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(code)
	if code == http.StatusCreated {
		f.accepted = append(f.accepted, body)
	}
	_, _ = w.Write([]byte(`{"message":"echo ` + f.token + `"}`))
}

// states lists "state:description" of the accepted requests.
func (f *fakeGitea) states() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.accepted {
		out = append(out, b["state"].(string)+":"+b["description"].(string))
	}
	return out
}

func (f *fakeGitea) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.raw...)
}

// reportTemplate is a Gitea template reporting to host with token.
func reportTemplate(t *testing.T, ns string, host *fakeGitea) *hooksv1alpha1.HookTemplate {
	t.Helper()
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-git", Namespace: ns}, Data: map[string][]byte{"token": []byte(host.token)}})
	tmpl := newTemplate(ns, "site")
	tmpl.Spec.Source.Provider = hooksv1alpha1.ProviderGitea
	tmpl.Spec.Report = &hooksv1alpha1.ReportSpec{
		URL:            host.srv.URL,
		CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: "site-git"},
		TargetURL:      "https://logs.example.com/?run=$(HOOK_RUN)",
	}
	return tmpl
}

// setupWithReporter wires the run reconciler and the reporter, with a short
// back-off so that retries take milliseconds.
func setupWithReporter(mgr ctrl.Manager) error {
	if err := setupRunReconciler(mgr); err != nil {
		return err
	}
	return (&ReportReconciler{
		Client:    mgr.GetClient(),
		Recorder:  mgr.GetEventRecorder("hookrun"),
		RetryBase: 10 * time.Millisecond,
		RetryMax:  2 * time.Second,
	}).SetupWithManager(mgr)
}

func reportedCondition(run *hooksv1alpha1.HookRun) *metav1.Condition {
	return meta.FindStatusCondition(run.Status.Conditions, hooksv1alpha1.ConditionReported)
}

// TestReportAcrossRetriesAndRestart: a run's states reach the host across a
// 429 with Retry-After and a 502, and a manager restart between Running and
// Succeeded still delivers the final state exactly once.
func TestReportAcrossRetriesAndRestart(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	failedRunning := false
	host := newFakeGitea(t, "gitea-token-1", func(body map[string]any, n int) (int, http.Header) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
		}
		if strings.HasPrefix(body["description"].(string), "Running") && !failedRunning {
			failedRunning = true
			return http.StatusBadGateway, nil
		}
		return http.StatusCreated, nil
	})
	create(t, reportTemplate(t, ns, host))
	mgr := startManager(t, ns, setupWithReporter)
	run := newRun(ns, "site", "site-aaaa000001")
	create(t, run)
	waitForJob(t, ns, run.Name)
	updateJobStatus(t, ns, run.Name, jobStarted)
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(got.Status.Report).NotTo(BeNil())
		g.Expect(got.Status.Report.Phase).To(Equal(hooksv1alpha1.PhaseRunning))
		g.Expect(got.Status.Report.State).To(Equal("pending"))
		g.Expect(got.Status.Report.Attempts).To(Equal(int32(2)), "the 502, then the accepted request")
	}, timeout, poll).Should(Succeed())

	mgr.stop()
	updateJobStatus(t, ns, run.Name, jobCompleted)
	startManager(t, ns, setupWithReporter)
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded))
		g.Expect(got.Status.Report).NotTo(BeNil())
		g.Expect(got.Status.Report.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded))
		g.Expect(got.Status.Report.State).To(Equal("success"))
		g.Expect(reportedCondition(got)).NotTo(BeNil())
		g.Expect(reportedCondition(got).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, poll).Should(Succeed())
	// A later reconcile sends nothing more: poll a while for a second success.
	g.Consistently(func() []string { return host.states() }, time.Second, poll).Should(HaveLen(len(host.states())))

	states := host.states()
	g.Expect(states[len(states)-1]).To(HavePrefix("success:Succeeded"))
	success := 0
	for i, s := range states {
		if strings.HasPrefix(s, "success") {
			success++
		}
		if i > 0 && strings.HasPrefix(states[i-1], "success") {
			t.Errorf("a state after success: %v", states)
		}
	}
	g.Expect(success).To(Equal(1), "states %v", states)
	g.Expect(states).To(ContainElement("pending:Running"))
	g.Expect(host.accepted[0]["context"]).To(Equal("hookrun/" + ns + "/site"))
	g.Expect(host.accepted[0]["target_url"]).To(Equal("https://logs.example.com/?run=" + run.Name))
}

// TestReportRedactsASecretTheRunPrints: a run prints its Secrets; neither
// its status, its Events, nor what the host receives contain them.
func TestReportRedactsASecretTheRunPrints(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	host := newFakeGitea(t, "report-token-2", nil)
	const envSecret, volSecret = "db-password-s3cr3t", "ssh-key-material"
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns}, Data: map[string][]byte{"password": []byte(envSecret)}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ssh", Namespace: ns}, Data: map[string][]byte{"id": []byte(volSecret)}})
	tmpl := reportTemplate(t, ns, host)
	tmpl.Spec.Run.Env = []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}}}
	tmpl.Spec.Run.PodTemplate = &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: hooksv1alpha1.RunContainerName}},
		Volumes:    []corev1.Volume{{Name: "ssh", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "ssh"}}}},
	}}
	create(t, tmpl)
	startManager(t, ns, setupWithReporter)
	run := newRun(ns, "site", "site-aaaa000002")
	create(t, run)
	waitForJob(t, ns, run.Name)
	updateJobStatus(t, ns, run.Name, jobStarted)
	output := "connecting with " + envSecret + "\nkey " + volSecret + "\ntoken " + host.token + "\nerror: deploy failed\n"
	createTerminatedPod(t, ns, run.Name, run.Name+"-1", time.Now(), 3, output)
	updateJobStatus(t, ns, run.Name, jobFailed("BackoffLimitExceeded", "Job has reached the specified backoff limit"))

	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Message).To(ContainSubstring("connecting with [redacted]\nkey [redacted]\ntoken [redacted]\nerror: deploy failed"))
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(got.Status.Report).NotTo(BeNil())
		g.Expect(got.Status.Report.State).To(Equal("failure"))
	}, timeout, poll).Should(Succeed())
	g.Expect(host.states()).To(ContainElement("failure:Failed: exit code 3 (BackoffLimitExceeded)"))

	status, err := json.Marshal(getRun(g, ns, run.Name).Status)
	g.Expect(err).NotTo(HaveOccurred())
	events := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), events, client.InNamespace(ns))).To(Succeed())
	eventText, err := json.Marshal(events.Items)
	g.Expect(err).NotTo(HaveOccurred())
	hostText := strings.Join(host.requests(), "\n")
	for _, secret := range []string{envSecret, volSecret} {
		g.Expect(string(status)).NotTo(ContainSubstring(secret))
		g.Expect(string(eventText)).NotTo(ContainSubstring(secret))
		g.Expect(hostText).NotTo(ContainSubstring(secret))
	}
	g.Expect(string(status)).NotTo(ContainSubstring(host.token))
	g.Expect(string(eventText)).NotTo(ContainSubstring(host.token))
}

// TestReportRejected: a 401 ends in Reported=False/ReportRejected with an
// Event that names neither the token nor the host's answer, and is not
// retried; a run without a commit is not reported at all.
func TestReportRejected(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	host := newFakeGitea(t, "bad-token-3", func(map[string]any, int) (int, http.Header) { return http.StatusUnauthorized, nil })
	create(t, reportTemplate(t, ns, host))
	startManager(t, ns, setupWithReporter)
	run := newRun(ns, "site", "site-aaaa000003")
	create(t, run)
	noCommit := newRun(ns, "site", "site-aaaa000004")
	noCommit.Spec.Delivery.SHA = "0000000000000000000000000000000000000000"
	create(t, noCommit)

	g.Eventually(func(g Gomega) {
		c := reportedCondition(getRun(g, ns, run.Name))
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(hooksv1alpha1.ReasonReportRejected))
		g.Expect(c.Message).To(ContainSubstring("401"))
		g.Expect(eventReasons(g, ns, run.Name)).To(ContainElement(hooksv1alpha1.EventReportFailed))
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		c := reportedCondition(getRun(g, ns, noCommit.Name))
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(hooksv1alpha1.ReasonNoCommit))
	}, timeout, poll).Should(Succeed())
	n := len(host.requests())
	g.Consistently(func() int { return len(host.requests()) }, time.Second, poll).Should(Equal(n), "a rejected phase is not retried")
	events := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), events, client.InNamespace(ns))).To(Succeed())
	text, _ := json.Marshal(events.Items)
	g.Expect(string(text)).NotTo(ContainSubstring(host.token))
	g.Expect(string(text)).NotTo(ContainSubstring("echo"), "the host's answer never reaches an Event")
}

// TestReportSupersededRun: a run skipped as Superseded in a Queue Latest
// group shows error on its commit; the newest run shows success.
func TestReportSupersededRun(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	host := newFakeGitea(t, "gitea-token-4", nil)
	tmpl := reportTemplate(t, ns, host)
	tmpl.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Pending: hooksv1alpha1.PendingLatest}
	create(t, tmpl)
	startManager(t, ns, setupWithReporter)
	create(t, newRun(ns, "site", "site-q00"))
	waitForJob(t, ns, "site-q00")
	updateJobStatus(t, ns, "site-q00", jobStarted)
	runs := createRuns(t, ns, 2)
	waitForPhase(t, ns, runs[0], hooksv1alpha1.PhaseQueued)
	waitForPhase(t, ns, runs[1], hooksv1alpha1.PhaseQueued)
	updateJobStatus(t, ns, "site-q00", jobCompleted)
	runJobToCompletion(t, ns, runs[1])
	waitForPhase(t, ns, runs[0], hooksv1alpha1.PhaseSkipped)
	for name, state := range map[string]string{runs[0]: "error", runs[1]: "success", "site-q00": "success"} {
		g.Eventually(func(g Gomega) {
			got := getRun(g, ns, name)
			g.Expect(got.Status.Report).NotTo(BeNil())
			g.Expect(got.Status.Report.State).To(Equal(state), name)
		}, timeout, poll).Should(Succeed())
	}
	g.Expect(host.states()).To(ContainElement("error:Skipped (Superseded)"))
}
