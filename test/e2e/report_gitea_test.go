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
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// TestGiteaShowsTheRunOnTheCommit: a real push to Gitea ends with Gitea's
// own commit status API showing `success` under the deploy template's
// context and `failure` under a failing template's, on the pushed commit.
func TestGiteaShowsTheRunOnTheCommit(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	gitea := useGitea(t)

	org := strings.ReplaceAll(ns, "e2e-", "org-")
	repo := gitea.siteRepo(t, org)

	g.Expect(k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "gitea-api", Namespace: ns},
		StringData: map[string]string{"token": gitea.Token},
	})).To(Succeed())
	report := func() *hooksv1alpha1.ReportSpec {
		return &hooksv1alpha1.ReportSpec{
			URL:            gitea.URL,
			CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: "gitea-api"},
			TargetURL:      "https://logs.example.com/?run=$(HOOK_RUN)",
		}
	}
	match := hooksv1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{repo}, Refs: []string{"refs/heads/main"}}
	deploy := template(ns, "deploy", hooksv1alpha1.ProviderGitea, localRunner(`echo deploying $HOOK_SHA`))
	deploy.Spec.Match, deploy.Spec.Report = match, report()
	createTemplate(t, deploy)
	broken := template(ns, "broken", hooksv1alpha1.ProviderGitea, localRunner(`echo deploying $HOOK_SHA; exit 3`))
	broken.Spec.Match, broken.Spec.Report = match, report()
	createTemplate(t, broken)
	for _, name := range []string{"deploy", "broken"} {
		gitea.addHook(t, repo, fmt.Sprintf("%s/hooks/%s/%s", webhookURL, ns, name), "json", secret)
	}

	work := t.TempDir()
	remote, _ := url.Parse(gitea.URL + "/" + repo + ".git")
	remote.User = url.UserPassword(gitea.User, gitea.Password)
	git(t, work, "init", "--initial-branch=main")
	git(t, work, "remote", "add", "origin", remote.String())
	git(t, work, "commit", "--allow-empty", "-m", "deploy me")
	sha := git(t, work, "rev-parse", "HEAD")
	git(t, work, "push", "origin", "main")

	// Gitea's statuses GET answers the state in a field named `status`,
	// newest first; the latest per context is what the commit shows.
	type status struct {
		Status    string `json:"status"`
		Context   string `json:"context"`
		TargetURL string `json:"target_url"`
	}
	latest := func(g Gomega) map[string]status {
		var list []status
		gitea.api(t, http.MethodGet, "/repos/"+repo+"/commits/"+sha+"/statuses?sort=recentupdate", nil, http.StatusOK, &list)
		out := map[string]status{}
		for _, s := range list {
			if _, seen := out[s.Context]; !seen {
				out[s.Context] = s
			}
		}
		return out
	}
	deployContext, brokenContext := "hookrun/"+ns+"/deploy", "hookrun/"+ns+"/broken"
	g.Eventually(func(g Gomega) {
		got := latest(g)
		g.Expect(got[deployContext].Status).To(Equal("success"), "statuses %v", got)
		g.Expect(got[brokenContext].Status).To(Equal("failure"), "statuses %v", got)
		g.Expect(got[deployContext].TargetURL).To(HavePrefix("https://logs.example.com/?run=deploy-"))
	}, 3*time.Minute, time.Second).Should(Succeed())

	for _, name := range []string{"deploy", "broken"} {
		runs := runsFor(t, ns, name, sha)
		g.Expect(runs).To(HaveLen(1))
		g.Expect(runs[0].Status.Report).NotTo(BeNil())
		g.Expect(runs[0].Status.Report.Phase.IsFinished()).To(BeTrue())
	}
}
