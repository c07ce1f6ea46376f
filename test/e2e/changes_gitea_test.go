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
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/controllers"
)

// TestGiteaCompletesChangedFilesFromCompare: Gitea lists at most 5 commits
// of a push in its payload ([ui] FEED_MAX_COMMIT_NUM), so a push of 6 is
// completed from Gitea's compare API with the template's report token, by
// the shipped manager: 6 docs-only commits are ignored (204, no run); 6
// commits whose oldest (the one the payload leaves out) touched deploy/
// run; a force push back to the docs-only commit (no commits in the
// payload at all) runs too, because the commits it dropped touched
// deploy/. The fetcher is then asked directly about a pull request (base
// branch against head commit) on the same real Gitea.
func TestGiteaCompletesChangedFilesFromCompare(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	gitea := useGitea(t)
	capture := newCaptureServer(t)

	// Gitea names are at most 40 characters: not the namespace's.
	org := fmt.Sprintf("org-changes-%d", time.Now().UnixNano()%1000000)
	repo := gitea.siteRepo(t, org)

	g.Expect(k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "gitea-api", Namespace: ns},
		StringData: map[string]string{"token": gitea.Token},
	})).To(Succeed())
	deploy := template(ns, "deploy", hooksv1alpha1.ProviderGitea, localRunner(`echo deploying $HOOK_SHA`))
	deploy.Spec.Match = hooksv1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{repo},
		Refs: []string{"refs/heads/main"}, Paths: []string{"deploy/**"}}
	deploy.Spec.Report = &hooksv1alpha1.ReportSpec{URL: gitea.URL, CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: "gitea-api"}}
	createTemplate(t, deploy)
	gitea.addHook(t, repo, capture.URL, "json", "capture")
	gitea.addHook(t, repo, fmt.Sprintf("%s/hooks/%s/deploy", webhookURL, ns), "json", secret)
	step := &giteaStep{t: t, capture: capture, hookHits: 1}

	work := t.TempDir()
	remote, _ := url.Parse(gitea.URL + "/" + repo + ".git")
	remote.User = url.UserPassword(gitea.User, gitea.Password)
	git(t, work, "init", "--initial-branch=main")
	git(t, work, "remote", "add", "origin", remote.String())
	change := func(path, msg string) string {
		g.Expect(os.MkdirAll(filepath.Join(work, filepath.Dir(path)), 0o755)).To(Succeed())
		g.Expect(os.WriteFile(filepath.Join(work, path), []byte(msg+"\n"), 0o644)).To(Succeed())
		git(t, work, "add", path)
		git(t, work, "commit", "-m", msg)
		return git(t, work, "rev-parse", "HEAD")
	}
	// payload is the last push payload Gitea sent: listed commits' files
	// and total_commits.
	payload := func() (files []string, listed, total int) {
		var p struct {
			Commits []struct {
				Added, Modified, Removed []string
			} `json:"commits"`
			TotalCommits int `json:"total_commits"`
		}
		g.Expect(json.Unmarshal(capture.body(capture.count()-1), &p)).To(Succeed())
		for _, c := range p.Commits {
			files = append(files, c.Added...)
			files = append(files, c.Modified...)
			files = append(files, c.Removed...)
		}
		return files, len(p.Commits), p.TotalCommits
	}

	// The first push lists its one commit: deploy/ changed, a run.
	first := change("deploy/app.yaml", "v1")
	_, answered := step.do(func() { git(t, work, "push", "origin", "main") })
	g.Expect(answered).To(Equal(map[int]int{http.StatusAccepted: 1, http.StatusNoContent: 1}), "create ignored, push run")
	g.Expect(runsFor(t, ns, "deploy", first)).To(HaveLen(1))

	// 6 docs-only commits: the payload lists 5 of 6, Gitea's compare says
	// only docs changed: ignored.
	var docs string
	for i := range 6 {
		docs = change(fmt.Sprintf("docs/%d.md", i), fmt.Sprintf("docs %d", i))
	}
	_, answered = step.do(func() { git(t, work, "push", "origin", "main") })
	_, listed, total := payload()
	g.Expect([]int{listed, total}).To(Equal([]int{5, 6}), "Gitea lists 5 of 6 commits (FEED_MAX_COMMIT_NUM)")
	g.Expect(answered).To(Equal(map[int]int{http.StatusNoContent: 1}))
	g.Expect(runsFor(t, ns, "deploy", docs)).To(BeEmpty())

	// 6 commits, the oldest under deploy/: not in the payload's list, found
	// by the compare: a run.
	change("deploy/app.yaml", "v2")
	var head string
	for i := range 5 {
		head = change(fmt.Sprintf("docs/more-%d.md", i), fmt.Sprintf("more docs %d", i))
	}
	_, answered = step.do(func() { git(t, work, "push", "origin", "main") })
	files, listed, total := payload()
	g.Expect([]int{listed, total}).To(Equal([]int{5, 6}))
	g.Expect(files).NotTo(ContainElement("deploy/app.yaml"), "the payload leaves the deploy/ commit out")
	g.Expect(answered).To(Equal(map[int]int{http.StatusAccepted: 1}))
	g.Expect(runsFor(t, ns, "deploy", head)).To(HaveLen(1))

	// A force push back to the docs-only commit: no commits in the
	// payload; the dropped commits changed deploy/: a run.
	_, answered = step.do(func() { git(t, work, "push", "--force", "origin", docs+":refs/heads/main") })
	_, listed, _ = payload()
	g.Expect(listed).To(BeZero())
	g.Expect(answered).To(Equal(map[int]int{http.StatusAccepted: 1}))
	g.Expect(runsFor(t, ns, "deploy", docs)).To(HaveLen(1))

	// A pull request: its base branch against its head commit, asked of
	// the real Gitea directly.
	git(t, work, "checkout", "-b", "feature", head)
	feature := change("deploy/feature.yaml", "feature")
	git(t, work, "push", "origin", "feature")
	fetcher := &controllers.HostChangedFiles{Reader: k8s}
	got := &hooksv1alpha1.HookTemplate{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(deploy), got)).To(Succeed())
	prFiles, source, err := fetcher.ChangedFiles(context.Background(), got, hooksv1alpha1.Delivery{
		Event: "pull_request", Repository: repo, Ref: "refs/pull/1/head", SHA: feature,
		PullRequest: &hooksv1alpha1.PullRequestDelivery{Number: 1, BaseRef: "refs/heads/main", HeadRef: "refs/heads/feature"},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(source).To(Equal("the gitea compare API"))
	slices.Sort(prFiles)
	// main is at docs (force-pushed): the branch adds deploy/app.yaml v2,
	// the more-docs commits and deploy/feature.yaml since their merge base.
	g.Expect(prFiles).To(Equal([]string{"deploy/app.yaml", "deploy/feature.yaml",
		"docs/more-0.md", "docs/more-1.md", "docs/more-2.md", "docs/more-3.md", "docs/more-4.md"}))
}
