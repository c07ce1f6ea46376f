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
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

// sendTimeout bounds one POST to the webhook listener.
const sendTimeout = 30 * time.Second

// sendOptions are the flags of send and why.
type sendOptions struct {
	payload string
	event   string
	url     string
	dryRun  bool
	output  string
}

func (o *sendOptions) addFlags(cmd *cobra.Command, withDryRun bool) {
	cmd.Flags().StringVar(&o.payload, "payload", "", "file with the JSON payload to send (- for stdin)")
	cmd.Flags().StringVar(&o.event, "event", "", "the provider's event name (default: its push event)")
	cmd.Flags().StringVar(&o.url, "url", "", "base URL of the webhook listener, e.g. https://hooks.example.com (the webhookPath of the template, or of its HookSource, is appended)")
	if withDryRun {
		cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "ask what the delivery would do; nothing is created")
		cmd.Flags().StringVarP(&o.output, "output", "o", "", "json|yaml: print the server's answer as data")
	}
	_ = cmd.MarkFlagRequired("payload")
	_ = cmd.MarkFlagRequired("url")
}

// answer is the webhook listener's reply.
type answer struct {
	status int
	reason string // X-Hookrun-Reason of a 204
	body   []byte
	// source is the HookSource the delivery went through (the template's
	// spec.source.sourceRef), empty for the template's own URL: its answers
	// have the source's shape ({"runs": [...]}, {"templates": [...]}).
	source string
}

// target is where a template's deliveries go and how they are signed: its
// own provider, secret and /hooks/ path, or those of its HookSource.
type target struct {
	provider hooksv1alpha1.Provider
	secret   []byte
	path     string
	// source is the HookSource's name, empty for the template's own URL.
	source string
	// what names the object signing is for, in errors: "template site",
	// "HookSource acme".
	what string
}

func (a *app) sendCommand() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send TEMPLATE --payload F [--event E] --url URL [--dry-run]",
		Short: "Sign a payload with TEMPLATE's secret (or its HookSource's) as its provider would, and POST it",
		Example: `  kubectl hookrun send site --payload push.json --url https://hooks.example.com
  kubectl hookrun send site --payload push.json --url http://127.0.0.1:8080 --dry-run -o yaml`,
		Args:              exactArgs("TEMPLATE"),
		ValidArgsFunction: a.completeTemplates,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.output, "json", "yaml"); err != nil {
				return err
			}
			ans, err := a.send(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			return a.printAnswer(ans, o)
		},
	}
	o.addFlags(cmd, true)
	return cmd
}

// send signs the payload with the template's secret and POSTs it.
func (a *app) send(ctx context.Context, name string, o sendOptions) (*answer, error) {
	body, err := readPayload(o.payload)
	if err != nil {
		return nil, err
	}
	k, err := a.clients()
	if err != nil {
		return nil, err
	}
	tmpl, err := k.template(ctx, name)
	if err != nil {
		return nil, err
	}
	if !webhookserver.TakesWebhooks(tmpl) {
		return nil, fmt.Errorf("template %s takes no webhooks (it has no spec.source.secretRef; its runs come from spec.poll and spec.schedule): start a run with kubectl hookrun trigger", name)
	}
	to, err := k.targetOf(ctx, tmpl)
	if err != nil {
		return nil, err
	}
	header, err := webhookserver.Sign(to.provider, webhookserver.SignInput{
		Secret: to.secret, Body: body, Event: o.event, DeliveryID: "send-" + randomHex(16), Now: time.Now(),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %v: kubectl hookrun can sign for github, gitlab, gitea, bitbucket and generic", to.what, err)
	}
	if o.dryRun {
		header.Set(webhookserver.HeaderDryRun, "true")
	}
	url := strings.TrimRight(o.url, "/") + to.path
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("--url %q: %v: give the listener's base URL, e.g. https://hooks.example.com", o.url, err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %v: check --url (the webhook listener's base URL)", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %v", url, err)
	}
	return &answer{status: resp.StatusCode, reason: resp.Header.Get(webhookserver.HeaderReason), body: b, source: to.source}, nil
}

// targetOf reads where the template's deliveries go: with
// spec.source.sourceRef, its HookSource's path, provider and secret (the
// webhook server verifies a source's deliveries with the source's secret
// only); else the template's own.
func (k *clients) targetOf(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate) (*target, error) {
	ref := tmpl.Spec.Source.SourceRef
	if ref == nil {
		what := "template " + tmpl.Name
		if tmpl.Status.WebhookPath == "" {
			return nil, fmt.Errorf("%s has no status.webhookPath yet: is the hookrun manager running?", what)
		}
		secret, err := k.secretKey(ctx, tmpl.Namespace, tmpl.Spec.Source.SecretRef, what, "spec.source.secretRef")
		if err != nil {
			return nil, err
		}
		return &target{provider: tmpl.Spec.Source.Provider, secret: secret, path: tmpl.Status.WebhookPath, what: what}, nil
	}
	src := &hooksv1alpha1.HookSource{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: tmpl.Namespace, Name: ref.Name}, src); err != nil {
		return nil, apiError(err, fmt.Sprintf("HookSource %q of template %s", ref.Name, tmpl.Name), "create it, or fix spec.source.sourceRef.name")
	}
	what := "HookSource " + src.Name
	if src.Status.WebhookPath == "" {
		return nil, fmt.Errorf("%s (the source of template %s) has no status.webhookPath yet: is the hookrun manager running?", what, tmpl.Name)
	}
	secret, err := k.secretKey(ctx, src.Namespace, src.Spec.SecretRef, what, "spec.secretRef")
	if err != nil {
		return nil, err
	}
	return &target{provider: src.Spec.Provider, secret: secret, path: src.Status.WebhookPath, source: src.Name, what: what}, nil
}

// secretKey reads a webhook secret: the key of ref in namespace ns, for
// what (its spec field field). It is only ever used to sign: never printed.
func (k *clients) secretKey(ctx context.Context, ns string, ref hooksv1alpha1.SecretKeyRef, what, field string) ([]byte, error) {
	key := ref.Key
	if key == "" {
		key = hooksv1alpha1.DefaultSecretKey
	}
	var s corev1.Secret
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, &s); err != nil {
		return nil, apiError(err, fmt.Sprintf("secret %q of %s", ref.Name, what), "create it, or fix "+field)
	}
	v, ok := s.Data[key]
	if !ok || len(v) == 0 {
		return nil, fmt.Errorf("secret %q has no key %q: add it, or fix %s.key of %s", ref.Name, key, field, what)
	}
	return v, nil
}

func readPayload(path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read --payload: %v: give a readable JSON file (or - for stdin)", err)
	}
	return b, nil
}

// errorOf is the {"error": …} of an error answer, else its body.
func errorOf(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(body))
}

func (a *app) printAnswer(ans *answer, o sendOptions) error {
	if ans.status >= 300 {
		return fmt.Errorf("the webhook listener answered %d %s: %s", ans.status, http.StatusText(ans.status), errorOf(ans.body))
	}
	if o.output != "" {
		var data any
		if err := json.Unmarshal(ans.body, &data); err != nil {
			data = map[string]any{"status": ans.status, "reason": ans.reason}
		}
		return printData(a.out, o.output, data)
	}
	switch {
	case ans.status == http.StatusNoContent:
		_, err := fmt.Fprintf(a.out, "204 No Content: ignored: %s\n", ans.reason)
		return err
	case o.dryRun:
		var buf bytes.Buffer
		if json.Indent(&buf, ans.body, "", "  ") != nil {
			buf.Reset()
			buf.Write(ans.body)
		}
		_, err := fmt.Fprintf(a.out, "%d %s\n%s\n", ans.status, http.StatusText(ans.status), strings.TrimSpace(buf.String()))
		return err
	}
	_, err := fmt.Fprintln(a.out, createdLine(ans))
	return err
}

// createdLine is the line send prints for a 202 or 200: the run, or every
// run of a HookSource's matching templates.
func createdLine(ans *answer) string {
	status := fmt.Sprintf("%d %s", ans.status, http.StatusText(ans.status))
	if ans.source == "" {
		var run webhookserver.RunAnswer
		_ = json.Unmarshal(ans.body, &run)
		note := ""
		if run.Duplicate {
			note = " (duplicate delivery: the run already existed)"
		}
		return fmt.Sprintf("%s: run %s%s", status, run.Run, note)
	}
	var runs webhookserver.SourceRunsAnswer
	_ = json.Unmarshal(ans.body, &runs)
	noun := "runs"
	if len(runs.Runs) == 1 {
		noun = "run"
	}
	note := ""
	if runs.Duplicate {
		note = " (duplicate delivery: the runs already existed)"
	}
	return fmt.Sprintf("%s: %s %s through HookSource %s%s", status, noun, strings.Join(runs.Runs, ", "), ans.source, note)
}

func (a *app) whyCommand() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:               "why TEMPLATE --payload F --url URL",
		Short:             "Explain what the payload would do: send --dry-run, line by line",
		Example:           `  kubectl hookrun why site --payload push.json --url http://127.0.0.1:8080`,
		Args:              exactArgs("TEMPLATE"),
		ValidArgsFunction: a.completeTemplates,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dryRun = true
			ans, err := a.send(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if ans.source != "" {
				return a.explainSource(args[0], ans)
			}
			return a.explain(args[0], ans)
		},
	}
	o.addFlags(cmd, false)
	return cmd
}

// explain prints a dry-run answer as aligned text: the verdict, each
// match field with its value, patterns and verdict, then the env.
func (a *app) explain(name string, ans *answer) error {
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	if ans.status != http.StatusOK {
		refused(row, name, ans)
		return tw.Flush()
	}
	var dr webhookserver.DryRunAnswer
	if err := json.Unmarshal(ans.body, &dr); err != nil || !dr.DryRun {
		return fmt.Errorf("the webhook listener did not give a dry-run answer (%d): is --url a hookrun webhook listener?", ans.status)
	}
	row("template", name)
	row("would run", verdict(dr.WouldRun, dr.Suspended, dr.Match))
	row("run", dr.Run)
	row("signature", "ok")
	d := dr.Delivery
	matchRows(row, dr.Match)
	row("delivery", d.ID)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "env:")
	tw = tabwriter.NewWriter(a.out, 0, 4, 1, ' ', 0)
	for _, e := range dr.Env {
		value := e.Value
		if e.ValueFrom != nil {
			value = "(from a Secret, ConfigMap or field)"
		}
		fmt.Fprintf(tw, "  %s\t= %s\n", e.Name, value)
	}
	return tw.Flush()
}

// refused explains a dry run the listener refused (not 200): which step
// failed, with the listener's reason.
func refused(row func(cells ...string), name string, ans *answer) {
	row("template", name)
	if ans.source != "" {
		row("source", ans.source)
	}
	row("would run", "no")
	field := "request"
	switch ans.status {
	case http.StatusUnauthorized:
		field = "signature"
	case http.StatusNotFound:
		field = "template"
		if ans.source != "" {
			field = "source"
		}
	case http.StatusBadRequest:
		field = "payload"
	}
	row(field, "FAILED", fmt.Sprintf("%d: %s", ans.status, errorOf(ans.body)))
}

// verdict is the "would run" line of a template's dry run.
func verdict(wouldRun, suspended bool, m webhookserver.MatchResult) string {
	switch {
	case !wouldRun:
		return "no: " + m.Reason
	case suspended:
		return "recorded, not started: the template is suspended"
	}
	return "yes"
}

// matchRows are the events, repositories and refs lines: the delivery's
// value, the verdict and the template's patterns.
func matchRows(row func(cells ...string), m webhookserver.MatchResult) {
	for _, f := range []struct {
		name string
		m    webhookserver.FieldMatch
	}{
		{"events", m.Events}, {"repositories", m.Repositories}, {"refs", m.Refs},
	} {
		value := f.m.Value
		if len(f.m.Names) > 0 {
			value += " (answers to " + strings.Join(f.m.Names, ", ") + ")"
		}
		patterns := "any"
		if len(f.m.Patterns) > 0 {
			patterns = strings.Join(f.m.Patterns, ", ")
		}
		ok := "ok"
		if !f.m.Matched {
			ok = "FAILED"
		}
		row(f.name, ok, orDash(value), "patterns: "+patterns)
	}
}

// explainSource prints a HookSource's dry-run answer for the template
// name: its verdict and match lines as explain prints them, then one line
// on the source's other templates. A source's answer has no delivery or
// env (DESIGN.md: template, wouldRun, match, run per template).
func (a *app) explainSource(name string, ans *answer) error {
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	if ans.status != http.StatusOK {
		refused(row, name, ans)
		return tw.Flush()
	}
	var dr webhookserver.SourceDryRunAnswer
	if err := json.Unmarshal(ans.body, &dr); err != nil || !dr.DryRun {
		return fmt.Errorf("the webhook listener did not give a dry-run answer (%d): is --url a hookrun webhook listener?", ans.status)
	}
	i := slices.IndexFunc(dr.Templates, func(t webhookserver.SourceDryRunTemplate) bool { return t.Template == name })
	if i < 0 {
		return fmt.Errorf("HookSource %s's answer has no template %s (it has %s): the webhook server's cache may not have the template yet; try again",
			ans.source, name, orDash(strings.Join(templateNames(dr.Templates), ", ")))
	}
	t := dr.Templates[i]
	row("template", name)
	row("source", fmt.Sprintf("%s (%d templates)", ans.source, len(dr.Templates)))
	row("would run", verdict(t.WouldRun, t.Suspended, t.Match))
	row("run", orDash(t.Run))
	row("signature", "ok")
	matchRows(row, t.Match)
	row("other templates", othersSummary(dr.Templates, name))
	return tw.Flush()
}

func templateNames(ts []webhookserver.SourceDryRunTemplate) []string {
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, t.Template)
	}
	return names
}

// othersSummary is one line on a source's templates other than name: who
// would run and who would not.
func othersSummary(ts []webhookserver.SourceDryRunTemplate, name string) string {
	var run, suspended, not []string
	for _, t := range ts {
		switch {
		case t.Template == name:
		case !t.WouldRun:
			not = append(not, t.Template)
		case t.Suspended:
			suspended = append(suspended, t.Template)
		default:
			run = append(run, t.Template)
		}
	}
	var parts []string
	if len(run) > 0 {
		parts = append(parts, "would run: "+strings.Join(run, ", "))
	}
	if len(suspended) > 0 {
		parts = append(parts, "recorded, suspended: "+strings.Join(suspended, ", "))
	}
	if len(not) > 0 {
		parts = append(parts, "would not run: "+strings.Join(not, ", "))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
