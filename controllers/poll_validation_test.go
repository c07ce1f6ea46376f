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
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

// TestPollAndScheduleValidation: what the API server accepts and refuses
// for poll-only templates, schedule.cron and schedule.timeZone, with the
// readable message of each refusal.
func TestPollAndScheduleValidation(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	ns := newNamespace(t)
	const remote = "https://github.com/acme/site.git"
	noSecret := func(h *hooksv1alpha1.HookTemplate) { h.Spec.Source.SecretRef = hooksv1alpha1.SecretKeyRef{} }
	withPoll := func(h *hooksv1alpha1.HookTemplate) {
		h.Spec.Poll = &hooksv1alpha1.PollSpec{URL: remote, Interval: metav1.Duration{Duration: time.Minute}}
	}
	schedule := func(cron, zone string) func(*hooksv1alpha1.HookTemplate) {
		return func(h *hooksv1alpha1.HookTemplate) {
			h.Spec.Schedule = &hooksv1alpha1.ScheduleSpec{Cron: cron, TimeZone: zone, Ref: "refs/heads/main"}
		}
	}
	const (
		needsSecret = "source needs either provider and secretRef, or sourceRef (secretRef may only be left out when spec.poll or spec.schedule is set"
		badCron     = "schedule.cron must be five fields separated by spaces"
		badZone     = "schedule.timeZone must be an IANA time zone name"
	)
	tests := []struct {
		name   string
		mutate []func(*hooksv1alpha1.HookTemplate)
		refuse string // "" for accepted
	}{
		// Poll-only templates.
		{name: "webhook template", mutate: nil},
		{name: "poll without secretRef", mutate: []func(*hooksv1alpha1.HookTemplate){noSecret, withPoll}},
		{name: "schedule without secretRef", mutate: []func(*hooksv1alpha1.HookTemplate){noSecret, schedule("@daily", "")}},
		{name: "neither poll, schedule nor secretRef", mutate: []func(*hooksv1alpha1.HookTemplate){noSecret}, refuse: needsSecret},
		{name: "poll without provider", mutate: []func(*hooksv1alpha1.HookTemplate){noSecret, withPoll, func(h *hooksv1alpha1.HookTemplate) { h.Spec.Source.Provider = "" }},
			refuse: "source needs a provider (with secretRef to take webhooks), or sourceRef"},
		// schedule.cron.
		{name: "cron: five fields", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("0 3 * * *", "")}},
		{name: "cron: ranges, steps, lists and names", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("*/15 9-17 1,15 JAN-MAR mon-fri", "")}},
		{name: "cron: @hourly", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@hourly", "")}},
		{name: "cron: @annually", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@annually", "")}},
		{name: "cron: out of range, for Ready to catch", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("61 * * * *", "")}},
		{name: "cron: four fields", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("0 3 * *", "")}, refuse: badCron},
		{name: "cron: six fields (seconds)", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("0 0 3 * * *", "")}, refuse: badCron},
		{name: "cron: @every", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@every 5s", "")}, refuse: badCron},
		{name: "cron: unknown descriptor", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@fortnightly", "")}, refuse: badCron},
		{name: "cron: zone prefix", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("CRON_TZ=Europe/Berlin 0 3 * * *", "")}, refuse: badCron},
		{name: "cron: words", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("every night", "")}, refuse: badCron},
		{name: "cron: empty", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("", "")}, refuse: "spec.schedule.cron"},
		// schedule.timeZone.
		{name: "zone: Europe/Berlin", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "Europe/Berlin")}},
		{name: "zone: UTC", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "UTC")}},
		{name: "zone: three levels", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "America/Argentina/Buenos_Aires")}},
		{name: "zone: Etc/GMT+5", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "Etc/GMT+5")}},
		{name: "zone: unknown, for Ready to catch", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "Mars/Olympus")}},
		{name: "zone: Local", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "Local")}, refuse: badZone},
		{name: "zone: a space", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "Europe Berlin")}, refuse: badZone},
		{name: "zone: a path", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "/etc/localtime")}, refuse: badZone},
		{name: "zone: parent folder", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "../../etc/passwd")}, refuse: badZone},
		{name: "zone: an offset", mutate: []func(*hooksv1alpha1.HookTemplate){schedule("@daily", "+02:00")}, refuse: badZone},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := newTemplate(ns, "v-"+strings.ToLower(string(rune('a'+i%26)))+strings.Repeat("x", i/26))
			for _, m := range tt.mutate {
				m(tmpl)
			}
			err := k8sClient.Create(context.Background(), tmpl)
			switch {
			case tt.refuse == "" && err != nil:
				t.Errorf("refused a valid template: %v", err)
			case tt.refuse != "" && err == nil:
				t.Errorf("accepted an invalid template, want %q", tt.refuse)
			case tt.refuse != "" && !strings.Contains(err.Error(), tt.refuse):
				t.Errorf("error %q does not say %q", err, tt.refuse)
			}
		})
	}
}

// TestPollOnlyAndInvalidScheduleReadiness: through the template
// reconciler, a poll-only template with no Secret is Ready with no webhook
// path and its /hooks/ URL answers 404; a cron or time zone the API's
// patterns let through is Ready=False/ScheduleInvalid with an Event, and
// fixing it makes the template Ready again.
func TestPollOnlyAndInvalidScheduleReadiness(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	ctx := context.Background()

	pollOnly := newTemplate(ns, "poll-only")
	pollOnly.Spec.Source.SecretRef = hooksv1alpha1.SecretKeyRef{}
	pollOnly.Spec.Poll = &hooksv1alpha1.PollSpec{URL: "https://github.com/acme/site.git", Interval: metav1.Duration{Duration: time.Minute}}
	create(t, pollOnly)
	ready := func(g Gomega, tmpl *hooksv1alpha1.HookTemplate) (*hooksv1alpha1.HookTemplate, *metav1.Condition) {
		got := &hooksv1alpha1.HookTemplate{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
		cond := meta.FindStatusCondition(got.Status.Conditions, hooksv1alpha1.ConditionReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.ObservedGeneration).To(Equal(got.Generation))
		return got, cond
	}
	g.Eventually(func(g Gomega) {
		got, cond := ready(g, pollOnly)
		g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(cond.Message).To(Equal("takes no webhooks (no source.secretRef): runs come from spec.poll"))
		g.Expect(got.Status.WebhookPath).To(BeEmpty())
	}, timeout, poll).Should(Succeed())
	srv := webhookserver.New(k8sClient, k8sClient, k8sClient.Scheme(), webhookserver.Options{})
	req := httptest.NewRequest(http.MethodPost, "/hooks/"+ns+"/poll-only", strings.NewReader(`{}`))
	req.Header.Set("X-GitHub-Event", "push")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	g.Expect(w.Code).To(Equal(http.StatusNotFound), w.Body.String())

	for _, tc := range []struct{ name, cron, zone, message string }{
		{name: "bad-cron", cron: "61 * * * *", message: `schedule.cron "61 * * * *"`},
		{name: "bad-zone", cron: "@daily", zone: "Mars/Olympus", message: `schedule.timeZone "Mars/Olympus" is not an IANA time zone`},
	} {
		tmpl := newTemplate(ns, tc.name)
		tmpl.Spec.Source.SecretRef = hooksv1alpha1.SecretKeyRef{}
		tmpl.Spec.Schedule = &hooksv1alpha1.ScheduleSpec{Cron: tc.cron, TimeZone: tc.zone, Ref: "refs/heads/main"}
		create(t, tmpl)
		g.Eventually(func(g Gomega) {
			_, cond := ready(g, tmpl)
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal(hooksv1alpha1.ReasonScheduleInvalid))
			g.Expect(cond.Message).To(ContainSubstring(tc.message))
			g.Expect(eventReasons(g, ns, tc.name)).To(ContainElement(hooksv1alpha1.ReasonScheduleInvalid))
		}, timeout, poll).Should(Succeed(), tc.name)
	}
	// Fixed: Ready again.
	g.Eventually(func() error {
		got := &hooksv1alpha1.HookTemplate{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bad-cron"}, got); err != nil {
			return err
		}
		got.Spec.Schedule.Cron = "1 * * * *"
		return k8sClient.Update(ctx, got)
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		_, cond := ready(g, &hooksv1alpha1.HookTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad-cron"}})
		g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(cond.Message).To(Equal("takes no webhooks (no source.secretRef): runs come from spec.schedule"))
	}, timeout, poll).Should(Succeed())
}
