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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// TestRunNameOfPolledTemplates: with spec.poll a push delivery is named as
// the poller names the same push (ref and sha), whatever its delivery id;
// other deliveries, and templates without poll, are named after the id.
func TestRunNameOfPolledTemplates(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	polled := &v1alpha1.HookTemplate{ObjectMeta: metav1.ObjectMeta{Name: "site"}}
	polled.Spec.Poll = &v1alpha1.PollSpec{URL: "https://github.com/acme/site.git", Interval: metav1.Duration{Duration: time.Minute}}
	plain := &v1alpha1.HookTemplate{ObjectMeta: metav1.ObjectMeta{Name: "site"}}
	push := v1alpha1.Delivery{ID: "gh-123", Event: "push", Ref: "refs/heads/main", SHA: sha}
	tag := v1alpha1.Delivery{ID: "gh-124", Event: "push", Ref: "refs/tags/v1", SHA: sha}
	del := v1alpha1.Delivery{ID: "gh-125", Event: "push", Ref: "refs/heads/old", SHA: v1alpha1.ZeroSHA}
	pr := v1alpha1.Delivery{ID: "gh-126", Event: "pull_request", Ref: "refs/heads/main", SHA: sha}
	tests := []struct {
		name string
		tmpl *v1alpha1.HookTemplate
		c    candidate
		want string
	}{
		{name: "push with poll: the poller's name", tmpl: polled, c: candidate{delivery: push, kind: kindPush},
			want: delivery.PushRunName("site", "refs/heads/main", sha)},
		{name: "tag push with poll: the poller's name", tmpl: polled, c: candidate{delivery: tag, kind: kindTag},
			want: delivery.PushRunName("site", "refs/tags/v1", sha)},
		{name: "push without poll: the delivery id", tmpl: plain, c: candidate{delivery: push, kind: kindPush},
			want: delivery.RunName("site", "gh-123")},
		{name: "deletion with poll: the delivery id", tmpl: polled, c: candidate{delivery: del, kind: kindDelete},
			want: delivery.RunName("site", "gh-125")},
		{name: "pull request with poll: the delivery id", tmpl: polled, c: candidate{delivery: pr, kind: kindPullRequest},
			want: delivery.RunName("site", "gh-126")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &event{candidates: []candidate{tt.c}}
			if got := runName(tt.tmpl, ev, tt.c.delivery); got != tt.want {
				t.Errorf("runName = %s, want %s", got, tt.want)
			}
		})
	}
	// The poller's delivery of the same push gets the same name.
	if a, b := runName(polled, &event{candidates: []candidate{{delivery: push, kind: kindPush}}}, push),
		delivery.NameForPush(polled, v1alpha1.Delivery{ID: delivery.PollDeliveryID(push.Ref, sha), Ref: push.Ref, SHA: sha}); a != b {
		t.Errorf("webhook name %s != poll name %s", a, b)
	}
}

// TestRefAllowed: the poller judges refs with the webhook's own match.refs
// globs.
func TestRefAllowed(t *testing.T) {
	m := v1alpha1.MatchSpec{Refs: []string{"refs/heads/*", "refs/tags/v*"}}
	for ref, want := range map[string]bool{
		"refs/heads/main":  true,
		"refs/heads/a/b":   false,
		"refs/tags/v1":     true,
		"refs/tags/x1":     false,
		"refs/pull/1/head": false,
	} {
		if got := RefAllowed(m, ref); got != want {
			t.Errorf("RefAllowed(%s) = %v, want %v", ref, got, want)
		}
	}
	if !RefAllowed(v1alpha1.MatchSpec{}, "refs/tags/v1") {
		t.Errorf("an empty match.refs must allow every ref")
	}
}
