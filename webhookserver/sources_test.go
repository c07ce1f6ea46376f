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
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

func TestRunsAnswer(t *testing.T) {
	run := func(name string, stored bool, err error) *createdRun {
		return &createdRun{run: &v1alpha1.HookRun{ObjectMeta: metav1.ObjectMeta{Name: name}}, stored: stored, err: err}
	}
	refused := errors.New("exceeded quota")
	tests := []struct {
		name       string
		runs       []*createdRun
		wantStatus int
		wantBody   any
	}{
		{name: "all new", runs: []*createdRun{run("a-1", true, nil), run("b-1", true, nil)},
			wantStatus: http.StatusAccepted, wantBody: SourceRunsAnswer{Runs: []string{"a-1", "b-1"}}},
		{name: "one new, one existed", runs: []*createdRun{run("a-1", false, nil), run("b-1", true, nil)},
			wantStatus: http.StatusAccepted, wantBody: SourceRunsAnswer{Runs: []string{"a-1", "b-1"}}},
		{name: "all existed", runs: []*createdRun{run("a-1", false, nil), run("b-1", false, nil)},
			wantStatus: http.StatusOK, wantBody: SourceRunsAnswer{Runs: []string{"a-1", "b-1"}, Duplicate: true}},
		{name: "one failed", runs: []*createdRun{run("a-1", true, nil), run("b-1", false, refused)},
			wantStatus: http.StatusServiceUnavailable, wantBody: SourceFailure{Error: "could not store 1 of 2 runs; try again later", Runs: []string{"a-1"}}},
		{name: "all failed", runs: []*createdRun{run("a-1", false, refused)},
			wantStatus: http.StatusServiceUnavailable, wantBody: SourceFailure{Error: "could not store 1 of 1 runs; try again later", Runs: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := runsAnswer(tt.runs)
			if a.status != tt.wantStatus {
				t.Errorf("status %d, want %d", a.status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantBody, a.body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIgnoredReason(t *testing.T) {
	tmpl := func(name string) *v1alpha1.HookTemplate {
		return &v1alpha1.HookTemplate{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	tests := []struct {
		name    string
		targets []target
		want    string
	}{
		{name: "no templates", want: "no template uses this source"},
		{name: "each template's reason", targets: []target{
			{tmpl: tmpl("api"), result: MatchResult{Reason: "repository acme/site not in [acme/api]"}},
			{tmpl: tmpl("docs"), result: MatchResult{Reason: "template not ready: invalid params"}},
		}, want: "no template matched (api: repository acme/site not in [acme/api]; docs: template not ready: invalid params)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ignoredReason(tt.targets); got != tt.want {
				t.Errorf("ignoredReason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSourcePath(t *testing.T) {
	if got, want := SourcePath("web", "acme"), "/sources/web/acme"; got != want {
		t.Errorf("SourcePath = %q, want %q", got, want)
	}
	for _, p := range []string{"/sources/web/acme", "/sources/web/", "/sources/web", "/sources/Web/acme", "/sources/web/acme/x"} {
		ns, name, ok := objectPath(p, SourcePathPrefix)
		want := p == "/sources/web/acme"
		if ok != want || (ok && (ns != "web" || name != "acme")) {
			t.Errorf("objectPath(%q) = %q, %q, %v; want ok=%v", p, ns, name, ok, want)
		}
	}
}
