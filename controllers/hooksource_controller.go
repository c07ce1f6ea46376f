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
	"k8s.io/apimachinery/pkg/types"
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

// HookSourceReconciler keeps a HookSource's status: whether it can take
// deliveries (Ready, judged by webhookserver.CheckSource as the request path
// judges it), its webhook path and how many templates use it.
type HookSourceReconciler struct {
	client.Client
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooksources,verbs=get;list;watch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooksources/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile judges the source and patches its status once.
func (r *HookSourceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	src := &hooksv1alpha1.HookSource{}
	if err := r.Get(ctx, req.NamespacedName, src); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	orig := src.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, orig, src); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	src.Status.ObservedGeneration = src.Generation
	src.Status.WebhookPath = webhookserver.SourcePath(src.Namespace, src.Name)
	ready, templates, err := webhookserver.CheckSource(ctx, r.Client, src)
	if err != nil {
		return ctrl.Result{}, err
	}
	src.Status.Templates = templates
	setReadyCondition(&src.Status.Conditions, src.Generation, ready, src.Status.WebhookPath)
	return ctrl.Result{}, nil
}

// patchStatus writes the status once and records an Event when Ready flips.
func (r *HookSourceReconciler) patchStatus(ctx context.Context, orig, src *hooksv1alpha1.HookSource) error {
	if equality.Semantic.DeepEqual(orig.Status, src.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, src, client.MergeFrom(orig)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patch status of HookSource %s/%s: %w", src.Namespace, src.Name, err)
	}
	recordReadyChange(ctx, r.Recorder, src, orig.Status.Conditions, src.Status.Conditions, "source")
	return nil
}

// SetupWithManager registers the reconciler: sources (spec changes), the
// Secrets they reference and the templates that name them (created,
// deleted, or pointed elsewhere: the count), found through field indexes.
func (r *HookSourceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&hooksv1alpha1.HookSource{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.sourcesOfSecret)).
		// An update maps both the old and the new object: a template that
		// moves to another source updates both counts.
		Watches(&hooksv1alpha1.HookTemplate{}, handler.EnqueueRequestsFromMapFunc(sourceOfTemplate),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("hooksource").
		Complete(r)
}

func (r *HookSourceReconciler) sourcesOfSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &hooksv1alpha1.HookSourceList{}
	if err := r.List(ctx, list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{hooksv1alpha1.IndexSourceSecret: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "list HookSources of Secret", "secret", obj.GetName())
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return requests
}

func sourceOfTemplate(_ context.Context, obj client.Object) []reconcile.Request {
	ref := obj.(*hooksv1alpha1.HookTemplate).Spec.Source.SourceRef
	if ref == nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: ref.Name}}}
}

// webhookPathOf is where a template's deliveries are POSTed: its own path,
// or its HookSource's; empty for a template that takes no webhooks (poll
// or schedule only), whose own path answers 404.
func webhookPathOf(tmpl *hooksv1alpha1.HookTemplate) string {
	if ref := tmpl.Spec.Source.SourceRef; ref != nil {
		return webhookserver.SourcePath(tmpl.Namespace, ref.Name)
	}
	if !webhookserver.TakesWebhooks(tmpl) {
		return ""
	}
	return webhookserver.PathPrefix + tmpl.Namespace + "/" + tmpl.Name
}

// templatesOfSourceObject maps a HookSource to the templates that name it.
func (r *HookTemplateReconciler) templatesOfSourceObject(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.templatesOfSource(ctx, obj.GetNamespace(), obj.GetName())
}

func (r *HookTemplateReconciler) templatesOfSource(ctx context.Context, namespace, name string) []reconcile.Request {
	list := &hooksv1alpha1.HookTemplateList{}
	if err := r.List(ctx, list, client.InNamespace(namespace),
		client.MatchingFields{hooksv1alpha1.IndexTemplateSource: name}); err != nil {
		logf.FromContext(ctx).Error(err, "list HookTemplates of HookSource", "source", name)
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return requests
}
