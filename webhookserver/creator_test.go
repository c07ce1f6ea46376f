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
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// TestCreatorStoresRuns: the Creator main.go gives the webhook server stores
// the HookRun a delivery makes, and a redelivery is a duplicate (200), as
// with a controller-runtime client.
func TestCreatorStoresRuns(t *testing.T) {
	requireEnvtest(t)
	ctx := context.Background()
	ns := newNamespace(t, suite.client)
	tmpl := testTemplate(ns, v1alpha1.ProviderGitHub)
	createTemplate(t, suite.client, suite.mgr.GetClient(), tmpl, testSecret(ns, map[string]string{"secret": string(testKey)}))
	creator, err := NewCreator(suite.cfg, suite.scheme)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(suite.mgr.GetClient(), creator, suite.scheme, Options{}))
	defer srv.Close()

	body := fixture(t, "github/push.json")
	for i, want := range []int{http.StatusAccepted, http.StatusOK} {
		r := post(t, httpClient, srv.URL+"/hooks/"+ns+"/site", signedHeaders("github", testKey, body, "push", "creator-1"), body)
		if r.code != want {
			t.Fatalf("delivery %d: %d %s, want %d", i+1, r.code, r.body, want)
		}
	}
	var runs v1alpha1.HookRunList
	if err := suite.client.List(ctx, &runs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(runs.Items) != 1 {
		t.Fatalf("%d runs stored, want 1", len(runs.Items))
	}
	run := runs.Items[0]
	if diff := cmp.Diff("creator-1", run.Spec.Delivery.ID); diff != "" {
		t.Errorf("delivery id (-want +got):\n%s", diff)
	}
	if run.Labels[v1alpha1.LabelTemplate] != "site" || len(run.OwnerReferences) != 1 || run.OwnerReferences[0].Name != "site" {
		t.Errorf("labels %v, owners %v", run.Labels, run.OwnerReferences)
	}

	// Anything but a HookRun is refused; an API error is the API server's.
	if err := creator.Create(ctx, &corev1.ConfigMap{}); err == nil {
		t.Error("created a ConfigMap")
	}
	dup := run.DeepCopy()
	dup.ResourceVersion, dup.UID = "", ""
	if err := creator.Create(ctx, dup); !apierrors.IsAlreadyExists(err) {
		t.Errorf("create again: %v, want AlreadyExists", err)
	}
}
