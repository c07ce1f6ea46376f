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
	"strings"
	"testing"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

func TestMatchDelivery(t *testing.T) {
	push := func(event, repo, ref string) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: event, Repository: repo, Ref: ref}, kind: refKind(ref)}
	}
	deletion := func(event, ref string) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: event, Repository: "acme/site", Ref: ref, SHA: zeros}, kind: kindDelete}
	}
	other := func(event string) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: event, Repository: "acme/site"}, kind: kindOther}
	}
	creation := func(ref string) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: "create", Repository: "acme/site", Ref: ref}, kind: kindCreate}
	}
	echo := candidate{delivery: v1alpha1.Delivery{Event: "delete", Repository: "acme/site", Ref: "refs/tags/v1", SHA: zeros},
		kind: kindEcho, echo: "refs/tags/v1 was deleted: the push delivery is the one that runs"}
	tests := []struct {
		name       string
		match      v1alpha1.MatchSpec
		candidate  candidate
		wantMatch  bool
		wantReason string // substring
	}{
		{name: "empty match takes a push", candidate: push("push", "acme/site", "refs/heads/main"), wantMatch: true},
		{name: "empty match takes other events", candidate: other("issues"), wantMatch: true},
		{name: "empty match never takes a deletion", candidate: deletion("push", "refs/heads/main"), wantReason: `list "delete" in match.events`},
		{name: "normalised push on gitlab", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: push("Push Hook", "acme/site", "refs/heads/main"), wantMatch: true},
		{name: "normalised push on bitbucket data center", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: push("repo:refs_changed", "WEB/site", "refs/heads/main"), wantMatch: true},
		{name: "provider name", match: v1alpha1.MatchSpec{Events: []string{"Tag Push Hook"}}, candidate: push("Tag Push Hook", "acme/site", "refs/tags/v1"), wantMatch: true},
		{name: "provider name, other case", match: v1alpha1.MatchSpec{Events: []string{"push hook"}}, candidate: push("Push Hook", "acme/site", "refs/heads/main"), wantMatch: true},
		{name: "tag matches a tag push", match: v1alpha1.MatchSpec{Events: []string{"tag"}}, candidate: push("push", "acme/site", "refs/tags/v1.2.0"), wantMatch: true},
		{name: "tag does not match a branch push", match: v1alpha1.MatchSpec{Events: []string{"tag"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantReason: `event "push" is not in match.events`},
		{name: "push matches a tag push", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: push("push", "acme/site", "refs/tags/v1"), wantMatch: true},
		{name: "push does not match a deletion", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: deletion("push", "refs/heads/main"), wantReason: "was deleted"},
		{name: "provider push name does not match a deletion", match: v1alpha1.MatchSpec{Events: []string{"Push Hook"}}, candidate: deletion("Push Hook", "refs/heads/main"), wantReason: "was deleted"},
		{name: "delete matches a deletion", match: v1alpha1.MatchSpec{Events: []string{"push", "delete"}}, candidate: deletion("push", "refs/heads/main"), wantMatch: true},
		{name: "delete does not match a push", match: v1alpha1.MatchSpec{Events: []string{"delete"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantReason: "not in match.events"},
		{name: "push does not match other events", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: other("pull_request"), wantReason: `event "pull_request"`},
		{name: "ping is never matched by name", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: other("ping"), wantReason: "not in match.events"},
		{name: "repository glob", match: v1alpha1.MatchSpec{Repositories: []string{"acme/*"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantMatch: true},
		{name: "repository glob is case-insensitive", match: v1alpha1.MatchSpec{Repositories: []string{"web/site"}}, candidate: push("repo:refs_changed", "WEB/site", "refs/heads/main"), wantMatch: true},
		{name: "repository mismatch", match: v1alpha1.MatchSpec{Repositories: []string{"acme/api", "other/*"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantReason: `repository "acme/site"`},
		{name: "star does not cross a slash", match: v1alpha1.MatchSpec{Repositories: []string{"*"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantReason: "repository"},
		{name: "exact ref", match: v1alpha1.MatchSpec{Refs: []string{"refs/heads/main"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantMatch: true},
		{name: "push to another branch", match: v1alpha1.MatchSpec{Refs: []string{"refs/heads/main"}}, candidate: push("push", "acme/site", "refs/heads/dev"), wantReason: `ref "refs/heads/dev" matches no pattern of match.refs`},
		{name: "tag glob", match: v1alpha1.MatchSpec{Refs: []string{"refs/heads/main", "refs/tags/v*"}}, candidate: push("push", "acme/site", "refs/tags/v1.4.0"), wantMatch: true},
		{name: "tag glob does not take other tags", match: v1alpha1.MatchSpec{Refs: []string{"refs/tags/v*"}}, candidate: push("push", "acme/site", "refs/tags/release-1"), wantReason: "match.refs"},
		{name: "ref glob stops at slashes", match: v1alpha1.MatchSpec{Refs: []string{"refs/heads/*"}}, candidate: push("push", "acme/site", "refs/heads/feature/x"), wantReason: "match.refs"},
		{name: "refs are case-sensitive", match: v1alpha1.MatchSpec{Refs: []string{"refs/heads/Main"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantReason: "match.refs"},
		{name: "an event without ref fails a refs list", match: v1alpha1.MatchSpec{Refs: []string{"*"}}, candidate: other("issues"), wantReason: "match.refs"},
		{name: "empty match does not take a create (its push runs)", candidate: creation("refs/heads/feature"), wantReason: `list "create" in match.events`},
		{name: "push does not take a create", match: v1alpha1.MatchSpec{Events: []string{"push"}}, candidate: creation("refs/heads/feature"), wantReason: `event "create" is not in match.events`},
		{name: "create listed takes a create", match: v1alpha1.MatchSpec{Events: []string{"create"}}, candidate: creation("refs/tags/v1"), wantMatch: true},
		{name: "an echo never runs", candidate: echo, wantReason: "the one that runs"},
		{name: "an echo never runs, not even by name", match: v1alpha1.MatchSpec{Events: []string{"delete"}}, candidate: echo, wantReason: "the one that runs"},
		{name: "all lists must match", match: v1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"acme/site"}, Refs: []string{"refs/heads/main"}}, candidate: push("push", "acme/site", "refs/heads/main"), wantMatch: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchDelivery(tt.match, tt.candidate)
			if got.Matched != tt.wantMatch {
				t.Fatalf("matched = %v (reason %q), want %v", got.Matched, got.Reason, tt.wantMatch)
			}
			if !tt.wantMatch && !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
			if tt.wantMatch && got.Reason != "" {
				t.Errorf("reason = %q on a match", got.Reason)
			}
		})
	}
}

func TestPickTakesTheFirstMatchingChange(t *testing.T) {
	branch := candidate{delivery: v1alpha1.Delivery{Event: "repo:push", Ref: "refs/heads/main"}, kind: kindPush}
	tag := candidate{delivery: v1alpha1.Delivery{Event: "repo:push", Ref: "refs/tags/v2.0.0"}, kind: kindTag}
	c, r := pick(mustMatcher(t, v1alpha1.MatchSpec{Refs: []string{"refs/tags/v*"}}), &event{candidates: []candidate{branch, tag}})
	if !r.Matched || c.delivery.Ref != "refs/tags/v2.0.0" {
		t.Fatalf("picked %q (matched %v), want the tag", c.delivery.Ref, r.Matched)
	}
	c, r = pick(mustMatcher(t, v1alpha1.MatchSpec{Refs: []string{"refs/heads/dev"}}), &event{candidates: []candidate{branch, tag}})
	if r.Matched || c.delivery.Ref != "refs/heads/main" {
		t.Fatalf("picked %q (matched %v), want the first change, unmatched", c.delivery.Ref, r.Matched)
	}
}

func TestValidateMatch(t *testing.T) {
	tests := []struct {
		name    string
		match   v1alpha1.MatchSpec
		wantErr string
	}{
		{name: "empty"},
		{name: "good globs", match: v1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"acme/*", "a?c/[a-z]*"}, Refs: []string{"refs/tags/v*"}}},
		{name: "unclosed class", match: v1alpha1.MatchSpec{Refs: []string{"refs/heads/main", "refs/heads/[a-"}}, wantErr: "match.refs[1]"},
		{name: "trailing backslash", match: v1alpha1.MatchSpec{Repositories: []string{`acme\`}}, wantErr: "match.repositories[0]"},
		{name: "empty pattern", match: v1alpha1.MatchSpec{Refs: []string{""}}, wantErr: "empty pattern"},
		{name: "blank event", match: v1alpha1.MatchSpec{Events: []string{" "}}, wantErr: "match.events[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateMatch(tt.match)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateMatch: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateMatch: %v, want an error about %s", err, tt.wantErr)
			}
		})
	}
}

func mustMatcher(t testing.TB, m v1alpha1.MatchSpec) *matcher {
	t.Helper()
	mt, err := newMatcher(m)
	if err != nil {
		t.Fatalf("newMatcher: %v", err)
	}
	return mt
}
