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
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// Everything a HookRun's status shows is computed here: the phase with its
// reason and message, the Succeeded condition, observedGeneration; and it is
// written here, once per reconcile, with the phase's Event and metrics.
//
// Writes per run: a run that can start at once is written twice on its way
// to Running (Pending with its Job, then Running); a queued run once more,
// when it is queued (and when its shown position changes). No write of the
// happy path fails with a conflict: see ownWrites.

// ending is a step's decision to end the run: the final phase, its reason
// and message.
type ending struct {
	phase   hooksv1alpha1.HookRunPhase
	reason  string
	message string
}

// failed is an ending in phase Failed.
func failed(reason, message string) *ending {
	return &ending{phase: hooksv1alpha1.PhaseFailed, reason: reason, message: message}
}

// initStatus fills what every run shows from its first reconcile on.
func (r *HookRunReconciler) initStatus(run *hooksv1alpha1.HookRun) {
	if run.Status.Phase == "" {
		run.Status.Phase = hooksv1alpha1.PhasePending
		run.Status.Reason = hooksv1alpha1.ReasonPending
	}
	run.Status.ShortSHA = delivery.ShortSHA(run.Spec.Delivery.SHA)
	run.Status.ObservedGeneration = run.Generation
	setSucceededCondition(run)
}

// setPhase puts the run in a phase that is not final.
func setPhase(run *hooksv1alpha1.HookRun, phase hooksv1alpha1.HookRunPhase, reason, message string) {
	run.Status.Phase, run.Status.Reason, run.Status.Message = phase, reason, message
	setSucceededCondition(run)
}

// queue puts the run in the queue at the position admission decided.
func queue(run *hooksv1alpha1.HookRun, d decision, message string) {
	run.Status.QueuePosition = d.position
	setPhase(run, hooksv1alpha1.PhaseQueued, d.reason, message)
}

// finish ends the run in a final phase.
func (r *HookRunReconciler) finish(run *hooksv1alpha1.HookRun, end ending) {
	run.Status.Phase, run.Status.Reason, run.Status.Message = end.phase, end.reason, end.message
	run.Status.QueuePosition = 0
	if run.Status.CompletionTime == nil {
		now := metav1.NewTime(r.Now())
		run.Status.CompletionTime = &now
	}
	setSucceededCondition(run)
}

// setSucceededCondition derives the Succeeded condition from the phase.
func setSucceededCondition(run *hooksv1alpha1.HookRun) {
	status := metav1.ConditionUnknown
	switch run.Status.Phase {
	case hooksv1alpha1.PhaseSucceeded:
		status = metav1.ConditionTrue
	case hooksv1alpha1.PhaseFailed, hooksv1alpha1.PhaseCancelled, hooksv1alpha1.PhaseSkipped:
		status = metav1.ConditionFalse
	}
	message := run.Status.Message
	if message == "" {
		message = "run is " + string(run.Status.Phase)
	}
	meta.SetStatusCondition(&run.Status.Conditions, metav1.Condition{
		Type:               hooksv1alpha1.ConditionSucceeded,
		Status:             status,
		Reason:             run.Status.Reason,
		Message:            message,
		ObservedGeneration: run.Generation,
	})
}

// writeStatus writes the run's status once, as a merge patch against orig,
// and then records the phase's Event and metrics. A patch that changes the
// phase carries an optimistic lock on orig's resourceVersion: a phase written
// meanwhile by somebody else (a Replace that cancelled this run) is never
// overwritten from a stale copy; the conflict retries. So does every patch
// of a run on every node: a merge patch replaces status.nodes whole, and a
// copy that still shows the run Running would put back the entries that a
// Replace ended. orig must therefore be
// the run as last written, which ownWrites makes sure of. read is the
// resourceVersion the reconcile started from (orig's differs after a
// metadata patch of the same reconcile).
func (r *HookRunReconciler) writeStatus(ctx context.Context, read string, orig, run *hooksv1alpha1.HookRun) error {
	if equality.Semantic.DeepEqual(orig.Status, run.Status) {
		return nil
	}
	patch := client.MergeFrom(orig)
	if orig.Status.Phase != run.Status.Phase || len(run.Status.Nodes) > 0 {
		patch = client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	}
	if err := r.Status().Patch(ctx, run, patch); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.forget(client.ObjectKeyFromObject(run))
			return nil
		}
		return fmt.Errorf("patch status of HookRun %s/%s: %w", run.Namespace, run.Name, err)
	}
	r.written.remember(run, read, orig.ResourceVersion)
	r.recordPhase(ctx, orig, run)
	return nil
}

// phaseEvents are the Events a user looks for: one per phase change, none
// for a step in between. Pending gets one only when the run got its Job.
var phaseEvents = map[hooksv1alpha1.HookRunPhase]string{
	hooksv1alpha1.PhasePending:   hooksv1alpha1.EventJobCreated,
	hooksv1alpha1.PhaseRunning:   hooksv1alpha1.EventRunStarted,
	hooksv1alpha1.PhaseSucceeded: hooksv1alpha1.EventRunSucceeded,
	hooksv1alpha1.PhaseFailed:    hooksv1alpha1.EventRunFailed,
	hooksv1alpha1.PhaseQueued:    hooksv1alpha1.EventRunQueued,
	hooksv1alpha1.PhaseSkipped:   hooksv1alpha1.EventRunSkipped,
	hooksv1alpha1.PhaseCancelled: hooksv1alpha1.EventRunCancelled,
}

// recordPhase records the Event and the metrics of a phase change just
// written. Only the reason goes in the Event: status.message may hold output
// that does not belong in the cluster's event stream.
func (r *HookRunReconciler) recordPhase(ctx context.Context, orig, run *hooksv1alpha1.HookRun) {
	gotJob := orig.Status.JobName == "" && run.Status.JobName != ""
	if gotJob {
		observeQueueWait(run, r.Now())
	}
	changed := orig.Status.Phase != run.Status.Phase
	if run.Status.Phase == hooksv1alpha1.PhasePending {
		changed = gotJob // Pending shows once the run has its Job
	}
	if !changed {
		return
	}
	observePhase(run)
	logf.FromContext(ctx).Info("run phase changed", "run", run.Name, "phase", run.Status.Phase, "reason", run.Status.Reason)
	reason := phaseEvents[run.Status.Phase]
	switch run.Status.Phase {
	case hooksv1alpha1.PhasePending:
		if n := len(run.Status.Nodes); n > 0 {
			r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, reason, "CreateJob", "Created the Jobs of a run on %d nodes, the first %s", n, run.Status.JobName)
			break
		}
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, reason, "CreateJob", "Created Job %s", run.Status.JobName)
	case hooksv1alpha1.PhaseFailed:
		r.Recorder.Eventf(run, nil, corev1.EventTypeWarning, reason, string(run.Status.Phase), "Run %s: %s", run.Status.Phase, run.Status.Reason)
	default:
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, reason, string(run.Status.Phase), "Run %s: %s", run.Status.Phase, run.Status.Reason)
	}
}

// ownWrites remembers, per run, the status this manager wrote last, until
// the cache shows it.
//
// The cache lags behind the API server. A reconcile that starts from a run
// the cache shows as it was before this manager's last write (the Job's
// first status update often arrives before the run's own Pending patch has
// come back through the watch) would compute from stale data and lock its
// phase patch on a stale resourceVersion: the patch fails with a conflict
// and retries. Instead the reconcile starts from what was written.
//
// Whether the cache is stale needs no ordering of resourceVersions (they
// are opaque): a cached resourceVersion that this manager itself wrote past
// is stale; any other one is the write itself or a later one, and the entry
// is dropped.
type ownWrites struct {
	mu   sync.Mutex
	runs map[types.NamespacedName]ownWrite
}

// ownWrite is the last write of one run.
type ownWrite struct {
	// past are the resourceVersions the run had before this manager's
	// writes since the cache last caught up.
	past []string
	// resourceVersion and status are what the last write returned. A
	// finished run keeps no status (finished is enough: its reconcile ends
	// at once), so that finished runs cost next to no memory here.
	resourceVersion string
	finished        bool
	status          *hooksv1alpha1.HookRunStatus
}

// remember records a write to the run as the API server returned it; from
// are the resourceVersions the run had before (the one the reconcile read,
// and the one after its own metadata patch, if any).
func (w *ownWrites) remember(run *hooksv1alpha1.HookRun, from ...string) {
	key := client.ObjectKeyFromObject(run)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.runs == nil {
		w.runs = map[types.NamespacedName]ownWrite{}
	}
	next := ownWrite{past: slices.Clip(w.runs[key].past), resourceVersion: run.ResourceVersion}
	for _, rv := range from {
		if !slices.Contains(next.past, rv) {
			next.past = append(next.past, rv)
		}
	}
	if run.Status.Phase.IsFinished() {
		next.finished = true
	} else {
		next.status = run.Status.DeepCopy()
	}
	w.runs[key] = next
}

// freshest returns the run to reconcile: the cached run, or, when the cache
// does not show this manager's last write yet, the cached run with the
// written status and resourceVersion. ended is true when that write ended
// the run: there is nothing left to do.
func (w *ownWrites) freshest(cached *hooksv1alpha1.HookRun) (run *hooksv1alpha1.HookRun, ended bool) {
	key := client.ObjectKeyFromObject(cached)
	w.mu.Lock()
	defer w.mu.Unlock()
	last, ok := w.runs[key]
	if !ok {
		return cached, false
	}
	if !slices.Contains(last.past, cached.ResourceVersion) {
		delete(w.runs, key) // the cache shows the write, or a later one
		return cached, false
	}
	if last.finished {
		return cached, true
	}
	run = cached.DeepCopy()
	run.ResourceVersion = last.resourceVersion
	run.Status = *last.status.DeepCopy()
	return run, false
}

// forget drops a run that is gone.
func (w *ownWrites) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.runs, key)
}
