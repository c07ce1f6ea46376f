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
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
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
	"github.com/hookrun/hookrun/internal/gittest"
	"github.com/hookrun/hookrun/webhookserver"
)

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
	remote := gittest.New(t)
	tmpl := pollTemplate(t, ns, "site", remote.URL, "refs/heads/main")
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	poller, _ := newPoller(clock)

	first := remote.Git(remote.Work, "rev-parse", "HEAD")
	jitter := pollJitter(tmpl.UID, time.Minute)
	res := reconcileTemplate(t, poller, tmpl)
	if res.RequeueAfter != time.Minute-jitter {
		t.Errorf("requeue after the first listing = %v, want the interval 1m less the jitter %v", res.RequeueAfter, jitter)
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

	second := remote.Commit("main")
	remote.Commit("other") // match.refs does not allow it
	remote.Git(remote.Work, "checkout", "-q", "main")

	clock.advance(30 * time.Second)
	res = reconcileTemplate(t, poller, tmpl)
	if runs := runsOf(t, ns); len(runs) != 0 {
		t.Fatalf("a listing before the interval was up made runs %v", runNames(runs))
	}
	if res.RequeueAfter != 30*time.Second-jitter {
		t.Errorf("requeue before the interval is up = %v, want 30s less the jitter %v", res.RequeueAfter, jitter)
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
		Sender: "hookrun-poll", CloneURL: remote.URL,
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
	third := remote.Commit("main")
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
	fourth := remote.Commit("main")
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
// status.poll.error and an Event, makes no run, and neither holds the
// credentials; the next tries back off (1, 2, 4, 8, then 10 intervals, less
// the template's jitter), a reconcile before the next try is due lists
// nothing, and a spec change is listed at once.
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
	jitter := pollJitter(tmpl.UID, time.Minute)
	for i, backoff := range []time.Duration{1, 2, 4, 8, 10, 10} {
		failures := int32(i + 1)
		want := backoff*time.Minute - jitter
		res := reconcileTemplate(t, poller, tmpl)
		if res.RequeueAfter != want {
			t.Errorf("failure %d: requeue after %v, want %v (back-off less the jitter)", failures, res.RequeueAfter, want)
		}
		st := getTemplate(t, tmpl).Status.Poll
		if st == nil || st.Error == "" || st.ConsecutiveFailures != failures {
			t.Fatalf("failure %d: status.poll = %+v, want an error and consecutiveFailures %d", failures, st, failures)
		}
		if strings.Contains(st.Error, password) {
			t.Errorf("status.poll.error holds the password: %s", st.Error)
		}
		if !strings.Contains(st.Error, "list refs of http://127.0.0.1") {
			t.Errorf("status.poll.error = %q, want it to say which remote failed", st.Error)
		}
		select {
		case ev := <-rec.Events:
			if !strings.Contains(ev, hooksv1alpha1.ReasonPollFailed) || strings.Contains(ev, password) ||
				!strings.Contains(ev, fmt.Sprintf("failure %d in a row", failures)) {
				t.Errorf("event = %q", ev)
			}
		default:
			t.Errorf("failure %d: no Event", failures)
		}
		// Just before the next try is due (the listing's time, to the
		// second, plus the wait): no listing, no Event, the remaining time
		// is the requeue.
		due := st.Time.Add(want)
		clock.t = due.Add(-time.Second)
		if res := reconcileTemplate(t, poller, tmpl); res.RequeueAfter != time.Second {
			t.Errorf("failure %d: a reconcile before the next try requeues after %v, want 1s", failures, res.RequeueAfter)
		}
		if got := getTemplate(t, tmpl).Status.Poll; !got.Time.Equal(st.Time) || got.ConsecutiveFailures != failures {
			t.Errorf("failure %d: a reconcile before the next try listed: %+v", failures, got)
		}
		if len(rec.Events) != 0 {
			t.Errorf("failure %d: a reconcile before the next try recorded %q", failures, <-rec.Events)
		}
		clock.t = due
	}
	if runs := runsOf(t, ns); len(runs) != 0 {
		t.Errorf("failed listings made runs %v", runNames(runs))
	}

	// A changed spec is listed at once, whatever the back-off; a missing
	// credentials Secret is a clear error too.
	tmpl = getTemplate(t, tmpl)
	tmpl.Spec.Poll.CredentialsRef.Name = "nope"
	if err := k8sClient.Update(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	reconcileTemplate(t, poller, tmpl)
	if got := getTemplate(t, tmpl).Status.Poll; got.Error != `poll.credentialsRef: Secret "nope" not found` || got.ConsecutiveFailures != 7 {
		t.Errorf("status.poll = %+v, want the missing Secret as the 7th failure", got)
	}
}

// TestPollFailuresResetOnSuccess: after failed listings the next success
// resets consecutiveFailures and the error, and the wait is one interval
// again; the first successful listing still only records.
func TestPollFailuresResetOnSuccess(t *testing.T) {
	needEnvtest(t)
	ns := newNamespace(t)
	remote := gittest.New(t)
	tmpl := pollTemplate(t, ns, "flaky", remote.URL, "refs/heads/main")
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	poller, _ := newPoller(clock)
	down := true
	poller.ListRefs = func(ctx context.Context, url string, auth transport.AuthMethod) (map[string]string, error) {
		if down {
			return nil, errors.New("connection refused")
		}
		return ListRemoteRefs(ctx, url, auth)
	}
	jitter := pollJitter(tmpl.UID, time.Minute)
	reconcileTemplate(t, poller, tmpl)
	clock.advance(time.Minute)
	if res := reconcileTemplate(t, poller, tmpl); res.RequeueAfter != 2*time.Minute-jitter {
		t.Errorf("requeue after two failures = %v, want 2m less the jitter", res.RequeueAfter)
	}
	down = false
	clock.advance(2 * time.Minute)
	if res := reconcileTemplate(t, poller, tmpl); res.RequeueAfter != time.Minute-jitter {
		t.Errorf("requeue after a success = %v, want one interval less the jitter", res.RequeueAfter)
	}
	st := getTemplate(t, tmpl).Status.Poll
	if st.Error != "" || st.ConsecutiveFailures != 0 || len(st.Refs) != 1 {
		t.Errorf("status.poll after a success = %+v, want no error, no failures, main recorded", st)
	}
	if runs := runsOf(t, ns); len(runs) != 0 {
		t.Errorf("the first successful listing made runs %v; it only records", runNames(runs))
	}
}

// TestPollFirstPushToAnEmptyRepositoryRuns: a listing that finds no
// matching ref is recorded as such (status.poll.refs: []), so the first
// push after it is a push from the all-zero sha, not another "first
// listing" that only records.
func TestPollFirstPushToAnEmptyRepositoryRuns(t *testing.T) {
	needEnvtest(t)
	ns := newNamespace(t)
	remote := gittest.New(t)
	tmpl := pollTemplate(t, ns, "tags", remote.URL, "refs/tags/v*")
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	poller, _ := newPoller(clock)
	reconcileTemplate(t, poller, tmpl)
	if st := getTemplate(t, tmpl).Status.Poll; st == nil || st.Refs == nil || len(st.Refs) != 0 || st.Error != "" {
		t.Fatalf("status.poll after a listing with no matching ref = %+v, want refs: []", st)
	}
	head := remote.Git(remote.Work, "rev-parse", "HEAD")
	remote.Git(remote.Work, "tag", "v1.0.0")
	remote.Git(remote.Work, "push", "-q", remote.Bare, "v1.0.0")
	clock.advance(time.Minute)
	reconcileTemplate(t, poller, tmpl)
	runs := runsOf(t, ns)
	if len(runs) != 1 {
		t.Fatalf("runs after the first tag = %v, want one", runNames(runs))
	}
	if d := runs[0].Spec.Delivery; d.Ref != "refs/tags/v1.0.0" || d.SHA != head || d.Before != hooksv1alpha1.ZeroSHA {
		t.Errorf("delivery = %+v, want refs/tags/v1.0.0 at %s from the all-zero sha", d, head)
	}
}

func TestPollDelay(t *testing.T) {
	uid := types.UID("0b6f3c1e-1d1c-4a57-9e9c-3f5f0b0c2a11")
	tests := []struct {
		name     string
		interval time.Duration
		failures int32
		want     time.Duration // before the jitter
	}{
		{name: "success", interval: 5 * time.Minute, failures: 0, want: 5 * time.Minute},
		{name: "first failure: one interval", interval: 5 * time.Minute, failures: 1, want: 5 * time.Minute},
		{name: "second failure: twice", interval: 5 * time.Minute, failures: 2, want: 10 * time.Minute},
		{name: "fourth failure: eight times", interval: 5 * time.Minute, failures: 4, want: 40 * time.Minute},
		{name: "capped at ten intervals", interval: 5 * time.Minute, failures: 5, want: 50 * time.Minute},
		{name: "capped at 1h", interval: 10 * time.Minute, failures: 9, want: time.Hour},
		{name: "never under one interval", interval: 2 * time.Hour, failures: 3, want: 2 * time.Hour},
		{name: "many failures do not overflow", interval: time.Minute, failures: 1000, want: 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pollDelay(tt.interval, tt.failures, uid) + pollJitter(uid, tt.interval); got != tt.want {
				t.Errorf("pollDelay + jitter = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPollJitter: each template's jitter is fixed (a hash of its UID),
// within [0, interval/10), and templates created together get jitters
// spread over that range rather than one value.
func TestPollJitter(t *testing.T) {
	for _, interval := range []time.Duration{time.Second, time.Minute, 5 * time.Minute, time.Hour} {
		span := interval / 10
		lowHalf, seen := 0, map[time.Duration]bool{}
		const n = 200
		for i := range n {
			uid := types.UID(fmt.Sprintf("7c0e4f0a-%04d-4b6e-8d39-5f1c2b7a9e10", i))
			j := pollJitter(uid, interval)
			if j < 0 || j >= span {
				t.Fatalf("interval %v: jitter %v outside [0, %v)", interval, j, span)
			}
			if again := pollJitter(uid, interval); again != j {
				t.Fatalf("interval %v: jitter of one UID changed: %v then %v", interval, j, again)
			}
			seen[j] = true
			if j < span/2 {
				lowHalf++
			}
		}
		if len(seen) < n*9/10 {
			t.Errorf("interval %v: %d templates got only %d distinct jitters", interval, n, len(seen))
		}
		if lowHalf < n/4 || lowHalf > n*3/4 {
			t.Errorf("interval %v: %d of %d jitters in the lower half of the range: not spread", interval, lowHalf, n)
		}
	}
	if got := pollJitter("any", 5*time.Nanosecond); got != 0 {
		t.Errorf("jitter of a tiny interval = %v, want 0", got)
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
	remote := gittest.New(t)
	head := remote.Git(remote.Work, "rev-parse", "HEAD")
	tmpl := pollTemplate(t, ns, "nightly", remote.URL, "refs/heads/main")
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
		Repository: "site", Ref: "refs/heads/main", SHA: head, Sender: "hookrun-schedule", CloneURL: remote.URL,
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
