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
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

func TestCompileParams(t *testing.T) {
	tests := []struct {
		name    string
		params  []v1alpha1.ParamSpec
		wantErr string
	}{
		{name: "none"},
		{name: "good", params: []v1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name}"}, {Name: "ids", Path: "{.commits[*].id}"}, {Name: "RELAXED", Path: ".pusher.name"}}},
		{name: "filter", params: []v1alpha1.ParamSpec{{Name: "MSG", Path: `{.commits[?(@.id=="x")].message}`}}},
		{name: "unclosed bracket", params: []v1alpha1.ParamSpec{{Name: "BAD", Path: "{.commits[0}"}}, wantErr: `param "BAD"`},
		{name: "unclosed brace", params: []v1alpha1.ParamSpec{{Name: "BAD", Path: "{.pusher.name"}}, wantErr: `param "BAD"`},
		{name: "empty path", params: []v1alpha1.ParamSpec{{Name: "EMPTY", Path: " "}}, wantErr: "empty path"},
		{name: "reserved name", params: []v1alpha1.ParamSpec{{Name: "HOOK_REF", Path: "{.ref}"}}, wantErr: "reserved"},
		{name: "invalid name", params: []v1alpha1.ParamSpec{{Name: "1X", Path: "{.ref}"}}, wantErr: "not a valid"},
		{name: "duplicate", params: []v1alpha1.ParamSpec{{Name: "X", Path: "{.ref}"}, {Name: "X", Path: "{.after}"}}, wantErr: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CompileParams(tt.params)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CompileParams: %v", err)
				}
				if c.Len() != len(tt.params) {
					t.Fatalf("Len = %d, want %d", c.Len(), len(tt.params))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CompileParams: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEvaluateParams(t *testing.T) {
	params := []v1alpha1.ParamSpec{
		{Name: "PUSHER", Path: "{.pusher.name}"},
		{Name: "RELAXED", Path: "pusher.email"},
		{Name: "MISSING", Path: "{.no.such.field}"},
		{Name: "OUT_OF_RANGE", Path: "{.commits[7].id}"},
		{Name: "REPO_ID", Path: "{.repository.id}"},
		{Name: "CREATED", Path: "{.repository.created_at}"},
		{Name: "FORCED", Path: "{.forced}"},
		{Name: "NULL", Path: "{.base_ref}"},
		{Name: "IDS", Path: "{.commits[*].id}"},
		{Name: "AUTHOR", Path: "{.head_commit.author}"},
		{Name: "TOPICS", Path: "{.repository.topics}"},
		{Name: "TEXT", Path: "ref={.ref} sha={.after}"},
		{Name: "FILTER", Path: `{.commits[?(@.id=="0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c")].modified[0]}`},
		{Name: "RANGE", Path: `{range .commits[*]}{.id}{","}{end}`},
	}
	c, err := CompileParams(params)
	if err != nil {
		t.Fatalf("CompileParams: %v", err)
	}
	got, err := c.Evaluate(fixture(t, "github/push.json"))
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	want := map[string]string{
		"PUSHER":       "octocat",
		"RELAXED":      "mona@example.com",
		"MISSING":      "",
		"OUT_OF_RANGE": "",
		"REPO_ID":      "186853002",
		"CREATED":      "1557933565",
		"FORCED":       "false",
		"NULL":         "",
		"IDS":          "b1f3d6a4b0f1e4c2a9d7e8f6c5b4a3d2e1f0a9b8 0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
		"AUTHOR":       `{"email":"mona@example.com","name":"Mona Lisa Octocat","username":"octocat"}`,
		"TOPICS":       `[]`,
		"TEXT":         "ref=refs/heads/main sha=0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
		"FILTER":       "index.html",
		"RANGE":        "b1f3d6a4b0f1e4c2a9d7e8f6c5b4a3d2e1f0a9b8,0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c,",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}

	// The same compiled params serve many payloads (a {range} must not eat
	// its own node list).
	again, err := c.Evaluate(fixture(t, "github/push.json"))
	if err != nil {
		t.Fatalf("Evaluate again: %v", err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("second evaluation (-want +got):\n%s", diff)
	}

	if _, err := c.Evaluate([]byte("{not json")); err == nil {
		t.Error("Evaluate of malformed JSON: want an error")
	}
}

func TestParamRoots(t *testing.T) {
	tests := []struct {
		path string
		want []string // nil: the whole payload is decoded
	}{
		{path: "{.pusher.name}", want: []string{"pusher"}},
		{path: "pusher.name", want: []string{"pusher"}},
		{path: "{$.ref}", want: []string{"ref"}},
		{path: "ref={.ref} sha={.after}", want: []string{"after", "ref"}},
		{path: `{.commits[?(@.id=="x")].message}`, want: []string{"commits"}},
		{path: `{range .commits[*]}{.id}{","}{end}`, want: []string{"commits", "id"}},
		{path: "{['pusher']}", want: []string{"pusher"}},
		{path: "{..id}"},
		{path: "{.*}"},
		{path: "{['a','b']}"},
		{path: "{[0]}"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c, err := CompileParams([]v1alpha1.ParamSpec{{Name: "P", Path: tt.path}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if c.roots != nil {
				got = []string{}
				for k := range c.roots {
					got = append(got, k)
				}
				slices.Sort(got)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("roots (-want +got):\n%s", diff)
			}
		})
	}
}

// Decoding only the top-level fields the params name gives what a full
// decode gives.
func TestPartialDecodeMatchesFullDecode(t *testing.T) {
	// Not {..x} or {.*}: client-go walks objects in Go's random map order
	// there, so two evaluations of one payload may differ (as in kubectl).
	paths := []string{"{.pusher.name}", "{.commits[*].id}", `{range .commits[*]}{.id}{","}{end}`, "{.repository.owner}", "x{.ref}y", "{.nope}", "{['sender']['login']}"}
	for _, f := range []string{"github/push.json", "bitbucket/cloud-push.json", "gitlab/push.json"} {
		body := fixture(t, f)
		for _, p := range paths {
			c, err := CompileParams([]v1alpha1.ParamSpec{{Name: "P", Path: p}})
			if err != nil {
				t.Fatal(err)
			}
			partial, err := c.Evaluate(body)
			if err != nil {
				t.Fatal(err)
			}
			c.roots = nil
			full, err := c.Evaluate(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(full, partial); diff != "" {
				t.Errorf("%s %s (-full +partial):\n%s", f, p, diff)
			}
		}
	}
}
