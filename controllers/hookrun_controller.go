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

// Package controllers holds the HookRun and HookTemplate reconcilers.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// HookRunReconciler turns each HookRun into one Job and mirrors the Job's
// outcome into the run's status.
type HookRunReconciler struct {
	client.Client
	// APIReader reads straight from the API server. It confirms what the
	// cache cannot: that a Job is really gone, and the pods of a finished Job.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	// Now is the clock; tests inject their own.
	Now func() time.Time
	// MaxConcurrentReconciles bounds parallel reconciles (default 1).
	MaxConcurrentReconciles int

	templateLocks keyedMutex
}

// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns/finalizers,verbs=update
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates/finalizers,verbs=update
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=list
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the run, decides its next step and patches its status once.
func (r *HookRunReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	run := &hooksv1alpha1.HookRun{}
	if err := r.Get(ctx, req.NamespacedName, run); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if run.Status.Phase.IsFinished() {
		return ctrl.Result{}, nil
	}

	orig := run.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, orig, run); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()
	r.initStatus(run)

	job, jobGone, err := r.getJob(ctx, run)
	if err != nil || run.Status.Phase.IsFinished() {
		return ctrl.Result{}, err
	}
	switch {
	case run.Spec.Cancel:
		return ctrl.Result{}, r.cancel(ctx, run, job)
	case job != nil && !jobBeingDeleted(job):
		return ctrl.Result{}, r.mirrorJob(ctx, run, job)
	case job != nil, jobGone:
		r.finish(run, hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonJobDeleted,
			fmt.Sprintf("Job %s was deleted before it finished", JobName(run)))
		return ctrl.Result{}, nil
	}

	tmpl, err := r.resolveTemplate(ctx, run)
	if err != nil || tmpl == nil {
		return ctrl.Result{}, err
	}
	if needsAdmission(tmpl) {
		unlock := r.templateLocks.lock(run.Namespace + "/" + tmpl.Name)
		defer unlock()
	}
	start, err := r.admit(ctx, tmpl, run)
	if err != nil || !start {
		return ctrl.Result{}, err
	}
	job, err = r.ensureJob(ctx, tmpl, run)
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.mirrorJob(ctx, run, job)
}

// initStatus fills what every run shows from its first reconcile on.
func (r *HookRunReconciler) initStatus(run *hooksv1alpha1.HookRun) {
	if run.Status.Phase == "" {
		run.Status.Phase = hooksv1alpha1.PhasePending
		run.Status.Reason = hooksv1alpha1.ReasonPending
	}
	sha := run.Spec.Delivery.SHA
	if len(sha) > 7 {
		sha = sha[:7]
	}
	run.Status.ShortSHA = sha
	run.Status.ObservedGeneration = run.Generation
	r.setSucceededCondition(run)
}

// getJob returns the run's Job from the cache. jobGone is true when the run
// had a Job and the API server confirms it no longer exists: the cache alone
// may simply not have seen a Job created a moment ago.
func (r *HookRunReconciler) getJob(ctx context.Context, run *hooksv1alpha1.HookRun) (job *batchv1.Job, jobGone bool, err error) {
	key := types.NamespacedName{Namespace: run.Namespace, Name: JobName(run)}
	job = &batchv1.Job{}
	err = r.Get(ctx, key, job)
	if err == nil {
		return r.requireOwned(run, job)
	}
	if !apierrors.IsNotFound(err) {
		return nil, false, fmt.Errorf("get Job %s: %w", key, err)
	}
	if run.Status.JobName == "" {
		return nil, false, nil
	}
	err = r.APIReader.Get(ctx, key, job)
	switch {
	case apierrors.IsNotFound(err):
		return nil, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("get Job %s from the API server: %w", key, err)
	}
	return r.requireOwned(run, job)
}

// jobBeingDeleted is true for a Job that somebody deleted before it
// finished. It may linger for a while (orphan or foreground deletion waits
// for the garbage collector) but it will not run to completion.
func jobBeingDeleted(job *batchv1.Job) bool {
	return job.DeletionTimestamp != nil && !outcomeOf(job).phase.IsFinished()
}

// requireOwned refuses a Job of the run's name that the run does not control:
// hookrun never adopts or overwrites somebody else's Job.
func (r *HookRunReconciler) requireOwned(run *hooksv1alpha1.HookRun, job *batchv1.Job) (*batchv1.Job, bool, error) {
	if metav1.IsControlledBy(job, run) {
		return job, false, nil
	}
	r.finish(run, hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonJobConflict,
		fmt.Sprintf("a Job named %s exists and is not controlled by this HookRun", job.Name))
	return nil, false, nil
}

// resolveTemplate returns the run's template, or nil after failing the run
// when the template does not exist. It also makes a run created by hand look
// like one from the webhook server: labelled and owned by its template, so
// history and garbage collection treat both alike.
func (r *HookRunReconciler) resolveTemplate(ctx context.Context, run *hooksv1alpha1.HookRun) (*hooksv1alpha1.HookTemplate, error) {
	tmpl := &hooksv1alpha1.HookTemplate{}
	key := types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.TemplateRef.Name}
	if err := r.Get(ctx, key, tmpl); err != nil {
		if apierrors.IsNotFound(err) {
			r.finish(run, hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonTemplateNotFound,
				fmt.Sprintf("HookTemplate %s not found", key))
			return nil, nil
		}
		return nil, fmt.Errorf("get HookTemplate %s: %w", key, err)
	}
	if run.Labels[hooksv1alpha1.LabelTemplate] == tmpl.Name && metav1.IsControlledBy(run, tmpl) {
		return tmpl, nil
	}
	meta := &hooksv1alpha1.HookRun{ObjectMeta: *run.ObjectMeta.DeepCopy(), TypeMeta: run.TypeMeta}
	base := meta.DeepCopy()
	if meta.Labels == nil {
		meta.Labels = map[string]string{}
	}
	meta.Labels[hooksv1alpha1.LabelTemplate] = tmpl.Name
	if metav1.GetControllerOf(meta) == nil {
		if err := controllerutil.SetControllerReference(tmpl, meta, r.Scheme); err != nil {
			return nil, fmt.Errorf("set owner of HookRun %s: %w", run.Name, err)
		}
	}
	if err := r.Patch(ctx, meta, client.MergeFrom(base)); err != nil {
		return nil, fmt.Errorf("label HookRun %s with its template: %w", run.Name, err)
	}
	run.Labels, run.OwnerReferences = meta.Labels, meta.OwnerReferences
	return tmpl, nil
}

// ensureJob creates the run's Job. The Job's name is derived from the run,
// so a repeated create (a second reconcile, a restarted manager, a stale
// cache) hits AlreadyExists and finds the Job that is already there.
func (r *HookRunReconciler) ensureJob(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) (*batchv1.Job, error) {
	job := BuildJob(tmpl, run)
	job.Labels[hooksv1alpha1.LabelGroup] = groupLabel(groupKey(tmpl, run))
	if err := controllerutil.SetControllerReference(run, job, r.Scheme); err != nil {
		return nil, fmt.Errorf("set owner of Job %s: %w", job.Name, err)
	}
	err := r.Create(ctx, job)
	switch {
	case err == nil:
		logf.FromContext(ctx).Info("created Job", "job", job.Name)
		observeQueueWait(run, r.Now())
		r.Recorder.Eventf(run, job, corev1.EventTypeNormal, hooksv1alpha1.EventJobCreated, "CreateJob", "Created Job %s", job.Name)
	case apierrors.IsAlreadyExists(err):
		existing := &batchv1.Job{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(job), existing); err != nil {
			return nil, fmt.Errorf("get existing Job %s: %w", job.Name, err)
		}
		job = existing
		if !metav1.IsControlledBy(job, run) {
			r.finish(run, hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonJobConflict,
				fmt.Sprintf("a Job named %s exists and is not controlled by this HookRun", job.Name))
			return nil, nil
		}
	case apierrors.IsInvalid(err):
		// The template produced a Job the API server refuses (e.g. a bad
		// podTemplate). Retrying cannot help: fail the run with the reason.
		r.finish(run, hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonInvalidTemplate, err.Error())
		return nil, nil
	default:
		return nil, fmt.Errorf("create Job %s: %w", job.Name, err)
	}
	run.Status.JobName = job.Name
	return job, nil
}

// mirrorJob copies the Job's outcome into the run's status.
func (r *HookRunReconciler) mirrorJob(ctx context.Context, run *hooksv1alpha1.HookRun, job *batchv1.Job) error {
	if job == nil {
		return nil
	}
	out := outcomeOf(job)
	run.Status.JobName = job.Name
	run.Status.QueuePosition = 0
	if out.attempts > run.Status.Attempts {
		run.Status.Attempts = out.attempts
	}
	if out.startTime != nil {
		run.Status.StartTime = out.startTime
	}
	if !out.phase.IsFinished() {
		run.Status.Phase, run.Status.Reason, run.Status.Message = out.phase, out.reason, ""
		r.setSucceededCondition(run)
		return nil
	}

	message := out.message
	switch out.phase {
	case hooksv1alpha1.PhaseSucceeded:
		// A complete Job's last pod exited 0: no need to read its pods.
		run.Status.ExitCode = ptr.To[int32](0)
	case hooksv1alpha1.PhaseFailed:
		result, err := r.lastAttemptResult(ctx, run, job)
		if err != nil {
			return err
		}
		run.Status.ExitCode = result.exitCode
		if result.message != "" {
			message = result.message
		}
	}
	run.Status.CompletionTime = out.completionTime
	r.finish(run, out.phase, out.reason, message)
	return nil
}

// lastAttemptResult reads the exit code and output tail of a failed run's
// last attempt from its pods, straight from the API server: hookrun caches
// no pods.
func (r *HookRunReconciler) lastAttemptResult(ctx context.Context, run *hooksv1alpha1.HookRun, job *batchv1.Job) (containerResult, error) {
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(run.Namespace),
		client.MatchingLabels{hooksv1alpha1.LabelRun: run.Name}); err != nil {
		return containerResult{}, fmt.Errorf("list pods of Job %s: %w", job.Name, err)
	}
	return lastRunContainerResult(pods.Items), nil
}

// cancel stops the run's Job, if any, and ends the run Cancelled.
func (r *HookRunReconciler) cancel(ctx context.Context, run *hooksv1alpha1.HookRun, job *batchv1.Job) error {
	if err := r.deleteJob(ctx, job); err != nil {
		return err
	}
	r.finish(run, hooksv1alpha1.PhaseCancelled, hooksv1alpha1.ReasonCancelledByUser, "cancelled by setting spec.cancel")
	return nil
}

// deleteJob deletes a Job in the foreground so that its pods stop first.
func (r *HookRunReconciler) deleteJob(ctx context.Context, job *batchv1.Job) error {
	if job == nil {
		return nil
	}
	err := r.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationForeground))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Job %s: %w", job.Name, err)
	}
	return nil
}

// finish ends the run in a final phase.
func (r *HookRunReconciler) finish(run *hooksv1alpha1.HookRun, phase hooksv1alpha1.HookRunPhase, reason, message string) {
	run.Status.Phase, run.Status.Reason, run.Status.Message = phase, reason, message
	run.Status.QueuePosition = 0
	if run.Status.CompletionTime == nil {
		now := metav1.NewTime(r.Now())
		run.Status.CompletionTime = &now
	}
	r.setSucceededCondition(run)
}

// setSucceededCondition derives the Succeeded condition from the phase.
func (r *HookRunReconciler) setSucceededCondition(run *hooksv1alpha1.HookRun) {
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

// patchStatus writes the status once, as a patch, and records an Event when
// the phase changed. A patch that changes the phase carries an optimistic
// lock: a phase written meanwhile by somebody else (a Replace that cancelled
// this run) is never overwritten from a stale copy; the conflict retries.
func (r *HookRunReconciler) patchStatus(ctx context.Context, orig, run *hooksv1alpha1.HookRun) error {
	if equality.Semantic.DeepEqual(orig.Status, run.Status) {
		return nil
	}
	patch := client.MergeFrom(orig)
	if orig.Status.Phase != run.Status.Phase {
		patch = client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	}
	if err := r.Status().Patch(ctx, run, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patch status of HookRun %s/%s: %w", run.Namespace, run.Name, err)
	}
	r.recordPhase(ctx, orig, run)
	return nil
}

// recordPhase records a Kubernetes Event and the run metrics when the
// phase changed. Only the reason goes in the Event: status.message may hold
// output that does not belong in the cluster's event stream.
func (r *HookRunReconciler) recordPhase(ctx context.Context, orig, run *hooksv1alpha1.HookRun) {
	if orig.Status.Phase == run.Status.Phase {
		return
	}
	observePhase(run)
	reasons := map[hooksv1alpha1.HookRunPhase]string{
		hooksv1alpha1.PhaseRunning:   hooksv1alpha1.EventRunStarted,
		hooksv1alpha1.PhaseSucceeded: hooksv1alpha1.EventRunSucceeded,
		hooksv1alpha1.PhaseFailed:    hooksv1alpha1.EventRunFailed,
		hooksv1alpha1.PhaseQueued:    hooksv1alpha1.EventRunQueued,
		hooksv1alpha1.PhaseSkipped:   hooksv1alpha1.EventRunSkipped,
		hooksv1alpha1.PhaseCancelled: hooksv1alpha1.EventRunCancelled,
	}
	reason, ok := reasons[run.Status.Phase]
	if !ok {
		return
	}
	eventType := corev1.EventTypeNormal
	if run.Status.Phase == hooksv1alpha1.PhaseFailed {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(run, nil, eventType, reason, string(run.Status.Phase), "Run %s: %s", run.Status.Phase, run.Status.Reason)
	logf.FromContext(ctx).Info("run phase changed", "run", run.Name, "phase", run.Status.Phase, "reason", run.Status.Reason)
}

// SetupWithManager registers the reconciler: HookRuns (spec changes only:
// our own status patches must not re-trigger) and the Jobs they own.
func (r *HookRunReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxConcurrentReconciles < 1 {
		r.MaxConcurrentReconciles = 1
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&hooksv1alpha1.HookRun{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&batchv1.Job{}, builder.WithPredicates(ignoreCreates())).
		// A run that gets its Job, finishes, joins the queue or goes away
		// may free a slot or move the queue: its waiting siblings decide
		// again.
		Watches(&hooksv1alpha1.HookRun{}, enqueueWakeUps(r.waitingSiblingsOfRun),
			builder.WithPredicates(slotOrQueueChanged())).
		Watches(&hooksv1alpha1.HookRun{}, enqueueWakeUps(r.waitingSiblingsOfDeletedRun),
			builder.WithPredicates(onlyDeletes())).
		// A Job that goes away (garbage collection after a run was deleted)
		// frees its slot only then.
		Watches(&batchv1.Job{}, enqueueWakeUps(r.waitingSiblingsOfJob),
			builder.WithPredicates(onlyDeletes())).
		// suspend or concurrency changed on the template.
		Watches(&hooksv1alpha1.HookTemplate{}, enqueueWakeUps(r.waitingRunsOfTemplate),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("hookrun").
		Complete(r)
}
