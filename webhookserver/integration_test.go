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

// Integration tests: real HTTP to the server the manager started, a real API
// server behind it. Each test has its own namespace.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

var httpClient = &http.Client{Timeout: 30 * time.Second}

func runAnswer(t testing.TB, r response) RunAnswer {
	t.Helper()
	var a RunAnswer
	if err := json.Unmarshal(r.body, &a); err != nil || a.Run == "" {
		t.Fatalf("body %q is not {\"run\": ...}: %v", r.body, err)
	}
	return a
}

func listRuns(t testing.TB, c client.Client, ns string) []v1alpha1.HookRun {
	t.Helper()
	var list v1alpha1.HookRunList
	if err := c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("list runs: %v", err)
	}
	return list.Items
}

func TestIntegrationProviders(t *testing.T) {
	requireEnvtest(t)
	whsecKey := []byte("0123456789abcdef0123456789abcdef")
	whsec := "whsec_" + base64.StdEncoding.EncodeToString(whsecKey)
	plain := string(testKey)

	tests := []struct {
		name     string
		provider v1alpha1.Provider
		secret   string
		match    v1alpha1.MatchSpec
		body     []byte
		header   func(body []byte) http.Header
		want     v1alpha1.Delivery // ReceivedAt is checked apart
		wantEnv  map[string]string
	}{
		{
			name: "github", provider: v1alpha1.ProviderGitHub, secret: plain,
			match: v1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"acme/site"}, Refs: []string{"refs/heads/main"}},
			body:  compact(t, fixture(t, "github/push.json")),
			header: func(b []byte) http.Header {
				return signedHeaders("github", testKey, b, "push", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
			},
			want: v1alpha1.Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Provider: "github", Event: "push", Repository: "acme/site",
				Ref: "refs/heads/main", SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
				Sender: "octocat", CloneURL: "https://github.com/acme/site.git",
				Message: "Update index.html (2)\n\nTighten the hero copy and fix the footer link."},
			wantEnv: map[string]string{"HOOK_BRANCH": "main", "HOOK_TAG": "", "HOOK_EVENT": "push", "HOOK_CLONE_URL": "https://github.com/acme/site.git",
				"HOOK_MESSAGE": "Update index.html (2)\n\nTighten the hero copy and fix the footer link.", "HOOK_PR_NUMBER": ""},
		},
		{
			name: "gitlab secret token", provider: v1alpha1.ProviderGitLab, secret: plain,
			match: v1alpha1.MatchSpec{Events: []string{"push"}},
			body:  fixture(t, "gitlab/push.json"),
			header: func(b []byte) http.Header {
				return signedHeaders("gitlab", testKey, b, "Push Hook", "9cebe914-4827-408f-b014-cfa23a47a35f")
			},
			want: v1alpha1.Delivery{ID: "9cebe914-4827-408f-b014-cfa23a47a35f", Provider: "gitlab", Event: "Push Hook", Repository: "acme/site",
				Ref: "refs/heads/main", SHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Before: "95790bf891e76fee5e1747ab589903a6a1f80f22",
				Sender: "jsmith", CloneURL: "https://gitlab.example.com/acme/site.git", Message: "fixed readme"},
			wantEnv: map[string]string{"HOOK_BRANCH": "main", "HOOK_EVENT": "Push Hook"},
		},
		{
			name: "gitlab signing token", provider: v1alpha1.ProviderGitLab, secret: whsec,
			match: v1alpha1.MatchSpec{Events: []string{"tag"}},
			body:  fixture(t, "gitlab/tag_push.json"),
			header: func(b []byte) http.Header {
				ts := time.Now().Unix()
				return headers("X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Event-UUID", "uuid-1", "Idempotency-Key", "idem-7",
					"Webhook-Id", "idem-7", "Webhook-Timestamp", strconv.FormatInt(ts, 10), "Webhook-Signature", standardSig(whsecKey, "idem-7", ts, b))
			},
			want: v1alpha1.Delivery{ID: "idem-7", Provider: "gitlab", Event: "Tag Push Hook", Repository: "acme/site",
				Ref: "refs/tags/v1.0.0", SHA: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", Before: zeros,
				Sender: "jsmith", CloneURL: "https://gitlab.example.com/acme/site.git"},
			wantEnv: map[string]string{"HOOK_BRANCH": "", "HOOK_TAG": "v1.0.0"},
		},
		{
			name: "gitea", provider: v1alpha1.ProviderGitea, secret: plain,
			match: v1alpha1.MatchSpec{Events: []string{"push"}, Refs: []string{"refs/heads/main"}},
			body:  fixture(t, "gitea/push.json"),
			header: func(b []byte) http.Header {
				return signedHeaders("gitea", testKey, b, "push", "f6266f16-1bf3-46a5-9ea4-602e06ead473")
			},
			want: v1alpha1.Delivery{ID: "f6266f16-1bf3-46a5-9ea4-602e06ead473", Provider: "gitea", Event: "push", Repository: "acme/site",
				Ref: "refs/heads/main", SHA: "bc1cf74d7731544276c76af7478d8f865ad1a16c", Before: "7d25268cd68fc935647eb72825811eac5acc6930",
				Sender: "hookrun", CloneURL: "https://gitea.example.org/acme/site.git", Message: "second\n"},
			wantEnv: map[string]string{"HOOK_BRANCH": "main"},
		},
		{
			name: "forgejo", provider: v1alpha1.ProviderGitea, secret: plain,
			body: fixture(t, "gitea/push.json"),
			header: func(b []byte) http.Header {
				return headers("X-Forgejo-Event", "push", "X-Forgejo-Delivery", "fj-1", "X-Forgejo-Signature", hmacHex(sha256.New, testKey, b))
			},
			want: v1alpha1.Delivery{ID: "fj-1", Provider: "gitea", Event: "push", Repository: "acme/site",
				Ref: "refs/heads/main", SHA: "bc1cf74d7731544276c76af7478d8f865ad1a16c", Before: "7d25268cd68fc935647eb72825811eac5acc6930",
				Sender: "hookrun", CloneURL: "https://gitea.example.org/acme/site.git", Message: "second\n"},
		},
		{
			name: "bitbucket cloud: the tag of a two-ref push", provider: v1alpha1.ProviderBitbucket, secret: plain,
			match: v1alpha1.MatchSpec{Events: []string{"repo:push"}, Refs: []string{"refs/tags/v*"}},
			body:  fixture(t, "bitbucket/cloud-push.json"),
			header: func(b []byte) http.Header {
				return signedHeaders("bitbucket", testKey, b, "repo:push", "d0b5e2c4-7a4e-4b4f-9b8e-2f0c1e7a9b11")
			},
			want: v1alpha1.Delivery{ID: "d0b5e2c4-7a4e-4b4f-9b8e-2f0c1e7a9b11", Provider: "bitbucket", Event: "repo:push", Repository: "acme/site",
				Ref: "refs/tags/v2.0.0", SHA: "1e65c05c1d5171631d92438a13901ca7dae9618c", Sender: "emma", CloneURL: "https://bitbucket.org/acme/site.git"},
			wantEnv: map[string]string{"HOOK_TAG": "v2.0.0"},
		},
		{
			name: "bitbucket data center", provider: v1alpha1.ProviderBitbucket, secret: plain,
			match: v1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"web/site"}},
			body:  fixture(t, "bitbucket/dc-refs-changed.json"),
			header: func(b []byte) http.Header {
				return headers("X-Event-Key", "repo:refs_changed", "X-Request-Id", "6e0e5bb3-27a6-4f6e-a0b4-63b1d9ad4d1c", "X-Hub-Signature", sha256Sig(testKey, b))
			},
			want: v1alpha1.Delivery{ID: "6e0e5bb3-27a6-4f6e-a0b4-63b1d9ad4d1c", Provider: "bitbucket", Event: "repo:refs_changed", Repository: "WEB/site",
				Ref: "refs/heads/main", SHA: "178864a7d521b6f5e720b386b2c2b0ef8563e0dc", Before: "ecddabb624f6f5ba43816f5926e580a5f680a932",
				Sender: "admin", CloneURL: "https://bitbucket.example.com/scm/web/site.git"},
		},
		{
			name: "generic bearer", provider: v1alpha1.ProviderGeneric, secret: plain,
			body: fixture(t, "generic/push.json"),
			header: func([]byte) http.Header {
				return headers("Authorization", "Bearer "+plain, "X-Hook-Delivery", "build-42")
			},
			want: v1alpha1.Delivery{ID: "build-42", Provider: "generic", Event: "push", Repository: "acme/site",
				Ref: "refs/heads/main", SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Sender: "deploy-bot", CloneURL: "https://git.example.com/acme/site.git"},
		},
		{
			name: "generic standard webhooks, id from the body", provider: v1alpha1.ProviderGeneric, secret: whsec,
			body: []byte(`{"event":"deploy","ref":"refs/heads/main"}`),
			header: func(b []byte) http.Header {
				ts := time.Now().Unix()
				return headers("Webhook-Id", "msg_1", "Webhook-Timestamp", strconv.FormatInt(ts, 10), "Webhook-Signature", standardSig(whsecKey, "msg_1", ts, b))
			},
			want: v1alpha1.Delivery{ID: bodyID([]byte(`{"event":"deploy","ref":"refs/heads/main"}`)), Provider: "generic", Event: "deploy", Ref: "refs/heads/main"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ns := newNamespace(t, suite.client)
			tmpl := testTemplate(ns, tt.provider)
			tmpl.Spec.Match = tt.match
			tmpl.Spec.Params = []v1alpha1.ParamSpec{{Name: "WHOLE_REF", Path: "{.ref}"}}
			tmpl = createTemplate(t, suite.client, suite.mgr.GetClient(), tmpl, testSecret(ns, map[string]string{"secret": tt.secret}))
			url := suite.baseURL + "/hooks/" + ns + "/site"
			h := tt.header(tt.body)

			// Dry run first: the env the Job would get, nothing created.
			dry := h.Clone()
			dry.Set(HeaderDryRun, "true")
			r := post(t, httpClient, url, dry, tt.body)
			if r.code != http.StatusOK {
				t.Fatalf("dry run: %d %s", r.code, r.body)
			}
			var da DryRunAnswer
			if err := json.Unmarshal(r.body, &da); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, e := range da.Env {
				env[e.Name] = e.Value
			}
			wantEnv := map[string]string{"HOOK_PROVIDER": string(tt.provider), "HOOK_REPOSITORY": tt.want.Repository,
				"HOOK_REF": tt.want.Ref, "HOOK_SHA": tt.want.SHA, "HOOK_DELIVERY": tt.want.ID, "HOOK_RUN": da.Run}
			for k, v := range tt.wantEnv {
				wantEnv[k] = v
			}
			for k, v := range wantEnv {
				if got, ok := env[k]; !ok || got != v {
					t.Errorf("dry-run env %s = %q (set %v), want %q", k, got, ok, v)
				}
			}
			if !da.WouldRun {
				t.Errorf("dry run says it would not run: %s", da.Match.Reason)
			}
			if n := len(listRuns(t, suite.client, ns)); n != 0 {
				t.Fatalf("dry run created %d runs", n)
			}

			r = post(t, httpClient, url, h, tt.body)
			if r.code != http.StatusAccepted {
				t.Fatalf("delivery: %d %s, want 202", r.code, r.body)
			}
			name := runAnswer(t, r).Run
			if name != da.Run || name != RunName("site", tt.want.ID) {
				t.Errorf("run %q, dry run said %q, want %q", name, da.Run, RunName("site", tt.want.ID))
			}

			var run v1alpha1.HookRun
			if err := suite.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &run); err != nil {
				t.Fatalf("get run: %v", err)
			}
			if diff := cmp.Diff(tt.want, run.Spec.Delivery, cmpopts.IgnoreFields(v1alpha1.Delivery{}, "ReceivedAt")); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
			if ra := run.Spec.Delivery.ReceivedAt; ra == nil || time.Since(ra.Time) > time.Minute || time.Since(ra.Time) < -time.Second {
				t.Errorf("receivedAt = %v, want about now", ra)
			}
			if run.Spec.TemplateRef.Name != "site" || run.Labels[v1alpha1.LabelTemplate] != "site" {
				t.Errorf("templateRef %q labels %v", run.Spec.TemplateRef.Name, run.Labels)
			}
			if diff := cmp.Diff(map[string]string{"WHOLE_REF": paramRef(tt.body)}, run.Spec.Params); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			ref := metav1.GetControllerOf(&run)
			if ref == nil || ref.UID != tmpl.UID || ref.Kind != "HookTemplate" || ref.APIVersion != v1alpha1.GroupVersion.String() {
				t.Errorf("controller reference %+v, want the template %s", ref, tmpl.UID)
			}
			if run.Status.Phase != "" {
				t.Errorf("the server wrote status %q", run.Status.Phase)
			}

			// A redelivery answers duplicate and leaves one run.
			r = post(t, httpClient, url, tt.header(tt.body), tt.body)
			if r.code != http.StatusOK {
				t.Fatalf("redelivery: %d %s, want 200", r.code, r.body)
			}
			if a := runAnswer(t, r); a.Run != name || !a.Duplicate {
				t.Errorf("redelivery answer %+v", a)
			}
			if n := len(listRuns(t, suite.client, ns)); n != 1 {
				t.Errorf("%d runs after a redelivery, want 1", n)
			}
		})
	}
}

// paramRef is what {.ref} reads from a payload.
func paramRef(body []byte) string {
	var p struct {
		Ref string `json:"ref"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Ref
}

func TestIntegrationErrors(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t, suite.client)
	secret := testSecret(ns, map[string]string{"secret": string(testKey)})
	tmpl := testTemplate(ns, v1alpha1.ProviderGitHub)
	tmpl.Spec.Match = v1alpha1.MatchSpec{Refs: []string{"refs/heads/main"}}
	createTemplate(t, suite.client, suite.mgr.GetClient(), tmpl, secret)
	noSecret := testTemplate(ns, v1alpha1.ProviderGitHub)
	noSecret.Name = "no-secret"
	noSecret.Spec.Source.SecretRef.Name = "missing"
	createTemplate(t, suite.client, suite.mgr.GetClient(), noSecret, nil)
	suspended := testTemplate(ns, v1alpha1.ProviderGitHub)
	suspended.Name = "suspended"
	suspended.Spec.Suspend = true
	createTemplate(t, suite.client, suite.mgr.GetClient(), suspended, nil)

	body := compact(t, fixture(t, "github/push.json"))
	base := suite.baseURL + "/hooks/" + ns + "/"
	sign := func(b []byte, id string) http.Header { return signedHeaders("github", testKey, b, "push", id) }
	tagBody := compact(t, fixture(t, "github/push-tag.json"))

	tests := []struct {
		name       string
		template   string
		header     http.Header
		body       []byte
		wantCode   int
		wantError  string
		wantReason string
		wantRuns   int // in the namespace, after the request
	}{
		{name: "bad signature", template: "site", header: signedHeaders("github", []byte("guess"), body, "push", "e1"), body: body, wantCode: 401, wantError: "invalid signature"},
		{name: "missing signature", template: "site", header: headers("X-GitHub-Event", "push", "X-GitHub-Delivery", "e2"), body: body, wantCode: 401, wantError: "missing signature"},
		{name: "unknown template", template: "nope", header: sign(body, "e3"), body: body, wantCode: 404, wantError: "not found"},
		{name: "secret missing", template: "no-secret", header: sign(body, "e4"), body: body, wantCode: 503, wantError: "template not ready"},
		{name: "malformed JSON", template: "site", header: sign([]byte("{nope"), "e5"), body: []byte("{nope"), wantCode: 400, wantError: "malformed payload"},
		{name: "no match", template: "site", header: sign(tagBody, "e6"), body: tagBody, wantCode: 204, wantReason: `ref "refs/tags/v1.4.0" matches no pattern of match.refs`},
		{name: "ping", template: "site", header: signedHeaders("github", testKey, fixture(t, "github/ping.json"), "ping", "e7"), body: fixture(t, "github/ping.json"), wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, httpClient, base+tt.template, tt.header, tt.body)
			if r.code != tt.wantCode {
				t.Fatalf("status %d %s, want %d", r.code, r.body, tt.wantCode)
			}
			if tt.wantError != "" {
				if msg := errorMessage(t, r); !strings.Contains(msg, tt.wantError) {
					t.Errorf("error %q, want %q", msg, tt.wantError)
				}
			}
			if tt.wantCode == http.StatusNoContent {
				if got := r.header.Get(HeaderReason); got != tt.wantReason || len(r.body) != 0 {
					t.Errorf("204: reason %q body %q, want reason %q", got, r.body, tt.wantReason)
				}
			}
			if n := len(listRuns(t, suite.client, ns)); n != 0 {
				t.Errorf("%d runs, want none", n)
			}
		})
	}

	t.Run("unknown namespace looks like unknown template", func(t *testing.T) {
		a := post(t, httpClient, suite.baseURL+"/hooks/no-such-ns/site", sign(body, "x"), body)
		b := post(t, httpClient, base+"nope", sign(body, "x"), body)
		if a.code != 404 || b.code != 404 || !bytes.Equal(a.body, b.body) {
			t.Errorf("unknown namespace %d %q vs unknown template %d %q", a.code, a.body, b.code, b.body)
		}
	})

	t.Run("GET is 405 with a JSON body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, base+"site", nil)
		r := doRequest(t, httpClient, req)
		if r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
			t.Fatalf("%d Allow=%q, want 405 Allow=POST", r.code, r.header.Get("Allow"))
		}
		errorMessage(t, r)
	})

	t.Run("body over 25 MiB is 413", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), int(DefaultMaxBodyBytes)+1)
		req, _ := http.NewRequest(http.MethodPost, base+"site", bytes.NewReader(big))
		for k, v := range sign(big, "big") {
			req.Header[k] = v
		}
		// With Expect: 100-continue the client waits for the server's verdict
		// before sending 25 MiB, as curl does for large bodies.
		req.Header.Set("Expect", "100-continue")
		hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
		r := doRequest(t, hc, req)
		if r.code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d %s, want 413", r.code, r.body)
		}
		errorMessage(t, r)
	})

	t.Run("streamed body over the limit is 413", func(t *testing.T) {
		small := httptest.NewServer(New(suite.mgr.GetClient(), suite.mgr.GetClient(), suite.scheme, Options{MaxBodyBytes: 1024}))
		defer small.Close()
		req, _ := http.NewRequest(http.MethodPost, small.URL+"/hooks/"+ns+"/site", struct{ *bytes.Reader }{bytes.NewReader(body)}) // no Content-Length
		for k, v := range sign(body, "stream") {
			req.Header[k] = v
		}
		r := doRequest(t, httpClient, req)
		if r.code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d %s, want 413", r.code, r.body)
		}
		errorMessage(t, r)
	})

	t.Run("suspended template still records the run", func(t *testing.T) {
		if err := suite.client.Create(context.Background(), testSecret(ns, map[string]string{"secret": string(testKey)})); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		r := post(t, httpClient, base+"suspended", sign(body, "s1"), body)
		if r.code != http.StatusAccepted {
			t.Fatalf("%d %s, want 202", r.code, r.body)
		}
		var run v1alpha1.HookRun
		if err := suite.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: runAnswer(t, r).Run}, &run); err != nil {
			t.Fatalf("run not stored: %v", err)
		}
		if run.Spec.TemplateRef.Name != "suspended" {
			t.Errorf("templateRef %q", run.Spec.TemplateRef.Name)
		}
	})
}

// Many copies of one delivery at once: the API server's AlreadyExists makes
// exactly one of them the run.
func TestIntegrationConcurrentRedeliveries(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t, suite.client)
	createTemplate(t, suite.client, suite.mgr.GetClient(), testTemplate(ns, v1alpha1.ProviderGitHub), testSecret(ns, map[string]string{"secret": string(testKey)}))
	body := compact(t, fixture(t, "github/push.json"))
	h := signedHeaders("github", testKey, body, "push", "same-delivery")
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = post(t, httpClient, suite.baseURL+"/hooks/"+ns+"/site", h, body).code
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[http.StatusAccepted] != 1 || count[http.StatusOK] != n-1 {
		t.Errorf("answers %v, want one 202 and %d 200", count, n-1)
	}
	if runs := listRuns(t, suite.client, ns); len(runs) != 1 {
		t.Errorf("%d runs, want 1", len(runs))
	}
}

// With the API server gone, a delivery is never acknowledged: 503. This
// stops its own control plane so that the shared one stays up.
func TestIntegrationAPIServerStopped(t *testing.T) {
	requireEnvtest(t)
	// The manager's watches keep a SIGTERMed API server waiting; a crash is
	// what this test is about, so it is killed after 2s.
	cp, err := startControlPlane(suite.scheme, Options{}, 2*time.Second)
	if err != nil {
		t.Fatalf("second control plane: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = cp.stop()
		}
	}()
	ns := newNamespace(t, cp.client)
	createTemplate(t, cp.client, cp.mgr.GetClient(), testTemplate(ns, v1alpha1.ProviderGitHub), testSecret(ns, map[string]string{"secret": string(testKey)}))
	body := compact(t, fixture(t, "github/push.json"))
	url := cp.baseURL + "/hooks/" + ns + "/site"

	if r := post(t, httpClient, url, signedHeaders("github", testKey, body, "push", "before-stop"), body); r.code != http.StatusAccepted {
		t.Fatalf("with the API server up: %d %s, want 202", r.code, r.body)
	}

	// Stop etcd and the API server; the manager (and its cache, holding the
	// template and secret) keeps running.
	if err := cp.env.ControlPlane.APIServer.Stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting") {
		t.Fatalf("stop API server: %v", err)
	}
	start := time.Now()
	r := post(t, httpClient, url, signedHeaders("github", testKey, body, "push", "after-stop"), body)
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("with the API server stopped: %d %s, want 503", r.code, r.body)
	}
	errorMessage(t, r)
	if d := time.Since(start); d > apiTimeout+5*time.Second {
		t.Errorf("503 took %s", d)
	}
	cp.cancel()
	<-cp.done
	stopped = true
	if err := cp.env.Stop(); err != nil {
		t.Logf("stop envtest: %v", err)
	}
}

// The template's own tolerance wins and a rotated secret is accepted, over
// real HTTP against the cache.
func TestIntegrationRotation(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t, suite.client)
	tmpl := testTemplate(ns, v1alpha1.ProviderGitHub)
	tmpl.Spec.Source.PreviousSecretKey = "previous"
	createTemplate(t, suite.client, suite.mgr.GetClient(), tmpl, testSecret(ns, map[string]string{"secret": "new", "previous": "old"}))
	body := compact(t, fixture(t, "github/push.json"))
	url := suite.baseURL + "/hooks/" + ns + "/site"
	for i, tc := range []struct {
		key  string
		want int
	}{{"new", 202}, {"old", 202}, {"older", 401}} {
		r := post(t, httpClient, url, signedHeaders("github", []byte(tc.key), body, "push", fmt.Sprint("rot-", i)), body)
		if r.code != tc.want {
			t.Errorf("signed with %q: %d %s, want %d", tc.key, r.code, r.body, tc.want)
		}
	}

	// Dropping the previous key from the Secret ends the rotation window.
	var s corev1.Secret
	if err := suite.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "site-webhook"}, &s); err != nil {
		t.Fatal(err)
	}
	delete(s.Data, "previous")
	if err := suite.client.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		r := post(t, httpClient, url, signedHeaders("github", []byte("old"), body, "push", "rot-late"), body)
		if r.code != http.StatusUnauthorized {
			return fmt.Errorf("old key after rotation: %d", r.code)
		}
		return nil
	})
}

// The generic curl example of the README, run as written.
func TestIntegrationDocsCurlExample(t *testing.T) {
	requireEnvtest(t)
	for _, tool := range []string{"bash", "curl", "openssl", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: the README's example needs it", tool)
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "<!-- generic-curl-example")
	if !ok {
		t.Fatal("README.md has no generic-curl-example marker")
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatal("no sh block after the marker")
	}
	script, _, ok := strings.Cut(block, "```")
	if !ok {
		t.Fatal("unterminated sh block")
	}

	ns := newNamespace(t, suite.client)
	secret := "s3cr3t with spaces & $dollars"
	createTemplate(t, suite.client, suite.mgr.GetClient(), testTemplate(ns, v1alpha1.ProviderGeneric), testSecret(ns, map[string]string{"secret": secret}))
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "URL="+suite.baseURL+"/hooks/"+ns+"/site", "SECRET="+secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	var a RunAnswer
	if err := json.Unmarshal(out, &a); err != nil || a.Run == "" {
		t.Fatalf("curl printed %q, want {\"run\": ...}", out)
	}
	var run v1alpha1.HookRun
	if err := suite.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: a.Run}, &run); err != nil {
		t.Fatalf("run not stored: %v", err)
	}
	if d := run.Spec.Delivery; d.Ref != "refs/heads/main" || d.Sender != "deploy-script" || d.Repository != "acme/site" {
		t.Errorf("delivery %+v", d)
	}
}
