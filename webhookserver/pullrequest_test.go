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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// prWant is what a pull request payload normalises to.
type prWant struct {
	Repository string
	Ref        string
	SHA        string
	Sender     string
	PR         v1alpha1.PullRequestDelivery
}

func TestNormalisePullRequests(t *testing.T) {
	replace := func(b []byte, pairs ...string) []byte {
		for i := 0; i+1 < len(pairs); i += 2 {
			if !bytes.Contains(b, []byte(pairs[i])) {
				t.Fatalf("fixture has no %q", pairs[i])
			}
			b = bytes.ReplaceAll(b, []byte(pairs[i]), []byte(pairs[i+1]))
		}
		return b
	}
	ghHead := "8f2b1c4e9d7a6b5c3e1f0a9b8c7d6e5f4a3b2c1d"
	gh := func(action v1alpha1.PullRequestAction, fork bool) prWant {
		w := prWant{Repository: "acme/site", Ref: "refs/pull/12/head", SHA: ghHead, Sender: "octocat",
			PR: v1alpha1.PullRequestDelivery{Number: 12, Action: action, BaseRef: "refs/heads/main",
				HeadRef: "refs/heads/feature/pricing", FromFork: fork, Title: "Add the pricing page"}}
		if fork {
			w.Sender = "mallory"
		}
		return w
	}
	giteaPR := prWant{Repository: "acme/site", Ref: "refs/pull/1/head", SHA: "e0735743c08d8425672e49787fd145fa099a2de7", Sender: "hookrun",
		PR: v1alpha1.PullRequestDelivery{Number: 1, Action: v1alpha1.PullRequestOpened, BaseRef: "refs/heads/main", HeadRef: "refs/heads/feature", Title: "Feature"}}
	withAction := func(w prWant, a v1alpha1.PullRequestAction) prWant { w.PR.Action = a; return w }
	glUpdate := prWant{Repository: "acme/site", Ref: "refs/merge-requests/1/head", SHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Sender: "root",
		PR: v1alpha1.PullRequestDelivery{Number: 1, Action: v1alpha1.PullRequestSynchronize, BaseRef: "refs/heads/main", HeadRef: "refs/heads/ms-viewport", Title: "MS-Viewport"}}
	bbCloud := prWant{Repository: "acme/site", Ref: "refs/heads/feature/pricing", SHA: "8f2b1c4e9d7a", Sender: "emma",
		PR: v1alpha1.PullRequestDelivery{Number: 7, Action: v1alpha1.PullRequestOpened, BaseRef: "refs/heads/main", HeadRef: "refs/heads/feature/pricing", Title: "Add the pricing page"}}
	bbDC := prWant{Repository: "WEB/site", Ref: "refs/pull-requests/12/from", SHA: ghHead, Sender: "admin",
		PR: v1alpha1.PullRequestDelivery{Number: 12, Action: v1alpha1.PullRequestOpened, BaseRef: "refs/heads/main", HeadRef: "refs/heads/feature/pricing", Title: "Add the pricing page"}}

	tests := []struct {
		name     string
		provider v1alpha1.Provider
		header   http.Header
		body     []byte
		want     prWant
		message  string
	}{
		{name: "github opened", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "pull_request"),
			body: fixture(t, "github/pull_request.json"), want: gh(v1alpha1.PullRequestOpened, false)},
		{name: "github synchronize from a fork", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "pull_request"),
			body: fixture(t, "github/pull_request-fork.json"), want: gh(v1alpha1.PullRequestSynchronize, true)},
		{name: "github closed without merge", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "pull_request"),
			body: replace(fixture(t, "github/pull_request.json"), `"action": "opened"`, `"action": "closed"`), want: gh(v1alpha1.PullRequestClosed, false)},
		{name: "github merged: closed with merged true", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "pull_request"),
			body: replace(fixture(t, "github/pull_request.json"), `"action": "opened"`, `"action": "closed"`, `"merged": false`, `"merged": true`), want: gh(v1alpha1.PullRequestMerged, false)},
		{name: "github reopened", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "pull_request"),
			body: replace(fixture(t, "github/pull_request.json"), `"action": "opened"`, `"action": "reopened"`), want: gh(v1alpha1.PullRequestReopened, false)},
		{name: "github labeled is other", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "pull_request"),
			body: replace(fixture(t, "github/pull_request.json"), `"action": "opened"`, `"action": "labeled"`), want: gh(v1alpha1.PullRequestOther, false)},

		{name: "gitea opened (captured from Gitea 1.26)", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "pull_request"),
			body: fixture(t, "gitea/pull_request.json"), want: giteaPR},
		{name: "gitea synchronized", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "pull_request", "X-Gitea-Event-Type", "pull_request_sync"),
			body: replace(fixture(t, "gitea/pull_request.json"), `"action": "opened"`, `"action": "synchronized"`), want: withAction(giteaPR, v1alpha1.PullRequestSynchronize)},
		{name: "gitea closed", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "pull_request"),
			body: replace(fixture(t, "gitea/pull_request.json"), `"action": "opened"`, `"action": "closed"`), want: withAction(giteaPR, v1alpha1.PullRequestClosed)},
		{name: "gitea merged: closed with merged true", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "pull_request"),
			body: replace(fixture(t, "gitea/pull_request.json"), `"action": "opened"`, `"action": "closed"`, `"merged": false`, `"merged": true`), want: withAction(giteaPR, v1alpha1.PullRequestMerged)},

		{name: "gitlab update with new commits", provider: v1alpha1.ProviderGitLab, header: headers("X-Gitlab-Event", "Merge Request Hook"),
			body: fixture(t, "gitlab/merge_request-update.json"), want: glUpdate, message: "fixed readme"},
		{name: "gitlab update without new commits is edited", provider: v1alpha1.ProviderGitLab, header: headers("X-Gitlab-Event", "Merge Request Hook"),
			body: replace(fixture(t, "gitlab/merge_request-update.json"), `"oldrev": "95790bf891e76fee5e1747ab589903a6a1f80f22"`, `"oldrev": ""`), want: withAction(glUpdate, v1alpha1.PullRequestEdited), message: "fixed readme"},
		{name: "gitlab merge", provider: v1alpha1.ProviderGitLab, header: headers("X-Gitlab-Event", "Merge Request Hook"),
			body: replace(fixture(t, "gitlab/merge_request-update.json"), `"action": "update"`, `"action": "merge"`), want: withAction(glUpdate, v1alpha1.PullRequestMerged), message: "fixed readme"},
		{name: "gitlab from a fork", provider: v1alpha1.ProviderGitLab, header: headers("X-Gitlab-Event", "Merge Request Hook"),
			body: replace(fixture(t, "gitlab/merge_request-update.json"), `"path_with_namespace": "acme/site",
      "default_branch": "main"
    },
    "target"`, `"path_with_namespace": "mallory/site",
      "default_branch": "main"
    },
    "target"`),
			want: func() prWant { w := glUpdate; w.PR.FromFork = true; return w }(), message: "fixed readme"},

		{name: "bitbucket cloud created", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pullrequest:created"),
			body: fixture(t, "bitbucket/cloud-pullrequest-created.json"), want: bbCloud},
		{name: "bitbucket cloud fulfilled is merged", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pullrequest:fulfilled"),
			body: fixture(t, "bitbucket/cloud-pullrequest-created.json"), want: withAction(bbCloud, v1alpha1.PullRequestMerged)},
		{name: "bitbucket cloud rejected is closed", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pullrequest:rejected"),
			body: fixture(t, "bitbucket/cloud-pullrequest-created.json"), want: withAction(bbCloud, v1alpha1.PullRequestClosed)},
		{name: "bitbucket data center opened", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pr:opened"),
			body: fixture(t, "bitbucket/dc-pr-opened.json"), want: bbDC},
		{name: "bitbucket data center from_ref_updated is synchronize", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pr:from_ref_updated"),
			body: fixture(t, "bitbucket/dc-pr-opened.json"), want: withAction(bbDC, v1alpha1.PullRequestSynchronize)},
		{name: "bitbucket data center declined is closed", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pr:declined"),
			body: fixture(t, "bitbucket/dc-pr-opened.json"), want: withAction(bbDC, v1alpha1.PullRequestClosed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := providers[tt.provider].normalise(tt.header, tt.body)
			if err != nil {
				t.Fatalf("normalise: %v", err)
			}
			if len(ev.candidates) != 1 {
				t.Fatalf("%d candidates, want 1", len(ev.candidates))
			}
			c := ev.candidates[0]
			d := c.delivery
			if c.kind != kindPullRequest || d.PullRequest == nil {
				t.Fatalf("kind %v, pullRequest %v: want a pull request", c.kind, d.PullRequest)
			}
			got := prWant{Repository: d.Repository, Ref: d.Ref, SHA: d.SHA, Sender: d.Sender, PR: *d.PullRequest}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
			if d.Message != tt.message {
				t.Errorf("message = %q, want %q", d.Message, tt.message)
			}
			if names := eventNames(c); !containsFold(names, EventPullRequest) {
				t.Errorf("event names %v lack %q", names, EventPullRequest)
			}
		})
	}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func TestPushChangedFilesAndMessage(t *testing.T) {
	big := func(n int) []byte {
		var commits []map[string]any
		for i := 0; i < n; i++ {
			commits = append(commits, map[string]any{"id": "c", "message": "m", "added": []string{"a"}, "modified": []string{}, "removed": []string{}})
		}
		b, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "after": "abc", "commits": commits, "head_commit": map[string]any{"message": strings.Repeat("é", 1000)}})
		return b
	}
	tests := []struct {
		name      string
		provider  v1alpha1.Provider
		header    http.Header
		body      []byte
		wantFiles []string
		wantKnown bool
	}{
		{name: "github: modified files of every commit", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "push"),
			body: fixture(t, "github/push.json"), wantFiles: []string{"index.html"}, wantKnown: true},
		{name: "github: 20 commits may be truncated", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "push"),
			body: big(20), wantKnown: false},
		{name: "github: a tag push lists no commits", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "push"),
			body: fixture(t, "github/push-tag.json"), wantKnown: false},
		{name: "gitlab: added and modified", provider: v1alpha1.ProviderGitLab, header: headers("X-Gitlab-Event", "Push Hook"),
			body: fixture(t, "gitlab/push.json"), wantFiles: []string{"CHANGELOG", "app/controller/application.rb"}, wantKnown: true},
		{name: "gitlab: total_commits_count above the list", provider: v1alpha1.ProviderGitLab, header: headers("X-Gitlab-Event", "Push Hook"),
			body: bytes.Replace(fixture(t, "gitlab/push.json"), []byte(`"total_commits_count": 2`), []byte(`"total_commits_count": 31`), 1), wantKnown: false},
		{name: "gitea: an empty commit says nothing", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "push"),
			body: fixture(t, "gitea/push.json"), wantKnown: false},
		{name: "bitbucket sends no file lists", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "repo:push"),
			body: fixture(t, "bitbucket/cloud-push.json"), wantKnown: false},
		{name: "gitea: total_commits above the list (FEED_MAX_COMMIT_NUM)", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "push"),
			body: bytes.Replace(bytes.Replace(fixture(t, "gitea/push.json"), []byte(`"total_commits": 1`), []byte(`"total_commits": 6`), 1),
				[]byte(`"modified": []`), []byte(`"modified": ["a.txt"]`), 1), wantKnown: false},
		{name: "gitea: the same list, complete", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "push"),
			body:      bytes.Replace(fixture(t, "gitea/push.json"), []byte(`"modified": []`), []byte(`"modified": ["a.txt"]`), 1),
			wantFiles: []string{"a.txt"}, wantKnown: true},
		{name: "bitbucket data center sends no file lists", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "repo:refs_changed"),
			body: fixture(t, "bitbucket/dc-refs-changed.json"), wantKnown: false},
		{name: "github pull request lists no files", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "pull_request"),
			body: fixture(t, "github/pull_request.json"), wantKnown: false},
		{name: "gitlab merge request lists no files", provider: v1alpha1.ProviderGitLab, header: headers("X-Gitlab-Event", "Merge Request Hook"),
			body: fixture(t, "gitlab/merge_request.json"), wantKnown: false},
		{name: "gitea pull request lists no files", provider: v1alpha1.ProviderGitea, header: headers("X-Gitea-Event", "pull_request"),
			body: fixture(t, "gitea/pull_request.json"), wantKnown: false},
		{name: "bitbucket cloud pull request lists no files", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pullrequest:created"),
			body: fixture(t, "bitbucket/cloud-pullrequest-created.json"), wantKnown: false},
		{name: "bitbucket data center pull request lists no files", provider: v1alpha1.ProviderBitbucket, header: headers("X-Event-Key", "pr:opened"),
			body: fixture(t, "bitbucket/dc-pr-opened.json"), wantKnown: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := providers[tt.provider].normalise(tt.header, tt.body)
			if err != nil {
				t.Fatalf("normalise: %v", err)
			}
			c := ev.candidates[0]
			if c.filesKnown != tt.wantKnown {
				t.Fatalf("filesKnown = %v, want %v (files %v)", c.filesKnown, tt.wantKnown, c.files)
			}
			if diff := cmp.Diff(tt.wantFiles, c.files); tt.wantKnown && diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
	ev, err := githubProvider{}.normalise(headers("X-GitHub-Event", "push"), big(1))
	if err != nil {
		t.Fatal(err)
	}
	if m := ev.candidates[0].delivery.Message; len(m) > MaxMessageBytes || !strings.HasPrefix(strings.Repeat("é", 1000), m) || len(m) < MaxMessageBytes-1 {
		t.Errorf("message of %d bytes: want the first %d bytes cut at a character boundary", len(m), MaxMessageBytes)
	}
}

func TestGlobForms(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		value    string
		fold     bool
		want     bool
	}{
		{name: "empty list matches anything", value: "refs/heads/x", want: true},
		{name: "exact", patterns: []string{"refs/heads/main"}, value: "refs/heads/main", want: true},
		{name: "star stays in a segment", patterns: []string{"refs/heads/*"}, value: "refs/heads/feature/x", want: false},
		{name: "star in a segment", patterns: []string{"refs/heads/*"}, value: "refs/heads/main", want: true},
		{name: "double star crosses slashes", patterns: []string{"refs/heads/**"}, value: "refs/heads/feature/x/y", want: true},
		{name: "double star in the middle", patterns: []string{"deploy/**/values.yaml"}, value: "deploy/prod/eu/values.yaml", want: true},
		{name: "double star matches zero segments", patterns: []string{"deploy/**/values.yaml"}, value: "deploy/values.yaml", want: true},
		{name: "any markdown file", patterns: []string{"**/*.md"}, value: "docs/a/b.md", want: true},
		{name: "any markdown file at the top", patterns: []string{"**/*.md"}, value: "README.md", want: true},
		{name: "exclusion wins", patterns: []string{"refs/heads/**", "!refs/heads/wip/**"}, value: "refs/heads/wip/x", want: false},
		{name: "exclusion leaves the rest", patterns: []string{"refs/heads/**", "!refs/heads/wip/**"}, value: "refs/heads/feature", want: true},
		{name: "only exclusions: anything else matches", patterns: []string{"!dependabot*"}, value: "octocat", want: true},
		{name: "only exclusions: excluded", patterns: []string{"!dependabot*"}, value: "dependabot[bot]", want: false},
		{name: "exclusion order does not matter", patterns: []string{"!refs/heads/wip/**", "refs/heads/**"}, value: "refs/heads/wip/x", want: false},
		{name: "character class", patterns: []string{"refs/tags/v[0-9]*"}, value: "refs/tags/v1.2", want: true},
		{name: "alternatives", patterns: []string{"src/{api,web}/**"}, value: "src/web/index.ts", want: true},
		{name: "case-sensitive by default", patterns: []string{"refs/heads/Main"}, value: "refs/heads/main", want: false},
		{name: "case-insensitive for repositories and senders", patterns: []string{"acme/*"}, value: "ACME/Site", fold: true, want: true},
		{name: "case-insensitive exclusion", patterns: []string{"acme/*", "!acme/Secret"}, value: "ACME/secret", fold: true, want: false},
		{name: "empty value fails a list", patterns: []string{"**"}, value: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := globAny(tt.patterns, tt.value, tt.fold); got != tt.want {
				t.Errorf("globAny(%q, %q) = %v, want %v", tt.patterns, tt.value, got, tt.want)
			}
		})
	}
}

func TestMatchNewFields(t *testing.T) {
	files := func(fs ...string) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: "push", Repository: "acme/site", Ref: "refs/heads/main", Sender: "octocat",
			Message: "Bump chart"}, kind: kindPush, files: fs, filesKnown: true}
	}
	unknownFiles := candidate{delivery: v1alpha1.Delivery{Event: "push", Repository: "acme/site", Ref: "refs/heads/main"}, kind: kindPush}
	pr := func(action v1alpha1.PullRequestAction, fork bool, base string) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: "pull_request", Repository: "acme/site", Ref: "refs/pull/3/head", Sender: "octocat",
			PullRequest: &v1alpha1.PullRequestDelivery{Number: 3, Action: action, FromFork: fork, BaseRef: base}}, kind: kindPullRequest}
	}
	tests := []struct {
		name       string
		match      v1alpha1.MatchSpec
		candidate  candidate
		wantMatch  bool
		wantReason string
	}{
		{name: "paths: one file matches", match: v1alpha1.MatchSpec{Paths: []string{"deploy/**"}}, candidate: files("src/a.go", "deploy/prod/values.yaml"), wantMatch: true},
		{name: "paths: none matches", match: v1alpha1.MatchSpec{Paths: []string{"deploy/**"}}, candidate: files("src/a.go"), wantReason: "no changed file matches a pattern of match.paths"},
		{name: "paths: exclusion inside paths", match: v1alpha1.MatchSpec{Paths: []string{"deploy/**", "!deploy/docs/**"}}, candidate: files("deploy/docs/x.md"), wantReason: "match.paths"},
		{name: "paths: an incomplete list matches", match: v1alpha1.MatchSpec{Paths: []string{"deploy/**"}}, candidate: unknownFiles, wantMatch: true},
		{name: "ignorePaths: all ignored", match: v1alpha1.MatchSpec{IgnorePaths: []string{"**/*.md"}}, candidate: files("README.md", "docs/a.md"), wantReason: "every changed file matches match.ignorePaths"},
		{name: "ignorePaths: one file is not", match: v1alpha1.MatchSpec{IgnorePaths: []string{"**/*.md"}}, candidate: files("README.md", "main.go"), wantMatch: true},
		{name: "ignorePaths: an incomplete list matches", match: v1alpha1.MatchSpec{IgnorePaths: []string{"**"}}, candidate: unknownFiles, wantMatch: true},
		{name: "paths fail before senders", match: v1alpha1.MatchSpec{Paths: []string{"x/**"}, Senders: []string{"nobody"}}, candidate: files("a"), wantReason: "match.paths"},
		{name: "senders: glob", match: v1alpha1.MatchSpec{Senders: []string{"octo*"}}, candidate: files("a"), wantMatch: true},
		{name: "senders: case-insensitive", match: v1alpha1.MatchSpec{Senders: []string{"OctoCat"}}, candidate: files("a"), wantMatch: true},
		{name: "senders: excluded bot", match: v1alpha1.MatchSpec{Senders: []string{"!octocat"}}, candidate: files("a"), wantReason: `sender "octocat" matches no pattern of match.senders`},
		{name: "pull_request names every provider's request", match: v1alpha1.MatchSpec{Events: []string{"pull_request"}}, candidate: pr(v1alpha1.PullRequestOpened, false, "refs/heads/main"), wantMatch: true},
		{name: "pull_request is not a push", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: pr(v1alpha1.PullRequestOpened, false, "refs/heads/main"), wantReason: "match.events"},
		{name: "a fork is ignored by default", match: v1alpha1.MatchSpec{}, candidate: pr(v1alpha1.PullRequestOpened, true, "refs/heads/main"), wantReason: ReasonFork},
		{name: "a fork is ignored with a pullRequest block", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"opened"}}}, candidate: pr(v1alpha1.PullRequestOpened, true, "refs/heads/main"), wantReason: ReasonFork},
		{name: "allowForks lets a fork run", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{AllowForks: true}}, candidate: pr(v1alpha1.PullRequestOpened, true, "refs/heads/main"), wantMatch: true},
		{name: "actions: listed", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"opened", "synchronize"}}}, candidate: pr(v1alpha1.PullRequestSynchronize, false, "refs/heads/main"), wantMatch: true},
		{name: "actions: not listed", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"opened", "synchronize"}}}, candidate: pr(v1alpha1.PullRequestClosed, false, "refs/heads/main"), wantReason: `pull request action "closed" is not in match.pullRequest.actions`},
		{name: "baseRefs: glob", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{BaseRefs: []string{"refs/heads/release/**"}}}, candidate: pr(v1alpha1.PullRequestOpened, false, "refs/heads/release/1.x"), wantMatch: true},
		{name: "baseRefs: mismatch", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{BaseRefs: []string{"refs/heads/main"}}}, candidate: pr(v1alpha1.PullRequestOpened, false, "refs/heads/dev"), wantReason: "match.pullRequest.baseRefs"},
		{name: "a pullRequest block lets pushes through", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"opened"}}}, candidate: files("a"), wantMatch: true},
		{name: "expression true", match: v1alpha1.MatchSpec{Expression: `delivery.ref == "refs/heads/main" && !delivery.message.contains("[skip deploy]")`}, candidate: files("a"), wantMatch: true},
		{name: "expression false", match: v1alpha1.MatchSpec{Expression: `delivery.message.contains("Bump")  == false`}, candidate: files("a"), wantReason: "match.expression returned false"},
		{name: "expression on the pull request", match: v1alpha1.MatchSpec{Expression: `delivery.pullRequest.action in ["opened", "synchronize"] && delivery.pullRequest.number > 0`}, candidate: pr(v1alpha1.PullRequestOpened, false, "refs/heads/main"), wantMatch: true},
		{name: "expression runtime error ignores", match: v1alpha1.MatchSpec{Expression: `body.nothing.here == 1`}, candidate: files("a"), wantReason: "match.expression failed"},
		{name: "expression: a dynamic non-bool result ignores", match: v1alpha1.MatchSpec{Expression: `delivery.ref`}, candidate: files("a"), wantReason: "did not return a bool"},
		{name: "expression fails last", match: v1alpha1.MatchSpec{Refs: []string{"refs/heads/dev"}, Expression: `false`}, candidate: files("a"), wantReason: "match.refs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustMatcher(t, tt.match).match(tt.candidate, nil)
			if got.Matched != tt.wantMatch {
				t.Fatalf("matched = %v (reason %q), want %v", got.Matched, got.Reason, tt.wantMatch)
			}
			if !tt.wantMatch && !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
		})
	}
}

func TestExpressionReadsBodyAndHeaders(t *testing.T) {
	body := []byte(`{"head_commit":{"message":"fix [skip deploy]"},"n":3,"labels":["preview"]}`)
	h := headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=abc", "X-Gitlab-Token", "t", "Authorization", "Bearer x", "User-Agent", "GitHub-Hookshot/1")
	c := candidate{delivery: v1alpha1.Delivery{Event: "push", Ref: "refs/heads/main"}, kind: kindPush}
	tests := []struct {
		expr string
		want bool
	}{
		{`body.head_commit.message.contains("[skip deploy]")`, true},
		{`body.n == 3 && "preview" in body.labels`, true},
		{`headers["x-github-event"] == "push" && headers["user-agent"].startsWith("GitHub-Hookshot/")`, true},
		{`!("x-hub-signature-256" in headers) && !("x-gitlab-token" in headers) && !("authorization" in headers)`, true},
		{`"X-GitHub-Event" in headers`, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			ev := &event{candidates: []candidate{c}, document: body, header: h}
			_, r := pick(mustMatcher(t, v1alpha1.MatchSpec{Expression: tt.expr}), ev)
			if r.Matched != tt.want || r.Expression.Value != map[bool]string{true: "true", false: "false"}[tt.want] {
				t.Errorf("matched %v, expression %+v; want %v", r.Matched, r.Expression, tt.want)
			}
		})
	}
}

func TestInvalidMatch(t *testing.T) {
	tests := []struct {
		name    string
		match   v1alpha1.MatchSpec
		wantErr string
	}{
		{name: "a syntax error names the CEL problem", match: v1alpha1.MatchSpec{Expression: `delivery.ref ==`}, wantErr: "match.expression: ERROR"},
		{name: "must return a bool", match: v1alpha1.MatchSpec{Expression: `size(delivery.ref)`}, wantErr: "must return a bool, not int"},
		{name: "unknown variable", match: v1alpha1.MatchSpec{Expression: `payload.x == 1`}, wantErr: "undeclared reference to 'payload'"},
		{name: "bad glob in paths", match: v1alpha1.MatchSpec{Paths: []string{"deploy/[a"}}, wantErr: "match.paths[0]"},
		{name: "lone exclusion", match: v1alpha1.MatchSpec{Senders: []string{"!"}}, wantErr: "match.senders[0]: empty pattern"},
		{name: "bad base ref glob", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{BaseRefs: []string{"refs/heads/{main"}}}, wantErr: "match.pullRequest.baseRefs[0]"},
		{name: "unknown action", match: v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"approved"}}}, wantErr: `match.pullRequest.actions[0]: "approved"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := testTemplate("web", v1alpha1.ProviderGitHub)
			tmpl.Spec.Match = tt.match
			c := compile(tmpl)
			if c.notReady == nil || c.notReady.Reason != v1alpha1.ReasonInvalidMatch {
				t.Fatalf("readiness %+v, want %s", c.notReady, v1alpha1.ReasonInvalidMatch)
			}
			if !strings.Contains(c.notReady.Message, tt.wantErr) {
				t.Errorf("message %q, want it to contain %q", c.notReady.Message, tt.wantErr)
			}
		})
	}
}

func TestExpressionCostIsBounded(t *testing.T) {
	// A list of 5,000 strings, each compared against every other one, is
	// far beyond the limit: the delivery is ignored, not evaluated for long.
	var b strings.Builder
	b.WriteString(`{"xs":[`)
	for i := 0; i < 5000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"x"`)
	}
	b.WriteString(`]}`)
	ev := &event{candidates: []candidate{{delivery: v1alpha1.Delivery{Event: "push"}, kind: kindPush}}, document: []byte(b.String())}
	_, r := pick(mustMatcher(t, v1alpha1.MatchSpec{Expression: `body.xs.all(a, body.xs.all(b, a == b))`}), ev)
	if r.Matched || !strings.Contains(r.Reason, "cost") {
		t.Fatalf("matched %v, reason %q: want a cost limit error", r.Matched, r.Reason)
	}
}

func TestDryRunExplainsNewFields(t *testing.T) {
	tmpl := testTemplate("web", v1alpha1.ProviderGitHub)
	tmpl.Spec.Match = v1alpha1.MatchSpec{
		Events:      []string{"pull_request"},
		Paths:       []string{"deploy/**"},
		Senders:     []string{"mallory"},
		PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"opened", "synchronize"}},
		Expression:  `delivery.pullRequest.title != ""`,
	}
	env := newFakeEnv(t, Options{}, nil, tmpl, testSecret("web", map[string]string{"secret": string(testKey)}))
	body := fixture(t, "github/pull_request-fork.json")
	h := signedHeaders("github", testKey, body, "pull_request", "pr-1")
	h.Set(HeaderDryRun, "true")
	r := env.do(t, http.MethodPost, "/hooks/web/site", h, body)
	if r.code != http.StatusOK {
		t.Fatalf("status %d %s", r.code, r.body)
	}
	var got DryRunAnswer
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	want := MatchResult{
		Reason:       ReasonFork,
		Events:       FieldMatch{Value: "pull_request", Names: []string{"pull_request"}, Patterns: []string{"pull_request"}, Matched: true},
		Repositories: FieldMatch{Value: "acme/site", Patterns: []string{}, Matched: true},
		Refs:         FieldMatch{Value: "refs/pull/12/head", Patterns: []string{}, Matched: true},
		Paths: FieldMatch{Patterns: []string{"deploy/**"}, Matched: true,
			Note: "the payload's list of changed files is missing or may be incomplete: matched, so that no deploy is missed"},
		Senders:     FieldMatch{Value: "mallory", Patterns: []string{"mallory"}, Matched: true},
		PullRequest: FieldMatch{Value: "synchronize", Patterns: []string{"opened", "synchronize"}, Note: ReasonFork},
		Expression:  FieldMatch{Value: "true", Patterns: []string{`delivery.pullRequest.title != ""`}, Matched: true},
	}
	if diff := cmp.Diff(want, got.Match); diff != "" {
		t.Errorf("match (-want +got):\n%s", diff)
	}
	env2 := map[string]string{}
	for _, e := range got.Env {
		env2[e.Name] = e.Value
	}
	for k, v := range map[string]string{"HOOK_PR_NUMBER": "12", "HOOK_PR_ACTION": "synchronize", "HOOK_BASE_REF": "refs/heads/main",
		"HOOK_HEAD_REF": "refs/heads/feature/pricing", "HOOK_REF": "refs/pull/12/head", "HOOK_SHA": "8f2b1c4e9d7a6b5c3e1f0a9b8c7d6e5f4a3b2c1d"} {
		if env2[k] != v {
			t.Errorf("%s = %q, want %q", k, env2[k], v)
		}
	}

	// Without dry run: 204 with the fork reason.
	h.Del(HeaderDryRun)
	r = env.do(t, http.MethodPost, "/hooks/web/site", h, body)
	if r.code != http.StatusNoContent || r.header.Get(HeaderReason) != ReasonFork {
		t.Errorf("status %d reason %q, want 204 %q", r.code, r.header.Get(HeaderReason), ReasonFork)
	}
	// A runtime error of the expression is a 204 too, never a 5xx.
	tmpl2 := testTemplate("web", v1alpha1.ProviderGitHub)
	tmpl2.Spec.Match = v1alpha1.MatchSpec{Expression: `body.no.such.field`}
	env = newFakeEnv(t, Options{}, nil, tmpl2, testSecret("web", map[string]string{"secret": string(testKey)}))
	body = fixture(t, "github/push.json")
	r = env.do(t, http.MethodPost, "/hooks/web/site", signedHeaders("github", testKey, body, "push", "p-1"), body)
	if r.code != http.StatusNoContent || !strings.Contains(r.header.Get(HeaderReason), "match.expression failed") {
		t.Errorf("status %d reason %q, want 204 with the expression's error", r.code, r.header.Get(HeaderReason))
	}
}

func TestOversizedPullRequestRefIsABadRequest(t *testing.T) {
	tmpl := testTemplate("web", v1alpha1.ProviderGitHub)
	env := newFakeEnv(t, Options{}, nil, tmpl, testSecret("web", map[string]string{"secret": string(testKey)}))
	body := bytes.Replace(fixture(t, "github/pull_request.json"), []byte(`"ref": "feature/pricing"`),
		[]byte(`"ref": "`+strings.Repeat("x", 1100)+`"`), 1)
	r := env.do(t, http.MethodPost, "/hooks/web/site", signedHeaders("github", testKey, body, "pull_request", "pr-big"), body)
	if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "pull request head ref") {
		t.Fatalf("status %d %s, want 400 naming the head ref", r.code, r.body)
	}
}

// countingFetcher answers ChangedFiles with fixed files or an error and
// counts the questions and the deadlines they were asked with (zero:
// none).
type countingFetcher struct {
	files     []string
	err       error
	limit     time.Duration // TimeLimit (default 1s)
	asked     []v1alpha1.Delivery
	deadlines []time.Time
}

func (f *countingFetcher) ChangedFiles(ctx context.Context, _ *v1alpha1.HookTemplate, d v1alpha1.Delivery) ([]string, string, error) {
	f.asked = append(f.asked, d)
	dl, _ := ctx.Deadline()
	f.deadlines = append(f.deadlines, dl)
	return f.files, "the github compare API", f.err
}

func (f *countingFetcher) Question(_ *v1alpha1.HookTemplate, d v1alpha1.Delivery) string {
	return d.Repository + " " + d.Before + "..." + d.SHA
}

func (f *countingFetcher) TimeLimit() time.Duration {
	if f.limit > 0 {
		return f.limit
	}
	return time.Second
}

// TestChangedFilesFetcherIsAskedOnlyWhenItMatters: a pull request (its
// payload lists no files) is asked about only when every other field
// matches; the host's list decides paths; a failing host matches and the
// dry run's note says why.
func TestChangedFilesFetcherIsAskedOnlyWhenItMatters(t *testing.T) {
	body := fixture(t, "github/pull_request.json")
	deliver := func(t *testing.T, f *countingFetcher, refs []string, dryRun bool) (int, http.Header, DryRunAnswer) {
		t.Helper()
		tmpl := testTemplate("web", v1alpha1.ProviderGitHub)
		tmpl.Spec.Match = v1alpha1.MatchSpec{Events: []string{"pull_request"}, Refs: refs, Paths: []string{"deploy/**"}}
		env := newFakeEnv(t, Options{ChangedFiles: f}, nil, tmpl, testSecret("web", map[string]string{"secret": string(testKey)}))
		h := signedHeaders("github", testKey, body, "pull_request", "pr-1")
		if dryRun {
			h.Set(HeaderDryRun, "true")
		}
		r := env.do(t, http.MethodPost, "/hooks/web/site", h, body)
		var got DryRunAnswer
		if dryRun {
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("dry run %d %s", r.code, r.body)
			}
		}
		return r.code, r.header, got
	}

	t.Run("another field refuses: not asked", func(t *testing.T) {
		f := &countingFetcher{files: []string{"deploy/x"}}
		code, h, _ := deliver(t, f, []string{"refs/heads/main"}, false)
		if code != http.StatusNoContent || !strings.Contains(h.Get(HeaderReason), "match.refs") || len(f.asked) != 0 {
			t.Errorf("status %d reason %q, %d questions; want 204 for refs and none", code, h.Get(HeaderReason), len(f.asked))
		}
	})
	t.Run("the host lists only docs: ignored", func(t *testing.T) {
		f := &countingFetcher{files: []string{"docs/a.md"}}
		code, h, _ := deliver(t, f, nil, false)
		if code != http.StatusNoContent || h.Get(HeaderReason) != "no changed file matches a pattern of match.paths" {
			t.Errorf("status %d reason %q, want 204 for paths", code, h.Get(HeaderReason))
		}
		if len(f.asked) != 1 || f.asked[0].PullRequest == nil || f.asked[0].PullRequest.Number != 12 {
			t.Errorf("questions %+v, want one about pull request 12", f.asked)
		}
	})
	t.Run("the host lists deploy/: runs", func(t *testing.T) {
		f := &countingFetcher{files: []string{"docs/a.md", "deploy/app.yaml"}}
		code, _, got := deliver(t, f, nil, true)
		want := FieldMatch{Value: "2 changed files (from the github compare API)", Patterns: []string{"deploy/**"},
			Files: []string{"deploy/app.yaml", "docs/a.md"}, Matched: true}
		if code != http.StatusOK || !got.WouldRun || !cmp.Equal(want, got.Match.Paths) {
			t.Errorf("status %d wouldRun %v paths %+v, want %+v", code, got.WouldRun, got.Match.Paths, want)
		}
	})
	t.Run("the host fails: matched, the note says why", func(t *testing.T) {
		f := &countingFetcher{err: errors.New("the github compare API answered HTTP 404")}
		code, _, got := deliver(t, f, nil, true)
		want := "the payload's list of changed files is missing or may be incomplete and the host could not complete it " +
			"(the github compare API answered HTTP 404): matched, so that no deploy is missed"
		if code != http.StatusOK || !got.WouldRun || got.Match.Paths.Note != want {
			t.Errorf("status %d wouldRun %v note %q, want %q", code, got.WouldRun, got.Match.Paths.Note, want)
		}
	})
	t.Run("the host is asked within the fetcher's time limit", func(t *testing.T) {
		f := &countingFetcher{files: []string{"deploy/x"}, limit: time.Hour}
		before := time.Now()
		code, _, _ := deliver(t, f, nil, false)
		if code != http.StatusAccepted || len(f.deadlines) != 1 {
			t.Fatalf("status %d, %d questions; want 202 after one", code, len(f.deadlines))
		}
		if dl := f.deadlines[0]; dl.Before(before.Add(time.Hour)) || dl.After(time.Now().Add(time.Hour)) {
			t.Errorf("asked with deadline %v, want an hour after the delivery arrived (%v)", dl, before)
		}
	})
	t.Run("the host lists too many: matched", func(t *testing.T) {
		many := make([]string, maxChangedFiles+1)
		for i := range many {
			many[i] = fmt.Sprintf("docs/%d.md", i)
		}
		code, _, got := deliver(t, &countingFetcher{files: many}, nil, true)
		if code != http.StatusOK || !got.WouldRun || !strings.Contains(got.Match.Paths.Note, "lists more than 2000 files") {
			t.Errorf("status %d wouldRun %v note %q, want a match for a list too long", code, got.WouldRun, got.Match.Paths.Note)
		}
	})
}
