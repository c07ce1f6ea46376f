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
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

const testSecret = "plugin-test-secret-8b1f"

// TestTrigger: trigger makes a run named from its manual/<random> delivery
// id, event manual, sent by the caller, owned by the template, with the
// ref's tag as HOOK_TAG and the params given.
func TestTrigger(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	tmpl := newTemplate(t, ns, "site", hooksv1alpha1.ProviderGitHub, testSecret, hooksv1alpha1.MatchSpec{})

	res := plugin(t, ns, "trigger", "site", "--ref", "refs/tags/v1.2.0", "--sha", "0123456789abcdef", "--param", "CHANNEL=stable", "-o", "name")
	if res.code != 0 {
		t.Fatalf("trigger: exit %d: %s", res.code, res.stderr)
	}
	run := getRun(t, ns, strings.TrimSpace(res.stdout))
	d := run.Spec.Delivery
	if !strings.HasPrefix(d.ID, manualIDPrefix) || len(d.ID) <= len(manualIDPrefix) {
		t.Errorf("delivery id %q, want manual/<random>", d.ID)
	}
	if want := delivery.RunName("site", d.ID); run.Name != want {
		t.Errorf("run name %s, want %s (the delivery's run name)", run.Name, want)
	}
	if d.Sender != testUser || d.Event != EventManual || d.Ref != "refs/tags/v1.2.0" || d.SHA != "0123456789abcdef" || d.Provider != hooksv1alpha1.ProviderGitHub {
		t.Errorf("delivery %+v: want sender %s, event manual, the ref and sha given", d, testUser)
	}
	if diff := cmp.Diff(map[string]string{"CHANNEL": "stable"}, run.Spec.Params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	if run.Labels[hooksv1alpha1.LabelTemplate] != "site" || !metav1.IsControlledBy(run, tmpl) {
		t.Errorf("labels %v, owners %v: want the template label and the template as controller", run.Labels, run.OwnerReferences)
	}
	vars := map[string]string{}
	for _, e := range delivery.Vars(run) {
		vars[e.Name] = e.Value
	}
	if vars[hooksv1alpha1.EnvTag] != "v1.2.0" || vars[hooksv1alpha1.EnvBranch] != "" || vars[hooksv1alpha1.EnvSender] != testUser {
		t.Errorf("HOOK_TAG %q HOOK_BRANCH %q HOOK_SENDER %q, want v1.2.0, empty, %s", vars[hooksv1alpha1.EnvTag], vars[hooksv1alpha1.EnvBranch], vars[hooksv1alpha1.EnvSender], testUser)
	}

	// A second trigger is a second run.
	again := plugin(t, ns, "trigger", "site", "-o", "name")
	if again.code != 0 || strings.TrimSpace(again.stdout) == run.Name {
		t.Errorf("second trigger: exit %d, run %q (first %s): want a new run", again.code, again.stdout, run.Name)
	}
}

// TestErrors: failures are one line on stderr that says what to do, with a
// non-zero exit.
func TestErrors(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown template", args: []string{"trigger", "nope"}, want: "kubectl hookrun list"},
		{name: "unknown run", args: []string{"rerun", "nope"}, want: "kubectl get hookruns"},
		{name: "bad param", args: []string{"trigger", "site", "--param", "novalue"}, want: "NAME=VALUE"},
		{name: "missing argument", args: []string{"cancel"}, want: "kubectl hookrun cancel RUN"},
		{name: "bad output", args: []string{"list", "-o", "wide"}, want: "use -o json or -o yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := plugin(t, ns, tc.args...)
			if res.code == 0 {
				t.Fatalf("exit 0, want an error")
			}
			if lines := strings.Count(strings.TrimSpace(res.stderr), "\n") + 1; lines != 1 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr %q: want one line containing %q", res.stderr, tc.want)
			}
		})
	}
}

// TestRerun: two reruns are rerun/<run>/1 and /2, labelled rerun-of, with
// the original delivery otherwise.
func TestRerun(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	newTemplate(t, ns, "site", hooksv1alpha1.ProviderGitHub, testSecret, hooksv1alpha1.MatchSpec{})
	received := metav1.NewTime(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	orig := &hooksv1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{Name: delivery.RunName("site", "gh-42"), Namespace: ns, Labels: map[string]string{hooksv1alpha1.LabelTemplate: "site"}},
		Spec: hooksv1alpha1.HookRunSpec{
			TemplateRef: hooksv1alpha1.TemplateRef{Name: "site"},
			Delivery: hooksv1alpha1.Delivery{ID: "gh-42", Provider: hooksv1alpha1.ProviderGitHub, Event: "push", Repository: "acme/site",
				Ref: "refs/heads/main", SHA: "abc123", Sender: "octocat", ReceivedAt: &received},
			Params: map[string]string{"PUSHER": "octocat"},
		},
	}
	if err := suite.client.Create(context.Background(), orig); err != nil {
		t.Fatal(err)
	}
	setPhase(t, orig, hooksv1alpha1.PhaseFailed, "BackoffLimitExceeded")

	for n := 1; n <= 2; n++ {
		res := plugin(t, ns, "rerun", orig.Name, "-o", "name")
		if res.code != 0 {
			t.Fatalf("rerun %d: exit %d: %s", n, res.code, res.stderr)
		}
		wantID := fmt.Sprintf("rerun/%s/%d", orig.Name, n)
		name := strings.TrimSpace(res.stdout)
		if want := delivery.RunName("site", wantID); name != want {
			t.Fatalf("rerun %d is %s, want %s (run name of %s)", n, name, want, wantID)
		}
		run := getRun(t, ns, name)
		if run.Labels[hooksv1alpha1.LabelRerunOf] != orig.Name {
			t.Errorf("rerun %d labels %v: want %s=%s", n, run.Labels, hooksv1alpha1.LabelRerunOf, orig.Name)
		}
		want := orig.Spec.Delivery
		want.ID, want.ReceivedAt = wantID, run.Spec.Delivery.ReceivedAt
		if diff := cmp.Diff(want, run.Spec.Delivery); diff != "" {
			t.Errorf("rerun %d delivery (-want +got):\n%s", n, diff)
		}
		if diff := cmp.Diff(orig.Spec.Params, run.Spec.Params); diff != "" {
			t.Errorf("rerun %d params (-want +got):\n%s", n, diff)
		}
	}
}

// TestCancel: cancel sets spec.cancel on a live run and leaves a finished
// one alone.
func TestCancel(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	newTemplate(t, ns, "site", hooksv1alpha1.ProviderGitHub, testSecret, hooksv1alpha1.MatchSpec{})
	live := triggered(t, ns)
	setPhase(t, getRun(t, ns, live), hooksv1alpha1.PhaseRunning, "")
	if res := plugin(t, ns, "cancel", live); res.code != 0 || !strings.Contains(res.stdout, "cancelled") {
		t.Fatalf("cancel: exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	if !getRun(t, ns, live).Spec.Cancel {
		t.Errorf("run %s: spec.cancel not set", live)
	}

	done := triggered(t, ns)
	setPhase(t, getRun(t, ns, done), hooksv1alpha1.PhaseSucceeded, "Completed")
	if res := plugin(t, ns, "cancel", done); res.code != 0 || !strings.Contains(res.stdout, "nothing to cancel") {
		t.Fatalf("cancel of a finished run: exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	if getRun(t, ns, done).Spec.Cancel {
		t.Errorf("finished run %s: spec.cancel set", done)
	}
}

func triggered(t *testing.T, ns string) string {
	t.Helper()
	res := plugin(t, ns, "trigger", "site", "-o", "name")
	if res.code != 0 {
		t.Fatalf("trigger: exit %d: %s", res.code, res.stderr)
	}
	return strings.TrimSpace(res.stdout)
}

// TestWait: trigger --wait and rerun --wait follow the run and exit 0 only
// when it Succeeded; otherwise non-zero with the phase and reason.
func TestWait(t *testing.T) {
	requireEnvtest(t)
	tests := []struct {
		name     string
		rerun    bool
		phase    hooksv1alpha1.HookRunPhase
		reason   string
		wantCode int
		wantErr  string
	}{
		{name: "trigger succeeded", phase: hooksv1alpha1.PhaseSucceeded, reason: "Completed", wantCode: 0},
		{name: "trigger failed", phase: hooksv1alpha1.PhaseFailed, reason: "BackoffLimitExceeded", wantCode: 1, wantErr: "Failed: BackoffLimitExceeded"},
		{name: "trigger cancelled", phase: hooksv1alpha1.PhaseCancelled, reason: hooksv1alpha1.ReasonCancelledByUser, wantCode: 1, wantErr: "Cancelled: CancelledByUser"},
		{name: "rerun succeeded", rerun: true, phase: hooksv1alpha1.PhaseSucceeded, reason: "Completed", wantCode: 0},
		{name: "rerun failed", rerun: true, phase: hooksv1alpha1.PhaseFailed, reason: "DeadlineExceeded", wantCode: 1, wantErr: "Failed: DeadlineExceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace(t)
			newTemplate(t, ns, "site", hooksv1alpha1.ProviderGitHub, testSecret, hooksv1alpha1.MatchSpec{})
			args := []string{"trigger", "site", "--wait"}
			known := map[string]bool{}
			if tc.rerun {
				first := triggered(t, ns)
				known[first] = true
				args = []string{"rerun", first, "--wait"}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := pluginCommand(ctx, ns, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()

			// The run the command made: the one run not known before.
			var run *hooksv1alpha1.HookRun
			eventually(t, 30*time.Second, func() error {
				var list hooksv1alpha1.HookRunList
				if err := suite.client.List(ctx, &list, client.InNamespace(ns)); err != nil {
					return err
				}
				for i := range list.Items {
					if !known[list.Items[i].Name] {
						run = &list.Items[i]
						return nil
					}
				}
				return fmt.Errorf("no new run yet")
			})
			setPhase(t, run, hooksv1alpha1.PhaseRunning, "")
			select {
			case err := <-exited:
				t.Fatalf("exited (%v) while the run was Running: %s", err, stderr.String())
			default:
			}
			setPhase(t, run, tc.phase, tc.reason)
			var err error
			select {
			case err = <-exited:
			case <-ctx.Done():
				t.Fatalf("did not exit after the run ended %s: %s", tc.phase, stderr.String())
			}
			if code := exitCode(t, err); code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q: want %q", stderr.String(), tc.wantErr)
			}
		})
	}
}

// TestList: one row per template with its last run, active and queued
// counts, as text and as JSON.
func TestList(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	tmpl := newTemplate(t, ns, "site", hooksv1alpha1.ProviderGitea, testSecret, hooksv1alpha1.MatchSpec{})
	newTemplate(t, ns, "docs", hooksv1alpha1.ProviderGitLab, testSecret, hooksv1alpha1.MatchSpec{})
	orig := tmpl.DeepCopy()
	tmpl.Status.LastRun = &hooksv1alpha1.LastRun{Name: "site-0123456789", Phase: hooksv1alpha1.PhaseRunning}
	tmpl.Status.ActiveRuns, tmpl.Status.QueuedRuns = 1, 2
	if err := suite.client.Status().Patch(context.Background(), tmpl, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}

	res := plugin(t, ns, "list")
	if res.code != 0 {
		t.Fatalf("list: exit %d: %s", res.code, res.stderr)
	}
	t.Logf("list:\n%s", res.stdout)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("list printed %q: want a header and two rows", res.stdout)
	}
	if diff := cmp.Diff([]string{"NAME", "PROVIDER", "READY", "LAST", "RUN", "PHASE", "ACTIVE", "QUEUED"}, strings.Fields(lines[0])); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"site", "gitea", "-", "site-0123456789", "Running", "1", "2"}, strings.Fields(lines[2])); diff != "" {
		t.Errorf("site row (-want +got):\n%s", diff)
	}

	res = plugin(t, ns, "list", "-o", "json")
	var rows []templateRow
	if err := json.Unmarshal([]byte(res.stdout), &rows); err != nil {
		t.Fatalf("list -o json: %v: %s", err, res.stdout)
	}
	if len(rows) != 2 || rows[1].Name != "site" || rows[1].LastRun != "site-0123456789" || rows[1].Active != 1 || rows[1].Queued != 2 {
		t.Errorf("list -o json: %+v", rows)
	}
}

// payloads are a push to refs/heads/main of acme/site in each provider's
// own shape.
var payloads = map[hooksv1alpha1.Provider]string{
	hooksv1alpha1.ProviderGitHub:    `{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567","repository":{"full_name":"acme/site"}}`,
	hooksv1alpha1.ProviderGitea:     `{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567","repository":{"full_name":"acme/site"}}`,
	hooksv1alpha1.ProviderGitLab:    `{"object_kind":"push","ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567","project":{"path_with_namespace":"acme/site"}}`,
	hooksv1alpha1.ProviderBitbucket: `{"push":{"changes":[{"new":{"type":"branch","name":"main","target":{"hash":"0123456789abcdef0123456789abcdef01234567"}}}]},"repository":{"full_name":"acme/site"}}`,
	hooksv1alpha1.ProviderGeneric:   `{"ref":"refs/heads/main","sha":"0123456789abcdef0123456789abcdef01234567","repository":"acme/site"}`,
}

func writePayload(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payload.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSend: send signs as every provider does, the real webhook server
// accepts it (202, run stored), and the secret is never printed. A dry
// run creates nothing and says it would run.
func TestSend(t *testing.T) {
	requireEnvtest(t)
	for _, provider := range slices.Sorted(func(yield func(hooksv1alpha1.Provider) bool) {
		for p := range payloads {
			if !yield(p) {
				return
			}
		}
	}) {
		t.Run(string(provider), func(t *testing.T) {
			ns := newNamespace(t)
			newTemplate(t, ns, "site", provider, testSecret, hooksv1alpha1.MatchSpec{Refs: []string{"refs/heads/main"}, Repositories: []string{"acme/site"}})
			payload := writePayload(t, payloads[provider])

			dry := plugin(t, ns, "send", "site", "--payload", payload, "--url", suite.hooksURL, "--dry-run", "-o", "json")
			if dry.code != 0 {
				t.Fatalf("send --dry-run: exit %d: %s", dry.code, dry.stderr)
			}
			var answer struct {
				DryRun, WouldRun bool
			}
			if err := json.Unmarshal([]byte(dry.stdout), &answer); err != nil || !answer.DryRun || !answer.WouldRun {
				t.Errorf("send --dry-run answered %s (%v): want dryRun and wouldRun", dry.stdout, err)
			}
			var runs hooksv1alpha1.HookRunList
			if err := suite.client.List(context.Background(), &runs, client.InNamespace(ns)); err != nil || len(runs.Items) != 0 {
				t.Fatalf("after a dry run: %d runs (%v), want none", len(runs.Items), err)
			}

			res := plugin(t, ns, "send", "site", "--payload", payload, "--url", suite.hooksURL)
			if res.code != 0 || !strings.HasPrefix(res.stdout, "202 Accepted: run ") {
				t.Fatalf("send: exit %d: %s %s", res.code, res.stdout, res.stderr)
			}
			run := getRun(t, ns, strings.TrimSpace(strings.TrimPrefix(res.stdout, "202 Accepted: run ")))
			if d := run.Spec.Delivery; d.Provider != provider || d.Ref != "refs/heads/main" || d.Repository != "acme/site" {
				t.Errorf("stored delivery %+v: want %s, refs/heads/main, acme/site", d, provider)
			}
			for _, out := range []string{dry.stdout, dry.stderr, res.stdout, res.stderr} {
				if strings.Contains(out, testSecret) {
					t.Errorf("the secret was printed: %q", out)
				}
			}
		})
	}
}

// TestSendRefused: an answer other than 2xx is a one-line error with the
// server's reason.
func TestSendRefused(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	newTemplate(t, ns, "site", hooksv1alpha1.ProviderGitHub, testSecret, hooksv1alpha1.MatchSpec{})
	res := plugin(t, ns, "send", "site", "--payload", writePayload(t, "{not json"), "--url", suite.hooksURL)
	if res.code == 0 || !strings.Contains(res.stderr, "answered 400") {
		t.Errorf("send of malformed JSON: exit %d, stderr %q: want the 400 and its reason", res.code, res.stderr)
	}
}

// TestSendPollOnly: a template that takes no webhooks (no secretRef, it
// polls) is refused before anything is sent, pointing at trigger.
func TestSendPollOnly(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	tmpl := &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "polled", Namespace: ns},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub},
			Poll:   &hooksv1alpha1.PollSpec{URL: "https://github.com/acme/site.git", Interval: metav1.Duration{Duration: time.Minute}},
			Run:    hooksv1alpha1.RunSpec{Image: "alpine:3", Shell: "echo deploy"},
		},
	}
	if err := suite.client.Create(context.Background(), tmpl); err != nil {
		t.Fatalf("create template: %v", err)
	}
	res := plugin(t, ns, "send", "polled", "--payload", writePayload(t, "{}"), "--url", suite.hooksURL)
	if res.code == 0 || !strings.Contains(res.stderr, "takes no webhooks") || !strings.Contains(res.stderr, "kubectl hookrun trigger") {
		t.Errorf("send to a poll-only template: exit %d, stderr %q: want a refusal pointing at trigger", res.code, res.stderr)
	}
}

// TestWhy: why names the field that failed and prints the env.
func TestWhy(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	newTemplate(t, ns, "site", hooksv1alpha1.ProviderGeneric, testSecret, hooksv1alpha1.MatchSpec{Refs: []string{"refs/heads/main"}})
	payload := writePayload(t, `{"ref":"refs/heads/dev","repository":"acme/site","sender":"bob"}`)
	res := plugin(t, ns, "why", "site", "--payload", payload, "--url", suite.hooksURL)
	if res.code != 0 {
		t.Fatalf("why: exit %d: %s", res.code, res.stderr)
	}
	t.Logf("why:\n%s", res.stdout)
	fields := map[string][]string{}
	for _, line := range strings.Split(res.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			fields[f[0]] = f[1:]
		}
	}
	if got := fields["refs"]; len(got) < 2 || got[0] != "FAILED" || got[1] != "refs/heads/dev" {
		t.Errorf("refs line %q: want FAILED refs/heads/dev\n%s", got, res.stdout)
	}
	for _, ok := range []string{"events", "repositories", "signature"} {
		if got := fields[ok]; len(got) == 0 || got[0] != "ok" {
			t.Errorf("%s line %q: want ok\n%s", ok, got, res.stdout)
		}
	}
	if got := fields["would"]; len(got) < 2 || got[1] != "no:" {
		t.Errorf("would run line %q: want no\n%s", got, res.stdout)
	}
	if got := fields["HOOK_BRANCH"]; len(got) != 2 || got[1] != "dev" {
		t.Errorf("env HOOK_BRANCH %q: want dev\n%s", got, res.stdout)
	}
	var runs hooksv1alpha1.HookRunList
	if err := suite.client.List(context.Background(), &runs, client.InNamespace(ns)); err != nil || len(runs.Items) != 0 {
		t.Errorf("why created %d runs (%v), want none", len(runs.Items), err)
	}

}

// TestCompletion: shell completion offers the namespace's template and run
// names, and the completion scripts are generated.
func TestCompletion(t *testing.T) {
	requireEnvtest(t)
	ns := newNamespace(t)
	newTemplate(t, ns, "site", hooksv1alpha1.ProviderGitHub, testSecret, hooksv1alpha1.MatchSpec{})
	newTemplate(t, ns, "docs", hooksv1alpha1.ProviderGitHub, testSecret, hooksv1alpha1.MatchSpec{})
	run := triggered(t, ns)
	tests := []struct {
		args []string
		want []string
	}{
		{args: []string{"__complete", "trigger", ""}, want: []string{"docs", "site"}},
		{args: []string{"__complete", "why", "s"}, want: []string{"site"}},
		{args: []string{"__complete", "logs", ""}, want: []string{run}},
		{args: []string{"__complete", "rerun", run[:4]}, want: []string{run}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			res := plugin(t, ns, tc.args...)
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
				if line != "" && !strings.HasPrefix(line, ":") {
					got = append(got, line)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("completions (-want +got):\n%s\nstderr: %s", diff, res.stderr)
			}
		})
	}
	for _, shell := range []string{"bash", "zsh"} {
		res := plugin(t, ns, "completion", shell)
		if res.code != 0 || !strings.Contains(res.stdout, "__complete") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, res.code, len(res.stdout))
		}
	}
}
