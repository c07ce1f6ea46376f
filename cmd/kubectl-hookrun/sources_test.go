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
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

// newSource stores a HookSource "acme" of provider with its secret, sets the
// status.webhookPath its reconciler would, and adds templates using it
// (name → repository pattern; pushes to main), each with the source's path
// as its webhookPath; it waits until the webhook server's cache has them
// all.
func newSource(t *testing.T, ns string, provider hooksv1alpha1.Provider, secret string, templates map[string]string) {
	t.Helper()
	ctx := context.Background()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-webhook", Namespace: ns},
		Data:       map[string][]byte{"token": []byte(secret)},
	}
	src := &hooksv1alpha1.HookSource{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: ns},
		Spec:       hooksv1alpha1.HookSourceSpec{Provider: provider, SecretRef: hooksv1alpha1.SecretKeyRef{Name: s.Name, Key: "token"}},
	}
	objs := []client.Object{s, src}
	for name, repo := range templates {
		objs = append(objs, &hooksv1alpha1.HookTemplate{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: hooksv1alpha1.HookTemplateSpec{
				Source: hooksv1alpha1.SourceSpec{SourceRef: &hooksv1alpha1.SourceRef{Name: src.Name}},
				Match:  hooksv1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{repo}, Refs: []string{"refs/heads/main"}},
				Run:    hooksv1alpha1.RunSpec{Image: "alpine:3", Shell: "echo deploy"},
			},
		})
	}
	path := webhookserver.SourcePath(ns, src.Name)
	for _, obj := range objs {
		if err := suite.client.Create(ctx, obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
		var err error
		switch o := obj.(type) {
		case *hooksv1alpha1.HookSource:
			orig := o.DeepCopy()
			o.Status.WebhookPath = path
			err = suite.client.Status().Patch(ctx, o, client.MergeFrom(orig))
		case *hooksv1alpha1.HookTemplate:
			orig := o.DeepCopy()
			o.Status.WebhookPath = path
			err = suite.client.Status().Patch(ctx, o, client.MergeFrom(orig))
		}
		if err != nil {
			t.Fatalf("set status of %s: %v", obj.GetName(), err)
		}
	}
	eventually(t, 10*time.Second, func() error {
		for _, obj := range objs {
			got := obj.DeepCopyObject().(client.Object)
			if err := suite.cached.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				return err
			}
			if got.GetResourceVersion() != obj.GetResourceVersion() {
				return fmt.Errorf("cache has %s version %s, want %s", obj.GetName(), got.GetResourceVersion(), obj.GetResourceVersion())
			}
		}
		return nil
	})
}

// acmeTemplates are the README's (section "One URL for many templates"):
// api and all match a push to acme/api, docs does not.
var acmeTemplates = map[string]string{"api": "acme/api", "docs": "acme/docs", "all": "acme/*"}

// apiPush is a push to main of acme/api in provider's shape.
func apiPush(t *testing.T, provider hooksv1alpha1.Provider) string {
	return writePayload(t, strings.ReplaceAll(payloads[provider], "acme/site", "acme/api"))
}

// readmeExample is the output the README's HookSource section shows for
// the command line starting with command.
func readmeExample(t *testing.T, command string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## One URL for many templates")
	if !ok {
		t.Fatal("README.md has no section One URL for many templates")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, out, ok := strings.Cut(section, "\n$ "+command)
	if !ok {
		t.Fatalf("README's HookSource section shows no %q", command)
	}
	_, out, _ = strings.Cut(out, "\n")
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "$ ") || strings.HasPrefix(line, "```") {
			break
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n") + "\n"
}

func listRunNames(t *testing.T, ns string) []string {
	t.Helper()
	var runs hooksv1alpha1.HookRunList
	if err := suite.client.List(context.Background(), &runs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs.Items {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// TestSendThroughSource: for a template with sourceRef, send signs with the
// HookSource's secret as its provider would and POSTs to the source's path:
// the real webhook server runs every matching template of the source, and
// send prints the runs; a dry run creates nothing and gives every
// template's answer. The secret is never printed.
func TestSendThroughSource(t *testing.T) {
	requireEnvtest(t)
	for _, provider := range []hooksv1alpha1.Provider{hooksv1alpha1.ProviderGitHub, hooksv1alpha1.ProviderGitLab} {
		t.Run(string(provider), func(t *testing.T) {
			ns := newNamespace(t)
			newSource(t, ns, provider, testSecret, acmeTemplates)
			payload := apiPush(t, provider)

			dry := plugin(t, ns, "send", "api", "--payload", payload, "--url", suite.hooksURL, "--dry-run", "-o", "json")
			if dry.code != 0 {
				t.Fatalf("send --dry-run: exit %d: %s", dry.code, dry.stderr)
			}
			var answer webhookserver.SourceDryRunAnswer
			if err := json.Unmarshal([]byte(dry.stdout), &answer); err != nil || !answer.DryRun {
				t.Fatalf("send --dry-run answered %s (%v): want a source's dry run", dry.stdout, err)
			}
			would := map[string]bool{}
			for _, tt := range answer.Templates {
				would[tt.Template] = tt.WouldRun
			}
			if diff := cmp.Diff(map[string]bool{"all": true, "api": true, "docs": false}, would); diff != "" {
				t.Errorf("dry run, would run (-want +got):\n%s", diff)
			}
			if got := listRunNames(t, ns); len(got) != 0 {
				t.Fatalf("after a dry run: runs %v, want none", got)
			}

			res := plugin(t, ns, "send", "api", "--payload", payload, "--url", suite.hooksURL)
			const prefix = "202 Accepted: runs "
			if res.code != 0 || !strings.HasPrefix(res.stdout, prefix) || !strings.HasSuffix(res.stdout, " through HookSource acme\n") {
				t.Fatalf("send: exit %d: %q %s", res.code, res.stdout, res.stderr)
			}
			printed := strings.Split(strings.TrimSuffix(strings.TrimPrefix(res.stdout, prefix), " through HookSource acme\n"), ", ")
			slices.Sort(printed)
			stored := listRunNames(t, ns)
			if diff := cmp.Diff(stored, printed); diff != "" || len(stored) != 2 {
				t.Fatalf("printed runs against stored runs (-stored +printed), want 2:\n%s", diff)
			}
			for _, name := range stored {
				run := getRun(t, ns, name)
				if d := run.Spec.Delivery; d.Provider != provider || d.Repository != "acme/api" || !slices.Contains([]string{"all", "api"}, run.Spec.TemplateRef.Name) {
					t.Errorf("run %s of %s: delivery %+v", name, run.Spec.TemplateRef.Name, d)
				}
			}
			// The README's line, but for the run names' hashes.
			hashes := regexp.MustCompile(`-[0-9a-f]{10}\b`)
			if provider == hooksv1alpha1.ProviderGitHub {
				want := hashes.ReplaceAllString(readmeExample(t, "kubectl -n web hookrun send api "), "-HASH")
				if diff := cmp.Diff(want, hashes.ReplaceAllString(res.stdout, "-HASH")); diff != "" {
					t.Errorf("send against the README (-readme +got):\n%s", diff)
				}
			}
			for _, out := range []string{dry.stdout, dry.stderr, res.stdout, res.stderr} {
				if strings.Contains(out, testSecret) {
					t.Errorf("the secret was printed: %q", out)
				}
			}
		})
	}
}

// whyFields are why's lines by their first word(s).
func whyFields(out string) map[string]string {
	fields := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		for _, key := range []string{"would run", "other templates", "template", "source", "run", "signature", "events", "repositories", "refs"} {
			if rest, ok := strings.CutPrefix(line, key+" "); ok {
				fields[key] = strings.TrimSpace(rest)
				break
			}
		}
	}
	return fields
}

// TestWhyThroughSource: why explains the named template's part of a
// source's dry run and sums up the others; nothing is created.
func TestWhyThroughSource(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	newSource(t, ns, hooksv1alpha1.ProviderGitHub, testSecret, acmeTemplates)
	payload := apiPush(t, hooksv1alpha1.ProviderGitHub)

	tests := []struct {
		template string
		want     map[string]string
	}{
		{template: "api", want: map[string]string{
			"template": "api", "source": "acme (3 templates)", "would run": "yes", "signature": "ok",
			"other templates": "would run: all; would not run: docs",
		}},
		{template: "docs", want: map[string]string{
			"template": "docs", "source": "acme (3 templates)", "signature": "ok",
			"other templates": "would run: all, api",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.template, func(t *testing.T) {
			res := plugin(t, ns, "why", tc.template, "--payload", payload, "--url", suite.hooksURL)
			if res.code != 0 {
				t.Fatalf("why: exit %d: %s", res.code, res.stderr)
			}
			t.Logf("why:\n%s", res.stdout)
			got := whyFields(res.stdout)
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s line %q, want %q\n%s", k, got[k], want, res.stdout)
				}
			}
			if tc.template == "docs" {
				if !strings.HasPrefix(got["would run"], "no: ") {
					t.Errorf("would run line %q: want no and the reason", got["would run"])
				}
				if !strings.HasPrefix(got["repositories"], "FAILED  acme/api") {
					t.Errorf("repositories line %q: want FAILED acme/api", got["repositories"])
				}
				// The README's lines, but for the run name's hash.
				hash := regexp.MustCompile(`-[0-9a-f]{10}\n`)
				want := hash.ReplaceAllString(readmeExample(t, "kubectl -n web hookrun why docs "), "-HASH\n")
				if diff := cmp.Diff(want, hash.ReplaceAllString(res.stdout, "-HASH\n")); diff != "" {
					t.Errorf("why against the README (-readme +got):\n%s", diff)
				}
			}
			// The name the run would get (a dry run names it even when the
			// template does not match).
			if !strings.HasPrefix(got["run"], tc.template+"-") {
				t.Errorf("run line %q: want the template's run name", got["run"])
			}
		})
	}
	if got := listRunNames(t, ns); len(got) != 0 {
		t.Errorf("why created runs %v, want none", got)
	}

	// A source the plugin cannot use: a clear error, nothing sent.
	ctx := context.Background()
	pending := &hooksv1alpha1.HookSource{
		ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: ns},
		Spec:       hooksv1alpha1.HookSourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "acme-webhook", Key: "token"}},
	}
	keyless := &hooksv1alpha1.HookSource{
		ObjectMeta: metav1.ObjectMeta{Name: "keyless", Namespace: ns},
		Spec:       hooksv1alpha1.HookSourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "acme-webhook", Key: "missing"}},
	}
	for _, src := range []*hooksv1alpha1.HookSource{pending, keyless} {
		if err := suite.client.Create(ctx, src); err != nil {
			t.Fatal(err)
		}
	}
	orig := keyless.DeepCopy()
	keyless.Status.WebhookPath = webhookserver.SourcePath(ns, keyless.Name)
	if err := suite.client.Status().Patch(ctx, keyless, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ template, source, want string }{
		{template: "orphan", source: "nope", want: `HookSource "nope" of template orphan not found: create it, or fix spec.source.sourceRef.name`},
		{template: "early", source: "pending", want: "HookSource pending (the source of template early) has no status.webhookPath yet: is the hookrun manager running?"},
		{template: "unsigned", source: "keyless", want: `secret "acme-webhook" has no key "missing": add it, or fix spec.secretRef.key of HookSource keyless`},
	} {
		t.Run("template "+tc.template+", source "+tc.source, func(t *testing.T) {
			tmpl := &hooksv1alpha1.HookTemplate{
				ObjectMeta: metav1.ObjectMeta{Name: tc.template, Namespace: ns},
				Spec: hooksv1alpha1.HookTemplateSpec{
					Source: hooksv1alpha1.SourceSpec{SourceRef: &hooksv1alpha1.SourceRef{Name: tc.source}},
					Run:    hooksv1alpha1.RunSpec{Image: "alpine:3", Shell: "echo deploy"},
				},
			}
			if err := suite.client.Create(ctx, tmpl); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"why", "send"} {
				res := plugin(t, ns, cmd, tc.template, "--payload", payload, "--url", suite.hooksURL)
				if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
					t.Errorf("%s: exit %d, stderr %q: want %q", cmd, res.code, res.stderr, tc.want)
				}
			}
		})
	}
	if got := listRunNames(t, ns); len(got) != 0 {
		t.Errorf("runs %v after refused sends, want none", got)
	}
}
