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

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// How admission stays race-free.
//
// The queue is the set of HookRun objects, not memory: every decision is
// recomputed from the API, so it survives restarts and leader changes.
//
// Within the manager, several HookRuns reconcile in parallel. Admission for a
// template is serialised by a per-template mutex held from the decision until
// the Job has been created, and the decision counts active Jobs from a LIST
// against the API server, not from the cache. So when the next run of the
// group decides, the Job of the previous one is already visible to it, even
// if the cache has not caught up.
//
// Across replicas, only the elected leader runs reconcilers
// (--leader-elect); a replica that loses its lease exits at once
// (controller-runtime's default), so two managers never admit at the same
// time for longer than the lease's renew deadline.
//
// Allow takes no lock: its runs never contend.

// keyedMutex is a set of mutexes, one per key, created on first use.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// lock locks the key's mutex and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*sync.Mutex{}
	}
	m, ok := k.locks[key]
	if !ok {
		m = &sync.Mutex{}
		k.locks[key] = m
	}
	k.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// needsAdmission is false when a run may start without looking at others.
func needsAdmission(tmpl *hooksv1alpha1.HookTemplate) bool {
	return tmpl.Spec.Suspend || tmpl.Spec.Concurrency.Policy != hooksv1alpha1.ConcurrencyAllow
}

// admit applies the template's concurrency policy and suspend flag to a run
// that has no Job yet, and stops the runs a Replace supersedes. The caller
// holds the template's lock until the Job exists.
func (r *HookRunReconciler) admit(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) (decision, error) {
	if !needsAdmission(tmpl) {
		return decision{action: actionStart}, nil
	}
	group := groupKey(tmpl, run)
	state, err := r.groupState(ctx, tmpl, run, group)
	if err != nil {
		return decision{}, err
	}
	d := decide(tmpl.Spec.Concurrency, tmpl.Spec.Suspend, run.Name, state)
	if d.action == actionStart {
		for _, name := range d.cancel {
			if err := r.supersede(ctx, tmpl, name, run.Name); err != nil {
				return decision{}, err
			}
		}
	}
	return d, nil
}

// skipped is how admission's skip ends a run.
func skipped(d decision) ending {
	message := "another run of the group is active"
	if d.reason == hooksv1alpha1.ReasonSuperseded {
		message = "a newer delivery of the group superseded this run"
	}
	return ending{phase: hooksv1alpha1.PhaseSkipped, reason: d.reason, message: message}
}

// queuedMessage says where a queued run stands.
func queuedMessage(tmpl *hooksv1alpha1.HookTemplate, d decision) string {
	where := fmt.Sprintf("position %d", d.position)
	if d.position == 0 {
		where = fmt.Sprintf("more than %d runs ahead", queuePositionWindow)
	}
	if d.reason == hooksv1alpha1.ReasonTemplateSuspended {
		return fmt.Sprintf("template %s is suspended: %s", tmpl.Name, where)
	}
	return "waiting: " + where + " in the queue"
}

// groupState gathers the run's concurrency group: runs from the cache, Jobs
// from the API server (see "How admission stays race-free"). A run that the
// cache already shows cannot start is queued from the cache alone, without
// the LIST: see cacheDecides.
func (r *HookRunReconciler) groupState(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, self *hooksv1alpha1.HookRun, group string) (groupState, error) {
	runs := &hooksv1alpha1.HookRunList{}
	if err := r.List(ctx, runs, client.InNamespace(tmpl.Namespace),
		client.MatchingFields{hooksv1alpha1.IndexRunTemplate: tmpl.Name}); err != nil {
		return groupState{}, fmt.Errorf("list HookRuns of template %s: %w", tmpl.Name, err)
	}
	if state, ok := cacheDecides(tmpl, self, group, runs.Items); ok {
		return state, nil
	}

	jobs := &batchv1.JobList{}
	if err := r.APIReader.List(ctx, jobs, client.InNamespace(tmpl.Namespace), client.MatchingLabels{
		hooksv1alpha1.LabelTemplate: tmpl.Name,
		hooksv1alpha1.LabelGroup:    groupLabel(group),
	}); err != nil {
		return groupState{}, fmt.Errorf("list Jobs of template %s: %w", tmpl.Name, err)
	}
	return groupFromJobs(tmpl, self, group, jobs.Items, runs.Items), nil
}

// groupFromJobs is the group's state from its Jobs (listed from the API
// server) and its runs (from the cache). A run is active while it has a
// Job that has not finished; a run on every node counts once however many
// of its Jobs run, and stays active between one node's Job ending and the
// next one's create (nodesUnfinished).
func groupFromJobs(tmpl *hooksv1alpha1.HookTemplate, self *hooksv1alpha1.HookRun, group string, jobs []batchv1.Job, runs []hooksv1alpha1.HookRun) groupState {
	var state groupState
	hasJob := map[string]bool{}
	active := map[string]bool{}
	for i := range jobs {
		job := &jobs[i]
		owner := job.Labels[hooksv1alpha1.LabelRun]
		hasJob[owner] = true
		if job.DeletionTimestamp == nil && !outcomeOf(job).phase.IsFinished() && owner != self.Name && !active[owner] {
			active[owner] = true
			state.active = append(state.active, owner)
		}
	}

	state.waiting = append(state.waiting, self)
	for i := range runs {
		run := &runs[i]
		switch {
		case run.Name == self.Name:
		case hasJob[run.Name]:
			state.startedAfter = state.startedAfter || deliveredBefore(self, run)
			if nodesUnfinished(run) && !active[run.Name] {
				state.active = append(state.active, run.Name)
			}
		case isWaiting(run) && groupKey(tmpl, run) == group:
			state.waiting = append(state.waiting, run)
		}
	}
	sortByDelivery(state.waiting)
	return state
}

// cacheDecides returns the group's state from the cache alone when that is
// enough to know that the run cannot start: it is suspended, or it is a
// Queue (pending=All) run with at least maxRunning runs waiting ahead of it.
// The cache may lag behind the API server, but only in one direction that
// matters here: a run it still shows waiting may already have a Job. That
// run then holds or held a slot, so the run being decided could only start
// if that Job had already finished — and then the run's phase change wakes
// this run again (watches.go) to decide anew. Queued is never final, so a
// conservative answer from the cache loses nothing, while a start always
// goes through the LIST. The active count, from the runs' status, only
// shapes the position shown.
func cacheDecides(tmpl *hooksv1alpha1.HookTemplate, self *hooksv1alpha1.HookRun, group string, runs []hooksv1alpha1.HookRun) (groupState, bool) {
	if !queuesInDeliveryOrder(tmpl) {
		return groupState{}, false
	}
	state := groupState{waiting: []*hooksv1alpha1.HookRun{self}}
	for i := range runs {
		run := &runs[i]
		if run.Name == self.Name || groupKey(tmpl, run) != group {
			continue
		}
		switch {
		case isWaiting(run):
			state.waiting = append(state.waiting, run)
		case run.Status.JobName != "" && !run.Status.Phase.IsFinished() && run.DeletionTimestamp == nil:
			state.active = append(state.active, run.Name)
		}
	}
	sortByDelivery(state.waiting)
	if tmpl.Spec.Suspend {
		return state, true
	}
	ahead := slices.IndexFunc(state.waiting, func(run *hooksv1alpha1.HookRun) bool { return run.Name == self.Name })
	return state, ahead >= runSlots(tmpl.Spec.Concurrency)
}

// nodesUnfinished is true for a run on every node that has started and not
// ended. The cache may show it as it was a moment ago; only one direction
// of that lag reaches here: a run the cache still shows unfinished keeps its
// slot a moment longer, and its phase change wakes the waiting runs.
func nodesUnfinished(run *hooksv1alpha1.HookRun) bool {
	return len(run.Status.Nodes) > 0 && !run.Status.Phase.IsFinished() && run.DeletionTimestamp == nil
}

// isWaiting is true for a run that has not started and is still to decide.
func isWaiting(run *hooksv1alpha1.HookRun) bool {
	return run.DeletionTimestamp == nil && !run.Spec.Cancel && !run.Status.Phase.IsFinished() && run.Status.JobName == ""
}

// supersede ends an active run Cancelled/Superseded and stops its Job. The
// run's status is written first, through the same writer as the run's own
// reconcile (optimistic lock, Event, metrics), so that its own reconcile
// sees "cancelled" rather than "Job deleted by hand". A run on every node
// has a Job per node: every Job the API server lists for it is stopped.
func (r *HookRunReconciler) supersede(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, name, by string) error {
	namespace := tmpl.Namespace
	victim := &hooksv1alpha1.HookRun{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, victim); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("get superseded HookRun %s: %w", name, err)
	}
	if !victim.Status.Phase.IsFinished() {
		orig := victim.DeepCopy()
		cancelEntries(victim, hooksv1alpha1.ReasonSuperseded)
		r.finish(victim, ending{phase: hooksv1alpha1.PhaseCancelled, reason: hooksv1alpha1.ReasonSuperseded, message: "replaced by the newer run " + by})
		if err := r.writeStatus(ctx, orig.ResourceVersion, orig, victim); err != nil {
			return fmt.Errorf("cancel superseded HookRun %s: %w", name, err)
		}
	}
	logf.FromContext(ctx).Info("stopping superseded run", "superseded", name)
	return r.deleteJobsOfRun(ctx, victim)
}
