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
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
	"github.com/hookrun/hookrun/webhookserver"
)

// gitRemote is a bare repository served by `git daemon` on 127.0.0.1, and
// a working copy that pushes to it.
type gitRemote struct {
	t    *testing.T
	bare string
	work string
	url  string
	n    int
}

func newGitRemote(t *testing.T) *gitRemote {
	t.Helper()
	root := t.TempDir()
	r := &gitRemote{t: t, bare: filepath.Join(root, "git", "site.git"), work: filepath.Join(root, "work")}
	for _, dir := range []string{r.bare, r.work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.git(r.bare, "init", "--bare", "--initial-branch=main")
	r.git(r.work, "init", "--initial-branch=main")
	r.commit("main")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	base := filepath.Join(root, "git")
	cmd := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
		fmt.Sprintf("--port=%d", port), "--base-path="+base, base)
	if err := cmd.Start(); err != nil {
		t.Fatalf("git daemon: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r.url = fmt.Sprintf("git://127.0.0.1:%d/site.git", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := ListRemoteRefs(ctx, r.url, nil)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("git daemon does not serve %s: %v", r.url, err)
		}
		time.Sleep(50 * time.Millisecond) // polling the daemon's start-up, with a deadline
	}
	return r
}

func (r *gitRemote) git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@hookrun.invalid"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit makes a commit on branch and pushes it; it returns its sha.
func (r *gitRemote) commit(branch string) string {
	r.t.Helper()
	r.n++
	if r.n > 1 {
		r.git(r.work, "checkout", "-q", "-B", branch)
	}
	if err := os.WriteFile(filepath.Join(r.work, "f.txt"), []byte(fmt.Sprintf("%d\n", r.n)), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git(r.work, "add", ".")
	r.git(r.work, "commit", "-q", "-m", fmt.Sprintf("change %d", r.n))
	r.git(r.work, "push", "-q", "-f", r.bare, branch)
	return r.git(r.work, "rev-parse", "HEAD")
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

const pollTestKey = "poll-test-webhook-key"

// pollTemplate is a GitHub template with poll.url = remote and its webhook
// Secret.
func pollTemplate(t *testing.T, ns, name, remote string, refs ...string) *hooksv1alpha1.HookTemplate {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-webhook", Namespace: ns},
		Data:       map[string][]byte{hooksv1alpha1.DefaultSecretKey: []byte(pollTestKey)},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatalf("create Secret: %v", err)
	}
	tmpl := newTemplate(ns, name)
	tmpl.Spec.Match.Refs = refs
	tmpl.Spec.Poll = &hooksv1alpha1.PollSpec{URL: remote, Interval: metav1.Duration{Duration: time.Minute}}
	if err := k8sClient.Create(ctx, tmpl); err != nil {
		t.Fatalf("create HookTemplate: %v", err)
	}
	return tmpl
}

func newPoller(clock *fakeClock) (*PollReconciler, *events.FakeRecorder) {
	rec := events.NewFakeRecorder(100)
	return &PollReconciler{Client: k8sClient, Recorder: rec, Now: clock.now, ListTimeout: 10 * time.Second}, rec
}

func reconcileTemplate(t *testing.T, r *PollReconciler, tmpl *hooksv1alpha1.HookTemplate) reconcile.Result {
	t.Helper()
	res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(tmpl)})
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return res
}

func runsOf(t *testing.T, ns string) []hooksv1alpha1.HookRun {
	t.Helper()
	var list hooksv1alpha1.HookRunList
	if err := k8sClient.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("list runs: %v", err)
	}
	return list.Items
}

func runNames(runs []hooksv1alpha1.HookRun) []string {
	names := make([]string, 0, len(runs))
	for _, r := range runs {
		names = append(names, r.Name)
	}
	return names
}

func getTemplate(t *testing.T, tmpl *hooksv1alpha1.HookTemplate) *hooksv1alpha1.HookTemplate {
	t.Helper()
	got := &hooksv1alpha1.HookTemplate{}
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got); err != nil {
		t.Fatalf("get template: %v", err)
	}
	return got
}

// deliverGitHubPush sends a signed GitHub push through the real webhook
// handler and returns the HTTP status.
func deliverGitHubPush(t *testing.T, srv http.Handler, tmpl *hooksv1alpha1.HookTemplate, id, ref, before, after string) int {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"ref":%q,"before":%q,"after":%q,"created":false,"deleted":false,"forced":false,
"repository":{"name":"site","full_name":"acme/site","clone_url":"https://example.invalid/acme/site.git","owner":{"login":"acme","name":"acme"}},
"pusher":{"name":"dev","email":"dev@hookrun.invalid"},"sender":{"login":"dev"},
"head_commit":{"id":%q,"message":"change"}}`, ref, before, after, after))
	mac := hmac.New(sha256.New, []byte(pollTestKey))
	mac.Write(body)
	req := httptest.NewRequest(http.MethodPost, "/hooks/"+tmpl.Namespace+"/"+tmpl.Name, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w.Code
}

// TestPollRunsEachPushOnce: the first listing only records; a push to a
// matching ref makes one run with the poll delivery; a push to another ref
// makes none; a push delivered both by webhook and by polling, in either
// order, runs once.
func TestPollRunsEachPushOnce(t *testing.T) {
	needEnvtest(t)
	ctx := context.Background()
	ns := newNamespace(t)
	remote := newGitRemote(t)
	tmpl := pollTemplate(t, ns, "site", remote.url, "refs/heads/main")
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	poller, _ := newPoller(clock)

	first := remote.git(remote.work, "rev-parse", "HEAD")
	res := reconcileTemplate(t, poller, tmpl)
	if res.RequeueAfter != time.Minute {
		t.Errorf("requeue after the first listing = %v, want the interval 1m", res.RequeueAfter)
	}
	if runs := runsOf(t, ns); len(runs) != 0 {
		t.Fatalf("the first listing made runs %v; it only records", runNames(runs))
	}
	st := getTemplate(t, tmpl).Status.Poll
	if st == nil || st.Error != "" || st.Time == nil {
		t.Fatalf("status.poll after the first listing = %+v", st)
	}
	if diff := cmp.Diff([]hooksv1alpha1.PolledRef{{Ref: "refs/heads/main", SHA: first}}, st.Refs); diff != "" {
		t.Errorf("status.poll.refs (-want +got):\n%s", diff)
	}

	second := remote.commit("main")
	remote.commit("other") // match.refs does not allow it
	remote.git(remote.work, "checkout", "-q", "main")

	clock.advance(30 * time.Second)
	res = reconcileTemplate(t, poller, tmpl)
	if runs := runsOf(t, ns); len(runs) != 0 {
		t.Fatalf("a listing before the interval was up made runs %v", runNames(runs))
	}
	if res.RequeueAfter != 30*time.Second {
		t.Errorf("requeue before the interval is up = %v, want 30s", res.RequeueAfter)
	}

	clock.advance(30 * time.Second)
	reconcileTemplate(t, poller, tmpl)
	runs := runsOf(t, ns)
	if len(runs) != 1 {
		t.Fatalf("runs after a push to main = %v, want exactly one", runNames(runs))
	}
	wantName := delivery.PushRunName("site", "refs/heads/main", second)
	if runs[0].Name != wantName {
		t.Errorf("run name = %s, want %s", runs[0].Name, wantName)
	}
	want := hooksv1alpha1.Delivery{
		ID: "poll/refs/heads/main/" + second, Provider: hooksv1alpha1.ProviderGitHub, Event: "push",
		Repository: "site", Ref: "refs/heads/main", SHA: second, Before: first,
		Sender: "hookrun-poll", CloneURL: remote.url,
	}
	if diff := cmp.Diff(want, runs[0].Spec.Delivery, cmpopts.IgnoreFields(hooksv1alpha1.Delivery{}, "ReceivedAt")); diff != "" {
		t.Errorf("poll delivery (-want +got):\n%s", diff)
	}
	if !metav1.IsControlledBy(&runs[0], getTemplate(t, tmpl)) {
		t.Errorf("the run is not controlled by its template")
	}

	// Nothing moved: nothing new.
	clock.advance(time.Minute)
	reconcileTemplate(t, poller, tmpl)
	if runs := runsOf(t, ns); len(runs) != 1 {
		t.Fatalf("runs after a listing with no change = %v", runNames(runs))
	}

	// Webhook first, then the poll: one run.
	srv := webhookserver.New(k8sClient, k8sClient, k8sClient.Scheme(), webhookserver.Options{})
	third := remote.commit("main")
	if code := deliverGitHubPush(t, srv, tmpl, "gh-1", "refs/heads/main", second, third); code != http.StatusAccepted {
		t.Fatalf("webhook delivery answered %d, want 202", code)
	}
	clock.advance(time.Minute)
	reconcileTemplate(t, poller, tmpl)
	runs = runsOf(t, ns)
	if len(runs) != 2 {
		t.Fatalf("runs after a webhook and a poll of the same push = %v, want 2 in all", runNames(runs))
	}
	webhookRun := &hooksv1alpha1.HookRun{}
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: delivery.PushRunName("site", "refs/heads/main", third)}, webhookRun); err != nil {
		t.Fatalf("the push's run: %v", err)
	}
	if webhookRun.Spec.Delivery.ID != "gh-1" {
		t.Errorf("the run of the push has delivery %q, want the webhook's gh-1", webhookRun.Spec.Delivery.ID)
	}

	// Poll first, then the webhook: one run, the webhook answers 200.
	fourth := remote.commit("main")
	clock.advance(time.Minute)
	reconcileTemplate(t, poller, tmpl)
	if code := deliverGitHubPush(t, srv, tmpl, "gh-2", "refs/heads/main", third, fourth); code != http.StatusOK {
		t.Errorf("a webhook delivery of a polled push answered %d, want 200 (duplicate)", code)
	}
	runs = runsOf(t, ns)
	if len(runs) != 3 {
		t.Fatalf("runs = %v, want 3 (one per push)", runNames(runs))
	}
	if got := getTemplate(t, tmpl).Status.Poll.Refs; !cmp.Equal(got, []hooksv1alpha1.PolledRef{{Ref: "refs/heads/main", SHA: fourth}}) {
		t.Errorf("status.poll.refs = %+v, want main at %s", got, fourth)
	}
}

// TestPollErrorIsRecordedWithoutSecrets: an unreachable remote sets
// status.poll.error and an Event, makes no run, waits an interval, and
// neither holds the credentials.
func TestPollErrorIsRecordedWithoutSecrets(t *testing.T) {
	needEnvtest(t)
	ctx := context.Background()
	ns := newNamespace(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	const password = "hunter2-very-secret-token"
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "git-creds", Namespace: ns},
		Data:       map[string][]byte{"username": []byte("deploy"), "password": []byte(password)},
	}
	if err := k8sClient.Create(ctx, creds); err != nil {
		t.Fatal(err)
	}
	tmpl := pollTemplate(t, ns, "down", fmt.Sprintf("http://deploy:%s@127.0.0.1:%d/acme/site.git", password, port))
	tmpl.Spec.Poll.CredentialsRef = &hooksv1alpha1.LocalObjectRef{Name: "git-creds"}
	if err := k8sClient.Update(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	poller, rec := newPoller(clock)
	res := reconcileTemplate(t, poller, tmpl)
	if res.RequeueAfter != time.Minute {
		t.Errorf("requeue after a failed listing = %v, want one interval (no hot loop)", res.RequeueAfter)
	}
	st := getTemplate(t, tmpl).Status.Poll
	if st == nil || st.Error == "" {
		t.Fatalf("status.poll = %+v, want an error", st)
	}
	if strings.Contains(st.Error, password) {
		t.Errorf("status.poll.error holds the password: %s", st.Error)
	}
	if !strings.Contains(st.Error, "list refs of http://127.0.0.1") {
		t.Errorf("status.poll.error = %q, want it to say which remote failed", st.Error)
	}
	select {
	case ev := <-rec.Events:
		if !strings.Contains(ev, hooksv1alpha1.ReasonPollFailed) || strings.Contains(ev, password) {
			t.Errorf("event = %q", ev)
		}
	default:
		t.Errorf("no Event for the failed listing")
	}
	if runs := runsOf(t, ns); len(runs) != 0 {
		t.Errorf("a failed listing made runs %v", runNames(runs))
	}

	// A missing credentials Secret is a clear error too.
	tmpl = getTemplate(t, tmpl)
	tmpl.Spec.Poll.CredentialsRef.Name = "nope"
	if err := k8sClient.Update(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	reconcileTemplate(t, poller, tmpl)
	if got := getTemplate(t, tmpl).Status.Poll.Error; got != `poll.credentialsRef: Secret "nope" not found` {
		t.Errorf("status.poll.error = %q", got)
	}
}

// TestPollIntervalValidation: the API refuses an interval under 1m with a
// readable message.
func TestPollIntervalValidation(t *testing.T) {
	needEnvtest(t)
	ns := newNamespace(t)
	tmpl := newTemplate(ns, "fast")
	tmpl.Spec.Poll = &hooksv1alpha1.PollSpec{URL: "https://github.com/acme/site.git", Interval: metav1.Duration{Duration: 30 * time.Second}}
	err := k8sClient.Create(context.Background(), tmpl)
	if err == nil || !strings.Contains(err.Error(), "poll.interval must be at least 1m") {
		t.Errorf("create with interval 30s: %v, want the 1m minimum", err)
	}
	tmpl.Spec.Poll = &hooksv1alpha1.PollSpec{URL: "not a url", Interval: metav1.Duration{Duration: time.Minute}}
	err = k8sClient.Create(context.Background(), tmpl)
	if err == nil || !strings.Contains(err.Error(), "poll.url must be a git remote") {
		t.Errorf("create with url %q: %v", tmpl.Spec.Poll.URL, err)
	}
}

// TestScheduleRunsTheLatestTick: one run per tick, named after the tick,
// with the ref's sha looked up through poll.url; after downtime only the
// latest missed tick runs, and one past the starting deadline none.
func TestScheduleRunsTheLatestTick(t *testing.T) {
	needEnvtest(t)
	ns := newNamespace(t)
	remote := newGitRemote(t)
	head := remote.git(remote.work, "rev-parse", "HEAD")
	tmpl := pollTemplate(t, ns, "nightly", remote.url, "refs/heads/main")
	tmpl.Spec.Schedule = &hooksv1alpha1.ScheduleSpec{Cron: "*/5 * * * *", TimeZone: "Europe/Berlin", Ref: "refs/heads/main", StartingDeadlineSeconds: ptr.To[int64](120)}
	if err := k8sClient.Update(context.Background(), tmpl); err != nil {
		t.Fatal(err)
	}
	created := getTemplate(t, tmpl).CreationTimestamp.Time
	firstTick := created.Truncate(5 * time.Minute).Add(5 * time.Minute)
	clock := &fakeClock{t: firstTick.Add(10 * time.Second)}
	poller, _ := newPoller(clock)

	reconcileTemplate(t, poller, tmpl)
	runs := runsOf(t, ns)
	if len(runs) != 1 || runs[0].Name != delivery.ScheduleRunName("nightly", firstTick) {
		t.Fatalf("runs after the first tick = %v, want %s", runNames(runs), delivery.ScheduleRunName("nightly", firstTick))
	}
	want := hooksv1alpha1.Delivery{
		ID: "schedule/" + firstTick.UTC().Format(time.RFC3339), Provider: hooksv1alpha1.ProviderGitHub, Event: "schedule",
		Repository: "site", Ref: "refs/heads/main", SHA: head, Sender: "hookrun-schedule", CloneURL: remote.url,
	}
	if diff := cmp.Diff(want, runs[0].Spec.Delivery, cmpopts.IgnoreFields(hooksv1alpha1.Delivery{}, "ReceivedAt")); diff != "" {
		t.Errorf("schedule delivery (-want +got):\n%s", diff)
	}
	if got := getTemplate(t, tmpl).Status.LastScheduleTime; got == nil || !got.Time.Equal(firstTick) {
		t.Errorf("status.lastScheduleTime = %v, want %v", got, firstTick)
	}

	// Again at the same moment: nothing new.
	reconcileTemplate(t, poller, tmpl)
	if runs := runsOf(t, ns); len(runs) != 1 {
		t.Fatalf("a second reconcile of the same tick made runs: %v", runNames(runs))
	}

	// Down for an hour: twelve ticks missed, only the latest runs.
	clock.advance(time.Hour)
	latest := firstTick.Add(time.Hour)
	reconcileTemplate(t, poller, tmpl)
	runs = runsOf(t, ns)
	if len(runs) != 2 {
		t.Fatalf("runs after an hour's downtime = %v, want the first and the latest tick's", runNames(runs))
	}
	if _, err := getRunNamed(ns, delivery.ScheduleRunName("nightly", latest)); err != nil {
		t.Errorf("the latest tick's run: %v", err)
	}

	// Down past the starting deadline: the missed tick does not run.
	clock.advance(time.Hour + 3*time.Minute) // 3m10s after the latest tick; deadline 2m
	reconcileTemplate(t, poller, tmpl)
	if runs := runsOf(t, ns); len(runs) != 2 {
		t.Errorf("a tick past its starting deadline ran: %v", runNames(runs))
	}
	if got := getTemplate(t, tmpl).Status.LastScheduleTime; got == nil || !got.Time.Equal(latest.Add(time.Hour)) {
		t.Errorf("status.lastScheduleTime = %v, want the missed tick %v", got, latest.Add(time.Hour))
	}
}

func getRunNamed(ns, name string) (*hooksv1alpha1.HookRun, error) {
	run := &hooksv1alpha1.HookRun{}
	return run, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, run)
}
