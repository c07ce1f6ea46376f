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

package controllers

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// fakeGitHubApp is GitHub's App token endpoint and Checks API.
type fakeGitHubApp struct {
	t   *testing.T
	pub *rsa.PublicKey

	mu         sync.Mutex
	tokenCalls int
	calls      []received
}

func (f *fakeGitHubApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/app/installations/456/access_tokens":
		f.tokenCalls++
		f.checkJWT(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"token": "ghs_installation", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case strings.HasPrefix(r.URL.Path, "/repos/"):
		f.calls = append(f.calls, receive(f.t, r, "Authorization"))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id": 42}`))
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}
}

// checkJWT verifies the App's RS256 JWT with its public key.
func (f *fakeGitHubApp) checkJWT(token string) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		f.t.Errorf("JWT %q has %d parts", token, len(parts))
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		f.t.Errorf("JWT signature: %v", err)
		return
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, digest[:], sig); err != nil {
		f.t.Errorf("JWT does not verify: %v", err)
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if !strings.Contains(string(claims), `"iss":"123"`) {
		f.t.Errorf("JWT claims %s: want iss 123", claims)
	}
}

// TestCheckRunLifecycle: one check run per run, created queued, then
// updated in_progress and completed/failure with the redacted tail; one
// installation token for all three calls.
func TestCheckRunLifecycle(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	host := &fakeGitHubApp{t: t, pub: &key.PublicKey}
	srv := httptest.NewServer(host)
	defer srv.Close()

	apps := &appClients{byKey: map[string]*ghinstallation.Transport{}}
	app := &hooksv1alpha1.GitHubAppSpec{AppID: 123, InstallationID: 456}
	target := reportTarget{provider: hooksv1alpha1.ReportGitHub, baseURL: srv.URL, repository: "acme/site",
		sha: "0123456789abcdef0123456789abcdef01234567", context: "deploy/prod", targetURL: "https://logs.example.com/?run=site-1"}
	red := newRedactor([]string{"hunter22"})
	run := newRun("ns", "site", "site-1")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	var id int64
	for _, phase := range []hooksv1alpha1.HookRunPhase{hooksv1alpha1.PhaseQueued, hooksv1alpha1.PhaseRunning, hooksv1alpha1.PhaseFailed} {
		run.Status.Phase = phase
		if phase == hooksv1alpha1.PhaseFailed {
			run.Status.ExitCode, run.Status.Reason, run.Status.Message = ptr.To[int32](3), "BackoffLimitExceeded", "password hunter22\nerror\n"
		}
		client, err := apps.client(srv.URL, app, pemKey, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := sendCheckRun(context.Background(), client, checkRunRequest{target: target, runName: run.Name, phase: phase,
			title: describe(run), summary: checkSummary(run, red.redact(run.Status.Message)), checkRunID: id}, now)
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		id = got
	}
	if id != 42 {
		t.Fatalf("check run id %d, want 42", id)
	}
	if host.tokenCalls != 1 {
		t.Errorf("%d token requests, want 1 (cached)", host.tokenCalls)
	}
	common := func(status string) map[string]any {
		return map[string]any{"name": "deploy/prod", "status": status, "details_url": "https://logs.example.com/?run=site-1", "external_id": "site-1"}
	}
	create := common("queued")
	create["head_sha"] = target.sha
	create["output"] = map[string]any{"title": "Queued", "summary": "Queued"}
	running := common("in_progress")
	running["output"] = map[string]any{"title": "Running", "summary": "Running"}
	done := common("completed")
	done["conclusion"], done["completed_at"] = "failure", "2026-01-01T00:00:00Z"
	done["output"] = map[string]any{"title": "Failed: exit code 3 (BackoffLimitExceeded)",
		"summary": "Exit code: 3\nReason: BackoffLimitExceeded\n\n```\npassword [redacted]\nerror\n\n```\n"}
	want := []received{
		{Method: http.MethodPost, Path: "/repos/acme/site/check-runs", Auth: "token ghs_installation", AuthHeader: "Authorization", Body: create},
		{Method: http.MethodPatch, Path: "/repos/acme/site/check-runs/42", Auth: "token ghs_installation", AuthHeader: "Authorization", Body: running},
		{Method: http.MethodPatch, Path: "/repos/acme/site/check-runs/42", Auth: "token ghs_installation", AuthHeader: "Authorization", Body: done},
	}
	if diff := cmp.Diff(want, host.calls); diff != "" {
		t.Errorf("check run calls (-want +got):\n%s", diff)
	}
}

// TestReportCheckRunThroughTheReconciler: a template with githubApp gets
// one check run per run, created then updated to completed/success, and its
// id in status.report.checkRunID.
func TestReportCheckRunThroughTheReconciler(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	g.Expect(err).NotTo(HaveOccurred())
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	host := &fakeGitHubApp{t: t, pub: &key.PublicKey}
	srv := httptest.NewServer(host)
	t.Cleanup(srv.Close)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-app", Namespace: ns}, Data: map[string][]byte{"private-key.pem": pemKey}})
	tmpl := newTemplate(ns, "site")
	tmpl.Spec.Report = &hooksv1alpha1.ReportSpec{URL: srv.URL, GitHubApp: &hooksv1alpha1.GitHubAppSpec{
		AppID: 123, InstallationID: 456, PrivateKeyRef: hooksv1alpha1.PrivateKeyRef{Name: "site-app", Key: "private-key.pem"}}}
	create(t, tmpl)
	startManager(t, ns, setupWithReporter)
	run := newRun(ns, "site", "site-aaaa000009")
	create(t, run)
	runJobToCompletion(t, ns, run.Name)
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(got.Status.Report).NotTo(BeNil())
		g.Expect(got.Status.Report.State).To(Equal("completed/success"))
		g.Expect(got.Status.Report.CheckRunID).To(Equal(int64(42)))
	}, timeout, poll).Should(Succeed())
	host.mu.Lock()
	defer host.mu.Unlock()
	g.Expect(host.calls[0].Method).To(Equal(http.MethodPost), "created first")
	for _, c := range host.calls[1:] {
		g.Expect(c.Method).To(Equal(http.MethodPatch), "then only updated")
		g.Expect(c.Path).To(Equal("/repos/acme/site/check-runs/42"))
	}
	last := host.calls[len(host.calls)-1].Body
	g.Expect(last["status"]).To(Equal("completed"))
	g.Expect(last["conclusion"]).To(Equal("success"))
	g.Expect(last["external_id"]).To(Equal(run.Name))
	g.Expect(last["name"]).To(Equal("hookrun/" + ns + "/site"))
	g.Expect(host.tokenCalls).To(Equal(1))
}
