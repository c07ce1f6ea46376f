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

package delivery

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func TestBranchAndTag(t *testing.T) {
	tests := []struct {
		name, ref, branch, tag string
	}{
		{name: "branch", ref: "refs/heads/main", branch: "main"},
		{name: "branch with a slash", ref: "refs/heads/release/1.2", branch: "release/1.2"},
		{name: "tag", ref: "refs/tags/v1.0.0", tag: "v1.0.0"},
		{name: "pull request ref", ref: "refs/pull/12/head"},
		{name: "empty", ref: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			branch, tag := BranchAndTag(tt.ref)
			if branch != tt.branch || tag != tt.tag {
				t.Errorf("BranchAndTag(%q) = %q, %q; want %q, %q", tt.ref, branch, tag, tt.branch, tt.tag)
			}
		})
	}
}

func TestNames(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "short sha", got: ShortSHA("0123456789abcdef"), want: "0123456"},
		{name: "short sha of a short value", got: ShortSHA("abc"), want: "abc"},
		{name: "job name of a short run is the run's name", got: JobName("site-3f9c2a1b7e"), want: "site-3f9c2a1b7e"},
		{name: "job name of a long run: 52 characters and a hash", got: JobName(long), want: strings.Repeat("a", 52) + "-" + ShortHash(long, 10)},
		{name: "run name: template and hash of the delivery id", got: RunName("site", "d-1"), want: "site-" + ShortHash("d-1", 10)},
		{name: "node job name: run and hash of the node", got: NodeJobName("site-3f9c2a1b7e", "web-1"), want: "site-3f9c2a1b7e-" + ShortHash("web-1", 10)},
		{name: "node job name of a 52-character run is exactly 63", got: NodeJobName(long[:52], "web-1"), want: long[:52] + "-" + ShortHash("web-1", 10)},
		{name: "node job name of a longer run: 41 characters, hash of the run, hash of the node", got: NodeJobName(long[:53], "web-1"),
			want: long[:41] + "-" + ShortHash(long[:53], 10) + "-" + ShortHash("web-1", 10)},
		{name: "node job name of a run cut at a dash", got: NodeJobName(strings.Repeat("a", 40)+"-"+long, "n"),
			want: strings.Repeat("a", 40) + "-" + ShortHash(strings.Repeat("a", 40)+"-"+long, 10) + "-" + ShortHash("n", 10)},
		{name: "group label of the empty group", got: GroupLabel(""), want: "e3b0c44298fc1c14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
			if len(tt.got) > MaxNameLength {
				t.Errorf("%q is longer than %d", tt.got, MaxNameLength)
			}
		})
	}
}

func TestEnvAndGroupKey(t *testing.T) {
	tmpl := &hooksv1alpha1.HookTemplate{Spec: hooksv1alpha1.HookTemplateSpec{
		Run:         hooksv1alpha1.RunSpec{Env: []corev1.EnvVar{{Name: "HOOK_TAG", Value: "$(OVERRIDE)"}, {Name: "EXTRA", Value: "x"}}},
		Concurrency: hooksv1alpha1.ConcurrencySpec{Group: "$(HOOK_BRANCH)/$(PUSHER)/$(UNKNOWN)"},
	}}
	run := &hooksv1alpha1.HookRun{Spec: hooksv1alpha1.HookRunSpec{
		TemplateRef: hooksv1alpha1.TemplateRef{Name: "site"},
		Delivery:    hooksv1alpha1.Delivery{Ref: "refs/heads/ma$(in)", SHA: "abc"},
		Params:      map[string]string{"PUSHER": "oct$cat", "A": "1"},
	}}
	run.Name = "site-1"
	env := map[string]string{}
	var order []string
	for _, e := range Env(tmpl, run) {
		env[e.Name] = e.Value
		order = append(order, e.Name)
	}
	want := map[string]string{
		"HOOK_BRANCH": "ma$$(in)", "HOOK_REF": "refs/heads/ma$$(in)", "PUSHER": "oct$$cat", "A": "1",
		"HOOK_TAG": "$(OVERRIDE)", "EXTRA": "x", "HOOK_SHA": "abc", "HOOK_RUN": "site-1", "HOOK_TEMPLATE": "site",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	// Params after the HOOK_* variables, sorted; the template's env last,
	// an override in place.
	if diff := cmp.Diff([]string{"A", "PUSHER", "EXTRA"}, order[len(order)-3:]); diff != "" {
		t.Errorf("order of the last variables (-want +got):\n%s", diff)
	}
	if got, want := GroupKey(tmpl, run), "ma$(in)/oct$cat/"; got != want {
		t.Errorf("GroupKey = %q, want %q (unescaped values, unknown names empty)", got, want)
	}
}

func TestPullRequestAndMessageVars(t *testing.T) {
	tests := []struct {
		name     string
		delivery hooksv1alpha1.Delivery
		want     map[string]string
	}{
		{
			name:     "a push: message, no pull request",
			delivery: hooksv1alpha1.Delivery{Ref: "refs/heads/main", Message: "deploy $(date) [skip deploy]"},
			want: map[string]string{"HOOK_MESSAGE": "deploy $$(date) [skip deploy]", "HOOK_PR_NUMBER": "", "HOOK_PR_ACTION": "",
				"HOOK_BASE_REF": "", "HOOK_HEAD_REF": ""},
		},
		{
			name: "a pull request",
			delivery: hooksv1alpha1.Delivery{Ref: "refs/pull/12/head", PullRequest: &hooksv1alpha1.PullRequestDelivery{
				Number: 12, Action: hooksv1alpha1.PullRequestSynchronize, BaseRef: "refs/heads/main",
				HeadRef: "refs/heads/fe$ture", Title: "t",
			}},
			want: map[string]string{"HOOK_MESSAGE": "", "HOOK_PR_NUMBER": "12", "HOOK_PR_ACTION": "synchronize",
				"HOOK_BASE_REF": "refs/heads/main", "HOOK_HEAD_REF": "refs/heads/fe$$ture", "HOOK_BRANCH": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &hooksv1alpha1.HookRun{Spec: hooksv1alpha1.HookRunSpec{Delivery: tt.delivery}}
			got := map[string]string{}
			for _, e := range Env(nil, run) {
				got[e.Name] = e.Value
			}
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %q (set %v), want %q", k, g, ok, v)
				}
			}
		})
	}
}
