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
	"fmt"
	"slices"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

// SetupIndexes registers the field indexes the reconcilers look things up by.
func SetupIndexes(mgr ctrl.Manager) error {
	indexer := mgr.GetFieldIndexer()
	ctx := context.Background()
	if err := indexer.IndexField(ctx, &hooksv1alpha1.HookRun{}, hooksv1alpha1.IndexRunTemplate, func(obj client.Object) []string {
		return []string{obj.(*hooksv1alpha1.HookRun).Spec.TemplateRef.Name}
	}); err != nil {
		return fmt.Errorf("index HookRuns by template: %w", err)
	}
	if err := indexer.IndexField(ctx, &hooksv1alpha1.HookTemplate{}, hooksv1alpha1.IndexTemplateSecret, func(obj client.Object) []string {
		return secretsOfTemplate(obj.(*hooksv1alpha1.HookTemplate))
	}); err != nil {
		return fmt.Errorf("index HookTemplates by secret: %w", err)
	}
	if err := indexer.IndexField(ctx, &hooksv1alpha1.HookSource{}, hooksv1alpha1.IndexSourceSecret, func(obj client.Object) []string {
		return []string{obj.(*hooksv1alpha1.HookSource).Spec.SecretRef.Name}
	}); err != nil {
		return fmt.Errorf("index HookSources by secret: %w", err)
	}
	if err := indexer.IndexField(ctx, &hooksv1alpha1.HookRun{}, hooksv1alpha1.IndexRunNode, runNodesIndex); err != nil {
		return fmt.Errorf("index HookRuns by node: %w", err)
	}
	// Templates by HookSource: also what the webhook server lists a
	// source's templates by.
	return webhookserver.SetupIndexes(ctx, indexer)
}

// runNodesIndex indexes a run on every node by the nodes whose entries have
// not ended: a Node's deletion reaches only those runs. Finished runs and
// other runs are not in the index at all.
func runNodesIndex(obj client.Object) []string {
	run := obj.(*hooksv1alpha1.HookRun)
	if run.Status.Phase.IsFinished() {
		return nil
	}
	var names []string
	for _, e := range run.Status.Nodes {
		if !e.Phase.IsFinished() {
			names = append(names, e.Name)
		}
	}
	return names
}

// secretsOfTemplate names every Secret a template's readiness depends on:
// its webhook secret (none when it uses a HookSource's or takes no
// webhooks), its report credentials and its poll credentials. A Secret
// created or changed after the template is then judged again at once, not
// on the template's next event.
func secretsOfTemplate(tmpl *hooksv1alpha1.HookTemplate) []string {
	var names []string
	if name := tmpl.Spec.Source.SecretRef.Name; name != "" {
		names = append(names, name)
	}
	if rep := tmpl.Spec.Report; rep != nil {
		switch {
		case rep.CredentialsRef != nil:
			names = append(names, rep.CredentialsRef.Name)
		case rep.GitHubApp != nil:
			names = append(names, rep.GitHubApp.PrivateKeyRef.Name)
		}
	}
	if poll := tmpl.Spec.Poll; poll != nil && poll.CredentialsRef != nil {
		names = append(names, poll.CredentialsRef.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
