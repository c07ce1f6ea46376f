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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// Delivery ids and events of the runs the plugin makes.
const (
	// EventManual is the event of a run made by `trigger`.
	EventManual = "manual"
	// manualIDPrefix + random hex is a triggered run's delivery id.
	manualIDPrefix = "manual/"
	// rerunIDPrefix + "<run>/<n>" is the delivery id of RUN's n-th rerun.
	rerunIDPrefix = "rerun/"
	// maxRerunAttempts bounds the retries when two reruns race for a number.
	maxRerunAttempts = 20
)

// pollInterval is how often --wait and logs -f look at a run.
const pollInterval = time.Second

func (a *app) triggerCommand() *cobra.Command {
	var ref, sha, output string
	var params []string
	var wait bool
	cmd := &cobra.Command{
		Use:   "trigger TEMPLATE [--ref R] [--sha S] [--param K=V]... [--wait]",
		Short: "Create a run of TEMPLATE by hand (event manual, sender: you)",
		Example: `  kubectl hookrun trigger site --ref refs/heads/main --wait
  kubectl hookrun trigger site --ref refs/tags/v1.2.0 --param CHANNEL=stable -o name`,
		Args:              exactArgs("TEMPLATE"),
		ValidArgsFunction: a.completeTemplates,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "json", "yaml", "name"); err != nil {
				return err
			}
			p, err := parseParams(params)
			if err != nil {
				return err
			}
			k, err := a.clients()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			tmpl, err := k.template(ctx, args[0])
			if err != nil {
				return err
			}
			sender, err := k.whoAmI(ctx)
			if err != nil {
				return err
			}
			id := manualIDPrefix + randomHex(8)
			d := hooksv1alpha1.Delivery{
				ID: id, Provider: tmpl.Spec.Source.Provider, Event: EventManual,
				Ref: ref, SHA: sha, Sender: sender,
			}
			run, err := k.createRun(ctx, tmpl, d, p, nil)
			if err != nil {
				return err
			}
			if err := a.printCreated(run, output); err != nil {
				return err
			}
			if wait {
				return a.waitRun(ctx, k, run.Name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&ref, "ref", "", "full git ref of the run (HOOK_REF; HOOK_BRANCH or HOOK_TAG follow from it), e.g. refs/heads/main")
	cmd.Flags().StringVar(&sha, "sha", "", "commit of the run (HOOK_SHA)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "a param of the run as NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run to its end; exit 0 only if it Succeeded")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json|yaml: print the created HookRun; name: print only its name")
	return cmd
}

func (a *app) rerunCommand() *cobra.Command {
	var output string
	var wait bool
	cmd := &cobra.Command{
		Use:               "rerun RUN [--wait]",
		Short:             "Run RUN's delivery again as a new run (delivery id rerun/RUN/n)",
		Example:           `  kubectl hookrun rerun site-3f9c2a1b7e --wait`,
		Args:              exactArgs("RUN"),
		ValidArgsFunction: a.completeRuns,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "json", "yaml", "name"); err != nil {
				return err
			}
			k, err := a.clients()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			orig, err := k.run(ctx, args[0])
			if err != nil {
				return err
			}
			tmpl, err := k.template(ctx, orig.Spec.TemplateRef.Name)
			if err != nil {
				return err
			}
			run, err := k.rerun(ctx, tmpl, orig)
			if err != nil {
				return err
			}
			if err := a.printCreated(run, output); err != nil {
				return err
			}
			if wait {
				return a.waitRun(ctx, k, run.Name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the new run to its end; exit 0 only if it Succeeded")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json|yaml: print the created HookRun; name: print only its name")
	return cmd
}

func (a *app) cancelCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "cancel RUN",
		Short:             "Cancel RUN (sets spec.cancel: its Job is deleted and it ends Cancelled)",
		Example:           `  kubectl hookrun cancel site-3f9c2a1b7e`,
		Args:              exactArgs("RUN"),
		ValidArgsFunction: a.completeRuns,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.clients()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			run, err := k.run(ctx, args[0])
			if err != nil {
				return err
			}
			if run.Status.Phase.IsFinished() {
				_, err := fmt.Fprintf(a.out, "run %s already ended %s: nothing to cancel\n", run.Name, run.Status.Phase)
				return err
			}
			if run.Spec.Cancel {
				_, err := fmt.Fprintf(a.out, "run %s is already being cancelled\n", run.Name)
				return err
			}
			patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"cancel":true}}`))
			if err := k.c.Patch(ctx, run, patch); err != nil {
				return apiError(err, "run "+run.Name, "it may have been deleted")
			}
			_, err = fmt.Fprintf(a.out, "run %s cancelled\n", run.Name)
			return err
		},
	}
}

// whoAmI is the caller's user name, as the API server sees it.
func (k *clients) whoAmI(ctx context.Context) (string, error) {
	review, err := k.cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("cannot learn who you are from the API server (SelfSubjectReview: %v): check --context and --kubeconfig", err)
	}
	return review.Status.UserInfo.Username, nil
}

// createRun stores a run of tmpl for d, named from its delivery id as the
// webhook server names runs, owned by the template as its runs are.
func (k *clients) createRun(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, d hooksv1alpha1.Delivery, params map[string]string, labels map[string]string) (*hooksv1alpha1.HookRun, error) {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	d.ReceivedAt = &now
	run := &hooksv1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{
			Name:      delivery.RunName(tmpl.Name, d.ID),
			Namespace: tmpl.Namespace,
			Labels:    map[string]string{hooksv1alpha1.LabelTemplate: tmpl.Name},
		},
		Spec: hooksv1alpha1.HookRunSpec{
			TemplateRef: hooksv1alpha1.TemplateRef{Name: tmpl.Name},
			Delivery:    d,
			Params:      params,
		},
	}
	for key, v := range labels {
		run.Labels[key] = v
	}
	if err := controllerutil.SetControllerReference(tmpl, run, scheme); err != nil {
		return nil, fmt.Errorf("own run by template %s: %w", tmpl.Name, err)
	}
	if err := k.c.Create(ctx, run); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, &alreadyExists{name: run.Name}
		}
		if apierrors.IsForbidden(err) {
			return nil, fmt.Errorf("not allowed to create HookRuns in namespace %q: ask for RBAC create on hookruns.hooks.hookrun.dev", k.ns)
		}
		if apierrors.IsInvalid(err) {
			return nil, fmt.Errorf("the API server refused the run: %v", err)
		}
		return nil, fmt.Errorf("create run %s: %v (check that the cluster is reachable)", run.Name, err)
	}
	return run, nil
}

type alreadyExists struct{ name string }

func (e *alreadyExists) Error() string {
	return fmt.Sprintf("run %s already exists: try again", e.name)
}

// rerun creates the next rerun of orig: its delivery with id
// rerun/<orig>/<n>, n one more than the highest rerun of orig so far.
func (k *clients) rerun(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, orig *hooksv1alpha1.HookRun) (*hooksv1alpha1.HookRun, error) {
	var earlier hooksv1alpha1.HookRunList
	if err := k.c.List(ctx, &earlier, client.InNamespace(k.ns), client.MatchingLabels{hooksv1alpha1.LabelRerunOf: orig.Name}); err != nil {
		return nil, apiError(err, "the reruns of "+orig.Name, "")
	}
	n := 0
	for _, r := range earlier.Items {
		n = max(n, rerunNumber(orig.Name, r.Spec.Delivery.ID))
	}
	for range maxRerunAttempts {
		n++
		d := orig.Spec.Delivery
		d.ID = fmt.Sprintf("%s%s/%d", rerunIDPrefix, orig.Name, n)
		run, err := k.createRun(ctx, tmpl, d, orig.Spec.Params, map[string]string{hooksv1alpha1.LabelRerunOf: orig.Name})
		var exists *alreadyExists
		if errors.As(err, &exists) {
			continue // another rerun took n
		}
		return run, err
	}
	return nil, fmt.Errorf("could not number a rerun of %s after %d tries: try again", orig.Name, maxRerunAttempts)
}

// rerunNumber is n of a delivery id rerun/<run>/<n>, 0 for any other id.
func rerunNumber(run, id string) int {
	rest, ok := strings.CutPrefix(id, rerunIDPrefix+run+"/")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// parseParams reads --param NAME=VALUE flags.
func parseParams(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	params := make(map[string]string, len(flags))
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--param %q is not NAME=VALUE: write --param CHANNEL=stable", f)
		}
		if errs := validation.IsEnvVarName(name); len(errs) > 0 || strings.HasPrefix(name, "HOOK_") {
			return nil, fmt.Errorf("--param %s: not a usable variable name (letters, digits, _; not starting with HOOK_)", name)
		}
		params[name] = value
	}
	return params, nil
}

func (a *app) printCreated(run *hooksv1alpha1.HookRun, output string) error {
	switch output {
	case "":
		d := run.Spec.Delivery
		_, err := fmt.Fprintf(a.out, "run %s created (template %s, delivery %s, ref %s, sender %s)\n",
			run.Name, run.Spec.TemplateRef.Name, d.ID, orDash(d.Ref), orDash(d.Sender))
		return err
	case "name":
		_, err := fmt.Fprintln(a.out, run.Name)
		return err
	}
	return printData(a.out, output, withKind(run))
}

// waitRun follows a run until it ends: nil only for Succeeded.
func (a *app) waitRun(ctx context.Context, k *clients, name string) error {
	var last hooksv1alpha1.HookRunPhase
	for {
		run, err := k.run(ctx, name)
		if err != nil {
			return err
		}
		if p := run.Status.Phase; p != last && p != "" {
			fmt.Fprintf(a.errOut, "run %s: %s\n", name, p)
			last = p
		}
		if run.Status.Phase.IsFinished() {
			return runOutcome(run)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting for run %s (%s): kubectl hookrun logs -f %s follows it", name, orDash(string(last)), name)
		case <-time.After(pollInterval):
		}
	}
}

// runOutcome is nil for a run that Succeeded, else an error with its phase
// and reason.
func runOutcome(run *hooksv1alpha1.HookRun) error {
	st := run.Status
	if st.Phase == hooksv1alpha1.PhaseSucceeded {
		return nil
	}
	msg := fmt.Sprintf("run %s %s", run.Name, st.Phase)
	if st.Reason != "" {
		msg += ": " + st.Reason
	}
	if st.ExitCode != nil {
		msg += fmt.Sprintf(" (exit code %d)", *st.ExitCode)
	}
	if line := lastLine(st.Message); line != "" {
		msg += ": " + line
	}
	return fmt.Errorf("%s; kubectl hookrun logs %s shows its output", msg, run.Name)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// exactArgs wants one argument and says which when it is missing.
func exactArgs(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%s wants one %s argument: kubectl hookrun %s", cmd.Name(), name, cmd.Use)
		}
		return nil
	}
}
