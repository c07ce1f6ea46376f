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

// Integration tests of POST /sources/{namespace}/{name}: real HTTP to the
// server the manager started, a real API server behind it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// createSource stores the source and its secret and waits until the
// manager's cache has the source.
func createSource(t testing.TB, c client.Client, cached client.Reader, src *v1alpha1.HookSource, secret *corev1.Secret) {
	t.Helper()
	ctx := context.Background()
	if secret != nil {
		if err := c.Create(ctx, secret); err != nil {
			t.Fatalf("create secret: %v", err)
		}
	}
	if err := c.Create(ctx, src); err != nil {
		t.Fatalf("create source: %v", err)
	}
	eventually(t, 10*time.Second, func() error {
		if secret != nil {
			if err := cached.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{}); err != nil {
				return err
			}
		}
		return cached.Get(ctx, client.ObjectKeyFromObject(src), &v1alpha1.HookSource{})
	})
}

func testSource(ns string) *v1alpha1.HookSource {
	return &v1alpha1.HookSource{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: ns},
		Spec: v1alpha1.HookSourceSpec{
			Provider:  v1alpha1.ProviderGitHub,
			SecretRef: v1alpha1.SecretKeyRef{Name: "acme-webhook", Key: "secret"},
		},
	}
}

// sourcedTemplate is a template named name that uses the source "acme" and
// runs for pushes to repositories matching repo.
func sourcedTemplate(ns, name, repo string) *v1alpha1.HookTemplate {
	return &v1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.HookTemplateSpec{
			Source: v1alpha1.SourceSpec{SourceRef: &v1alpha1.SourceRef{Name: "acme"}},
			Match:  v1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{repo}},
			Run:    v1alpha1.RunSpec{Image: "alpine:3", Shell: "echo deploy"},
		},
	}
}

func sourceAnswer(t testing.TB, r response) SourceRunsAnswer {
	t.Helper()
	var a SourceRunsAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("body %q is not {\"runs\": [...]}: %v", r.body, err)
	}
	return a
}

func runNames(runs []v1alpha1.HookRun) []string {
	names := make([]string, 0, len(runs))
	for _, r := range runs {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// sourceSetup makes a namespace with the source "acme" and three templates
// using it: site (acme/site), all (acme/*) and other (other/*).
func sourceSetup(t *testing.T) (ns, url string) {
	t.Helper()
	c, cached := suite.client, suite.mgr.GetClient()
	ns = newNamespace(t, c)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-webhook", Namespace: ns},
		Data: map[string][]byte{"secret": testKey}}
	createSource(t, c, cached, testSource(ns), secret)
	for _, tmpl := range []*v1alpha1.HookTemplate{
		sourcedTemplate(ns, "site", "acme/site"),
		sourcedTemplate(ns, "all", "acme/*"),
		sourcedTemplate(ns, "other", "other/*"),
	} {
		createTemplate(t, c, cached, tmpl, nil)
	}
	return ns, suite.baseURL + SourcePath(ns, "acme")
}

func TestIntegrationSourceFanOut(t *testing.T) {
	requireEnvtest(t)
	ns, url := sourceSetup(t)
	body := compact(t, fixture(t, "github/push.json"))
	const id = "org-delivery-1"
	want := []string{RunName("all", id), RunName("site", id)}
	accepted := requestsTotal.WithLabelValues("github", "202", "sources")
	before := counterValue(t, accepted)

	r := post(t, httpClient, url, signedHeaders("github", testKey, body, "push", id), body)
	if r.code != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s, want 202", r.code, r.body)
	}
	if got := counterValue(t, accepted) - before; got != 1 {
		t.Errorf("requests_total{github,202,sources} grew by %v, want 1 (one request, however many runs)", got)
	}
	if diff := cmp.Diff(SourceRunsAnswer{Runs: want}, sourceAnswer(t, r)); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	runs := listRuns(t, suite.client, ns)
	if diff := cmp.Diff(want, runNames(runs)); diff != "" {
		t.Fatalf("stored runs (-want +got):\n%s", diff)
	}
	for _, run := range runs {
		if run.Spec.TemplateRef.Name != run.Labels[v1alpha1.LabelTemplate] || len(run.OwnerReferences) != 1 ||
			run.OwnerReferences[0].Name != run.Spec.TemplateRef.Name {
			t.Errorf("run %s: templateRef %q, labels %v, owners %v: want all three naming its template", run.Name,
				run.Spec.TemplateRef.Name, run.Labels, run.OwnerReferences)
		}
		if run.Spec.Delivery.ID != id || run.Spec.Delivery.Repository != "acme/site" || run.Spec.Delivery.Provider != v1alpha1.ProviderGitHub {
			t.Errorf("run %s: delivery %+v", run.Name, run.Spec.Delivery)
		}
	}

	t.Run("redelivery is a duplicate with the same runs", func(t *testing.T) {
		dups := counterValue(t, duplicatesTotal.WithLabelValues("sources"))
		r := post(t, httpClient, url, signedHeaders("github", testKey, body, "push", id), body)
		if r.code != http.StatusOK {
			t.Fatalf("redelivery: %d %s, want 200", r.code, r.body)
		}
		if got := counterValue(t, duplicatesTotal.WithLabelValues("sources")) - dups; got != 2 {
			t.Errorf("duplicates_total{sources} grew by %v, want 2 (one per matching template)", got)
		}
		if diff := cmp.Diff(SourceRunsAnswer{Runs: want, Duplicate: true}, sourceAnswer(t, r)); diff != "" {
			t.Errorf("answer (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, runNames(listRuns(t, suite.client, ns))); diff != "" {
			t.Errorf("stored runs (-want +got):\n%s", diff)
		}
	})

	t.Run("no template matches: 204 with the reason", func(t *testing.T) {
		rel := compact(t, fixture(t, "github/release.json"))
		r := post(t, httpClient, url, signedHeaders("github", testKey, rel, "release", "org-delivery-2"), rel)
		if r.code != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("release: %d %q, want 204 without a body", r.code, r.body)
		}
		if reason := r.header.Get(HeaderReason); reason == "" {
			t.Errorf("204 without %s", HeaderReason)
		}
		if got := len(listRuns(t, suite.client, ns)); got != 2 {
			t.Errorf("%d runs stored, want still 2", got)
		}
	})

	t.Run("wrong signature: 401, nothing stored", func(t *testing.T) {
		h := signedHeaders("github", []byte("not the secret"), body, "push", "org-delivery-3")
		failures := counterValue(t, signatureFailuresTotal.WithLabelValues("github", "sources"))
		r := post(t, httpClient, url, h, body)
		if r.code != http.StatusUnauthorized {
			t.Fatalf("bad signature: %d %s, want 401", r.code, r.body)
		}
		if got := counterValue(t, signatureFailuresTotal.WithLabelValues("github", "sources")) - failures; got != 1 {
			t.Errorf("signature_failures_total{github,sources} grew by %v, want 1", got)
		}
		errorMessage(t, r)
		if got := len(listRuns(t, suite.client, ns)); got != 2 {
			t.Errorf("%d runs stored, want still 2", got)
		}
	})

	t.Run("a template with sourceRef: 404 on its own URL", func(t *testing.T) {
		r := post(t, httpClient, suite.baseURL+PathPrefix+ns+"/site", signedHeaders("github", testKey, body, "push", "org-delivery-4"), body)
		if r.code != http.StatusNotFound {
			t.Fatalf("POST /hooks/%s/site: %d %s, want 404", ns, r.code, r.body)
		}
		errorMessage(t, r)
	})

	t.Run("dry run: every template's answer, nothing stored", func(t *testing.T) {
		const dryID = "org-delivery-5"
		h := signedHeaders("github", testKey, body, "push", dryID)
		h.Set(HeaderDryRun, "true")
		r := post(t, httpClient, url, h, body)
		if r.code != http.StatusOK {
			t.Fatalf("dry run: %d %s, want 200", r.code, r.body)
		}
		var got struct {
			DryRun    bool `json:"dryRun"`
			Templates []struct {
				Template string `json:"template"`
				WouldRun bool   `json:"wouldRun"`
				Run      string `json:"run"`
				Match    struct {
					Matched bool   `json:"matched"`
					Reason  string `json:"reason"`
				} `json:"match"`
			} `json:"templates"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("dry run body %s: %v", r.body, err)
		}
		if !got.DryRun || len(got.Templates) != 3 {
			t.Fatalf("dry run body %s: want dryRun true and 3 templates", r.body)
		}
		wantRun := map[string]bool{"all": true, "other": false, "site": true}
		for _, tt := range got.Templates {
			if tt.WouldRun != wantRun[tt.Template] || tt.Match.Matched != tt.WouldRun || tt.Run != RunName(tt.Template, dryID) {
				t.Errorf("template %s: wouldRun %v, matched %v, run %q; want wouldRun %v, run %q", tt.Template, tt.WouldRun,
					tt.Match.Matched, tt.Run, wantRun[tt.Template], RunName(tt.Template, dryID))
			}
			if !tt.WouldRun && tt.Match.Reason == "" {
				t.Errorf("template %s: no reason given for not running", tt.Template)
			}
		}
		if got := len(listRuns(t, suite.client, ns)); got != 2 {
			t.Errorf("%d runs stored, want still 2", got)
		}
	})

	t.Run("another repository of the organisation runs only the templates for it", func(t *testing.T) {
		docs := bytes.ReplaceAll(body, []byte("acme/site"), []byte("acme/docs"))
		const docsID = "org-delivery-6"
		r := post(t, httpClient, url, signedHeaders("github", testKey, docs, "push", docsID), docs)
		if r.code != http.StatusAccepted {
			t.Fatalf("push to acme/docs: %d %s, want 202", r.code, r.body)
		}
		if diff := cmp.Diff(SourceRunsAnswer{Runs: []string{RunName("all", docsID)}}, sourceAnswer(t, r)); diff != "" {
			t.Errorf("answer (-want +got):\n%s", diff)
		}
		want := append([]string{RunName("all", docsID)}, want...)
		slices.Sort(want)
		if diff := cmp.Diff(want, runNames(listRuns(t, suite.client, ns))); diff != "" {
			t.Errorf("stored runs (-want +got):\n%s", diff)
		}
	})
}

// TestIntegrationSourceCreateFailure: a ResourceQuota lets one HookRun in,
// so one of two creates is refused by the API server: 503, the other run
// stays; with room for both, the redelivery creates the missing one only.
func TestIntegrationSourceCreateFailure(t *testing.T) {
	requireEnvtest(t)
	ctx := context.Background()
	ns, url := sourceSetup(t)
	const (
		countRuns    = corev1.ResourceName("count/hookruns.hooks.hookrun.dev")
		countProbes  = corev1.ResourceName("count/configmaps")
		probesHeld   = "0" // while the runs' quota is 1: a probe is refused
		probesPassed = "1" // while it is 10: a probe is let in
	)
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "runs", Namespace: ns},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{countRuns: resource.MustParse("1"), countProbes: resource.MustParse(probesHeld)}},
	}
	if err := suite.client.Create(ctx, quota); err != nil {
		t.Fatal(err)
	}
	// envtest runs no quota controller: set the usage it would compute.
	setQuota := func(runs, runsUsed, probes string) {
		t.Helper()
		if err := suite.client.Get(ctx, client.ObjectKeyFromObject(quota), quota); err != nil {
			t.Fatal(err)
		}
		quota.Spec.Hard = corev1.ResourceList{countRuns: resource.MustParse(runs), countProbes: resource.MustParse(probes)}
		if err := suite.client.Update(ctx, quota); err != nil {
			t.Fatal(err)
		}
		if err := suite.client.Get(ctx, client.ObjectKeyFromObject(quota), quota); err != nil {
			t.Fatal(err)
		}
		quota.Status = corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{countRuns: resource.MustParse(runs), countProbes: resource.MustParse(probes)},
			Used: corev1.ResourceList{countRuns: resource.MustParse(runsUsed), countProbes: resource.MustParse("0")},
		}
		if err := suite.client.Status().Update(ctx, quota); err != nil {
			t.Fatal(err)
		}
	}
	// The API server's quota admission reads quotas from its own informer:
	// a ConfigMap probe, counted by the same quota object, shows when it
	// applies the status just written (refused at 0, let in at 1).
	probe := func(wantRefused bool) {
		t.Helper()
		eventually(t, 10*time.Second, func() error {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: ns}}
			err := suite.client.Create(ctx, cm)
			// "exceeded quota": a quota whose status is not there yet
			// refuses with "status unknown" instead.
			switch refused := apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota"); {
			case err != nil && !refused:
				return err
			case refused != wantRefused:
				return fmt.Errorf("quota not applied yet (probe refused: %v)", refused)
			}
			return nil
		})
	}
	setQuota("1", "0", probesHeld)
	probe(true)

	body := compact(t, fixture(t, "github/push.json"))
	const id = "org-quota-1"
	want := []string{RunName("all", id), RunName("site", id)}
	r := post(t, httpClient, url, signedHeaders("github", testKey, body, "push", id), body)
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("delivery over quota: %d %s, want 503", r.code, r.body)
	}
	var failed SourceFailure
	if err := json.Unmarshal(r.body, &failed); err != nil || failed.Error == "" {
		t.Fatalf("503 body %s is not {\"error\": ..., \"runs\": [...]}: %v", r.body, err)
	}
	stored := runNames(listRuns(t, suite.client, ns))
	if len(stored) != 1 || !slices.Contains(want, stored[0]) {
		t.Fatalf("stored runs %v, want one of %v", stored, want)
	}
	if diff := cmp.Diff(stored, failed.Runs); diff != "" {
		t.Errorf("503 names the stored runs (-stored +answer):\n%s", diff)
	}

	setQuota("10", "1", probesPassed)
	probe(false)
	r = post(t, httpClient, url, signedHeaders("github", testKey, body, "push", id), body)
	if r.code != http.StatusAccepted {
		t.Fatalf("redelivery: %d %s, want 202", r.code, r.body)
	}
	if diff := cmp.Diff(SourceRunsAnswer{Runs: want}, sourceAnswer(t, r)); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, runNames(listRuns(t, suite.client, ns))); diff != "" {
		t.Errorf("stored runs (-want +got):\n%s", diff)
	}
}

func TestIntegrationSourceNotServing(t *testing.T) {
	requireEnvtest(t)
	c, cached := suite.client, suite.mgr.GetClient()
	ns := newNamespace(t, c)
	body := compact(t, fixture(t, "github/push.json"))
	h := signedHeaders("github", testKey, body, "push", "org-missing-1")

	if r := post(t, httpClient, suite.baseURL+SourcePath(ns, "acme"), h, body); r.code != http.StatusNotFound {
		t.Errorf("unknown source: %d %s, want 404", r.code, r.body)
	}
	// The source exists, its Secret does not: fail closed.
	createSource(t, c, cached, testSource(ns), nil)
	createTemplate(t, c, cached, sourcedTemplate(ns, "site", "acme/site"), nil)
	r := post(t, httpClient, suite.baseURL+SourcePath(ns, "acme"), h, body)
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("source without its Secret: %d %s, want 503", r.code, r.body)
	}
	if msg := errorMessage(t, r); msg != "source not ready: webhook secret unavailable" {
		t.Errorf("error %q", msg)
	}
	if n := len(listRuns(t, c, ns)); n != 0 {
		t.Errorf("%d runs stored, want none", n)
	}
	req, err := http.NewRequest(http.MethodGet, suite.baseURL+SourcePath(ns, "acme"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := doRequest(t, httpClient, req); r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d Allow %q, want 405 Allow POST", r.code, r.header.Get("Allow"))
	}
}
