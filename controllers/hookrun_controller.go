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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	"sigs.k8s.io/controller-runtime/pkg/handler"
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
	written       ownWrites
}

// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns/finalizers,verbs=update
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates/finalizers,verbs=update
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=list
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the run, decides its next step and writes its status once.
func (r *HookRunReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	run, done, err := r.getRun(ctx, req.NamespacedName)
	if err != nil || done {
		return ctrl.Result{}, err
	}
	read := run.ResourceVersion
	orig := run.DeepCopy()
	r.initStatus(run)
	// step returns with the template's lock released: the next run of the
	// group may decide while this one's status is written.
	stepErr := r.step(ctx, orig, run)
	return ctrl.Result{}, errors.Join(stepErr, r.writeStatus(ctx, read, orig, run))
}

// getRun reads the run from the cache, or from this manager's own last
// write when the cache does not show it yet (ownWrites). done is true when
// there is nothing to do: the run is gone or has ended.
func (r *HookRunReconciler) getRun(ctx context.Context, key types.NamespacedName) (run *hooksv1alpha1.HookRun, done bool, err error) {
	cached := &hooksv1alpha1.HookRun{}
	if err := r.Get(ctx, key, cached); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.forget(key)
			return nil, true, nil
		}
		return nil, true, fmt.Errorf("get HookRun %s: %w", key, err)
	}
	run, ended := r.written.freshest(cached)
	return run, ended || run.Status.Phase.IsFinished(), nil
}

// step carries the run one step further: it mirrors the run's Job, or ends
// the run, or admits it and creates its Job. It changes only run.Status
// (and, for a run created by hand, orig's and run's metadata: see
// resolveTemplate).
func (r *HookRunReconciler) step(ctx context.Context, orig, run *hooksv1alpha1.HookRun) error {
	if len(run.Status.Nodes) > 0 {
		return r.stepNodes(ctx, orig, run) // a run on every node that has started
	}
	job, state, err := r.getJob(ctx, run, JobName(run), run.Status.JobName != "")
	if err != nil {
		return err
	}
	var end *ending
	switch {
	case state == jobForeign:
		end = jobConflict(JobName(run))
	case run.Spec.Cancel:
		if end, err = r.cancel(ctx, run); err != nil {
			return err
		}
	case state == jobLive:
		return r.mirrorJob(ctx, run, job)
	case state == jobGone:
		end = failed(hooksv1alpha1.ReasonJobDeleted, fmt.Sprintf("Job %s was deleted before it finished", JobName(run)))
	}
	if end != nil {
		r.finish(run, *end)
		return nil
	}

	tmpl, end, err := r.resolveTemplate(ctx, orig, run)
	if err != nil {
		return err
	}
	if end != nil {
		r.finish(run, *end)
		return nil
	}
	started, err := r.start(ctx, tmpl, run)
	switch {
	case err != nil:
		return err
	case started.end != nil:
		r.finish(run, *started.end)
	case started.decision.action == actionQueue:
		queue(run, started.decision, queuedMessage(tmpl, started.decision))
	case started.decision.action == actionSkip:
		r.finish(run, skipped(started.decision))
	case started.job == nil:
		r.summariseNodes(run) // a run on every node: its Jobs are in status.nodes
	default:
		return r.mirrorJob(ctx, run, started.job)
	}
	return nil
}

// startResult is what start decided for a run without a Job.
type startResult struct {
	// decision is admission's: start, queue or skip.
	decision decision
	// job is the run's Job, created or found, when the decision was start;
	// nil for a run on every node, whose Jobs are in status.nodes.
	job *batchv1.Job
	// end is set when creating the Job ended the run.
	end *ending
}

// start admits a run that has no Job and creates its Job when admission
// says so. The template's lock is held from the decision until the Job
// exists, and released before start returns.
func (r *HookRunReconciler) start(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) (startResult, error) {
	if needsAdmission(tmpl) {
		unlock := r.templateLocks.lock(run.Namespace + "/" + tmpl.Name)
		defer unlock()
	}
	d, err := r.admit(ctx, tmpl, run)
	if err != nil || d.action != actionStart {
		return startResult{decision: d}, err
	}
	if tmpl.Spec.Run.Nodes != nil {
		end, err := r.startNodes(ctx, tmpl, run)
		return startResult{decision: d, end: end}, err
	}
	job, end, err := r.ensureJob(ctx, tmpl, run)
	return startResult{decision: d, job: job, end: end}, err
}

// jobState is what getJob found of the run's Job.
type jobState int

const (
	// jobNone: the run has no Job yet.
	jobNone jobState = iota
	// jobLive: the run's Job exists and runs or has finished.
	jobLive
	// jobGone: the run had a Job and it was deleted before it finished
	// (the Job returned, if any, is still being deleted).
	jobGone
	// jobForeign: a Job of the run's name exists that the run does not
	// control.
	jobForeign
)

// getJob returns a Job of the run (its Job, or one node's Job) from the
// cache and what state it is in. had says the run's status records the Job:
// a Job that the run had and the cache no longer shows is confirmed gone
// with the API server, as the cache alone may simply not have seen a Job
// created a moment ago; one it never had is jobNone.
func (r *HookRunReconciler) getJob(ctx context.Context, run *hooksv1alpha1.HookRun, name string, had bool) (*batchv1.Job, jobState, error) {
	key := types.NamespacedName{Namespace: run.Namespace, Name: name}
	job := &batchv1.Job{}
	err := r.Get(ctx, key, job)
	switch {
	case apierrors.IsNotFound(err) && !had:
		return nil, jobNone, nil
	case apierrors.IsNotFound(err):
		err = r.APIReader.Get(ctx, key, job)
		if apierrors.IsNotFound(err) {
			return nil, jobGone, nil
		}
		if err != nil {
			return nil, jobNone, fmt.Errorf("get Job %s from the API server: %w", key, err)
		}
	case err != nil:
		return nil, jobNone, fmt.Errorf("get Job %s: %w", key, err)
	}
	switch {
	case !metav1.IsControlledBy(job, run):
		return nil, jobForeign, nil
	case jobBeingDeleted(job):
		return job, jobGone, nil
	}
	return job, jobLive, nil
}

// jobConflict ends a run whose Job's name is taken by a Job it does not
// control: hookrun never adopts or overwrites somebody else's Job.
func jobConflict(name string) *ending {
	return failed(hooksv1alpha1.ReasonJobConflict, fmt.Sprintf("a Job named %s exists and is not controlled by this HookRun", name))
}

// jobBeingDeleted is true for a Job that somebody deleted before it
// finished. It may linger for a while (orphan or foreground deletion waits
// for the garbage collector) but it will not run to completion.
func jobBeingDeleted(job *batchv1.Job) bool {
	return job.DeletionTimestamp != nil && !outcomeOf(job).phase.IsFinished()
}

// resolveTemplate returns the run's template, or an ending when the
// template does not exist. It also makes a run created by hand look like
// one from the webhook server: labelled and owned by its template, so that
// history and garbage collection treat both alike. That metadata patch
// moves the run's resourceVersion: orig follows, so that the status patch
// locks on the version that patch returned, not on the one read before.
func (r *HookRunReconciler) resolveTemplate(ctx context.Context, orig, run *hooksv1alpha1.HookRun) (*hooksv1alpha1.HookTemplate, *ending, error) {
	tmpl := &hooksv1alpha1.HookTemplate{}
	key := types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.TemplateRef.Name}
	if err := r.Get(ctx, key, tmpl); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, failed(hooksv1alpha1.ReasonTemplateNotFound, fmt.Sprintf("HookTemplate %s not found", key)), nil
		}
		return nil, nil, fmt.Errorf("get HookTemplate %s: %w", key, err)
	}
	if run.Labels[hooksv1alpha1.LabelTemplate] == tmpl.Name && metav1.IsControlledBy(run, tmpl) {
		return tmpl, nil, nil
	}
	meta := &hooksv1alpha1.HookRun{ObjectMeta: *run.ObjectMeta.DeepCopy(), TypeMeta: run.TypeMeta}
	base := meta.DeepCopy()
	if meta.Labels == nil {
		meta.Labels = map[string]string{}
	}
	meta.Labels[hooksv1alpha1.LabelTemplate] = tmpl.Name
	if metav1.GetControllerOf(meta) == nil {
		if err := controllerutil.SetControllerReference(tmpl, meta, r.Scheme); err != nil {
			return nil, nil, fmt.Errorf("set owner of HookRun %s: %w", run.Name, err)
		}
	}
	if err := r.Patch(ctx, meta, client.MergeFrom(base)); err != nil {
		return nil, nil, fmt.Errorf("label HookRun %s with its template: %w", run.Name, err)
	}
	for _, obj := range []*hooksv1alpha1.HookRun{orig, run} {
		obj.Labels, obj.OwnerReferences, obj.ResourceVersion = meta.Labels, meta.OwnerReferences, meta.ResourceVersion
	}
	return tmpl, nil, nil
}

// ensureJob creates the run's Job. The Job's name is derived from the run,
// so a repeated create (a second reconcile, a restarted manager, a stale
// cache) hits AlreadyExists and finds the Job that is already there. A Job
// the API server refuses, or one of the same name that the run does not
// control, ends the run.
func (r *HookRunReconciler) ensureJob(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) (*batchv1.Job, *ending, error) {
	return r.createJob(ctx, tmpl, run, BuildJob(tmpl, run))
}

// createJob creates a Job built for the run (ensureJob), labelled with the
// run's concurrency group and controlled by the run.
func (r *HookRunReconciler) createJob(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun, job *batchv1.Job) (*batchv1.Job, *ending, error) {
	job.Labels[hooksv1alpha1.LabelGroup] = groupLabel(groupKey(tmpl, run))
	if err := controllerutil.SetControllerReference(run, job, r.Scheme); err != nil {
		return nil, nil, fmt.Errorf("set owner of Job %s: %w", job.Name, err)
	}
	err := r.Create(ctx, job)
	switch {
	case err == nil:
		logf.FromContext(ctx).V(1).Info("created Job", "job", job.Name)
	case apierrors.IsAlreadyExists(err):
		existing := &batchv1.Job{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(job), existing); err != nil {
			return nil, nil, fmt.Errorf("get existing Job %s: %w", job.Name, err)
		}
		if !metav1.IsControlledBy(existing, run) {
			return nil, jobConflict(existing.Name), nil
		}
		job = existing
	case apierrors.IsInvalid(err):
		// The template produced a Job the API server refuses (e.g. a bad
		// podTemplate). Retrying cannot help: fail the run with the reason.
		return nil, failed(hooksv1alpha1.ReasonInvalidTemplate, err.Error()), nil
	default:
		return nil, nil, fmt.Errorf("create Job %s: %w", job.Name, err)
	}
	return job, nil, nil
}

// mirrorJob copies the Job's outcome into the run's status.
func (r *HookRunReconciler) mirrorJob(ctx context.Context, run *hooksv1alpha1.HookRun, job *batchv1.Job) error {
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
		setPhase(run, out.phase, out.reason, "")
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
	r.finish(run, ending{phase: out.phase, reason: out.reason, message: message})
	return nil
}

// lastAttemptResult reads the exit code and the redacted output tail of a
// failed run's last attempt from its pods, straight from the API server:
// hookrun caches no pods.
func (r *HookRunReconciler) lastAttemptResult(ctx context.Context, run *hooksv1alpha1.HookRun, job *batchv1.Job) (containerResult, error) {
	selector := client.MatchingLabels{hooksv1alpha1.LabelRun: run.Name}
	if len(run.Status.Nodes) > 0 {
		// A run on every node has a Job per node: only this Job's pods
		// (the job controller labels every pod with its Job's name).
		selector[batchv1.JobNameLabel] = job.Name
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(run.Namespace), selector); err != nil {
		return containerResult{}, fmt.Errorf("list pods of Job %s: %w", job.Name, err)
	}
	// The output becomes status.message and an Event: redact it whole,
	// before lastRunContainerResult cuts it to its tail.
	red, err := r.redactorOf(ctx, run, job)
	if err != nil {
		return containerResult{}, err
	}
	redactTerminationMessages(pods.Items, red)
	return lastRunContainerResult(pods.Items), nil
}

// cancel stops every Job the run has, whatever its status records: a run
// on every node creates its node Jobs before its status shows them, and
// a cancel may come in between. The run ends Cancelled.
func (r *HookRunReconciler) cancel(ctx context.Context, run *hooksv1alpha1.HookRun) (*ending, error) {
	if err := r.deleteJobsOfRun(ctx, run); err != nil {
		return nil, err
	}
	return &ending{phase: hooksv1alpha1.PhaseCancelled, reason: hooksv1alpha1.ReasonCancelledByUser, message: "cancelled by setting spec.cancel"}, nil
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
		// A deleted node ends the entries of the runs that wait for it
		// (NodeGone). Nodes are watched by metadata only, deletes only,
		// and reach only the runs that the node index names.
		WatchesMetadata(nodeMeta(), handler.EnqueueRequestsFromMapFunc(r.runsOnNode),
			builder.WithPredicates(onlyDeletes())).
		// suspend or concurrency changed on the template.
		Watches(&hooksv1alpha1.HookTemplate{}, enqueueWakeUps(r.waitingRunsOfTemplate),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("hookrun").
		Complete(r)
}
