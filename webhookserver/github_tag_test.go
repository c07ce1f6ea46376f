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

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// TestGitHubAnnotatedTagIsTheCommit: for a push of an annotated tag GitHub
// sends the tag object as `after` and the commit as head_commit.id; the
// delivery's sha (HOOK_SHA, and what statuses are reported on) is the commit.
func TestGitHubAnnotatedTagIsTheCommit(t *testing.T) {
	const tagObject, commit = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	body := []byte(`{"ref":"refs/tags/v1.0.0","before":"0000000000000000000000000000000000000000","after":"` + tagObject + `",
		"created":true,"deleted":false,"head_commit":{"id":"` + commit + `","message":"release"},
		"repository":{"full_name":"acme/site"},"sender":{"login":"octocat"}}`)
	ev, err := providers[v1alpha1.ProviderGitHub].normalise(headers("X-GitHub-Event", "push", "X-GitHub-Delivery", "tag-1"), body)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.candidates) != 1 {
		t.Fatalf("%d candidates", len(ev.candidates))
	}
	if got := ev.candidates[0].delivery.SHA; got != commit {
		t.Fatalf("sha %s, want the commit %s", got, commit)
	}
	if got := ev.candidates[0].kind; got != kindTag {
		t.Fatalf("kind %v, want a tag push", got)
	}
}
