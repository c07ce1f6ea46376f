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

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
	"github.com/hookrun/hookrun/internal/gittest"
	"github.com/hookrun/hookrun/webhookserver"
)

// TestManagerPollsEachPushOnce runs the manager as main.go wires it,
// parsed from the command line with the hidden --test-poll-interval,
// against a real API server (envtest) and a real git remote on loopback
// (git daemon). A pushed commit becomes exactly one run within the lowered
// interval; the same push delivered as a signed webhook, after the poll
// and before it, is still one run.
func TestManagerPollsEachPushOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("envtest test: runs without -short")
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test` (it builds etcd and kube-apiserver into bin/k8s) or `go test -short` for unit tests only")
	}
	const interval = 2 * time.Second
	g := NewWithT(t)
	env := &envtest.Environment{CRDDirectoryPaths: []string{"config/crd/bases"}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())

	webhookAddr := freeAddr(t)
	var opts options
	fs := flag.NewFlagSet("hookrun", flag.ContinueOnError)
	bindFlags(fs, &opts)
	g.Expect(fs.Parse([]string{
		"--test-poll-interval=" + interval.String(),
		"--webhook-bind-address=" + webhookAddr,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
	})).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := newManager(ctx, cfg, opts)
	g.Expect(err).NotTo(HaveOccurred())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	remote := gittest.New(t)
	first := remote.Git(remote.Work, "rev-parse", "HEAD")
	const ns, key = "default", "manager-test-webhook-key"
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "site-webhook", Namespace: ns},
		Data:       map[string][]byte{hooksv1alpha1.DefaultSecretKey: []byte(key)},
	})).To(Succeed())
	tmpl := &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: ns},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "site-webhook"}},
			Match:  hooksv1alpha1.MatchSpec{Refs: []string{"refs/heads/main"}},
			// The API's minimum; the manager's flag lowers it.
			Poll: &hooksv1alpha1.PollSpec{URL: remote.URL, Interval: metav1.Duration{Duration: time.Minute}},
			Run:  hooksv1alpha1.RunSpec{Image: "hookrun/runner:local", Shell: "echo $HOOK_SHA"},
		},
	}
	g.Expect(k8s.Create(ctx, tmpl)).To(Succeed())
	template := func() *hooksv1alpha1.HookTemplate {
		got := &hooksv1alpha1.HookTemplate{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
		return got
	}
	runs := func() []hooksv1alpha1.HookRun {
		list := &hooksv1alpha1.HookRunList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		return list.Items
	}
	// The first listing only records main; Ready for webhooks too.
	g.Eventually(func(g Gomega) {
		got := template()
		g.Expect(got.Status.Poll).NotTo(BeNil())
		g.Expect(got.Status.Poll.Refs).To(Equal([]hooksv1alpha1.PolledRef{{Ref: "refs/heads/main", SHA: first}}))
		g.Expect(got.Status.Conditions).To(ContainElement(HaveField("Status", metav1.ConditionTrue)))
	}, 30*time.Second, 50*time.Millisecond).Should(Succeed())
	g.Expect(runs()).To(BeEmpty())

	// 1. A push: one run, within the lowered interval (plus a listing).
	second := remote.Commit("main")
	pushed := time.Now()
	g.Eventually(func() []hooksv1alpha1.HookRun { return runs() }, interval+3*time.Second, 20*time.Millisecond).Should(HaveLen(1))
	t.Logf("the polled run appeared %s after the push (interval %s)", time.Since(pushed).Round(time.Millisecond), interval)
	run := runs()[0]
	g.Expect(run.Name).To(Equal(delivery.PushRunName("site", "refs/heads/main", second)))
	g.Expect(run.Spec.Delivery.ID).To(Equal(delivery.PollDeliveryID("refs/heads/main", second)))
	g.Expect(run.Spec.Delivery.Before).To(Equal(first))

	// 2. The same push as a signed webhook afterwards: a duplicate.
	status, body := deliverPush(t, "http://"+webhookAddr, ns, "site", key, "gh-after", first, second)
	g.Expect(status).To(Equal(http.StatusOK), body)
	g.Expect(body).To(ContainSubstring(`"duplicate":true`))

	// 3. A webhook before the poll: the commit is delivered, then pushed;
	// the poller finds the run there already.
	third := remote.CommitLocal("main")
	status, body = deliverPush(t, "http://"+webhookAddr, ns, "site", key, "gh-before", second, third)
	g.Expect(status).To(Equal(http.StatusAccepted), body)
	remote.Push("main")
	g.Eventually(func() []hooksv1alpha1.PolledRef { return template().Status.Poll.Refs }, interval+3*time.Second, 20*time.Millisecond).
		Should(Equal([]hooksv1alpha1.PolledRef{{Ref: "refs/heads/main", SHA: third}}), "the poller saw the push")

	// Still one run per push, over several more listings.
	g.Consistently(func(g Gomega) {
		got := runs()
		g.Expect(got).To(HaveLen(2))
		for _, r := range got {
			if r.Spec.Delivery.SHA == third {
				g.Expect(r.Spec.Delivery.ID).To(Equal("gh-before"), "the webhook's run")
			}
		}
	}, 3*interval, 100*time.Millisecond).Should(Succeed())
}

// deliverPush POSTs a GitHub push of ref main from before to after, signed
// as GitHub signs, and returns the status and body.
func deliverPush(t *testing.T, baseURL, ns, template, key, id, before, after string) (int, string) {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": before, "after": after,
		"repository":  map[string]any{"full_name": "acme/site", "clone_url": "https://example.invalid/acme/site.git"},
		"sender":      map[string]any{"login": "dev"},
		"head_commit": map[string]any{"id": after, "message": "change"},
	})
	if err != nil {
		t.Fatal(err)
	}
	header, err := webhookserver.Sign(hooksv1alpha1.ProviderGitHub, webhookserver.SignInput{
		Secret: []byte(key), Body: payload, Event: "push", DeliveryID: id,
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/hooks/%s/%s", baseURL, ns, template), bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST delivery: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// freeAddr is a free loopback address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
