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

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// phaseChanged passes a HookRun update that changed status.phase, and deletes.
func phaseChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldRun, okOld := e.ObjectOld.(*hooksv1alpha1.HookRun)
			newRun, okNew := e.ObjectNew.(*hooksv1alpha1.HookRun)
			return okOld && okNew && oldRun.Status.Phase != newRun.Status.Phase
		},
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// runLifecycleChanged passes what a template's status reads of its runs:
// creates, deletes, phase changes and the start of a deletion. Other run
// updates (attempts, times, messages) would only re-trigger the template.
func runLifecycleChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldRun, okOld := e.ObjectOld.(*hooksv1alpha1.HookRun)
			newRun, okNew := e.ObjectNew.(*hooksv1alpha1.HookRun)
			return !okOld || !okNew || oldRun.Status.Phase != newRun.Status.Phase ||
				(oldRun.DeletionTimestamp == nil) != (newRun.DeletionTimestamp == nil)
		},
	}
}

// ignoreCreates drops create events. The reconciler created the run's Job
// itself: reacting to that event would re-run the reconcile before the cache
// has the status it just wrote, and its next phase patch would conflict.
// (After a restart, every HookRun's own create event reconciles it anyway.)
func ignoreCreates() predicate.Predicate {
	return predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }}
}

// onlyDeletes passes delete events only.
func onlyDeletes() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func (r *HookRunReconciler) waitingSiblingsOfRun(ctx context.Context, obj client.Object) []reconcile.Request {
	run, ok := obj.(*hooksv1alpha1.HookRun)
	if !ok {
		return nil
	}
	return r.waitingRuns(ctx, run.Namespace, run.Spec.TemplateRef.Name, run.Name)
}

func (r *HookRunReconciler) waitingSiblingsOfJob(ctx context.Context, obj client.Object) []reconcile.Request {
	template := obj.GetLabels()[hooksv1alpha1.LabelTemplate]
	if template == "" {
		return nil
	}
	return r.waitingRuns(ctx, obj.GetNamespace(), template, "")
}

func (r *HookRunReconciler) waitingRunsOfTemplate(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.waitingRuns(ctx, obj.GetNamespace(), obj.GetName(), "")
}

// waitingRuns lists the runs of a template that wait for admission. Runs of
// an Allow template never wait on each other, so nothing is enqueued for
// them: with thousands of runs that would be quadratic work.
func (r *HookRunReconciler) waitingRuns(ctx context.Context, namespace, template, except string) []reconcile.Request {
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: template}, tmpl); err != nil || !needsAdmission(tmpl) {
		return nil
	}
	runs := &hooksv1alpha1.HookRunList{}
	if err := r.List(ctx, runs, client.InNamespace(namespace), client.MatchingFields{hooksv1alpha1.IndexRunTemplate: template}); err != nil {
		logf.FromContext(ctx).Error(err, "list HookRuns of template", "template", template)
		return nil
	}
	var requests []reconcile.Request
	for i := range runs.Items {
		run := &runs.Items[i]
		if run.Name != except && isWaiting(run) {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(run)})
		}
	}
	return requests
}
