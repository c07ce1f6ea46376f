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
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// readmeMatchExamples are the YAML blocks of the README's matching section:
// the HookTemplates, and the match blocks shown on their own.
func readmeMatchExamples(t *testing.T) (tmpls map[string]*v1alpha1.HookTemplate, matches []v1alpha1.MatchSpec) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Matching: monorepos, pull requests, trust\n")
	if !ok {
		t.Fatal("README.md has no matching section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	tmpls = map[string]*v1alpha1.HookTemplate{}
	for _, part := range strings.Split(section, "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if !strings.Contains(block, "kind: HookTemplate") {
			var m struct {
				Match v1alpha1.MatchSpec `json:"match"`
			}
			if err := yaml.UnmarshalStrict([]byte(dedent(block)), &m); err != nil {
				t.Fatalf("match block: %v\n%s", err, block)
			}
			matches = append(matches, m.Match)
			continue
		}
		for _, d := range strings.Split(block, "---\n") {
			tmpl := &v1alpha1.HookTemplate{}
			if err := yaml.UnmarshalStrict([]byte(d), tmpl); err != nil {
				t.Fatalf("template: %v\n%s", err, d)
			}
			tmpls[tmpl.Name] = tmpl
		}
	}
	return tmpls, matches
}

func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

// TestReadmeMatchExamples: the README's examples compile and do what the
// text says.
func TestReadmeMatchExamples(t *testing.T) {
	tmpls, matches := readmeMatchExamples(t)
	for _, name := range []string{"api", "web", "preview", "preview-teardown"} {
		if tmpls[name] == nil {
			t.Fatalf("README lost the %s template (have %d)", name, len(tmpls))
		}
	}
	if len(matches) != 2 {
		t.Fatalf("%d match blocks, want 2", len(matches))
	}
	for _, m := range matches {
		mustMatcher(t, m)
	}
	push := func(msg string, files ...string) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: "push", Repository: "acme/site", Ref: "refs/heads/main", Sender: "octocat", Message: msg},
			kind: kindPush, files: files, filesKnown: true}
	}
	pr := func(a v1alpha1.PullRequestAction, fork bool) candidate {
		return candidate{delivery: v1alpha1.Delivery{Event: "pull_request", Repository: "acme/site", Ref: "refs/pull/3/head",
			PullRequest: &v1alpha1.PullRequestDelivery{Number: 3, Action: a, BaseRef: "refs/heads/main", FromFork: fork}}, kind: kindPullRequest}
	}
	tests := []struct {
		name      string
		candidate candidate
		want      []string // templates that run
	}{
		{"web only", push("x", "web/index.html"), []string{"web"}},
		{"api via libs", push("x", "libs/log/log.go", "README.md"), []string{"api"}},
		{"both", push("x", "web/a", "services/api/main.go"), []string{"api", "web"}},
		{"only Markdown", push("x", "web/README.md", "docs/x.md"), nil},
		{"opened", pr(v1alpha1.PullRequestOpened, false), []string{"preview"}},
		{"synchronize", pr(v1alpha1.PullRequestSynchronize, false), []string{"preview"}},
		{"merged", pr(v1alpha1.PullRequestMerged, false), []string{"preview-teardown"}},
		{"closed", pr(v1alpha1.PullRequestClosed, false), []string{"preview-teardown"}},
		{"a fork", pr(v1alpha1.PullRequestOpened, true), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, name := range []string{"api", "web", "preview", "preview-teardown"} {
				if mustMatcher(t, tmpls[name].Spec.Match).match(tt.candidate, nil).Matched {
					got = append(got, name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ran %v, want %v", got, tt.want)
			}
		})
	}
	skip := mustMatcher(t, matches[1])
	if skip.match(push("fix typo [skip deploy]", "deploy/x.yaml"), nil).Matched || !skip.match(push("bump", "deploy/x.yaml"), nil).Matched {
		t.Error("the [skip deploy] example does not skip exactly the marked commits")
	}
}

// TestIntegrationReadmeMatchExamplesAreValid: the API server accepts the
// README's templates (OpenAPI and CEL validation of the new fields).
func TestIntegrationReadmeMatchExamplesAreValid(t *testing.T) {
	requireEnvtest(t)
	tmpls, _ := readmeMatchExamples(t)
	ns := newNamespace(t, suite.client)
	for _, tmpl := range tmpls {
		tmpl.Namespace = ns
		if err := suite.client.Create(context.Background(), tmpl); err != nil {
			t.Errorf("create %s: %v", tmpl.Name, err)
		}
	}
	for _, bad := range []struct {
		match   v1alpha1.MatchSpec
		wantErr string
	}{
		{v1alpha1.MatchSpec{Paths: []string{"deploy/**", "!"}}, "match.paths: a pattern must not be empty or a lone !"},
		{v1alpha1.MatchSpec{PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"approved"}}}, `Unsupported value: "approved"`},
	} {
		tmpl := testTemplate(ns, v1alpha1.ProviderGitHub)
		tmpl.Name, tmpl.UID = "bad", ""
		tmpl.Spec.Match = bad.match
		if err := suite.client.Create(context.Background(), tmpl); err == nil || !strings.Contains(err.Error(), bad.wantErr) {
			t.Errorf("create with %+v: %v, want %q", bad.match, err, bad.wantErr)
		}
	}
}
