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

// Fuzz targets for everything that parses request data. The seed corpus is
// the testdata fixtures (f.Add) plus the files under testdata/fuzz/. Run one
// with e.g. `go test -run '^$' -fuzz '^FuzzGitHub$' -fuzztime 10s`; `make
// fuzz` runs them all.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

var fuzzKey = []byte("fuzz-secret")

// fuzzProvider checks one provider on arbitrary input: verify and
// normalise never panic; a correct signature always verifies and stops
// verifying when the body changes; a normalised delivery is well-formed.
func fuzzProvider(t *testing.T, p v1alpha1.Provider, h http.Header, body []byte, sign func(http.Header, []byte)) {
	prov := providers[p]
	in := &verifyInput{header: h, body: body, keys: [][]byte{fuzzKey}, now: time.Unix(1_780_000_000, 0), tolerance: 5 * time.Minute}
	_ = prov.verify(in) // arbitrary headers: any answer, no panic

	signed := h.Clone()
	sign(signed, body)
	in.header = signed
	if err := prov.verify(in); err != nil {
		t.Fatalf("verify of a correctly signed body: %v", err)
	}
	tampered := append(bytes.Clone(body), 'x')
	in.body = tampered
	if err := prov.verify(in); !errors.Is(err, errBadSignature) {
		t.Fatalf("verify of a tampered body: %v, want errBadSignature", err)
	}

	ev, err := prov.normalise(h, body)
	if err != nil || ev.ping {
		return
	}
	if len(ev.candidates) == 0 {
		t.Fatal("normalise: no candidate and no error")
	}
	for _, c := range ev.candidates {
		d := c.delivery
		if d.Provider != p || d.ID == "" {
			t.Fatalf("normalise: provider %q id %q", d.Provider, d.ID)
		}
		if c.kind == kindDelete && !isZeroSHA(d.SHA) {
			t.Fatalf("deletion with sha %q", d.SHA)
		}
		_ = matchDelivery(v1alpha1.MatchSpec{Events: []string{"push"}, Refs: []string{"refs/heads/*"}}, c)
		checkNormalised(t, c)
		if n := RunName("t", d.ID); len(n) > maxRunNameLength {
			t.Fatalf("run name %q too long", n)
		}
	}
}

// checkNormalised: the new delivery fields stay within their contract on
// any input.
func checkNormalised(t *testing.T, c candidate) {
	d := c.delivery
	if len(d.Message) > MaxMessageBytes || !utf8.ValidString(d.Message) {
		t.Fatalf("message of %d bytes (valid UTF-8 %v)", len(d.Message), utf8.ValidString(d.Message))
	}
	if (c.kind == kindPullRequest) != (d.PullRequest != nil) {
		t.Fatalf("kind %v with pullRequest %v", c.kind, d.PullRequest)
	}
	if pr := d.PullRequest; pr != nil {
		if !slices.Contains(pullRequestActions, pr.Action) {
			t.Fatalf("pull request action %q", pr.Action)
		}
		if len(pr.Title) > MaxMessageBytes || !utf8.ValidString(pr.Title) {
			t.Fatalf("title of %d bytes", len(pr.Title))
		}
	}
	if c.filesKnown && (len(c.files) == 0 || !slices.IsSorted(c.files)) {
		t.Fatalf("known files %q: want a sorted, non-empty list", c.files)
	}
	m := v1alpha1.MatchSpec{Events: []string{EventPullRequest, EventPush}, Paths: []string{"deploy/**"}, IgnorePaths: []string{"**/*.md"},
		Senders: []string{"*", "!bot*"}, PullRequest: &v1alpha1.PullRequestMatch{Actions: []v1alpha1.PullRequestAction{"opened"}}}
	if r := matchDelivery(m, c); r.Matched == (r.Reason != "") {
		t.Fatalf("matched %v with reason %q", r.Matched, r.Reason)
	}
}

func addFixtures(f *testing.F, event string, names ...string) {
	for _, n := range names {
		f.Add(event, "delivery-1", fixture(f, n))
	}
}

func FuzzGitHub(f *testing.F) {
	addFixtures(f, "push", "github/push.json", "github/push-tag.json", "github/push-delete.json")
	addFixtures(f, "release", "github/release.json")
	addFixtures(f, "ping", "github/ping.json")
	f.Add("push", "", []byte(`{"ref":null,"deleted":"yes"}`))
	f.Add("create", "x", []byte(`{"ref":"v1","ref_type":"tag"}`))
	f.Add("pull_request", "x", []byte(`{"pull_request":{"number":7,"head":{"sha":"abc"}}}`))
	addFixtures(f, "pull_request", "github/pull_request.json", "github/pull_request-fork.json")
	f.Add("pull_request", "x", []byte(`{"action":"closed","pull_request":{"number":-1,"merged":true,"title":"\udc00","head":{"repo":null},"base":{}}}`))
	f.Add("push", "x", []byte(`{"ref":"refs/heads/m","after":"a","commits":[{"added":["a","a",""],"removed":null}],"head_commit":{"message":"x"}}`))
	f.Fuzz(func(t *testing.T, event, id string, body []byte) {
		h := headers("X-GitHub-Event", event, "X-GitHub-Delivery", id)
		fuzzProvider(t, v1alpha1.ProviderGitHub, h, body, func(h http.Header, b []byte) {
			h.Set("X-Hub-Signature-256", sha256Sig(fuzzKey, b))
		})
		form := headers("X-GitHub-Event", event, "Content-Type", "application/x-www-form-urlencoded")
		_, _ = providers[v1alpha1.ProviderGitHub].normalise(form, body)
	})
}

func FuzzGitLab(f *testing.F) {
	addFixtures(f, "Push Hook", "gitlab/push.json", "gitlab/push-delete.json")
	addFixtures(f, "Tag Push Hook", "gitlab/tag_push.json")
	addFixtures(f, "Merge Request Hook", "gitlab/merge_request.json", "gitlab/merge_request-update.json")
	f.Add("Merge Request Hook", "", []byte(`{"object_kind":"merge_request","object_attributes":{"iid":9223372036854775807,"action":"update","oldrev":"x","source":{},"target":null}}`))
	f.Add("System Hook", "", []byte(`{"object_kind":"tag_push","ref":"refs/tags/x","after":"000"}`))
	f.Fuzz(func(t *testing.T, event, id string, body []byte) {
		h := headers("X-Gitlab-Event", event, "X-Gitlab-Event-UUID", id)
		fuzzProvider(t, v1alpha1.ProviderGitLab, h, body, func(h http.Header, b []byte) {
			ts := int64(1_780_000_000)
			h.Set("Webhook-Id", "msg")
			h.Set("Webhook-Timestamp", strconv.FormatInt(ts, 10))
			h.Set("Webhook-Signature", standardSig(fuzzKey, "msg", ts, b))
		})
	})
}

func FuzzGitea(f *testing.F) {
	addFixtures(f, "push", "gitea/push.json")
	addFixtures(f, "delete", "gitea/delete.json")
	addFixtures(f, "push", "gitea/push-annotated-tag.json")
	addFixtures(f, "push", "gitea/push-delete-tag.json")
	addFixtures(f, "delete", "gitea/delete-tag.json")
	addFixtures(f, "create", "gitea/create-branch.json")
	addFixtures(f, "pull_request", "gitea/pull_request.json")
	addFixtures(f, "pull_request_sync", "gitea/pull_request.json")
	f.Add("create", "x", []byte(`{"ref":"v1","ref_type":"tag","sha":"abc"}`))
	f.Fuzz(func(t *testing.T, event, id string, body []byte) {
		h := headers("X-Gitea-Event", event, "X-Gitea-Delivery", id)
		fuzzProvider(t, v1alpha1.ProviderGitea, h, body, func(h http.Header, b []byte) {
			h.Set("X-Gitea-Signature", hmacHex(sha256.New, fuzzKey, b))
		})
	})
}

func FuzzBitbucket(f *testing.F) {
	addFixtures(f, "repo:push", "bitbucket/cloud-push.json", "bitbucket/cloud-delete.json")
	addFixtures(f, "repo:refs_changed", "bitbucket/dc-refs-changed.json", "bitbucket/dc-delete.json")
	addFixtures(f, "diagnostics:ping", "bitbucket/dc-ping.json")
	addFixtures(f, "pullrequest:created", "bitbucket/cloud-pullrequest-created.json")
	addFixtures(f, "pr:opened", "bitbucket/dc-pr-opened.json")
	f.Add("pr:merged", "", []byte(`{"pullRequest":{"id":1,"fromRef":{"repository":null},"toRef":{}},"pullrequest":{"id":2}}`))
	f.Add("repo:push", "", []byte(`{"push":{"changes":[{"new":null,"old":null}]}}`))
	f.Add("repo:refs_changed", "", []byte(`{"changes":[{"ref":{"id":"v1","type":"TAG"}}],"repository":{"slug":"s"}}`))
	f.Fuzz(func(t *testing.T, event, id string, body []byte) {
		h := headers("X-Event-Key", event, "X-Request-UUID", id)
		fuzzProvider(t, v1alpha1.ProviderBitbucket, h, body, func(h http.Header, b []byte) {
			h.Set("X-Hub-Signature", sha256Sig(fuzzKey, b))
		})
	})
}

func FuzzGeneric(f *testing.F) {
	addFixtures(f, "", "generic/push.json")
	f.Add("deploy", "", []byte(""))
	f.Add("", "id", []byte(`{"event":"ping"}`))
	f.Add("", "id", []byte(`{"sha":"0000","event":"delete"}`))
	f.Add("", "id", []byte(`  [1]`))
	f.Fuzz(func(t *testing.T, event, id string, body []byte) {
		h := headers("X-Hook-Event", event, "X-Hook-Delivery", id)
		fuzzProvider(t, v1alpha1.ProviderGeneric, h, body, func(h http.Header, b []byte) {
			h.Set("X-Hub-Signature-256", sha256Sig(fuzzKey, b))
		})
		bearer := headers("Authorization", "Bearer "+event)
		if err := providers[v1alpha1.ProviderGeneric].verify(&verifyInput{header: bearer, body: body, keys: [][]byte{fuzzKey}}); err == nil && strings.TrimSpace(event) != string(fuzzKey) {
			t.Fatalf("bearer %q accepted", event)
		}
	})
}

// FuzzStandardWebhooks feeds arbitrary Standard Webhooks headers and keys.
func FuzzStandardWebhooks(f *testing.F) {
	f.Add("msg_1", "1780000000", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", []byte(`{"a":1}`), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Add("", "", "", []byte{}, "")
	f.Add("id", "-9223372036854775808", "v1a,abc v1,", []byte("x"), "whsec_")
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, secret string) {
		h := headers("Webhook-Id", id, "Webhook-Timestamp", ts, "Webhook-Signature", sig)
		in := &verifyInput{header: h, body: body, keys: [][]byte{[]byte(secret)}, now: time.Unix(1_780_000_000, 0), tolerance: 5 * time.Minute}
		_ = verifyStandard(in)
		_ = providers[v1alpha1.ProviderGitLab].verify(in)
		_ = providers[v1alpha1.ProviderGeneric].verify(in)

		// A signature made with a whsec_ key over these id and body verifies.
		key := []byte("0123456789abcdef")
		in.keys = [][]byte{[]byte("whsec_MDEyMzQ1Njc4OWFiY2RlZg==")}
		if id == "" {
			return
		}
		h.Set("Webhook-Timestamp", "1780000000")
		h.Set("Webhook-Signature", standardSig(key, id, 1_780_000_000, body))
		if err := verifyStandard(in); err != nil {
			t.Fatalf("correct signature rejected: %v", err)
		}
	})
}

// FuzzParams compiles arbitrary JSONPath expressions and evaluates them on
// arbitrary JSON: compiling may fail, nothing may panic.
func FuzzParams(f *testing.F) {
	f.Add("{.pusher.name}", fixture(f, "github/push.json"))
	f.Add(`{range .commits[*]}{.id}{","}{end}`, fixture(f, "github/push.json"))
	f.Add(`{.commits[?(@.id=="x")].message}`, fixture(f, "github/push.json"))
	f.Add("{..id}", fixture(f, "bitbucket/cloud-push.json"))
	f.Add("{.a[-1:]}", []byte(`{"a":[1,2,3]}`))
	f.Add("{[", []byte(`{}`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		if len(body) > 64<<10 {
			return
		}
		c, err := CompileParams([]v1alpha1.ParamSpec{{Name: "P", Path: path}})
		if err != nil {
			return
		}
		values, err := c.Evaluate(body)
		if err == nil && len(values) != 1 {
			t.Fatalf("values %v, want one", values)
		}
		// Decoding only the fields the path names changes nothing. (Not
		// checked for wildcards and recursive descent: client-go walks
		// objects in Go's random map order there.)
		if strings.Contains(path, "*") || strings.Contains(path, "..") {
			return
		}
		c.roots = nil
		full, fullErr := c.Evaluate(body)
		if (err == nil) != (fullErr == nil) || values["P"] != full["P"] {
			t.Fatalf("partial decode %q (%v), full decode %q (%v)", values["P"], err, full["P"], fullErr)
		}
	})
}

// FuzzMatch: arbitrary patterns are either rejected by ValidateMatch or
// usable by the matcher.
func FuzzMatch(f *testing.F) {
	f.Add("refs/tags/v*", "refs/tags/v1", "acme/*", "acme/site", "push")
	f.Add("[", "x", `\`, "", "")
	f.Fuzz(func(t *testing.T, refGlob, ref, repoGlob, repo, event string) {
		m := v1alpha1.MatchSpec{Events: []string{event}, Refs: []string{refGlob}, Repositories: []string{repoGlob}}
		_ = ValidateMatch(m)
		for _, k := range []kind{kindOther, kindPush, kindTag, kindDelete} {
			r := matchDelivery(m, candidate{delivery: v1alpha1.Delivery{Event: event, Ref: ref, Repository: repo}, kind: k})
			if r.Matched == (r.Reason != "") {
				t.Fatalf("matched %v with reason %q", r.Matched, r.Reason)
			}
		}
	})
}

// FuzzTopLevelFields: on any valid JSON, the one-pass field finder gives
// what json.Unmarshal into map[string]json.RawMessage gives, or declines
// (not an object).
func FuzzTopLevelFields(f *testing.F) {
	f.Add([]byte(`{"pusher":{"name":"a\"}"},"ref":"x","pus\u0068er":[1,{"a":"]"}],"n":-1.5e3}`))
	f.Add([]byte(` { "a" : true , "b":null,"c":"\\"}`))
	f.Add(fixture(f, "github/push.json"))
	f.Add([]byte(`[1]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var top map[string]json.RawMessage
		objErr := json.Unmarshal(data, &top)
		want := map[string]bool{}
		for k := range top {
			want[k] = true
		}
		want["pusher"] = true
		got, ok := topLevelFields(data, want)
		if !ok {
			if objErr == nil && top != nil {
				t.Fatalf("declined an object: %s", data)
			}
			return
		}
		if objErr != nil {
			t.Fatalf("accepted a non-object: %s", data)
		}
		if len(got) != len(top) {
			t.Fatalf("fields %q, want %q", got, top)
		}
		for k, v := range top {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("field %q = %s, want %s", k, got[k], v)
			}
		}
	})
}

// FuzzExpression: any expression either fails to compile with an error or
// evaluates to a verdict on any body, within its cost limit, without a
// panic; a failed evaluation is a reason, never a match.
func FuzzExpression(f *testing.F) {
	f.Add(`delivery.ref == "refs/heads/main" && !delivery.message.contains("[skip deploy]")`, fixture(f, "github/push.json"))
	f.Add(`body.pull_request.head.repo.full_name == body.repository.full_name`, fixture(f, "github/pull_request.json"))
	f.Add(`body.commits.exists(c, c.modified.exists(p, p.startsWith("deploy/")))`, fixture(f, "github/push.json"))
	f.Add(`headers["x-github-event"] == "push"`, []byte(`[]`))
	f.Add(`body.a.b.c`, []byte(`{"a":1}`))
	f.Add(`body.xs.all(a, body.xs.all(b, a == b))`, []byte(`{"xs":["x","x","x","x"]}`))
	f.Add(`size(body) > 0`, []byte(`not json`))
	f.Fuzz(func(t *testing.T, expr string, body []byte) {
		mt, err := newMatcher(v1alpha1.MatchSpec{Expression: expr})
		if err != nil && !strings.Contains(err.Error(), "match.expression") {
			t.Fatalf("compile error without its field: %v", err)
		}
		ev := &event{candidates: []candidate{{delivery: v1alpha1.Delivery{Event: "push", Ref: "refs/heads/main"}, kind: kindPush}},
			document: body, header: headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=00")}
		_, r := pick(mt, ev)
		if r.Matched == (r.Reason != "") {
			t.Fatalf("matched %v with reason %q", r.Matched, r.Reason)
		}
		if r.Matched && r.Expression.Value != "true" {
			t.Fatalf("matched with expression value %q", r.Expression.Value)
		}
	})
}

// FuzzGlobLists: any list of globs with exclusions is rejected by
// ValidateMatch or decides every value without a panic; an excluded value
// never matches.
func FuzzGlobLists(f *testing.F) {
	f.Add("refs/heads/**", "!refs/heads/wip/**", "refs/heads/wip/x")
	f.Add("**/*.md", "!docs/{a,b}/**", "docs/a/x.md")
	f.Add("[", "!", "")
	f.Fuzz(func(t *testing.T, include, exclude, value string) {
		m := v1alpha1.MatchSpec{Refs: []string{include, exclude}, Paths: []string{include, exclude}, Senders: []string{include, exclude}}
		if ValidateMatch(m) != nil {
			return
		}
		got := globAny([]string{include, exclude}, value, false)
		if glob, ok := strings.CutPrefix(exclude, "!"); ok && got {
			if hit, err := doublestar.Match(glob, value); err == nil && hit {
				t.Fatalf("%q matched although %q excludes it", value, exclude)
			}
		}
		_ = matchDelivery(m, candidate{delivery: v1alpha1.Delivery{Ref: value, Sender: value}, kind: kindPush, files: []string{value}, filesKnown: value != ""})
	})
}
