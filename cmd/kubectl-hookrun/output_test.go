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

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookrun/hookrun/webhookserver"
)

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreatedLine(t *testing.T) {
	tests := []struct {
		name string
		ans  answer
		want string
	}{
		{
			name: "template's own URL",
			ans:  answer{status: http.StatusAccepted, body: jsonOf(t, webhookserver.RunAnswer{Run: "site-0123456789"})},
			want: "202 Accepted: run site-0123456789",
		},
		{
			name: "template's own URL, redelivery",
			ans:  answer{status: http.StatusOK, body: jsonOf(t, webhookserver.RunAnswer{Run: "site-0123456789", Duplicate: true})},
			want: "200 OK: run site-0123456789 (duplicate delivery: the run already existed)",
		},
		{
			name: "source, two runs",
			ans:  answer{status: http.StatusAccepted, source: "acme", body: jsonOf(t, webhookserver.SourceRunsAnswer{Runs: []string{"all-0123456789", "site-0123456789"}})},
			want: "202 Accepted: runs all-0123456789, site-0123456789 through HookSource acme",
		},
		{
			name: "source, one run, redelivery",
			ans:  answer{status: http.StatusOK, source: "acme", body: jsonOf(t, webhookserver.SourceRunsAnswer{Runs: []string{"site-0123456789"}, Duplicate: true})},
			want: "200 OK: run site-0123456789 through HookSource acme (duplicate delivery: the runs already existed)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := createdLine(&tc.ans); got != tc.want {
				t.Errorf("createdLine:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestOthersSummary(t *testing.T) {
	tmpl := func(name string, wouldRun, suspended bool) webhookserver.SourceDryRunTemplate {
		return webhookserver.SourceDryRunTemplate{Template: name, WouldRun: wouldRun, Suspended: suspended}
	}
	tests := []struct {
		name      string
		templates []webhookserver.SourceDryRunTemplate
		want      string
	}{
		{name: "alone", templates: []webhookserver.SourceDryRunTemplate{tmpl("site", true, false)}, want: "none"},
		{
			name:      "some run, some not",
			templates: []webhookserver.SourceDryRunTemplate{tmpl("all", true, false), tmpl("docs", true, false), tmpl("other", false, false), tmpl("site", false, false)},
			want:      "would run: all, docs; would not run: other",
		},
		{
			name:      "a suspended template records its run",
			templates: []webhookserver.SourceDryRunTemplate{tmpl("all", true, true), tmpl("site", true, false), tmpl("x", false, true)},
			want:      "recorded, suspended: all; would not run: x",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := othersSummary(tc.templates, "site"); got != tc.want {
				t.Errorf("othersSummary = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExplainSource(t *testing.T) {
	match := func(matched bool, reason, repo string) webhookserver.MatchResult {
		return webhookserver.MatchResult{
			Matched: matched, Reason: reason,
			Events:       webhookserver.FieldMatch{Value: "push", Names: []string{"push"}, Matched: true},
			Repositories: webhookserver.FieldMatch{Value: "acme/site", Patterns: []string{repo}, Matched: matched},
			Refs:         webhookserver.FieldMatch{Value: "refs/heads/main", Matched: true},
		}
	}
	dry := webhookserver.SourceDryRunAnswer{DryRun: true, Templates: []webhookserver.SourceDryRunTemplate{
		{Template: "all", WouldRun: true, Match: match(true, "", "acme/*"), Run: "all-0123456789"},
		{Template: "other", Match: match(false, "repository acme/site does not match", "other/*"), Run: "other-0123456789"},
		{Template: "site", WouldRun: true, Match: match(true, "", "acme/site"), Run: "site-0123456789"},
	}}
	tests := []struct {
		name     string
		template string
		ans      answer
		want     string
		wantErr  string
	}{
		{
			name: "matching template", template: "site",
			ans: answer{status: http.StatusOK, source: "acme", body: jsonOf(t, dry)},
			want: `template         site
source           acme (3 templates)
would run        yes
run              site-0123456789
signature        ok
events           ok  push (answers to push)  patterns: any
repositories     ok  acme/site               patterns: acme/site
refs             ok  refs/heads/main         patterns: any
other templates  would run: all; would not run: other
`,
		},
		{
			name: "template that does not match", template: "other",
			ans: answer{status: http.StatusOK, source: "acme", body: jsonOf(t, dry)},
			want: `template         other
source           acme (3 templates)
would run        no: repository acme/site does not match
run              other-0123456789
signature        ok
events           ok      push (answers to push)  patterns: any
repositories     FAILED  acme/site               patterns: other/*
refs             ok      refs/heads/main         patterns: any
other templates  would run: all, site
`,
		},
		{
			name: "refused: wrong signature", template: "site",
			ans: answer{status: http.StatusUnauthorized, source: "acme", body: []byte(`{"error":"invalid signature"}`)},
			want: `template   site
source     acme
would run  no
signature  FAILED  401: invalid signature
`,
		},
		{
			name: "refused: unknown source", template: "site",
			ans: answer{status: http.StatusNotFound, source: "acme", body: []byte(`{"error":"not found"}`)},
			want: `template   site
source     acme
would run  no
source     FAILED  404: not found
`,
		},
		{
			name: "template not in the answer", template: "new",
			ans:     answer{status: http.StatusOK, source: "acme", body: jsonOf(t, dry)},
			wantErr: "HookSource acme's answer has no template new (it has all, other, site)",
		},
		{
			name: "not a dry-run answer", template: "site",
			ans:     answer{status: http.StatusOK, source: "acme", body: []byte(`{"ping":"ok"}`)},
			wantErr: "did not give a dry-run answer",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			a := &app{out: &out}
			err := a.explainSource(tc.template, &tc.ans)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}
