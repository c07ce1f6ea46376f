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
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// setupWithSources wires the reconcilers as main.go does, the HookSource
// reconciler included.
func setupWithSources(mgr ctrl.Manager) error {
	if err := setupAll(mgr); err != nil {
		return err
	}
	return (&HookSourceReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("hookrun"),
	}).SetupWithManager(mgr)
}

func newSource(ns, name string) *hooksv1alpha1.HookSource {
	return &hooksv1alpha1.HookSource{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: hooksv1alpha1.HookSourceSpec{
			Provider:  hooksv1alpha1.ProviderGitHub,
			SecretRef: hooksv1alpha1.SecretKeyRef{Name: name + "-webhook"},
		},
	}
}

func sourcedTemplate(ns, name, source string) *hooksv1alpha1.HookTemplate {
	tmpl := newTemplate(ns, name)
	tmpl.Spec.Source = hooksv1alpha1.SourceSpec{SourceRef: &hooksv1alpha1.SourceRef{Name: source}}
	return tmpl
}

// TestSourceStatus: a source's Ready, webhookPath and template count, and
// the Ready and webhookPath of a template using it, follow the source, its
// Secret and its templates.
func TestSourceStatus(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupWithSources)
	ctx := context.Background()

	// A template naming a source that does not exist yet.
	site := sourcedTemplate(ns, "site", "acme")
	create(t, site)
	templateReadyIs := func(tmpl *hooksv1alpha1.HookTemplate, status metav1.ConditionStatus, reason string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			got := &hooksv1alpha1.HookTemplate{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
			cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(status))
			g.Expect(cond.Reason).To(Equal(reason))
			g.Expect(cond.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(got.Status.WebhookPath).To(Equal("/sources/" + ns + "/acme"))
		}, timeout, poll).Should(Succeed())
	}
	templateReadyIs(site, metav1.ConditionFalse, hooksv1alpha1.ReasonSourceNotFound)

	src := newSource(ns, "acme")
	create(t, src)
	sourceIs := func(status metav1.ConditionStatus, reason string, templates int32) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			got := &hooksv1alpha1.HookSource{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(src), got)).To(Succeed())
			cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(status))
			g.Expect(cond.Reason).To(Equal(reason))
			g.Expect(cond.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(got.Status.WebhookPath).To(Equal("/sources/" + ns + "/acme"))
			g.Expect(got.Status.Templates).To(Equal(templates))
		}, timeout, poll).Should(Succeed())
	}
	sourceIs(metav1.ConditionFalse, hooksv1alpha1.ReasonSecretNotFound, 1)
	templateReadyIs(site, metav1.ConditionFalse, hooksv1alpha1.ReasonSourceNotReady)

	const value = "s3cr3t-value"
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-webhook", Namespace: ns},
		Data: map[string][]byte{"secret": []byte(value)}}
	create(t, secret)
	sourceIs(metav1.ConditionTrue, hooksv1alpha1.ReasonReady, 1)
	templateReadyIs(site, metav1.ConditionTrue, hooksv1alpha1.ReasonReady)

	// A second template counts; one with its own secret does not.
	docs := sourcedTemplate(ns, "docs", "acme")
	create(t, docs)
	create(t, newTemplate(ns, "own"))
	sourceIs(metav1.ConditionTrue, hooksv1alpha1.ReasonReady, 2)
	templateReadyIs(docs, metav1.ConditionTrue, hooksv1alpha1.ReasonReady)

	// The Secret's key goes: source and templates follow (Secret watch).
	secret.Data = map[string][]byte{"other": []byte("x")}
	g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())
	sourceIs(metav1.ConditionFalse, hooksv1alpha1.ReasonSecretKeyMissing, 2)
	templateReadyIs(site, metav1.ConditionFalse, hooksv1alpha1.ReasonSourceNotReady)
	templateReadyIs(docs, metav1.ConditionFalse, hooksv1alpha1.ReasonSourceNotReady)

	// The source points at another key (source watch).
	secret.Data = map[string][]byte{"other": []byte(value)}
	g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(src), src)).To(Succeed())
	src.Spec.SecretRef.Key = "other"
	g.Expect(k8sClient.Update(ctx, src)).To(Succeed())
	sourceIs(metav1.ConditionTrue, hooksv1alpha1.ReasonReady, 2)
	templateReadyIs(site, metav1.ConditionTrue, hooksv1alpha1.ReasonReady)

	// A deleted template no longer counts.
	g.Expect(k8sClient.Delete(ctx, docs)).To(Succeed())
	sourceIs(metav1.ConditionTrue, hooksv1alpha1.ReasonReady, 1)

	// The source goes: its template is not ready.
	g.Expect(k8sClient.Delete(ctx, src)).To(Succeed())
	templateReadyIs(site, metav1.ConditionFalse, hooksv1alpha1.ReasonSourceNotFound)

	// Nothing of the secret's value reached a status.
	got := &hooksv1alpha1.HookTemplate{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(site), got)).To(Succeed())
	for _, c := range got.Status.Conditions {
		g.Expect(strings.Contains(c.Message, value)).To(BeFalse(), "condition %s leaks the secret", c.Type)
	}
}

// TestSourceRefValidation: the CRD accepts exactly one of the two source
// forms and says so readably.
func TestSourceRefValidation(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	ns := newNamespace(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		source  hooksv1alpha1.SourceSpec
		wantErr string // "" = accepted
	}{
		{name: "own provider and secret", source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "s"}}},
		{name: "sourceRef", source: hooksv1alpha1.SourceSpec{SourceRef: &hooksv1alpha1.SourceRef{Name: "acme"}}},
		{name: "neither", source: hooksv1alpha1.SourceSpec{}, wantErr: "source needs either provider and secretRef, or sourceRef"},
		{name: "provider only", source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub}, wantErr: "source needs either provider and secretRef, or sourceRef"},
		{name: "both", source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "s"},
			SourceRef: &hooksv1alpha1.SourceRef{Name: "acme"}}, wantErr: "source.sourceRef excludes provider and secretRef"},
		{name: "sourceRef with allowSHA1", source: hooksv1alpha1.SourceSpec{SourceRef: &hooksv1alpha1.SourceRef{Name: "acme"}, AllowSHA1: true},
			wantErr: "source.sourceRef excludes previousSecretKey and allowSHA1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := newTemplate(ns, "v"+string(rune('a'+i)))
			tmpl.Spec.Source = tt.source
			err := k8sClient.Create(ctx, tmpl)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("create: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("create: error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

// TestSampleHookSource: config/samples/3-hooksource.yaml is accepted by the
// CRDs as written.
func TestSampleHookSource(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	ns := newNamespace(t)
	b, err := os.ReadFile(filepath.Join("..", "config", "samples", "3-hooksource.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("decode: %v", err)
		}
		obj.SetNamespace(ns)
		if err := k8sClient.Create(context.Background(), obj); err != nil {
			t.Fatalf("create %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		kinds[obj.GetKind()]++
	}
	if kinds["HookSource"] != 1 || kinds["HookTemplate"] != 2 {
		t.Errorf("sample holds %v, want a HookSource and two templates", kinds)
	}
}
