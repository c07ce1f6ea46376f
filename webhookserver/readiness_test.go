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

// TestCheckTemplate: the one readiness judgement, for the reconciler's Ready
// condition and the request path alike.
func TestCheckTemplate(t *testing.T) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	secret := func(data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "site-webhook"}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	template := func(mutate func(*v1alpha1.HookTemplate)) *v1alpha1.HookTemplate {
		tmpl := &v1alpha1.HookTemplate{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "site"},
			Spec: v1alpha1.HookTemplateSpec{Source: v1alpha1.SourceSpec{
				Provider: v1alpha1.ProviderGitHub, SecretRef: v1alpha1.SecretKeyRef{Name: "site-webhook"},
			}},
		}
		if mutate != nil {
			mutate(tmpl)
		}
		return tmpl
	}
	tests := []struct {
		name     string
		tmpl     *v1alpha1.HookTemplate
		secret   *corev1.Secret
		reason   string
		message  string // a part of the message
		problem  string // what a refused delivery's answer names
		wantKeys []string
		// takes: TakesDeliveries although not ready (else: when ready
		// with keys)
		takes bool
	}{{
		name: "ready: the default key", tmpl: template(nil), secret: secret(map[string]string{"secret": "s3cr3t"}),
		reason: v1alpha1.ReasonReady, wantKeys: []string{"s3cr3t"},
	}, {
		name: "ready: a key of its own and the previous key during a rotation",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Spec.Source.SecretRef.Key = "new"
			h.Spec.Source.PreviousSecretKey = "old"
		}),
		secret: secret(map[string]string{"new": "n3w", "old": "0ld"}),
		reason: v1alpha1.ReasonReady, wantKeys: []string{"n3w", "0ld"},
	}, {
		name: "no Secret", tmpl: template(nil),
		reason: v1alpha1.ReasonSecretNotFound, message: "Secret site-webhook not found", problem: "webhook secret unavailable",
	}, {
		name: "an empty key counts as missing: it would let anyone sign", tmpl: template(nil), secret: secret(map[string]string{"secret": ""}),
		reason: v1alpha1.ReasonSecretKeyMissing, message: `key "secret"`, problem: "webhook secret unavailable",
	}, {
		name: "a param that does not compile",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Spec.Params = []v1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name"}}
		}),
		secret: secret(map[string]string{"secret": "s3cr3t"}),
		reason: v1alpha1.ReasonInvalidParam, message: "PUSHER", problem: "invalid params",
	}, {
		name: "a malformed glob",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Spec.Match.Refs = []string{"refs/heads/["}
		}),
		secret: secret(map[string]string{"secret": "s3cr3t"}),
		reason: v1alpha1.ReasonInvalidMatch, message: "match.refs[0]", problem: "invalid match",
	}, {
		name: "a name too long for a label value",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Name = strings.Repeat("s", 64)
		}),
		secret: secret(map[string]string{"secret": "s3cr3t"}),
		reason: v1alpha1.ReasonInvalidTemplate, message: "label value", problem: "template name is not a valid label value",
	}, {
		name:   "an unknown provider",
		tmpl:   template(func(h *v1alpha1.HookTemplate) { h.Spec.Source.Provider = "svn" }),
		secret: secret(map[string]string{"secret": "s3cr3t"}),
		reason: v1alpha1.ReasonInvalidTemplate, message: `"svn"`, problem: "unknown provider",
	}, {
		name: "poll only, no secretRef and no Secret: ready, takes no webhooks",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Spec.Source.SecretRef = v1alpha1.SecretKeyRef{}
			h.Spec.Poll = &v1alpha1.PollSpec{URL: "https://github.com/acme/site.git"}
		}),
		reason: v1alpha1.ReasonReady, message: "takes no webhooks (no source.secretRef): runs come from spec.poll",
	}, {
		name: "schedule only: ready, takes no webhooks",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Spec.Source.SecretRef = v1alpha1.SecretKeyRef{}
			h.Spec.Schedule = &v1alpha1.ScheduleSpec{Cron: "@daily", Ref: "refs/heads/main"}
		}),
		reason: v1alpha1.ReasonReady, message: "runs come from spec.schedule",
	}, {
		name: "a cron the API's pattern lets through: not ready, webhooks still taken",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Spec.Schedule = &v1alpha1.ScheduleSpec{Cron: "61 * * * *", Ref: "refs/heads/main"}
		}),
		secret: secret(map[string]string{"secret": "s3cr3t"}),
		reason: v1alpha1.ReasonScheduleInvalid, message: `schedule.cron "61 * * * *"`, problem: "invalid schedule",
		wantKeys: []string{"s3cr3t"}, takes: true,
	}, {
		name: "an unknown time zone on a poll-only template: not ready",
		tmpl: template(func(h *v1alpha1.HookTemplate) {
			h.Spec.Source.SecretRef = v1alpha1.SecretKeyRef{}
			h.Spec.Schedule = &v1alpha1.ScheduleSpec{Cron: "@daily", TimeZone: "Mars/Olympus", Ref: "refs/heads/main"}
		}),
		reason: v1alpha1.ReasonScheduleInvalid, message: `schedule.timeZone "Mars/Olympus" is not an IANA time zone`, problem: "invalid schedule",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(scheme)
			if tt.secret != nil {
				b = b.WithObjects(tt.secret)
			}
			got, err := CheckTemplate(context.Background(), b.Build(), tt.tmpl)
			if err != nil {
				t.Fatalf("CheckTemplate: %v", err)
			}
			if got.Reason != tt.reason || got.Ready() != (tt.reason == v1alpha1.ReasonReady) {
				t.Fatalf("reason %q (ready %v), want %q; message %q", got.Reason, got.Ready(), tt.reason, got.Message)
			}
			if !strings.Contains(got.Message, tt.message) || got.problem != tt.problem {
				t.Errorf("message %q, problem %q; want a message with %q, problem %q", got.Message, got.problem, tt.message, tt.problem)
			}
			for _, v := range []string{"s3cr3t", "n3w", "0ld"} {
				if strings.Contains(got.Message, v) {
					t.Errorf("the message %q holds the secret", got.Message)
				}
			}
			var keys []string
			if got.prepared != nil {
				for _, k := range got.prepared.keys {
					keys = append(keys, string(k))
				}
			}
			if strings.Join(keys, ",") != strings.Join(tt.wantKeys, ",") {
				t.Errorf("keys %q, want %q", keys, tt.wantKeys)
			}
			if want := tt.takes || (got.Ready() && len(tt.wantKeys) > 0); got.TakesDeliveries() != want {
				t.Errorf("TakesDeliveries = %v, want %v", got.TakesDeliveries(), want)
			}
		})
	}
}

// TestCompiledTemplates: a delivery reuses the template's compiled spec
// until the template changes (generation or identity).
func TestCompiledTemplates(t *testing.T) {
	tmpl := &v1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "site", UID: "u1", Generation: 1},
		Spec: v1alpha1.HookTemplateSpec{
			Source: v1alpha1.SourceSpec{Provider: v1alpha1.ProviderGitHub},
			Params: []v1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name}"}},
		},
	}
	var c compiledTemplates
	first := c.get(tmpl)
	if first.notReady != nil || first.params.Len() != 1 {
		t.Fatalf("compiled %+v, want one param", first)
	}
	if c.get(tmpl) != first {
		t.Error("the same generation was compiled again")
	}
	changed := tmpl.DeepCopy()
	changed.Generation = 2
	changed.Spec.Params = nil
	if got := c.get(changed); got == first || got.params.Len() != 0 {
		t.Error("a new generation reused the old compiled spec")
	}
	recreated := changed.DeepCopy()
	recreated.UID = "u2"
	if c.get(recreated) == c.get(changed) {
		t.Error("a template recreated under the same name reused the old compiled spec")
	}
}
