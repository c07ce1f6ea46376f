//go:build e2e

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

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// giteaServer is the Gitea of hack/gitea/up: a real git host built from the
// Go module proxy, talked to only through its public API and git over HTTP.
type giteaServer struct {
	URL, User, Password, Token string
}

// useGitea starts Gitea (or reuses a running one) and stops it at the end
// of the test if it started it.
func useGitea(t *testing.T) *giteaServer {
	t.Helper()
	running := exec.Command(filepath.Join(repoRoot, "hack", "gitea", "status")).Run() == nil
	if !running {
		start := time.Now()
		if out, err := exec.Command(filepath.Join(repoRoot, "hack", "gitea", "up")).CombinedOutput(); err != nil {
			// The cluster's teardown removes .cluster/: show Gitea's own log now.
			giteaLog, _ := os.ReadFile(filepath.Join(repoRoot, ".cluster", "gitea", "gitea.log"))
			// A half-started Gitea must not outlive the test (it would also
			// hold the machine's cluster lock it inherited).
			_ = exec.Command(filepath.Join(repoRoot, "hack", "gitea", "down")).Run()
			t.Fatalf("hack/gitea/up: %v\n%s\ngitea.log:\n%s", err, tailOf(string(out), 4000), tailOf(string(giteaLog), 4000))
		}
		t.Logf("gitea up in %s", time.Since(start).Round(100*time.Millisecond))
		t.Cleanup(func() {
			if out, err := exec.Command(filepath.Join(repoRoot, "hack", "gitea", "down")).CombinedOutput(); err != nil {
				t.Errorf("hack/gitea/down: %v\n%s", err, out)
			}
		})
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".cluster", "gitea", "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return &giteaServer{URL: env["GITEA_URL"], User: env["GITEA_USER"], Password: env["GITEA_PASSWORD"], Token: env["GITEA_TOKEN"]}
}

// api calls Gitea's REST API with the admin token and decodes the answer
// into out (if not nil); a status other than want fails the test.
func (s *giteaServer) api(t *testing.T, method, path string, in any, want int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+"/api/v1"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// siteRepo creates the organisation org with an empty public repository
// "site" (default branch main) and returns "org/site"; both are deleted
// after a test that passed (a failed one leaves them to look at).
func (s *giteaServer) siteRepo(t *testing.T, org string) string {
	t.Helper()
	s.api(t, http.MethodPost, "/orgs", map[string]any{"username": org, "visibility": "public"}, http.StatusCreated, nil)
	t.Cleanup(func() {
		if !t.Failed() {
			s.api(t, http.MethodDelete, "/repos/"+org+"/site", nil, http.StatusNoContent, nil)
			s.api(t, http.MethodDelete, "/orgs/"+org, nil, http.StatusNoContent, nil)
		}
	})
	s.api(t, http.MethodPost, "/orgs/"+org+"/repos", map[string]any{"name": "site", "default_branch": "main"}, http.StatusCreated, nil)
	return org + "/site"
}

// addHook registers a webhook of type gitea on the repository and returns
// its id.
func (s *giteaServer) addHook(t *testing.T, repo, target, contentType, secret string) int64 {
	t.Helper()
	var hook struct {
		ID int64 `json:"id"`
	}
	s.api(t, http.MethodPost, "/repos/"+repo+"/hooks", map[string]any{
		"type":   "gitea",
		"active": true,
		"events": []string{"push", "create", "delete", "pull_request"},
		"config": map[string]string{"url": target, "content_type": contentType, "secret": secret},
	}, http.StatusCreated, &hook)
	return hook.ID
}

// captured is one delivery as Gitea sent it.
type captured struct {
	Event  string
	Header http.Header
	Body   []byte
}

// captureServer records every delivery of a webhook that points at it: the
// same events Gitea sends to hookrun, so the test knows what was sent (and
// how many) without reading Gitea's database. With HOOKRUN_GITEA_FIXTURES
// set to a folder, each body and its headers are written there.
type captureServer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []captured
	dump string
}

func newCaptureServer(t *testing.T) *captureServer {
	c := &captureServer{dump: os.Getenv("HOOKRUN_GITEA_FIXTURES")}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.got = append(c.got, captured{Event: r.Header.Get("X-Gitea-Event"), Header: r.Header.Clone(), Body: body})
		n := len(c.got)
		c.mu.Unlock()
		if c.dump != "" {
			name := fmt.Sprintf("%02d-%s", n, r.Header.Get("X-Gitea-Event"))
			var pretty bytes.Buffer
			if json.Indent(&pretty, body, "", "  ") == nil {
				body = append(pretty.Bytes(), '\n')
			}
			_ = os.WriteFile(filepath.Join(c.dump, name+".json"), body, 0o644)
			hdr, _ := json.MarshalIndent(r.Header, "", "  ")
			_ = os.WriteFile(filepath.Join(c.dump, name+".headers.json"), append(hdr, '\n'), 0o644)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *captureServer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// body returns the body of the i-th delivery received.
func (c *captureServer) body(i int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[i].Body
}

// events returns the event names received after the first `from` deliveries.
func (c *captureServer) events(from int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, d := range c.got[from:] {
		names = append(names, d.Event)
	}
	return names
}

// giteaAnswers reads the shared manager's answers to Gitea deliveries, by
// status code, from its metrics.
func giteaAnswers(t *testing.T) map[int]int {
	t.Helper()
	resp, err := http.Get(shared.metricsURL + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	// Labels print in alphabetical order; the series of every path kind
	// (hooks, sources) are summed: Gitea's deliveries are all counted.
	re := regexp.MustCompile(`(?m)^hookrun_webhook_requests_total\{code="(\d+)",path_kind="(?:hooks|sources|other)",provider="gitea"\} (\d+)$`)
	out := map[int]int{}
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		code, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		out[code] += n
	}
	re = regexp.MustCompile(`(?m)^hookrun_webhook_signature_failures_total\{path_kind="(?:hooks|sources|other)",provider="gitea"\} (\d+)$`)
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		n, _ := strconv.Atoi(m[1])
		out[-401] += n // signature failures, a subset of the 401s
	}
	return out
}

func total(answers map[int]int) int {
	n := 0
	for code, v := range answers {
		if code > 0 {
			n += v
		}
	}
	return n
}

// step runs one git action and waits until Gitea delivered every resulting
// event to the capture hook and hookrun answered as many deliveries as the
// hooks that point at it received. It returns the events and the change of
// hookrun's answers by status code.
type giteaStep struct {
	t        *testing.T
	capture  *captureServer
	hookHits int // webhooks pointing at hookrun: each event reaches it this often
}

func (s *giteaStep) do(action func()) (events []string, answered map[int]int) {
	t := s.t
	t.Helper()
	from, before := s.capture.count(), giteaAnswers(t)
	action()
	g := NewWithT(t)
	// Gitea delivers from a queue: wait until a moment passes with no new
	// delivery to the capture hook and hookrun answered the same number.
	g.Eventually(func(g Gomega) {
		n := s.capture.count() - from
		g.Expect(n).To(BeNumerically(">", 0), "no delivery yet")
		after := giteaAnswers(t)
		g.Expect(total(after)-total(before)).To(Equal(n*s.hookHits), "hookrun answered every delivery")
		g.Consistently(s.capture.count, 1500*time.Millisecond, 250*time.Millisecond).Should(Equal(from + n))
	}, 2*time.Minute, 250*time.Millisecond).Should(Succeed())
	after := giteaAnswers(t)
	answered = map[int]int{}
	for code, v := range after {
		if d := v - before[code]; d != 0 {
			answered[code] = d
		}
	}
	return s.capture.events(from), answered
}

// runsFor lists the runs of a template whose delivery has the sha.
func runsFor(t *testing.T, ns, template, sha string) []hooksv1alpha1.HookRun {
	t.Helper()
	list := &hooksv1alpha1.HookRunList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns),
		client.MatchingLabels{hooksv1alpha1.LabelTemplate: template}); err != nil {
		t.Fatal(err)
	}
	var out []hooksv1alpha1.HookRun
	for _, r := range list.Items {
		if r.Spec.Delivery.SHA == sha {
			out = append(out, r)
		}
	}
	return out
}

// TestGiteaPushesRunDeploys puts a real git host in the loop: Gitea's own
// webhooks, fired by real `git push`es over HTTP, reach hookrun's listener.
func TestGiteaPushesRunDeploys(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	gitea := useGitea(t)
	capture := newCaptureServer(t)

	org := strings.ReplaceAll(ns, "e2e-", "org-")
	repo := gitea.siteRepo(t, org)

	show := `echo "event=$HOOK_EVENT repo=$HOOK_REPOSITORY ref=$HOOK_REF branch=$HOOK_BRANCH tag=$HOOK_TAG sha=$HOOK_SHA sender=$HOOK_SENDER clone=$HOOK_CLONE_URL"`
	deploy := template(ns, "deploy", hooksv1alpha1.ProviderGitea, localRunner(show))
	deploy.Spec.Match = hooksv1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{repo}, Refs: []string{"refs/heads/main", "refs/tags/v*"}}
	createTemplate(t, deploy)
	hookPath := func(template string) string { return fmt.Sprintf("%s/hooks/%s/%s", webhookURL, ns, template) }
	captureHook := gitea.addHook(t, repo, capture.URL, "json", "capture")
	deployHook := gitea.addHook(t, repo, hookPath("deploy"), "json", secret)
	step := &giteaStep{t: t, capture: capture, hookHits: 1}

	// A working copy pushing over HTTP with the admin's password.
	work := t.TempDir()
	remote, _ := url.Parse(gitea.URL + "/" + repo + ".git")
	remote.User = url.UserPassword(gitea.User, gitea.Password)
	git(t, work, "init", "--initial-branch=main")
	git(t, work, "remote", "add", "origin", remote.String())
	commit := func(msg string) string {
		git(t, work, "commit", "--allow-empty", "-m", msg)
		return git(t, work, "rev-parse", "HEAD")
	}

	// 1. The first push to main: Gitea sends create, then push; one run.
	first := commit("first")
	events, answered := step.do(func() { git(t, work, "push", "origin", "main") })
	g.Expect(events).To(Equal([]string{"create", "push"}))
	g.Expect(answered).To(Equal(map[int]int{http.StatusAccepted: 1, http.StatusNoContent: 1}))
	runs := runsFor(t, ns, "deploy", first)
	g.Expect(runs).To(HaveLen(1))
	d := runs[0].Spec.Delivery
	g.Expect([]string{d.Event, d.Repository, d.Ref, d.Sender}).To(Equal([]string{"push", repo, "refs/heads/main", gitea.User}))
	run := waitForFinish(t, ns, runs[0].Name, 2*time.Minute)
	g.Expect(run.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), run.Status.Message)
	g.Expect(kubectl(t, "-n", ns, "logs", "job/"+run.Status.JobName)).To(ContainSubstring(fmt.Sprintf(
		"event=push repo=%s ref=refs/heads/main branch=main tag= sha=%s sender=%s clone=%s/%s.git",
		repo, first, gitea.User, gitea.URL, repo)))

	// 2. An annotated tag: push, then create; the run deploys the commit
	// the tag points to, not the tag object.
	git(t, work, "tag", "-a", "v1.0.0", "-m", "release")
	events, answered = step.do(func() { git(t, work, "push", "origin", "v1.0.0") })
	g.Expect(events).To(ConsistOf("push", "create"))
	g.Expect(answered).To(Equal(map[int]int{http.StatusAccepted: 1, http.StatusNoContent: 1}))
	runs = runsFor(t, ns, "deploy", first)
	g.Expect(runs).To(HaveLen(2), "the tag's run carries the commit sha")
	for _, r := range runs {
		if r.Spec.Delivery.Ref == "refs/tags/v1.0.0" {
			run = waitForFinish(t, ns, r.Name, 2*time.Minute)
		}
	}
	g.Expect(run.Spec.Delivery.Ref).To(Equal("refs/tags/v1.0.0"))
	g.Expect(run.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), run.Status.Message)
	g.Expect(kubectl(t, "-n", ns, "logs", "job/"+run.Status.JobName)).To(ContainSubstring("ref=refs/tags/v1.0.0 branch= tag=v1.0.0 sha=" + first))

	// 3. A branch the template does not match: create and push, both ignored.
	git(t, work, "checkout", "-b", "feature")
	feature := commit("feature work")
	events, answered = step.do(func() { git(t, work, "push", "origin", "feature") })
	g.Expect(events).To(Equal([]string{"create", "push"}))
	g.Expect(answered).To(Equal(map[int]int{http.StatusNoContent: 2}))
	g.Expect(runsFor(t, ns, "deploy", feature)).To(BeEmpty())

	// A pull request from it: not a push, ignored (and captured).
	events, answered = step.do(func() {
		gitea.api(t, http.MethodPost, "/repos/"+repo+"/pulls",
			map[string]any{"head": "feature", "base": "main", "title": "Feature"}, http.StatusCreated, nil)
	})
	g.Expect(events).To(Equal([]string{"pull_request"}))
	g.Expect(answered).To(Equal(map[int]int{http.StatusNoContent: 1}))

	// 4. Deleting the branch (a delete event, no push; the pull request
	// from it is closed) and the tag (a push with an all-zero sha and a
	// delete event): ignored, no run.
	events, answered = step.do(func() { git(t, work, "push", "origin", "--delete", "feature") })
	g.Expect(events).To(ConsistOf("delete", "pull_request"))
	g.Expect(answered).To(Equal(map[int]int{http.StatusNoContent: 2}))
	events, answered = step.do(func() { git(t, work, "push", "origin", "--delete", "v1.0.0") })
	g.Expect(events).To(ConsistOf("push", "delete"))
	g.Expect(answered).To(Equal(map[int]int{http.StatusNoContent: 2}))
	g.Expect(runsFor(t, ns, "deploy", "0000000000000000000000000000000000000000")).To(BeEmpty())

	// 5. A form-encoded webhook with the right secret runs too (Gitea signs
	// the JSON payload, not the form body); one with a wrong secret is 401
	// and creates nothing.
	git(t, work, "checkout", "main")
	form := template(ns, "form", hooksv1alpha1.ProviderGitea, localRunner(show))
	form.Spec.Match = deploy.Spec.Match
	createTemplate(t, form)
	locked := template(ns, "locked", hooksv1alpha1.ProviderGitea, localRunner(show))
	createTemplate(t, locked)
	formHook := gitea.addHook(t, repo, hookPath("form"), "form", secret)
	lockedHook := gitea.addHook(t, repo, hookPath("locked"), "json", "not-"+secret)
	step.hookHits = 3
	second := commit("second")
	events, answered = step.do(func() { git(t, work, "push", "origin", "main") })
	g.Expect(events).To(Equal([]string{"push"}))
	g.Expect(answered).To(Equal(map[int]int{http.StatusAccepted: 2, http.StatusUnauthorized: 1, -401: 1}))
	g.Expect(runsFor(t, ns, "deploy", second)).To(HaveLen(1))
	g.Expect(runsFor(t, ns, "form", second)).To(HaveLen(1))
	g.Expect(runsFor(t, ns, "locked", second)).To(BeEmpty())
	gitea.api(t, http.MethodDelete, fmt.Sprintf("/repos/%s/hooks/%d", repo, formHook), nil, http.StatusNoContent, nil)
	gitea.api(t, http.MethodDelete, fmt.Sprintf("/repos/%s/hooks/%d", repo, lockedHook), nil, http.StatusNoContent, nil)
	step.hookHits = 1

	// 6. Two pushes in quick succession under Queue: two runs, in push
	// order, never overlapping (real pods).
	slow := template(ns, "queue", hooksv1alpha1.ProviderGitea, localRunner("echo start $HOOK_SHA; sleep 2; echo done"))
	slow.Spec.Match = hooksv1alpha1.MatchSpec{Events: []string{"push"}, Refs: []string{"refs/heads/main"}}
	slow.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue}
	createTemplate(t, slow)
	gitea.addHook(t, repo, hookPath("queue"), "json", secret)
	step.hookHits = 2
	var shas []string
	step.do(func() {
		for _, msg := range []string{"third", "fourth"} {
			shas = append(shas, commit(msg))
			git(t, work, "push", "origin", "main")
		}
	})
	var spans [][2]time.Time
	for _, sha := range shas {
		runs := runsFor(t, ns, "queue", sha)
		g.Expect(runs).To(HaveLen(1), "one queue run for %s", sha)
		r := waitForFinish(t, ns, runs[0].Name, 3*time.Minute)
		g.Expect(r.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), r.Status.Message)
		pods := &corev1.PodList{}
		g.Expect(k8s.List(context.Background(), pods, client.InNamespace(ns),
			client.MatchingLabels{hooksv1alpha1.LabelRun: r.Name})).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(1))
		term := pods.Items[0].Status.ContainerStatuses[0].State.Terminated
		g.Expect(term).NotTo(BeNil())
		spans = append(spans, [2]time.Time{term.StartedAt.Time, term.FinishedAt.Time})
	}
	g.Expect(spans[1][0].Before(spans[0][1])).To(BeFalse(),
		"the second push's run started at %s, before the first one's ended at %s", spans[1][0], spans[0][1])

	// 7. The webhook's "test delivery": a push of the default branch's head
	// with before == after. It runs as a push to refs/heads/main.
	from := capture.count()
	gitea.api(t, http.MethodPost, fmt.Sprintf("/repos/%s/hooks/%d/tests", repo, captureHook), nil, http.StatusNoContent, nil)
	g.Eventually(capture.count, time.Minute, 250*time.Millisecond).Should(Equal(from + 1))
	var test struct{ Ref, Before, After string }
	g.Expect(json.Unmarshal(capture.body(from), &test)).To(Succeed())
	// Gitea 1.26 sends refs/heads/main; older versions sent the short name,
	// which hookrun reads as the same branch (unit-tested).
	g.Expect(strings.TrimPrefix(test.Ref, "refs/heads/")).To(Equal("main"))
	g.Expect(test.Before).To(Equal(test.After))
	head := shas[len(shas)-1]
	g.Expect(runsFor(t, ns, "deploy", head)).To(HaveLen(1))
	gitea.api(t, http.MethodPost, fmt.Sprintf("/repos/%s/hooks/%d/tests", repo, deployHook), nil, http.StatusNoContent, nil)
	g.Eventually(func(g Gomega) {
		runs := runsFor(t, ns, "deploy", head)
		g.Expect(runs).To(HaveLen(2), "the test delivery's run")
		for _, r := range runs {
			g.Expect(r.Spec.Delivery.Ref).To(Equal("refs/heads/main"))
		}
	}, time.Minute, 250*time.Millisecond).Should(Succeed())
}
