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
	cmd.Flags().StringVar(&o.url, "url", "", "base URL of the webhook listener, e.g. https://hooks.example.com (the template's webhookPath is appended)")
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
}

func (a *app) sendCommand() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send TEMPLATE --payload F [--event E] --url URL [--dry-run]",
		Short: "Sign a payload with TEMPLATE's secret as its provider would, and POST it",
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
	if tmpl.Status.WebhookPath == "" {
		return nil, fmt.Errorf("template %s has no status.webhookPath yet: is the hookrun manager running?", name)
	}
	secret, err := k.secretOf(ctx, tmpl)
	if err != nil {
		return nil, err
	}
	header, err := webhookserver.Sign(tmpl.Spec.Source.Provider, webhookserver.SignInput{
		Secret: secret, Body: body, Event: o.event, DeliveryID: "send-" + randomHex(16), Now: time.Now(),
	})
	if err != nil {
		return nil, fmt.Errorf("template %s: %v: kubectl hookrun can sign for github, gitlab, gitea, bitbucket and generic", name, err)
	}
	if o.dryRun {
		header.Set(webhookserver.HeaderDryRun, "true")
	}
	url := strings.TrimRight(o.url, "/") + tmpl.Status.WebhookPath
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
	return &answer{status: resp.StatusCode, reason: resp.Header.Get(webhookserver.HeaderReason), body: b}, nil
}

// secretOf reads the template's webhook secret. It is only ever used to
// sign: never printed.
func (k *clients) secretOf(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate) ([]byte, error) {
	ref := tmpl.Spec.Source.SecretRef
	key := ref.Key
	if key == "" {
		key = hooksv1alpha1.DefaultSecretKey
	}
	var s corev1.Secret
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: tmpl.Namespace, Name: ref.Name}, &s); err != nil {
		return nil, apiError(err, fmt.Sprintf("secret %q of template %s", ref.Name, tmpl.Name), "create it, or fix spec.source.secretRef")
	}
	v, ok := s.Data[key]
	if !ok || len(v) == 0 {
		return nil, fmt.Errorf("secret %q has no key %q: add it, or fix spec.source.secretRef.key of template %s", ref.Name, key, tmpl.Name)
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
	var run webhookserver.RunAnswer
	_ = json.Unmarshal(ans.body, &run)
	note := ""
	if run.Duplicate {
		note = " (duplicate delivery: the run already existed)"
	}
	_, err := fmt.Fprintf(a.out, "%d %s: run %s%s\n", ans.status, http.StatusText(ans.status), run.Run, note)
	return err
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
		row("template", name)
		row("would run", "no")
		field := "request"
		switch ans.status {
		case http.StatusUnauthorized:
			field = "signature"
		case http.StatusNotFound:
			field = "template"
		case http.StatusBadRequest:
			field = "payload"
		}
		row(field, "FAILED", fmt.Sprintf("%d: %s", ans.status, errorOf(ans.body)))
		return tw.Flush()
	}
	var dr webhookserver.DryRunAnswer
	if err := json.Unmarshal(ans.body, &dr); err != nil || !dr.DryRun {
		return fmt.Errorf("the webhook listener did not give a dry-run answer (%d): is --url a hookrun webhook listener?", ans.status)
	}
	verdict := "yes"
	switch {
	case !dr.WouldRun:
		verdict = "no: " + dr.Match.Reason
	case dr.Suspended:
		verdict = "recorded, not started: the template is suspended"
	}
	row("template", name)
	row("would run", verdict)
	row("run", dr.Run)
	row("signature", "ok")
	d := dr.Delivery
	for _, f := range []struct {
		name string
		m    webhookserver.FieldMatch
	}{
		{"events", dr.Match.Events}, {"repositories", dr.Match.Repositories}, {"refs", dr.Match.Refs},
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
