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

package webhookserver

import (
	"bytes"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// TestIntegrationPullRequestPreview drives the real handler against the API
// server with a pull request's life: opened, pushed to (synchronize), then
// merged, across a preview template (opened/synchronize → deploy) and a
// teardown template (closed/merged → tear down). A fork's request, a push
// and a delivery of an invalid expression's template run nothing.
func TestIntegrationPullRequestPreview(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t, suite.client)

	preview := testTemplate(ns, v1alpha1.ProviderGitHub)
	preview.Name = "preview"
	preview.Spec.Match = v1alpha1.MatchSpec{
		Events:      []string{"pull_request"},
		PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"opened", "synchronize", "reopened"}, BaseRefs: []string{"refs/heads/main"}},
		Expression:  `!delivery.pullRequest.title.contains("[no preview]")`,
	}
	teardown := testTemplate(ns, v1alpha1.ProviderGitHub)
	teardown.Name = "teardown"
	teardown.Spec.Match = v1alpha1.MatchSpec{
		Events:      []string{"pull_request"},
		PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"closed", "merged"}},
	}
	broken := testTemplate(ns, v1alpha1.ProviderGitHub)
	broken.Name = "broken"
	broken.Spec.Match = v1alpha1.MatchSpec{Expression: `delivery.ref ==`}
	createTemplate(t, suite.client, suite.mgr.GetClient(), preview, testSecret(ns, map[string]string{"secret": string(testKey)}))
	createTemplate(t, suite.client, suite.mgr.GetClient(), teardown, nil)
	createTemplate(t, suite.client, suite.mgr.GetClient(), broken, nil)

	opened := compact(t, fixture(t, "github/pull_request.json"))
	swap := func(b []byte, pairs ...string) []byte {
		for i := 0; i+1 < len(pairs); i += 2 {
			if !bytes.Contains(b, []byte(pairs[i])) {
				t.Fatalf("fixture has no %s", pairs[i])
			}
			b = bytes.ReplaceAll(b, []byte(pairs[i]), []byte(pairs[i+1]))
		}
		return b
	}
	synchronize := swap(opened, `"action":"opened"`, `"action":"synchronize"`)
	merged := swap(opened, `"action":"opened"`, `"action":"closed"`, `"merged":false`, `"merged":true`)
	fork := compact(t, fixture(t, "github/pull_request-fork.json"))
	push := compact(t, fixture(t, "github/push.json"))

	type step struct {
		template, event, id string
		body                []byte
		wantCode            int
		wantReason          string
	}
	steps := []step{
		{"preview", "pull_request", "pr-opened", opened, http.StatusAccepted, ""},
		{"teardown", "pull_request", "pr-opened", opened, http.StatusNoContent, `pull request action "opened" is not in match.pullRequest.actions`},
		{"preview", "pull_request", "pr-sync", synchronize, http.StatusAccepted, ""},
		{"teardown", "pull_request", "pr-sync", synchronize, http.StatusNoContent, "match.pullRequest.actions"},
		{"preview", "pull_request", "pr-fork", fork, http.StatusNoContent, ReasonFork},
		{"preview", "push", "push-1", push, http.StatusNoContent, `event "push" is not in match.events`},
		{"preview", "pull_request", "pr-merged", merged, http.StatusNoContent, "match.pullRequest.actions"},
		{"teardown", "pull_request", "pr-merged", merged, http.StatusAccepted, ""},
		{"broken", "pull_request", "pr-opened", opened, http.StatusServiceUnavailable, ""},
	}
	for _, s := range steps {
		url := suite.baseURL + "/hooks/" + ns + "/" + s.template
		r := post(t, httpClient, url, signedHeaders("github", testKey, s.body, s.event, s.id), s.body)
		if r.code != s.wantCode {
			t.Fatalf("%s ← %s: status %d %s, want %d", s.template, s.id, r.code, r.body, s.wantCode)
		}
		if s.wantReason != "" && !strings.Contains(r.header.Get(HeaderReason), s.wantReason) {
			t.Errorf("%s ← %s: reason %q, want %q", s.template, s.id, r.header.Get(HeaderReason), s.wantReason)
		}
	}

	type runSeen struct {
		Template string
		Action   v1alpha1.PullRequestAction
		Ref, SHA string
	}
	var got []runSeen
	for _, run := range listRuns(t, suite.client, ns) {
		d := run.Spec.Delivery
		if d.PullRequest == nil {
			t.Fatalf("run %s has no pullRequest: %+v", run.Name, d)
		}
		got = append(got, runSeen{run.Spec.TemplateRef.Name, d.PullRequest.Action, d.Ref, d.SHA})
	}
	sort.Slice(got, func(i, j int) bool {
		return got[i].Template+string(got[i].Action) < got[j].Template+string(got[j].Action)
	})
	head := "8f2b1c4e9d7a6b5c3e1f0a9b8c7d6e5f4a3b2c1d"
	want := []runSeen{
		{"preview", v1alpha1.PullRequestOpened, "refs/pull/12/head", head},
		{"preview", v1alpha1.PullRequestSynchronize, "refs/pull/12/head", head},
		{"teardown", v1alpha1.PullRequestMerged, "refs/pull/12/head", head},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
}
