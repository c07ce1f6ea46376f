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
	"crypto/sha1" //nolint:gosec // GitHub's legacy signature, tested as opt-in
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

const (
	zeros = "0000000000000000000000000000000000000000"
)

// want is a normalised candidate as the tests spell it.
type want struct {
	Delivery v1alpha1.Delivery
	Kind     kind
}

func TestNormalise(t *testing.T) {
	ghPush := v1alpha1.Delivery{
		ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Provider: v1alpha1.ProviderGitHub, Event: "push",
		Repository: "acme/site", Ref: "refs/heads/main",
		SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		Sender: "octocat", CloneURL: "https://github.com/acme/site.git",
	}
	glPush := v1alpha1.Delivery{
		ID: "9cebe914-4827-408f-b014-cfa23a47a35f", Provider: v1alpha1.ProviderGitLab, Event: "Push Hook",
		Repository: "acme/site", Ref: "refs/heads/main",
		SHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Before: "95790bf891e76fee5e1747ab589903a6a1f80f22",
		Sender: "jsmith", CloneURL: "https://gitlab.example.com/acme/site.git",
	}
	giteaPush := v1alpha1.Delivery{
		ID: "f6266f16-1bf3-46a5-9ea4-602e06ead473", Provider: v1alpha1.ProviderGitea, Event: "push",
		Repository: "acme/site", Ref: "refs/heads/main",
		SHA: "bc1cf74d7731544276c76af7478d8f865ad1a16c", Before: "7d25268cd68fc935647eb72825811eac5acc6930",
		Sender: "hookrun", CloneURL: "https://gitea.example.org/acme/site.git",
	}
	bbCloud := v1alpha1.Delivery{
		ID: "d0b5e2c4-7a4e-4b4f-9b8e-2f0c1e7a9b11", Provider: v1alpha1.ProviderBitbucket, Event: "repo:push",
		Repository: "acme/site", Sender: "emma", CloneURL: "https://bitbucket.org/acme/site.git",
	}
	bbDC := v1alpha1.Delivery{
		ID: "6e0e5bb3-27a6-4f6e-a0b4-63b1d9ad4d1c", Provider: v1alpha1.ProviderBitbucket, Event: "repo:refs_changed",
		Repository: "WEB/site", Sender: "admin", CloneURL: "https://bitbucket.example.com/scm/web/site.git",
	}
	with := func(d v1alpha1.Delivery, f func(*v1alpha1.Delivery)) v1alpha1.Delivery { f(&d); return d }
	// Pushes carry their head commit's message.
	ghPushed := with(ghPush, func(d *v1alpha1.Delivery) {
		d.Message = "Update index.html (2)\n\nTighten the hero copy and fix the footer link."
	})
	glPushed := with(glPush, func(d *v1alpha1.Delivery) { d.Message = "fixed readme" })
	giteaPushed := with(giteaPush, func(d *v1alpha1.Delivery) { d.Message = "second\n" })
	genericBody := fixture(t, "generic/push.json")
	githubForm := []byte("payload=" + url.QueryEscape(string(compact(t, fixture(t, "github/push.json")))))

	tests := []struct {
		name     string
		provider v1alpha1.Provider
		header   http.Header
		body     []byte
		want     []want
		wantPing bool
		wantErr  bool
	}{
		{
			name: "github push", provider: v1alpha1.ProviderGitHub,
			header: headers("X-GitHub-Event", "push", "X-GitHub-Delivery", ghPush.ID),
			body:   fixture(t, "github/push.json"),
			want:   []want{{ghPushed, kindPush}},
		},
		{
			name: "github push as a form", provider: v1alpha1.ProviderGitHub,
			header: headers("X-GitHub-Event", "push", "X-GitHub-Delivery", ghPush.ID, "Content-Type", "application/x-www-form-urlencoded"),
			body:   githubForm,
			want:   []want{{ghPushed, kindPush}},
		},
		{
			name: "github tag push", provider: v1alpha1.ProviderGitHub,
			header: headers("X-GitHub-Event", "push", "X-GitHub-Delivery", ghPush.ID),
			body:   fixture(t, "github/push-tag.json"),
			want: []want{{with(ghPush, func(d *v1alpha1.Delivery) {
				d.Ref, d.SHA, d.Before = "refs/tags/v1.4.0", "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b", zeros
				d.Message = "Update index.html (3)\n\nTighten the hero copy and fix the footer link."
			}), kindTag}},
		},
		{
			name: "github branch deletion", provider: v1alpha1.ProviderGitHub,
			header: headers("X-GitHub-Event", "push", "X-GitHub-Delivery", ghPush.ID),
			body:   fixture(t, "github/push-delete.json"),
			want: []want{{with(ghPush, func(d *v1alpha1.Delivery) {
				d.Ref, d.SHA = "refs/heads/feature/old", zeros
			}), kindDelete}},
		},
		{
			name: "github release", provider: v1alpha1.ProviderGitHub,
			header: headers("X-GitHub-Event", "release", "X-GitHub-Delivery", ghPush.ID),
			body:   fixture(t, "github/release.json"),
			want: []want{{with(ghPush, func(d *v1alpha1.Delivery) {
				d.Event, d.Ref, d.SHA, d.Before = "release", "refs/tags/v1.4.0", "", ""
			}), kindOther}},
		},
		{
			name: "github without delivery header uses a hash of the body", provider: v1alpha1.ProviderGitHub,
			header: headers("X-GitHub-Event", "push"),
			body:   fixture(t, "github/push.json"),
			want: []want{{with(ghPushed, func(d *v1alpha1.Delivery) {
				d.ID = bodyID(fixture(t, "github/push.json"))
			}), kindPush}},
		},
		{
			name: "github ping", provider: v1alpha1.ProviderGitHub,
			header: headers("X-GitHub-Event", "ping", "X-GitHub-Delivery", "x"), body: fixture(t, "github/ping.json"),
			wantPing: true,
		},
		{name: "github without event header", provider: v1alpha1.ProviderGitHub, header: headers(), body: fixture(t, "github/push.json"), wantErr: true},
		{name: "github malformed JSON", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "push"), body: []byte(`{"ref":`), wantErr: true},
		{name: "github wrong field type", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "push"), body: []byte(`{"ref":1}`), wantErr: true},
		{name: "github empty body", provider: v1alpha1.ProviderGitHub, header: headers("X-GitHub-Event", "push"), body: nil, wantErr: true},

		{
			name: "gitlab push", provider: v1alpha1.ProviderGitLab,
			header: headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", glPush.ID),
			body:   fixture(t, "gitlab/push.json"),
			want:   []want{{glPushed, kindPush}},
		},
		{
			name: "gitlab push: Idempotency-Key wins over the event UUID", provider: v1alpha1.ProviderGitLab,
			header: headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", glPush.ID, "Idempotency-Key", "c5d2a6b0-idem"),
			body:   fixture(t, "gitlab/push.json"),
			want:   []want{{with(glPushed, func(d *v1alpha1.Delivery) { d.ID = "c5d2a6b0-idem" }), kindPush}},
		},
		{
			name: "gitlab tag push", provider: v1alpha1.ProviderGitLab,
			header: headers("X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Event-UUID", glPush.ID),
			body:   fixture(t, "gitlab/tag_push.json"),
			want: []want{{with(glPush, func(d *v1alpha1.Delivery) {
				d.Event, d.Ref, d.SHA, d.Before = "Tag Push Hook", "refs/tags/v1.0.0", "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", zeros
			}), kindTag}},
		},
		{
			name: "gitlab branch deletion", provider: v1alpha1.ProviderGitLab,
			header: headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", glPush.ID),
			body:   fixture(t, "gitlab/push-delete.json"),
			want: []want{{with(glPush, func(d *v1alpha1.Delivery) {
				d.Ref, d.SHA = "refs/heads/feature/old", zeros
			}), kindDelete}},
		},
		{
			name: "gitlab system hook push", provider: v1alpha1.ProviderGitLab,
			header: headers("X-Gitlab-Event", "System Hook", "X-Gitlab-Event-UUID", glPush.ID),
			body:   fixture(t, "gitlab/push.json"),
			want:   []want{{with(glPushed, func(d *v1alpha1.Delivery) { d.Event = "System Hook" }), kindPush}},
		},
		{
			name: "gitlab merge request", provider: v1alpha1.ProviderGitLab,
			header: headers("X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Event-UUID", glPush.ID),
			body:   fixture(t, "gitlab/merge_request.json"),
			want: []want{{with(glPush, func(d *v1alpha1.Delivery) {
				d.Event, d.Ref, d.SHA, d.Before, d.Sender, d.Message = "Merge Request Hook", "refs/merge-requests/1/head", "", "", "root", ""
				d.PullRequest = &v1alpha1.PullRequestDelivery{Number: 1, Action: v1alpha1.PullRequestOpened,
					BaseRef: "refs/heads/main", HeadRef: "refs/heads/ms-viewport", Title: "MS-Viewport"}
			}), kindPullRequest}},
		},
		{name: "gitlab without event header", provider: v1alpha1.ProviderGitLab, header: headers(), body: fixture(t, "gitlab/push.json"), wantErr: true},

		{
			name: "gitea push", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "push", "X-Gitea-Delivery", giteaPush.ID, "X-Gogs-Event", "push", "X-Gogs-Delivery", giteaPush.ID),
			body:   fixture(t, "gitea/push.json"),
			want:   []want{{giteaPushed, kindPush}},
		},
		{
			name: "forgejo push", provider: v1alpha1.ProviderGitea,
			header: headers("X-Forgejo-Event", "push", "X-Forgejo-Delivery", "forgejo-1"),
			body:   fixture(t, "gitea/push.json"),
			want:   []want{{with(giteaPushed, func(d *v1alpha1.Delivery) { d.ID = "forgejo-1" }), kindPush}},
		},
		{
			name: "gogs push", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gogs-Event", "push", "X-Gogs-Delivery", "gogs-1"),
			body:   fixture(t, "gitea/push.json"),
			want:   []want{{with(giteaPushed, func(d *v1alpha1.Delivery) { d.ID = "gogs-1" }), kindPush}},
		},
		{
			name: "gitea branch delete event", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "delete", "X-Gitea-Delivery", giteaPush.ID),
			body:   fixture(t, "gitea/delete.json"),
			want: []want{{with(giteaPush, func(d *v1alpha1.Delivery) {
				d.Event, d.Ref, d.SHA, d.Before = "delete", "refs/heads/feature", zeros, ""
			}), kindDelete}},
		},
		// What Gitea 1.26 really sends (captured by test/e2e/gitea_test.go).
		{
			name: "gitea annotated tag: the commit, not the tag object", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "push", "X-Gitea-Delivery", "tag-1"),
			body:   fixture(t, "gitea/push-annotated-tag.json"),
			want: []want{{with(giteaPush, func(d *v1alpha1.Delivery) {
				d.ID, d.Ref, d.SHA, d.Before = "tag-1", "refs/tags/v1.0.0", "7d25268cd68fc935647eb72825811eac5acc6930", zeros
				d.Message = "first\n"
			}), kindTag}},
		},
		{
			name: "gitea create of a branch answers only to create", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "create", "X-Gitea-Delivery", "create-1"),
			body:   fixture(t, "gitea/create-branch.json"),
			want: []want{{with(giteaPush, func(d *v1alpha1.Delivery) {
				d.ID, d.Event, d.Ref, d.SHA, d.Before = "create-1", "create", "refs/heads/feature", "e0735743c08d8425672e49787fd145fa099a2de7", ""
			}), kindCreate}},
		},
		{
			name: "gitea create of a tag", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "create", "X-Gitea-Delivery", "create-2"),
			body:   fixture(t, "gitea/create-tag.json"),
			want: []want{{with(giteaPush, func(d *v1alpha1.Delivery) {
				d.ID, d.Event, d.Ref, d.SHA, d.Before = "create-2", "create", "refs/tags/v1.0.0", "f718dd36166c30ea3bb5f39d51f6837d19630560", ""
			}), kindCreate}},
		},
		{
			name: "gitea tag deletion as a push", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "push", "X-Gitea-Delivery", "del-1"),
			body:   fixture(t, "gitea/push-delete-tag.json"),
			want: []want{{with(giteaPush, func(d *v1alpha1.Delivery) {
				d.ID, d.Ref, d.SHA, d.Before = "del-1", "refs/tags/v1.0.0", zeros, "f718dd36166c30ea3bb5f39d51f6837d19630560"
			}), kindDelete}},
		},
		{
			name: "gitea tag deletion's delete event is an echo", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "delete", "X-Gitea-Delivery", "del-2"),
			body:   fixture(t, "gitea/delete-tag.json"),
			want: []want{{with(giteaPush, func(d *v1alpha1.Delivery) {
				d.ID, d.Event, d.Ref, d.SHA, d.Before = "del-2", "delete", "refs/tags/v1.0.0", zeros, ""
			}), kindEcho}},
		},
		{
			name: "gitea short ref (older Gitea's test delivery)", provider: v1alpha1.ProviderGitea,
			header: headers("X-Gitea-Event", "push", "X-Gitea-Delivery", "test-1"),
			body:   bytes.Replace(fixture(t, "gitea/push.json"), []byte(`"ref": "refs/heads/main"`), []byte(`"ref": "main"`), 1),
			want:   []want{{with(giteaPushed, func(d *v1alpha1.Delivery) { d.ID = "test-1" }), kindPush}},
		},
		{name: "gitea without event header", provider: v1alpha1.ProviderGitea, header: headers(), body: fixture(t, "gitea/push.json"), wantErr: true},

		{
			name: "bitbucket cloud push with a branch and a tag", provider: v1alpha1.ProviderBitbucket,
			header: headers("X-Event-Key", "repo:push", "X-Request-UUID", bbCloud.ID, "X-Hook-UUID", "hook-1", "X-Attempt-Number", "1"),
			body:   fixture(t, "bitbucket/cloud-push.json"),
			want: []want{
				{with(bbCloud, func(d *v1alpha1.Delivery) {
					d.Ref, d.SHA, d.Before = "refs/heads/main", "1e65c05c1d5171631d92438a13901ca7dae9618c", "24a2a1a7d9a1bcb4c2d46c6c3f2ad9f1c3a3f7b0"
				}), kindPush},
				{with(bbCloud, func(d *v1alpha1.Delivery) {
					d.Ref, d.SHA = "refs/tags/v2.0.0", "1e65c05c1d5171631d92438a13901ca7dae9618c"
				}), kindTag},
			},
		},
		{
			name: "bitbucket cloud branch deletion", provider: v1alpha1.ProviderBitbucket,
			header: headers("X-Event-Key", "repo:push", "X-Request-UUID", bbCloud.ID),
			body:   fixture(t, "bitbucket/cloud-delete.json"),
			want: []want{{with(bbCloud, func(d *v1alpha1.Delivery) {
				d.Ref, d.SHA, d.Before = "refs/heads/feature/old", zeros, "24a2a1a7d9a1bcb4c2d46c6c3f2ad9f1c3a3f7b0"
			}), kindDelete}},
		},
		{
			name: "bitbucket data center push", provider: v1alpha1.ProviderBitbucket,
			header: headers("X-Event-Key", "repo:refs_changed", "X-Request-Id", bbDC.ID),
			body:   fixture(t, "bitbucket/dc-refs-changed.json"),
			want: []want{{with(bbDC, func(d *v1alpha1.Delivery) {
				d.Ref, d.SHA, d.Before = "refs/heads/main", "178864a7d521b6f5e720b386b2c2b0ef8563e0dc", "ecddabb624f6f5ba43816f5926e580a5f680a932"
			}), kindPush}},
		},
		{
			name: "bitbucket data center tag deletion", provider: v1alpha1.ProviderBitbucket,
			header: headers("X-Event-Key", "repo:refs_changed", "X-Request-Id", bbDC.ID),
			body:   fixture(t, "bitbucket/dc-delete.json"),
			want: []want{{with(bbDC, func(d *v1alpha1.Delivery) {
				d.Ref, d.SHA, d.Before = "refs/tags/v0.9.0", zeros, "ecddabb624f6f5ba43816f5926e580a5f680a932"
			}), kindDelete}},
		},
		{
			name: "bitbucket data center test connection", provider: v1alpha1.ProviderBitbucket,
			header: headers("X-Event-Key", "diagnostics:ping", "X-Request-Id", bbDC.ID), body: fixture(t, "bitbucket/dc-ping.json"),
			wantPing: true,
		},
		{name: "bitbucket without event key", provider: v1alpha1.ProviderBitbucket, header: headers(), body: fixture(t, "bitbucket/cloud-push.json"), wantErr: true},

		{
			name: "generic push", provider: v1alpha1.ProviderGeneric,
			header: headers("X-Hook-Delivery", "build-42"),
			body:   genericBody,
			want: []want{{v1alpha1.Delivery{
				ID: "build-42", Provider: v1alpha1.ProviderGeneric, Event: "push", Repository: "acme/site",
				Ref: "refs/heads/main", SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Sender: "deploy-bot",
				CloneURL: "https://git.example.com/acme/site.git",
			}, kindPush}},
		},
		{
			name: "generic empty body: event from the header, id from the body hash", provider: v1alpha1.ProviderGeneric,
			header: headers("X-Hook-Event", "deploy"),
			want: []want{{v1alpha1.Delivery{
				ID: bodyID(nil), Provider: v1alpha1.ProviderGeneric, Event: "deploy",
			}, kindOther}},
		},
		{
			name: "generic without event defaults to push", provider: v1alpha1.ProviderGeneric,
			body: []byte(`{"ref":"refs/tags/v3"}`),
			want: []want{{v1alpha1.Delivery{
				ID: bodyID([]byte(`{"ref":"refs/tags/v3"}`)), Provider: v1alpha1.ProviderGeneric, Event: "push", Ref: "refs/tags/v3",
			}, kindTag}},
		},
		{
			name: "generic deletion", provider: v1alpha1.ProviderGeneric,
			header: headers("X-Hook-Delivery", "d"),
			body:   []byte(`{"event":"push","ref":"refs/heads/x","sha":"` + zeros + `"}`),
			want: []want{{v1alpha1.Delivery{
				ID: "d", Provider: v1alpha1.ProviderGeneric, Event: "push", Ref: "refs/heads/x", SHA: zeros,
			}, kindDelete}},
		},
		{
			name: "generic delete event: the sha sent is the deleted ref's last commit", provider: v1alpha1.ProviderGeneric,
			header: headers("X-Hook-Delivery", "d"),
			body:   []byte(`{"event":"delete","ref":"refs/heads/x","sha":"abc123"}`),
			want: []want{{v1alpha1.Delivery{
				ID: "d", Provider: v1alpha1.ProviderGeneric, Event: "delete", Ref: "refs/heads/x", SHA: zeros, Before: "abc123",
			}, kindDelete}},
		},
		{name: "generic ping", provider: v1alpha1.ProviderGeneric, body: []byte(`{"event":"ping"}`), wantPing: true},
		{name: "generic array body", provider: v1alpha1.ProviderGeneric, body: []byte(`[1,2]`), wantErr: true},
		{name: "generic malformed JSON", provider: v1alpha1.ProviderGeneric, body: []byte(`{"event":`), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := providers[tt.provider].normalise(tt.header, tt.body)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("normalise: want an error, got %+v", ev)
				}
				return
			}
			if err != nil {
				t.Fatalf("normalise: %v", err)
			}
			if ev.ping != tt.wantPing {
				t.Fatalf("ping = %v, want %v", ev.ping, tt.wantPing)
			}
			var got []want
			for _, c := range ev.candidates {
				got = append(got, want{c.delivery, c.kind})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	body := compact(t, fixture(t, "github/push.json"))
	cur, prev, other := []byte("s3cret-current"), []byte("s3cret-previous"), []byte("not-the-secret")
	keys := [][]byte{cur, prev}
	giteaForm := []byte("payload=" + url.QueryEscape(string(body)))
	now := time.Unix(1_780_000_000, 0)
	whsecKey := []byte("0123456789abcdef0123456789abcdef")
	whsec := []byte("whsec_" + base64.StdEncoding.EncodeToString(whsecKey))
	std := func(key []byte, id string, ts time.Time, b []byte) http.Header {
		return headers("Webhook-Id", id, "Webhook-Timestamp", strconv.FormatInt(ts.Unix(), 10), "Webhook-Signature", standardSig(key, id, ts.Unix(), b))
	}
	add := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}

	tests := []struct {
		name      string
		provider  v1alpha1.Provider
		header    http.Header
		body      []byte // default: body
		keys      [][]byte
		allowSHA1 bool
		want      error // nil, errMissingSignature or errBadSignature
	}{
		{name: "github good", provider: "github", header: headers("X-Hub-Signature-256", sha256Sig(cur, body))},
		{name: "github previous secret during rotation", provider: "github", header: headers("X-Hub-Signature-256", sha256Sig(prev, body))},
		{name: "github previous secret after rotation", provider: "github", keys: [][]byte{cur}, header: headers("X-Hub-Signature-256", sha256Sig(prev, body)), want: errBadSignature},
		{name: "github wrong secret", provider: "github", header: headers("X-Hub-Signature-256", sha256Sig(other, body)), want: errBadSignature},
		{name: "github tampered body", provider: "github", header: headers("X-Hub-Signature-256", sha256Sig(cur, body)), body: append([]byte(" "), body...), want: errBadSignature},
		{name: "github missing", provider: "github", header: headers(), want: errMissingSignature},
		{name: "github no prefix", provider: "github", header: headers("X-Hub-Signature-256", hmacHex(sha256.New, cur, body)), want: errBadSignature},
		{name: "github truncated", provider: "github", header: headers("X-Hub-Signature-256", sha256Sig(cur, body)[:40]), want: errBadSignature},
		{name: "github not hex", provider: "github", header: headers("X-Hub-Signature-256", "sha256=zz"), want: errBadSignature},
		{name: "github sha1 not allowed", provider: "github", header: headers("X-Hub-Signature", "sha1="+hmacHex(sha1.New, cur, body)), want: errMissingSignature},
		{name: "github sha1 allowed", provider: "github", allowSHA1: true, header: headers("X-Hub-Signature", "sha1="+hmacHex(sha1.New, cur, body))},
		{name: "github sha1 allowed but wrong", provider: "github", allowSHA1: true, header: headers("X-Hub-Signature", "sha1="+hmacHex(sha1.New, other, body)), want: errBadSignature},
		{name: "github sha256 decides over sha1", provider: "github", allowSHA1: true, header: headers("X-Hub-Signature-256", sha256Sig(other, body), "X-Hub-Signature", "sha1="+hmacHex(sha1.New, cur, body)), want: errBadSignature},

		{name: "gitlab token", provider: "gitlab", header: headers("X-Gitlab-Token", string(cur))},
		{name: "gitlab previous token", provider: "gitlab", header: headers("X-Gitlab-Token", string(prev))},
		{name: "gitlab wrong token", provider: "gitlab", header: headers("X-Gitlab-Token", "s3cret-curren"), want: errBadSignature},
		{name: "gitlab missing", provider: "gitlab", header: headers(), want: errMissingSignature},
		{name: "gitlab signing token", provider: "gitlab", keys: [][]byte{whsec}, header: std(whsecKey, "idem-1", now, body)},
		{name: "gitlab signing token, previous key", provider: "gitlab", keys: [][]byte{cur, whsec}, header: std(whsecKey, "idem-1", now, body)},
		{name: "gitlab signing token within tolerance", provider: "gitlab", keys: [][]byte{whsec}, header: std(whsecKey, "idem-1", now.Add(-4*time.Minute), body)},
		{name: "gitlab signing token replayed later", provider: "gitlab", keys: [][]byte{whsec}, header: std(whsecKey, "idem-1", now.Add(-6*time.Minute), body), want: errBadSignature},
		{name: "gitlab signing token from the future", provider: "gitlab", keys: [][]byte{whsec}, header: std(whsecKey, "idem-1", now.Add(6*time.Minute), body), want: errBadSignature},
		{name: "gitlab signature must verify even with a good token", provider: "gitlab", keys: [][]byte{cur, whsec}, header: add(std(other, "idem-1", now, body), "X-Gitlab-Token", string(cur)), want: errBadSignature},
		{name: "gitlab signature over another id", provider: "gitlab", keys: [][]byte{whsec}, header: add(std(whsecKey, "idem-1", now, body), "Webhook-Id", "idem-2"), want: errBadSignature},
		{name: "gitlab signature without id", provider: "gitlab", keys: [][]byte{whsec}, header: add(std(whsecKey, "idem-1", now, body), "Webhook-Id", ""), want: errMissingSignature},
		{name: "gitlab signature with a bad timestamp", provider: "gitlab", keys: [][]byte{whsec}, header: add(std(whsecKey, "idem-1", now, body), "Webhook-Timestamp", "yesterday"), want: errBadSignature},
		{name: "gitlab several signatures, one good", provider: "gitlab", keys: [][]byte{whsec}, header: add(std(whsecKey, "i", now, body), "Webhook-Signature", standardSig(other, "i", now.Unix(), body)+" v1a,abc "+standardSig(whsecKey, "i", now.Unix(), body))},

		{name: "gitea", provider: "gitea", header: headers("X-Gitea-Signature", hmacHex(sha256.New, cur, body))},
		{name: "forgejo", provider: "gitea", header: headers("X-Forgejo-Signature", hmacHex(sha256.New, prev, body))},
		{name: "gogs", provider: "gitea", header: headers("X-Gogs-Signature", hmacHex(sha256.New, cur, body))},
		{name: "gitea X-Hub-Signature-256", provider: "gitea", header: headers("X-Hub-Signature-256", sha256Sig(cur, body))},
		{name: "gitea wrong", provider: "gitea", header: headers("X-Gitea-Signature", hmacHex(sha256.New, other, body)), want: errBadSignature},
		{name: "gitea missing", provider: "gitea", header: headers(), want: errMissingSignature},
		// Gitea signs the JSON payload of a form delivery, not the form body.
		{name: "gitea form, payload signed", provider: "gitea", body: giteaForm,
			header: headers("Content-Type", "application/x-www-form-urlencoded", "X-Gitea-Signature", hmacHex(sha256.New, cur, body))},
		{name: "gitea form, body signed", provider: "gitea", body: giteaForm,
			header: headers("Content-Type", "application/x-www-form-urlencoded", "X-Gitea-Signature", hmacHex(sha256.New, cur, giteaForm))},
		{name: "gitea form, X-Hub-Signature-256 over the payload", provider: "gitea", body: giteaForm,
			header: headers("Content-Type", "application/x-www-form-urlencoded", "X-Hub-Signature-256", sha256Sig(cur, body))},
		{name: "gitea form, payload signed with another key", provider: "gitea", body: giteaForm,
			header: headers("Content-Type", "application/x-www-form-urlencoded", "X-Gitea-Signature", hmacHex(sha256.New, other, body)), want: errBadSignature},
		{name: "gitea json body is not read as a form", provider: "gitea", body: giteaForm,
			header: headers("Content-Type", "application/json", "X-Gitea-Signature", hmacHex(sha256.New, cur, body)), want: errBadSignature},

		{name: "bitbucket", provider: "bitbucket", header: headers("X-Hub-Signature", sha256Sig(cur, body))},
		{name: "bitbucket previous", provider: "bitbucket", header: headers("X-Hub-Signature", sha256Sig(prev, body))},
		{name: "bitbucket wrong", provider: "bitbucket", header: headers("X-Hub-Signature", sha256Sig(other, body)), want: errBadSignature},
		{name: "bitbucket sha1 form", provider: "bitbucket", header: headers("X-Hub-Signature", "sha1="+hmacHex(sha1.New, cur, body)), want: errBadSignature},
		{name: "bitbucket missing", provider: "bitbucket", header: headers(), want: errMissingSignature},

		{name: "generic hmac", provider: "generic", header: headers("X-Hub-Signature-256", sha256Sig(cur, body))},
		{name: "generic hmac wrong", provider: "generic", header: headers("X-Hub-Signature-256", sha256Sig(other, body)), want: errBadSignature},
		{name: "generic bearer", provider: "generic", header: headers("Authorization", "Bearer "+string(cur))},
		{name: "generic bearer previous", provider: "generic", header: headers("Authorization", "bearer "+string(prev))},
		{name: "generic bearer wrong", provider: "generic", header: headers("Authorization", "Bearer "+string(other)), want: errBadSignature},
		{name: "generic basic auth is no credential", provider: "generic", header: headers("Authorization", "Basic "+string(cur)), want: errMissingSignature},
		{name: "generic standard webhooks, plain secret", provider: "generic", header: std(cur, "msg_1", now, body)},
		{name: "generic standard webhooks, whsec secret", provider: "generic", keys: [][]byte{whsec}, header: std(whsecKey, "msg_1", now, body)},
		{name: "generic standard webhooks stale", provider: "generic", header: std(cur, "msg_1", now.Add(-time.Hour), body), want: errBadSignature},
		{name: "generic standard webhooks decides over bearer", provider: "generic", header: add(std(other, "msg_1", now, body), "Authorization", "Bearer "+string(cur)), want: errBadSignature},
		{name: "generic missing", provider: "generic", header: headers(), want: errMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &verifyInput{header: tt.header, body: tt.body, keys: tt.keys, allowSHA1: tt.allowSHA1, now: now, tolerance: 5 * time.Minute}
			if in.body == nil {
				in.body = body
			}
			if in.keys == nil {
				in.keys = keys
			}
			err := providers[tt.provider].verify(in)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("verify: %v, want success", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("verify: %v, want %v", err, tt.want)
			}
		})
	}
}
