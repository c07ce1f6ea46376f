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
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// slotOrQueueChanged passes the HookRun updates that may free a slot or
// move the queue for the run's waiting siblings: the run got its Job,
// finished, or was queued. Pending → Running changes nothing for them.
// Deletes go through a watch of their own (onlyDeletes): a deleted run's
// last phase may well be Queued.
func slotOrQueueChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldRun, okOld := e.ObjectOld.(*hooksv1alpha1.HookRun)
			newRun, okNew := e.ObjectNew.(*hooksv1alpha1.HookRun)
			if !okOld || !okNew || oldRun.Status.Phase == newRun.Status.Phase {
				return false
			}
			return (oldRun.Status.JobName == "" && newRun.Status.JobName != "") ||
				newRun.Status.Phase.IsFinished() || newRun.Status.Phase == hooksv1alpha1.PhaseQueued
		},
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
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
// itself and wrote the run's status right after: reacting to that event
// would cost a reconcile with nothing to do. (After a restart, every
// HookRun's own create event reconciles it anyway.)
func ignoreCreates() predicate.Predicate {
	return predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }}
}

// templateStatusDelay is how long a run's lifecycle change waits before it
// reconciles the run's template. Changes within the delay coalesce into one
// reconcile (the work queue keeps one pending entry per template), so a
// burst of runs costs the template a status patch per delay, not per run;
// the template's counts and lastRun lag by at most the delay.
const templateStatusDelay = time.Second

// enqueueTemplateOfRun enqueues the template that controls a HookRun after
// templateStatusDelay.
func enqueueTemplateOfRun() handler.EventHandler {
	return onEveryEvent(func(_ context.Context, obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		owner := metav1.GetControllerOf(obj)
		if owner == nil || owner.Kind != "HookTemplate" || owner.APIVersion != hooksv1alpha1.GroupVersion.String() {
			return
		}
		q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: owner.Name}}, templateStatusDelay)
	})
}

// onEveryEvent is an event handler that calls add with the event's object
// (the new one of an update) for every kind of event.
func onEveryEvent(add func(context.Context, client.Object, workqueue.TypedRateLimitingInterface[reconcile.Request])) handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.ObjectNew, q)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q)
		},
	}
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

// queuePositionRefresh is how long a waiting run that cannot start yet waits
// before it shows its new position. In a fast-moving queue several starts
// then coalesce into one reconcile and one status write per run (the work
// queue keeps one pending entry per run); the runs that may start are woken
// at once.
const queuePositionRefresh = time.Second

// queuePositionPriority is the work-queue priority of a position refresh:
// below everything else, the initial list and resyncs included
// (handler.LowPriority). A refresh then runs when the workers have nothing
// more urgent, so the busier the manager, the more starts one refresh
// covers. Without it, a drain slowed down by load (or by the client's rate
// limit) coalesced fewer starts per refresh, and the refreshes' writes
// slowed the drain further: reconciles per run grew with the queue's
// length. At rest a refresh still follows a start within about
// queuePositionRefresh. (A refresh of a run that is woken at once meanwhile
// takes that wake-up's priority: the queue keeps the higher one.)
const queuePositionPriority = handler.LowPriority - 1

// wakeUp are the runs to reconcile after a change in their group: now, the
// runs that may start; later, the runs that only move up in the queue.
type wakeUp struct{ now, later []reconcile.Request }

// enqueueWakeUps enqueues what fn returns for the object of an event.
func enqueueWakeUps(fn func(context.Context, client.Object) wakeUp) handler.EventHandler {
	return onEveryEvent(func(ctx context.Context, obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		w := fn(ctx, obj)
		for _, req := range w.now {
			q.Add(req)
		}
		pq, prioritised := q.(priorityqueue.PriorityQueue[reconcile.Request])
		for _, req := range w.later {
			if prioritised {
				pq.AddWithOpts(priorityqueue.AddOpts{After: queuePositionRefresh, Priority: ptr.To(queuePositionPriority)}, req)
			} else {
				q.AddAfter(req, queuePositionRefresh)
			}
		}
	})
}

// waitingSiblingsOfRun wakes the waiting runs of a run's group after a
// change that slotOrQueueChanged passed, when queueMovedBy says it moved
// them.
func (r *HookRunReconciler) waitingSiblingsOfRun(ctx context.Context, obj client.Object) wakeUp {
	run, ok := obj.(*hooksv1alpha1.HookRun)
	if !ok {
		return wakeUp{}
	}
	tmpl := &hooksv1alpha1.HookTemplate{}
	key := types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.TemplateRef.Name}
	if err := r.Get(ctx, key, tmpl); err != nil || !queueMovedBy(tmpl, run) {
		return wakeUp{}
	}
	return r.waitingRunsOf(ctx, tmpl, run.Name)
}

// queueMovedBy is true when a run's new phase (one that slotOrQueueChanged
// passed: queued, got its Job, or finished) may let a waiting sibling start
// or move its position. Every wake-up costs a reconcile per woken run, so a
// change that moves nobody wakes nobody:
//   - A run that joined the queue moves the others' positions only under
//     pending=Latest (positions count from the newest); under pending=All
//     it queued behind them.
//   - A run that got its Job, in a queue in delivery order that is not
//     suspended, was at the front: it leaves the waiting runs and takes a
//     free slot, so every position behind it (its index minus the free
//     slots) stays the same, and no slot freed. Waking the window would
//     cost up to queuePositionWindow reconciles per start that write
//     nothing. Under suspend, positions count from the front without
//     slots, so a run that still gets its Job moves them; under the other
//     policies every waiting run decides anew (Forbid, Replace,
//     pending=Latest supersede older runs).
//   - A run that finished frees its slot.
func queueMovedBy(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) bool {
	switch {
	case run.Status.Phase.IsFinished():
		return true
	case run.Status.Phase == hooksv1alpha1.PhaseQueued:
		return tmpl.Spec.Concurrency.Pending == hooksv1alpha1.PendingLatest
	}
	return !queuesInDeliveryOrder(tmpl) || tmpl.Spec.Suspend
}

// waitingSiblingsOfDeletedRun wakes the waiting runs of a deleted run's
// template: it may have held a slot or a place in the queue. A run that had
// finished held neither (its slot freed when it finished, which woke them
// already): history pruning deletes finished runs all the time, and waking
// the queue for each would cost reconciles that grow with the queue's
// length.
func (r *HookRunReconciler) waitingSiblingsOfDeletedRun(ctx context.Context, obj client.Object) wakeUp {
	run, ok := obj.(*hooksv1alpha1.HookRun)
	if !ok || run.Status.Phase.IsFinished() {
		return wakeUp{}
	}
	return r.waitingRuns(ctx, run.Namespace, run.Spec.TemplateRef.Name, run.Name)
}

// waitingSiblingsOfJob wakes the waiting runs of a deleted Job's template.
// Only a Job that had not finished held a slot: the garbage collection of a
// finished run's Job frees nothing.
func (r *HookRunReconciler) waitingSiblingsOfJob(ctx context.Context, obj client.Object) wakeUp {
	template := obj.GetLabels()[hooksv1alpha1.LabelTemplate]
	if template == "" {
		return wakeUp{}
	}
	if job, ok := obj.(*batchv1.Job); ok && outcomeOf(job).phase.IsFinished() {
		return wakeUp{}
	}
	return r.waitingRuns(ctx, obj.GetNamespace(), template, "")
}

func (r *HookRunReconciler) waitingRunsOfTemplate(ctx context.Context, obj client.Object) wakeUp {
	return r.waitingRuns(ctx, obj.GetNamespace(), obj.GetName(), "")
}

// waitingRuns lists the runs of a template that wait for admission. Runs of
// an Allow template never wait on each other, so nothing is enqueued for
// them: with thousands of runs that would be quadratic work. Of a queue in
// delivery order (pending=All, or a suspended template) only the front is
// woken: at once the maxRunning runs that may start, after
// queuePositionRefresh the queuePositionWindow runs behind them that show
// an exact position. A change moves a run further back by at most one
// place, from "beyond the window" to "beyond the window".
func (r *HookRunReconciler) waitingRuns(ctx context.Context, namespace, template, except string) wakeUp {
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: template}, tmpl); err != nil {
		return wakeUp{}
	}
	return r.waitingRunsOf(ctx, tmpl, except)
}

// waitingRunsOf is waitingRuns for a template already read.
func (r *HookRunReconciler) waitingRunsOf(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, except string) wakeUp {
	if !needsAdmission(tmpl) {
		return wakeUp{}
	}
	runs := &hooksv1alpha1.HookRunList{}
	if err := r.List(ctx, runs, client.InNamespace(tmpl.Namespace), client.MatchingFields{hooksv1alpha1.IndexRunTemplate: tmpl.Name}); err != nil {
		logf.FromContext(ctx).Error(err, "list HookRuns of template", "template", tmpl.Name)
		return wakeUp{}
	}
	groups := map[string][]*hooksv1alpha1.HookRun{}
	for i := range runs.Items {
		run := &runs.Items[i]
		if run.Name != except && isWaiting(run) {
			key := groupKey(tmpl, run)
			groups[key] = append(groups[key], run)
		}
	}
	windowed := queuesInDeliveryOrder(tmpl)
	slots := runSlots(tmpl.Spec.Concurrency)
	var w wakeUp
	for _, waiting := range groups {
		if !windowed {
			for _, run := range waiting {
				w.now = append(w.now, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(run)})
			}
			continue
		}
		sortByDelivery(waiting)
		for i, run := range waiting[:min(len(waiting), slots+queuePositionWindow)] {
			req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(run)}
			if i < slots {
				w.now = append(w.now, req)
			} else {
				w.later = append(w.later, req)
			}
		}
	}
	return w
}

// runsOnNode returns the unfinished runs on every node that wait for a node
// that was deleted (IndexRunNode).
func (r *HookRunReconciler) runsOnNode(ctx context.Context, node client.Object) []reconcile.Request {
	runs := &hooksv1alpha1.HookRunList{}
	if err := r.List(ctx, runs, client.MatchingFields{hooksv1alpha1.IndexRunNode: node.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "list HookRuns on node", "node", node.GetName())
		return nil
	}
	requests := make([]reconcile.Request, len(runs.Items))
	for i := range runs.Items {
		requests[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&runs.Items[i])}
	}
	return requests
}
