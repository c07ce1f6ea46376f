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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// readmePollTemplates are the HookTemplates of the README's polling and
// schedules section, as written.
func readmePollTemplates(t *testing.T) []*hooksv1alpha1.HookTemplate {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "<!-- poll-examples:")
	end := strings.Index(text, "## One URL for many templates")
	if start < 0 || end < start {
		t.Fatal("README.md lost its poll-examples marker or section")
	}
	var tmpls []*hooksv1alpha1.HookTemplate
	for _, block := range strings.Split(text[start:end], "```yaml\n")[1:] {
		block = block[:strings.Index(block, "```")]
		tmpl := &hooksv1alpha1.HookTemplate{}
		if err := yaml.UnmarshalStrict([]byte(block), tmpl); err != nil {
			t.Fatalf("README example does not decode: %v\n%s", err, block)
		}
		tmpls = append(tmpls, tmpl)
	}
	return tmpls
}

// TestReadmePollExamples: the README's templates are accepted by the API
// server as written; the poll-only and schedule-only ones are Ready with
// no webhook Secret and no webhook path.
func TestReadmePollExamples(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	tmpls := readmePollTemplates(t)
	names := map[string]string{}
	for _, tmpl := range tmpls {
		tmpl.Namespace = ns
		names[tmpl.Name] = tmpl.Spec.Source.SecretRef.Name
		g.Expect(k8sClient.Create(context.Background(), tmpl)).To(Succeed(), "README template %s", tmpl.Name)
	}
	g.Expect(names).To(Equal(map[string]string{"site": "site-webhook", "intranet": "", "nightly": ""}))
	for _, tc := range []struct{ name, message string }{
		{name: "intranet", message: "takes no webhooks (no source.secretRef): runs come from spec.poll"},
		{name: "nightly", message: "takes no webhooks (no source.secretRef): runs come from spec.schedule"},
	} {
		g.Eventually(func(g Gomega) {
			got := &hooksv1alpha1.HookTemplate{}
			g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tc.name}, got)).To(Succeed())
			cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionReady)
			g.Expect(cond).NotTo(BeNil())
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cond.Message).To(Equal(tc.message))
			g.Expect(got.Status.WebhookPath).To(BeEmpty())
		}, timeout, poll).Should(Succeed(), tc.name)
	}
}
