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
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

// HookTemplateReconciler keeps a template's status: whether it can accept
// deliveries (Ready), its webhook path, its newest run and run counts. It
// also deletes finished runs beyond the template's history limits.
type HookTemplateReconciler struct {
	client.Client
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the template and its runs, prunes history and patches the
// status once.
func (r *HookTemplateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := r.Get(ctx, req.NamespacedName, tmpl); err != nil {
		if apierrors.IsNotFound(err) {
			runsQueued.DeleteLabelValues(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	orig := tmpl.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, orig, tmpl); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	tmpl.Status.ObservedGeneration = tmpl.Generation
	tmpl.Status.WebhookPath = webhookPathOf(tmpl)
	if err := r.setReady(ctx, tmpl); err != nil {
		return ctrl.Result{}, err
	}
	runs, err := r.runsOf(ctx, tmpl)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.pruneHistory(ctx, tmpl, runs); err != nil {
		return ctrl.Result{}, err
	}
	summarise(tmpl, runs)
	runsQueued.WithLabelValues(tmpl.Namespace, tmpl.Name).Set(float64(tmpl.Status.QueuedRuns))
	return ctrl.Result{}, nil
}

// setReady sets the Ready condition with the webhook server's own judgement
// (webhookserver.CheckTemplate, which the request path applies to every
// delivery): the secret is readable and everything the webhook server
// evaluates per request compiles. The secret's value is never put in the
// condition.
func (r *HookTemplateReconciler) setReady(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate) error {
	ready, err := webhookserver.CheckTemplate(ctx, r.Client, tmpl)
	if err != nil {
		return err
	}
	setReadyCondition(&tmpl.Status.Conditions, tmpl.Generation, ready, tmpl.Status.WebhookPath)
	return nil
}

func (r *HookTemplateReconciler) runsOf(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate) ([]*hooksv1alpha1.HookRun, error) {
	list := &hooksv1alpha1.HookRunList{}
	if err := r.List(ctx, list, client.InNamespace(tmpl.Namespace),
		client.MatchingFields{hooksv1alpha1.IndexRunTemplate: tmpl.Name}); err != nil {
		return nil, fmt.Errorf("list HookRuns of template %s: %w", tmpl.Name, err)
	}
	runs := make([]*hooksv1alpha1.HookRun, 0, len(list.Items))
	for i := range list.Items {
		runs = append(runs, &list.Items[i])
	}
	return runs, nil
}

// pruneHistory deletes the oldest finished runs beyond the limits; their
// Jobs and pods follow through owner references.
func (r *HookTemplateReconciler) pruneHistory(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, runs []*hooksv1alpha1.HookRun) error {
	for _, run := range runsToPrune(tmpl.Spec.History, runs) {
		err := r.Delete(ctx, run, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete old HookRun %s: %w", run.Name, err)
		}
		logf.FromContext(ctx).V(1).Info("deleted old run", "run", run.Name, "phase", run.Status.Phase)
		run.DeletionTimestamp = &metav1.Time{}
	}
	return nil
}

// summarise fills lastRun and the run counts.
func summarise(tmpl *hooksv1alpha1.HookTemplate, runs []*hooksv1alpha1.HookRun) {
	tmpl.Status.ActiveRuns, tmpl.Status.QueuedRuns, tmpl.Status.LastRun = 0, 0, nil
	var newest *hooksv1alpha1.HookRun
	for _, run := range runs {
		if run.DeletionTimestamp != nil {
			continue
		}
		switch {
		case run.Status.Phase == hooksv1alpha1.PhaseQueued:
			tmpl.Status.QueuedRuns++
		case run.Status.JobName != "" && !run.Status.Phase.IsFinished():
			tmpl.Status.ActiveRuns++
		}
		if newest == nil || newest.CreationTimestamp.Before(&run.CreationTimestamp) ||
			(newest.CreationTimestamp.Equal(&run.CreationTimestamp) && newest.Name < run.Name) {
			newest = run
		}
	}
	if newest != nil {
		created := newest.CreationTimestamp
		tmpl.Status.LastRun = &hooksv1alpha1.LastRun{Name: newest.Name, Phase: newest.Status.Phase, Time: &created}
	}
}

// patchStatus writes the status once and records an Event when Ready flips.
func (r *HookTemplateReconciler) patchStatus(ctx context.Context, orig, tmpl *hooksv1alpha1.HookTemplate) error {
	if equality.Semantic.DeepEqual(orig.Status, tmpl.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, tmpl, client.MergeFrom(orig)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patch status of HookTemplate %s/%s: %w", tmpl.Namespace, tmpl.Name, err)
	}
	recordReadyChange(ctx, r.Recorder, tmpl, orig.Status.Conditions, tmpl.Status.Conditions, "template")
	return nil
}

// SetupWithManager registers the reconciler: templates (spec changes), the
// runs they own (any change: counts, last run, history) and the Secrets they
// reference (found through a field index, not a poll).
func (r *HookTemplateReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&hooksv1alpha1.HookTemplate{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Its runs: what the status counts, lastRun and history read,
		// coalesced (enqueueTemplateOfRun).
		Watches(&hooksv1alpha1.HookRun{}, enqueueTemplateOfRun(), builder.WithPredicates(runLifecycleChanged())).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.templatesOfSecret)).
		// The HookSources templates use (hooksource_controller.go).
		Watches(&hooksv1alpha1.HookSource{}, handler.EnqueueRequestsFromMapFunc(r.templatesOfSourceObject)).
		Named("hooktemplate").
		Complete(r)
}

func (r *HookTemplateReconciler) templatesOfSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &hooksv1alpha1.HookTemplateList{}
	if err := r.List(ctx, list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{hooksv1alpha1.IndexTemplateSecret: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "list HookTemplates of Secret", "secret", obj.GetName())
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	// And the templates of the HookSources that use the Secret.
	sources := &hooksv1alpha1.HookSourceList{}
	if err := r.List(ctx, sources, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{hooksv1alpha1.IndexSourceSecret: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "list HookSources of Secret", "secret", obj.GetName())
		return requests
	}
	for i := range sources.Items {
		requests = append(requests, r.templatesOfSource(ctx, obj.GetNamespace(), sources.Items[i].Name)...)
	}
	return requests
}
