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
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// testPollInterval is the manager's hidden --test-poll-interval here: the
// API's minimum of 1m would make the test wait minutes for a listing.
const testPollInterval = 2 * time.Second

// TestGiteaPollOnlyDeploys: a cluster nobody can reach from outside. A
// template with spec.poll and no webhook Secret, on a Gitea repository with
// no webhook configured, deploys a push by polling alone: exactly one run,
// Succeeded, with HOOK_SHA the pushed commit.
func TestGiteaPollOnlyDeploys(t *testing.T) {
	g := NewWithT(t)
	ns, _ := newNamespace(t, false)
	// A manager of its own, with the short interval; two unelected
	// pollers must not compete.
	stopSharedManager()
	mgr, err := startManager(managerBin, "poll", "--test-poll-interval="+testPollInterval.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.kill)
	gitea := useGitea(t)

	org := strings.ReplaceAll(ns, "e2e-", "org-")
	repo := gitea.siteRepo(t, org)
	cloneURL := gitea.URL + "/" + repo + ".git"

	// No secretRef, no Secret: the template polls (anonymously: the
	// repository is public) and takes no webhooks.
	tmpl := &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "deploy", Namespace: ns},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitea},
			Match:  hooksv1alpha1.MatchSpec{Refs: []string{"refs/heads/main"}},
			Poll:   &hooksv1alpha1.PollSpec{URL: cloneURL, Interval: metav1.Duration{Duration: time.Minute}},
			Run:    localRunner(`echo "event=$HOOK_EVENT ref=$HOOK_REF sha=$HOOK_SHA before=$HOOK_BEFORE sender=$HOOK_SENDER clone=$HOOK_CLONE_URL"`),
		},
	}
	createTemplate(t, tmpl) // waits for Ready=True: no Secret needed

	// Its status says it takes no webhooks, and its /hooks/ URL is 404.
	got := &hooksv1alpha1.HookTemplate{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
	g.Expect(got.Status.WebhookPath).To(BeEmpty())
	resp, err := http.Post(fmt.Sprintf("%s/hooks/%s/deploy", mgr.webhookURL, ns), "application/json", bytes.NewReader([]byte(`{}`)))
	g.Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusNotFound))

	// The first listing (of the empty repository) only records.
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
		g.Expect(got.Status.Poll).NotTo(BeNil())
		g.Expect(got.Status.Poll.Error).To(BeEmpty())
		g.Expect(got.Status.Poll.Refs).NotTo(BeNil(), "listed")
	}, 30*time.Second, 200*time.Millisecond).Should(Succeed())

	// A push over HTTP with the admin's password; Gitea tells nobody.
	work := t.TempDir()
	remote, _ := url.Parse(cloneURL)
	remote.User = url.UserPassword(gitea.User, gitea.Password)
	git(t, work, "init", "--initial-branch=main")
	git(t, work, "remote", "add", "origin", remote.String())
	git(t, work, "commit", "--allow-empty", "-m", "deploy me")
	sha := git(t, work, "rev-parse", "HEAD")
	git(t, work, "push", "origin", "main")
	pushed := time.Now()

	var runs []hooksv1alpha1.HookRun
	g.Eventually(func(g Gomega) {
		runs = runsFor(t, ns, "deploy", sha)
		g.Expect(runs).To(HaveLen(1))
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
	t.Logf("run %s appeared %s after the push (poll interval %s)", runs[0].Name, time.Since(pushed).Round(10*time.Millisecond), testPollInterval)
	d := runs[0].Spec.Delivery
	g.Expect([]string{d.Event, d.Ref, d.Sender, d.Before, d.CloneURL}).To(Equal(
		[]string{"push", "refs/heads/main", hooksv1alpha1.PollSender, hooksv1alpha1.ZeroSHA, cloneURL}))

	run := waitForFinish(t, ns, runs[0].Name, 2*time.Minute)
	g.Expect(run.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), run.Status.Message)
	g.Expect(kubectl(t, "-n", ns, "logs", "job/"+run.Status.JobName)).To(ContainSubstring(fmt.Sprintf(
		"event=push ref=refs/heads/main sha=%s before=%s sender=hookrun-poll clone=%s", sha, hooksv1alpha1.ZeroSHA, cloneURL)))

	// Exactly one: more listings of the same sha make no more runs.
	g.Consistently(func(g Gomega) {
		list := &hooksv1alpha1.HookRunList{}
		g.Expect(k8s.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(HaveLen(1))
	}, 4*testPollInterval, 250*time.Millisecond).Should(Succeed())
	g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
	g.Expect(got.Status.Poll.Refs).To(Equal([]hooksv1alpha1.PolledRef{{Ref: "refs/heads/main", SHA: sha}}))
}
