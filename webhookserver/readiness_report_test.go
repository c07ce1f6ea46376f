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
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// TestCheckTemplateReportCredentials: a template whose report Secret or key
// is missing is not ready with ReportCredentialsNotFound, yet still takes
// deliveries (a deploy is never refused for want of a status on the commit);
// a missing webhook Secret still refuses them.
func TestCheckTemplateReportCredentials(t *testing.T) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	webhook := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "site-webhook"}, Data: map[string][]byte{"secret": []byte("s3cr3t")}}
	tests := []struct {
		name    string
		report  *v1alpha1.ReportSpec
		secret  *corev1.Secret
		reason  string
		message string
		// noWebhookSecret leaves the template's webhook Secret out.
		noWebhookSecret bool
		refused         bool
	}{
		{name: "no report", reason: v1alpha1.ReasonReady},
		{name: "default key present", report: &v1alpha1.ReportSpec{CredentialsRef: &v1alpha1.ReportCredentialsRef{Name: "git"}},
			secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "git"}, Data: map[string][]byte{"token": []byte("t0ken")}},
			reason: v1alpha1.ReasonReady},
		{name: "Secret missing", report: &v1alpha1.ReportSpec{CredentialsRef: &v1alpha1.ReportCredentialsRef{Name: "git"}},
			reason: v1alpha1.ReasonReportCredentialsNotFound, message: "report Secret git not found"},
		{name: "key missing", report: &v1alpha1.ReportSpec{CredentialsRef: &v1alpha1.ReportCredentialsRef{Name: "git", Key: "pat"}},
			secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "git"}, Data: map[string][]byte{"token": []byte("t0ken")}},
			reason: v1alpha1.ReasonReportCredentialsNotFound, message: `key "pat"`},
		{name: "webhook Secret missing too: that one decides", report: &v1alpha1.ReportSpec{CredentialsRef: &v1alpha1.ReportCredentialsRef{Name: "git"}},
			noWebhookSecret: true, reason: v1alpha1.ReasonSecretNotFound, refused: true},
		{name: "app key missing", report: &v1alpha1.ReportSpec{GitHubApp: &v1alpha1.GitHubAppSpec{AppID: 1, InstallationID: 2, PrivateKeyRef: v1alpha1.PrivateKeyRef{Name: "app", Key: "private-key.pem"}}},
			reason: v1alpha1.ReasonReportCredentialsNotFound, message: "report Secret app not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			builder := fake.NewClientBuilder().WithScheme(scheme).WithObjects(webhook.DeepCopy())
			if tt.secret != nil {
				builder = builder.WithObjects(tt.secret)
			}
			if tt.noWebhookSecret {
				builder = fake.NewClientBuilder().WithScheme(scheme)
			}
			tmpl := &v1alpha1.HookTemplate{
				ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "site"},
				Spec: v1alpha1.HookTemplateSpec{
					Source: v1alpha1.SourceSpec{Provider: v1alpha1.ProviderGitHub, SecretRef: v1alpha1.SecretKeyRef{Name: "site-webhook"}},
					Report: tt.report,
				},
			}
			got, err := CheckTemplate(context.Background(), builder.Build(), tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if got.Reason != tt.reason || !strings.Contains(got.Message, tt.message) {
				t.Fatalf("got %s %q, want %s with %q", got.Reason, got.Message, tt.reason, tt.message)
			}
			if got.TakesDeliveries() == tt.refused {
				t.Fatalf("TakesDeliveries() = %v, want %v", got.TakesDeliveries(), !tt.refused)
			}
			if strings.Contains(got.Message, "t0ken") {
				t.Fatalf("message shows the token: %q", got.Message)
			}
		})
	}
}
