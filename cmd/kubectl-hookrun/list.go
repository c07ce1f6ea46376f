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
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// templateRow is one line of `list` (and one item of its -o json|yaml).
type templateRow struct {
	Namespace string                     `json:"namespace"`
	Name      string                     `json:"name"`
	Provider  hooksv1alpha1.Provider     `json:"provider"`
	Ready     string                     `json:"ready"`
	LastRun   string                     `json:"lastRun,omitempty"`
	LastPhase hooksv1alpha1.HookRunPhase `json:"lastPhase,omitempty"`
	Active    int32                      `json:"active"`
	Queued    int32                      `json:"queued"`
	Path      string                     `json:"webhookPath,omitempty"`
}

func (a *app) listCommand() *cobra.Command {
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the templates with their last run, active and queued counts",
		Example: `  kubectl hookrun list -n web`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "json", "yaml"); err != nil {
				return err
			}
			k, err := a.clients()
			if err != nil {
				return err
			}
			var list hooksv1alpha1.HookTemplateList
			var opts []client.ListOption
			if !all {
				opts = append(opts, client.InNamespace(k.ns))
			}
			if err := k.c.List(cmd.Context(), &list, opts...); err != nil {
				return apiError(err, "the templates", "")
			}
			rows := make([]templateRow, 0, len(list.Items))
			for _, t := range list.Items {
				rows = append(rows, rowOf(&t))
			}
			slices.SortFunc(rows, func(x, y templateRow) int {
				return strings.Compare(x.Namespace+"/"+x.Name, y.Namespace+"/"+y.Name)
			})
			if output != "" {
				return printData(a.out, output, rows)
			}
			if len(rows) == 0 {
				where := "namespace " + k.ns
				if all {
					where = "any namespace"
				}
				_, err := fmt.Fprintf(a.errOut, "no templates in %s\n", where)
				return err
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 3, ' ', 0)
			if all {
				fmt.Fprint(tw, "NAMESPACE\t")
			}
			fmt.Fprintln(tw, "NAME\tPROVIDER\tREADY\tLAST RUN\tPHASE\tACTIVE\tQUEUED")
			for _, r := range rows {
				if all {
					fmt.Fprintf(tw, "%s\t", r.Namespace)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", r.Name, r.Provider, orDash(r.Ready), orDash(r.LastRun), orDash(string(r.LastPhase)), r.Active, r.Queued)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json|yaml")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the templates of every namespace")
	return cmd
}

func rowOf(t *hooksv1alpha1.HookTemplate) templateRow {
	r := templateRow{
		Namespace: t.Namespace, Name: t.Name, Provider: t.Spec.Source.Provider,
		Active: t.Status.ActiveRuns, Queued: t.Status.QueuedRuns, Path: t.Status.WebhookPath,
	}
	for _, c := range t.Status.Conditions {
		if c.Type == hooksv1alpha1.ConditionReady {
			r.Ready = string(c.Status)
		}
	}
	if lr := t.Status.LastRun; lr != nil {
		r.LastRun, r.LastPhase = lr.Name, lr.Phase
	}
	return r
}
