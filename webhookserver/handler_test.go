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

// Handler tests against controller-runtime's fake client: they need no
// control plane and run under -short. The envtest suite repeats the
// important rows over real HTTP against a real API server.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

var (
	testKey   = []byte("It's a Secret to Everybody")
	testNow   = time.Date(2026, 5, 20, 8, 21, 58, 0, time.UTC)
	testClock = func() time.Time { return testNow }
)

func newScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// template returns a HookTemplate "site" in ns for provider p with a secret
// "site-webhook" (key "secret").
func testTemplate(ns string, p v1alpha1.Provider) *v1alpha1.HookTemplate {
	return &v1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: ns, UID: "uid-site"},
		Spec: v1alpha1.HookTemplateSpec{
			Source: v1alpha1.SourceSpec{Provider: p, SecretRef: v1alpha1.SecretKeyRef{Name: "site-webhook", Key: "secret"}},
			Run:    v1alpha1.RunSpec{Image: "alpine:3", Shell: "echo deploy"},
		},
	}
}

func testSecret(ns string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-webhook", Namespace: ns}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

type fakeEnv struct {
	server *Server
	client client.Client
}

func newFakeEnv(t testing.TB, opts Options, funcs *interceptor.Funcs, objs ...client.Object) *fakeEnv {
	t.Helper()
	scheme := newScheme(t)
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	c := b.Build()
	if opts.Now == nil {
		opts.Now = testClock
	}
	return &fakeEnv{server: New(c, c, scheme, opts), client: c}
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (e *fakeEnv) do(t testing.TB, method, path string, h http.Header, body []byte) response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.server.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (e *fakeEnv) runs(t testing.TB, ns string) []v1alpha1.HookRun {
	t.Helper()
	var list v1alpha1.HookRunList
	if err := e.client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func errorMessage(t testing.TB, r response) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not {\"error\": ...}: %v", r.body, err)
	}
	return e.Error
}

func counterValue(t testing.TB, c prometheus.Collector) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := c.(prometheus.Metric).Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestHandlerCreatesOneRunPerDelivery(t *testing.T) {
	tmpl := testTemplate("web", v1alpha1.ProviderGitHub)
	tmpl.Spec.Match = v1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"acme/*"}, Refs: []string{"refs/heads/main"}}
	tmpl.Spec.Params = []v1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name}"}}
	env := newFakeEnv(t, Options{}, nil, tmpl, testSecret("web", map[string]string{"secret": string(testKey)}))
	body := compact(t, fixture(t, "github/push.json"))
	h := signedHeaders("github", testKey, body, "push", "72d3162e-cc78-11e3-81ab-4c9367dc0958")

	requests := counterValue(t, requestsTotal.WithLabelValues("github", "202", "hooks"))
	dups := counterValue(t, duplicatesTotal.WithLabelValues("hooks"))

	r := env.do(t, http.MethodPost, "/hooks/web/site", h, body)
	if r.code != http.StatusAccepted {
		t.Fatalf("status = %d %s, want 202", r.code, r.body)
	}
	wantName := RunName("site", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if diff := cmp.Diff(`{"run":"`+wantName+`"}`, strings.TrimSpace(string(r.body))); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}

	runs := env.runs(t, "web")
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	run := runs[0]
	received := metav1.NewTime(testNow)
	wantSpec := v1alpha1.HookRunSpec{
		TemplateRef: v1alpha1.TemplateRef{Name: "site"},
		Delivery: v1alpha1.Delivery{
			ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Provider: v1alpha1.ProviderGitHub, Event: "push",
			Repository: "acme/site", Ref: "refs/heads/main",
			SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
			Sender: "octocat", CloneURL: "https://github.com/acme/site.git", ReceivedAt: &received,
			Message: "Update index.html (2)\n\nTighten the hero copy and fix the footer link.",
		},
		Params: map[string]string{"PUSHER": "octocat"},
	}
	if diff := cmp.Diff(wantSpec, run.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if run.Name != wantName || run.Labels[v1alpha1.LabelTemplate] != "site" {
		t.Errorf("name %q labels %v", run.Name, run.Labels)
	}
	if !metav1.IsControlledBy(&run, tmpl) {
		t.Errorf("owner references %+v: want the template as controller", run.OwnerReferences)
	}

	// A redelivery is a duplicate and creates nothing.
	r = env.do(t, http.MethodPost, "/hooks/web/site", h, body)
	if r.code != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"run":"`+wantName+`","duplicate":true}` {
		t.Fatalf("redelivery: %d %s, want 200 duplicate", r.code, r.body)
	}
	if n := len(env.runs(t, "web")); n != 1 {
		t.Fatalf("%d runs after a redelivery, want 1", n)
	}
	if got := counterValue(t, requestsTotal.WithLabelValues("github", "202", "hooks")) - requests; got != 1 {
		t.Errorf("requests_total{github,202,hooks} grew by %v, want 1", got)
	}
	if got := counterValue(t, duplicatesTotal.WithLabelValues("hooks")) - dups; got != 1 {
		t.Errorf("duplicates_total{hooks} grew by %v, want 1", got)
	}
}

func TestHandlerErrors(t *testing.T) {
	body := compact(t, fixture(t, "github/push.json"))
	good := signedHeaders("github", testKey, body, "push", "d-1")
	secret := testSecret("web", map[string]string{"secret": string(testKey)})
	withSpec := func(f func(*v1alpha1.HookTemplate)) *v1alpha1.HookTemplate {
		t := testTemplate("web", v1alpha1.ProviderGitHub)
		f(t)
		return t
	}

	tests := []struct {
		name       string
		objs       []client.Object
		opts       Options
		method     string
		path       string
		header     http.Header
		body       []byte
		wantCode   int
		wantError  string // substring of {"error": ...}; "" for no body
		wantReason string // X-Hookrun-Reason
	}{
		{name: "unknown template", objs: []client.Object{secret}, path: "/hooks/web/site", header: good, body: body, wantCode: 404, wantError: "not found"},
		{name: "unknown namespace", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/other/site", header: good, body: body, wantCode: 404, wantError: "not found"},
		{name: "path that cannot name a template", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/Site", header: good, body: body, wantCode: 404, wantError: "not found"},
		{name: "path with more segments", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site/x", header: good, body: body, wantCode: 404, wantError: "not found"},
		{name: "other path", path: "/", wantCode: 404, wantError: "not found"},
		{name: "template being deleted", objs: []client.Object{withSpec(func(t *v1alpha1.HookTemplate) {
			t.DeletionTimestamp = &metav1.Time{Time: testNow}
			t.Finalizers = []string{"example.com/hold"}
		}), secret}, path: "/hooks/web/site", header: good, body: body, wantCode: 404, wantError: "not found"},
		{name: "GET", objs: []client.Object{testTemplate("web", "github"), secret}, method: http.MethodGet, path: "/hooks/web/site", wantCode: 405, wantError: "method GET not allowed"},
		{name: "secret missing", objs: []client.Object{testTemplate("web", "github")}, path: "/hooks/web/site", header: good, body: body, wantCode: 503, wantError: "webhook secret unavailable"},
		{name: "secret key missing", objs: []client.Object{testTemplate("web", "github"), testSecret("web", map[string]string{"token": "x"})}, path: "/hooks/web/site", header: good, body: body, wantCode: 503, wantError: "webhook secret unavailable"},
		{name: "secret empty", objs: []client.Object{testTemplate("web", "github"), testSecret("web", map[string]string{"secret": ""})}, path: "/hooks/web/site", header: signedHeaders("github", nil, body, "push", "d"), body: body, wantCode: 503, wantError: "webhook secret unavailable"},
		{name: "invalid param", objs: []client.Object{withSpec(func(t *v1alpha1.HookTemplate) { t.Spec.Params = []v1alpha1.ParamSpec{{Name: "X", Path: "{.a["}} }), secret}, path: "/hooks/web/site", header: good, body: body, wantCode: 503, wantError: "invalid params"},
		{name: "invalid match", objs: []client.Object{withSpec(func(t *v1alpha1.HookTemplate) { t.Spec.Match.Refs = []string{"refs/heads/[main"} }), secret}, path: "/hooks/web/site", header: good, body: body, wantCode: 503, wantError: "invalid match"},
		{name: "body too large", objs: []client.Object{testTemplate("web", "github"), secret}, opts: Options{MaxBodyBytes: 1024}, path: "/hooks/web/site", header: good, body: body, wantCode: 413, wantError: "larger than 1024"},
		{name: "bad signature", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site", header: signedHeaders("github", []byte("guess"), body, "push", "d"), body: body, wantCode: 401, wantError: "invalid signature"},
		{name: "missing signature", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site", header: headers("X-GitHub-Event", "push"), body: body, wantCode: 401, wantError: "missing signature"},
		{name: "dry run still needs a signature", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site", header: headers("X-GitHub-Event", "push", HeaderDryRun, "true"), body: body, wantCode: 401, wantError: "missing signature"},
		{name: "malformed JSON", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site", header: signedHeaders("github", testKey, []byte(`{"ref":`), "push", "d"), body: []byte(`{"ref":`), wantCode: 400, wantError: "malformed payload"},
		{name: "delivery id too long", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site", header: signedHeaders("github", testKey, body, "push", strings.Repeat("x", 257)), body: body, wantCode: 400, wantError: "delivery id is 257 characters long"},
		{name: "ping", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site", header: signedHeaders("github", testKey, []byte(`{"zen":"x"}`), "ping", "d"), body: []byte(`{"zen":"x"}`), wantCode: 200},
		{name: "push to another branch", objs: []client.Object{withSpec(func(t *v1alpha1.HookTemplate) { t.Spec.Match.Refs = []string{"refs/heads/prod"} }), secret}, path: "/hooks/web/site", header: good, body: body, wantCode: 204, wantReason: `ref "refs/heads/main" matches no pattern of match.refs`},
		{name: "branch deletion", objs: []client.Object{testTemplate("web", "github"), secret}, path: "/hooks/web/site",
			header: signedHeaders("github", testKey, fixture(t, "github/push-delete.json"), "push", "d"), body: fixture(t, "github/push-delete.json"),
			wantCode: 204, wantReason: `refs/heads/feature/old was deleted; list "delete" in match.events to run on deletions`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newFakeEnv(t, tt.opts, nil, tt.objs...)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := env.do(t, method, tt.path, tt.header, tt.body)
			if r.code != tt.wantCode {
				t.Fatalf("status = %d %s, want %d", r.code, r.body, tt.wantCode)
			}
			switch {
			case tt.wantError != "":
				if msg := errorMessage(t, r); !strings.Contains(msg, tt.wantError) {
					t.Errorf("error = %q, want it to contain %q", msg, tt.wantError)
				}
			case tt.wantCode == http.StatusNoContent:
				if len(r.body) != 0 {
					t.Errorf("204 with a body: %q", r.body)
				}
				if got := r.header.Get(HeaderReason); got != tt.wantReason {
					t.Errorf("%s = %q, want %q", HeaderReason, got, tt.wantReason)
				}
			case tt.wantCode == http.StatusOK:
				if strings.TrimSpace(string(r.body)) != `{"ping":"ok"}` {
					t.Errorf("ping body %q", r.body)
				}
			}
			if tt.wantCode == http.StatusMethodNotAllowed && r.header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
			}
			if n := len(env.runs(t, "web")); n != 0 {
				t.Errorf("%d runs created, want none", n)
			}
		})
	}
}

// A caller without the secret must not tell a missing template from a
// missing namespace or a bad path by the body.
func TestNotFoundRevealsNothing(t *testing.T) {
	env := newFakeEnv(t, Options{}, nil, testTemplate("web", "github"), testSecret("web", map[string]string{"secret": "k"}))
	var bodies []string
	for _, p := range []string{"/hooks/web/nope", "/hooks/nope/site", "/hooks/web", "/metrics", "/hooks/web/site/"} {
		r := env.do(t, http.MethodPost, p, headers(), []byte("{}"))
		if r.code != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", p, r.code)
		}
		bodies = append(bodies, string(r.body))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("404 bodies differ: %q vs %q", bodies[0], b)
		}
	}
}

func TestHandlerAPIServerErrorIs503(t *testing.T) {
	funcs := &interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
		return errors.New("connection refused")
	}}
	env := newFakeEnv(t, Options{}, funcs, testTemplate("web", "github"), testSecret("web", map[string]string{"secret": string(testKey)}))
	body := compact(t, fixture(t, "github/push.json"))
	r := env.do(t, http.MethodPost, "/hooks/web/site", signedHeaders("github", testKey, body, "push", "d"), body)
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d %s, want 503", r.code, r.body)
	}
	if msg := errorMessage(t, r); strings.Contains(msg, "connection refused") {
		t.Errorf("error %q leaks the API error", msg)
	}
}

func TestHandlerRotationAndTolerance(t *testing.T) {
	tmpl := testTemplate("web", v1alpha1.ProviderGitLab)
	tmpl.Spec.Source.PreviousSecretKey = "previous"
	tmpl.Spec.Source.SignatureTolerance = &metav1.Duration{Duration: time.Minute}
	env := newFakeEnv(t, Options{SignatureTolerance: time.Hour}, nil, tmpl, testSecret("web", map[string]string{"secret": "new-token", "previous": "old-token"}))
	body := compact(t, fixture(t, "gitlab/push.json"))
	post := func(h http.Header) int {
		return env.do(t, http.MethodPost, "/hooks/web/site", h, body).code
	}
	if code := post(headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", "a", "X-Gitlab-Token", "new-token")); code != http.StatusAccepted {
		t.Errorf("current token: %d, want 202", code)
	}
	if code := post(headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", "b", "X-Gitlab-Token", "old-token")); code != http.StatusAccepted {
		t.Errorf("previous token: %d, want 202", code)
	}
	if code := post(headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", "c", "X-Gitlab-Token", "older-token")); code != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", code)
	}
	// The template's 1m tolerance wins over the server's 1h.
	ts := testNow.Add(-2 * time.Minute).Unix()
	h := headers("X-Gitlab-Event", "Push Hook", "Idempotency-Key", "idem", "Webhook-Id", "idem",
		"Webhook-Timestamp", strconv.FormatInt(ts, 10), "Webhook-Signature", standardSig([]byte("new-token"), "idem", ts, body))
	if code := post(h); code != http.StatusUnauthorized {
		t.Errorf("signature 2m old with a 1m tolerance: %d, want 401", code)
	}
	ts = testNow.Add(-30 * time.Second).Unix()
	h.Set("Webhook-Timestamp", strconv.FormatInt(ts, 10))
	h.Set("Webhook-Signature", standardSig([]byte("new-token"), "idem", ts, body))
	if code := post(h); code != http.StatusAccepted {
		t.Errorf("signature 30s old: %d, want 202", code)
	}
	if n := len(env.runs(t, "web")); n != 3 {
		t.Errorf("%d runs, want 3", n)
	}
}

func TestHandlerSuspendedTemplateStillRecords(t *testing.T) {
	tmpl := testTemplate("web", v1alpha1.ProviderGeneric)
	tmpl.Spec.Suspend = true
	env := newFakeEnv(t, Options{}, nil, tmpl, testSecret("web", map[string]string{"secret": string(testKey)}))
	body := fixture(t, "generic/push.json")
	r := env.do(t, http.MethodPost, "/hooks/web/site", headers("Authorization", "Bearer "+string(testKey)), body)
	if r.code != http.StatusAccepted {
		t.Fatalf("status = %d %s, want 202", r.code, r.body)
	}
	runs := env.runs(t, "web")
	if len(runs) != 1 || runs[0].Status.Phase != "" {
		t.Fatalf("runs %+v: want one with no status", runs)
	}
}

func TestDryRun(t *testing.T) {
	tmpl := testTemplate("web", v1alpha1.ProviderGeneric)
	tmpl.Spec.Match = v1alpha1.MatchSpec{Events: []string{"push"}, Refs: []string{"refs/heads/prod"}}
	tmpl.Spec.Params = []v1alpha1.ParamSpec{{Name: "ENVIRONMENT", Path: "{.environment}"}}
	tmpl.Spec.Run.Env = []corev1.EnvVar{{Name: "REGION", Value: "eu"}}
	env := newFakeEnv(t, Options{}, nil, tmpl, testSecret("web", map[string]string{"secret": string(testKey)}))
	body := []byte(`{"event":"push","repository":"acme/site","ref":"refs/heads/main","sha":"abc","sender":"$(whoami)","environment":"prod $HOME"}`)
	h := headers("X-Hook-Delivery", "dry-1", "X-Hub-Signature-256", sha256Sig(testKey, body), HeaderDryRun, "true")

	r := env.do(t, http.MethodPost, "/hooks/web/site", h, body)
	if r.code != http.StatusOK {
		t.Fatalf("status = %d %s, want 200", r.code, r.body)
	}
	var got DryRunAnswer
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	if !got.DryRun || got.WouldRun || got.Run != RunName("site", "dry-1") {
		t.Errorf("dryRun %v wouldRun %v run %q", got.DryRun, got.WouldRun, got.Run)
	}
	wantMatch := MatchResult{
		Reason:       `ref "refs/heads/main" matches no pattern of match.refs`,
		Events:       FieldMatch{Value: "push", Names: []string{"push"}, Patterns: []string{"push"}, Matched: true},
		Repositories: FieldMatch{Value: "acme/site", Patterns: []string{}, Matched: true},
		Refs:         FieldMatch{Value: "refs/heads/main", Patterns: []string{"refs/heads/prod"}},
		Paths:        FieldMatch{Patterns: []string{}, Matched: true},
		Senders:      FieldMatch{Value: "$(whoami)", Patterns: []string{}, Matched: true},
		PullRequest:  FieldMatch{Patterns: []string{}, Matched: true},
		Expression:   FieldMatch{Patterns: []string{}, Matched: true},
	}
	if diff := cmp.Diff(wantMatch, got.Match); diff != "" {
		t.Errorf("match (-want +got):\n%s", diff)
	}
	envMap := map[string]string{}
	for _, e := range got.Env {
		envMap[e.Name] = e.Value
	}
	for name, want := range map[string]string{
		"HOOK_RUN": got.Run, "HOOK_TEMPLATE": "site", "HOOK_BRANCH": "main", "HOOK_TAG": "",
		"HOOK_SENDER": "$$(whoami)", "ENVIRONMENT": "prod $$HOME", "REGION": "eu", "HOOK_DELIVERY": "dry-1",
	} {
		if v, ok := envMap[name]; !ok || v != want {
			t.Errorf("env %s = %q (set %v), want %q", name, v, ok, want)
		}
	}
	if n := len(env.runs(t, "web")); n != 0 {
		t.Errorf("dry run created %d runs", n)
	}

	// Options.RunEnv is what the answer shows (main.go wires controllers.RunEnv).
	called := false
	env.server.opts.RunEnv = func(*v1alpha1.HookTemplate, *v1alpha1.HookRun) []corev1.EnvVar {
		called = true
		return []corev1.EnvVar{{Name: "FROM_OPTIONS"}}
	}
	r = env.do(t, http.MethodPost, "/hooks/web/site", h, body)
	if !called || !strings.Contains(string(r.body), "FROM_OPTIONS") {
		t.Errorf("Options.RunEnv not used: %s", r.body)
	}
}
