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
	"sort"

	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// queuePositionWindow is how many waiting runs of a group, counted from the
// front of the queue, show an exact status.queuePosition. Every start moves
// each waiting run up by one: keeping every position exact would cost a
// reconcile and a status write per waiting run per start, O(depth²) for a
// queue of depth runs. Within the window the cost per start is bounded; a
// run further back shows position 0 ("more than queuePositionWindow runs
// ahead", status.message says so) until it enters the window.
const queuePositionWindow = 10

// windowedPosition is the position a run shows: exact within the window, 0
// beyond it.
func windowedPosition(position int) int32 {
	if position > queuePositionWindow {
		return 0
	}
	return int32(position)
}

// runSlots is how many runs of a group may be active at once under Queue.
func runSlots(spec hooksv1alpha1.ConcurrencySpec) int {
	return int(ptr.Deref(spec.MaxRunning, 1))
}

// queuesInDeliveryOrder is true when a template's waiting runs form a queue
// in delivery order, oldest first, with positions counted from its front:
// Queue with pending=All, and any suspended template.
func queuesInDeliveryOrder(tmpl *hooksv1alpha1.HookTemplate) bool {
	spec := tmpl.Spec.Concurrency
	return tmpl.Spec.Suspend || (spec.Policy == hooksv1alpha1.ConcurrencyQueue && spec.Pending != hooksv1alpha1.PendingLatest)
}

// action is what admission decided for a run that has no Job yet.
type action int

const (
	// actionStart creates the run's Job now.
	actionStart action = iota
	// actionQueue keeps the run waiting for its turn.
	actionQueue
	// actionSkip ends the run without a Job.
	actionSkip
)

// decision is the outcome of admission for one run.
type decision struct {
	action   action
	reason   string
	position int32
	// cancel names the active runs whose Jobs must stop first (Replace).
	cancel []string
}

// groupState is what admission knows about one concurrency group.
type groupState struct {
	// active are the runs of the group whose Jobs have not finished.
	active []string
	// waiting are the group's unfinished runs without a Job, the run being
	// decided included, in delivery order (oldest first).
	waiting []*hooksv1alpha1.HookRun
	// startedAfter is true when a run delivered after the one being decided
	// already has a Job: under pending=Latest that run supersedes it.
	startedAfter bool
}

// deliveredBefore orders runs by creation time, then name: delivery order.
func deliveredBefore(a, b *hooksv1alpha1.HookRun) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// sortByDelivery orders runs by creation time, then name: delivery order.
func sortByDelivery(runs []*hooksv1alpha1.HookRun) {
	sort.SliceStable(runs, func(i, j int) bool { return deliveredBefore(runs[i], runs[j]) })
}

// decide applies the template's concurrency policy to one waiting run. It is
// pure: the reconciler gathers the group's state (under a per-template lock,
// with Jobs read from the API server) and carries out the decision.
func decide(spec hooksv1alpha1.ConcurrencySpec, suspended bool, self string, state groupState) decision {
	index := -1
	for i, run := range state.waiting {
		if run.Name == self {
			index = i
			break
		}
	}
	if index < 0 { // not waiting (cannot happen: the caller adds itself)
		return decision{action: actionQueue, reason: hooksv1alpha1.ReasonQueued}
	}
	if suspended {
		return decision{action: actionQueue, reason: hooksv1alpha1.ReasonTemplateSuspended, position: windowedPosition(index + 1)}
	}
	newest := index == len(state.waiting)-1

	switch spec.Policy {
	case hooksv1alpha1.ConcurrencyAllow:
		return decision{action: actionStart}
	case hooksv1alpha1.ConcurrencyForbid:
		// Only the oldest waiting run may start, and only when nothing runs:
		// the others would overlap with it.
		if len(state.active) > 0 || index > 0 {
			return decision{action: actionSkip, reason: hooksv1alpha1.ReasonConcurrentRunActive}
		}
		return decision{action: actionStart}
	case hooksv1alpha1.ConcurrencyReplace:
		// The newest delivery wins: it cancels what runs, and older waiting
		// runs are superseded rather than started after it.
		if !newest {
			return decision{action: actionSkip, reason: hooksv1alpha1.ReasonSuperseded}
		}
		return decision{action: actionStart, cancel: state.active}
	}

	// Queue (the default).
	free := runSlots(spec) - len(state.active)
	if spec.Pending == hooksv1alpha1.PendingLatest {
		fromNewest := len(state.waiting) - 1 - index
		switch {
		case state.startedAfter:
			return decision{action: actionSkip, reason: hooksv1alpha1.ReasonSuperseded}
		case fromNewest < free:
			return decision{action: actionStart}
		case free > 0:
			return decision{action: actionSkip, reason: hooksv1alpha1.ReasonSuperseded}
		}
		return decision{action: actionQueue, reason: hooksv1alpha1.ReasonQueued, position: int32(fromNewest + 1)}
	}
	if index < free {
		return decision{action: actionStart}
	}
	return decision{action: actionQueue, reason: hooksv1alpha1.ReasonQueued, position: windowedPosition(index - max(free, 0) + 1)}
}

// groupKey is the run's concurrency group key (delivery.GroupKey).
func groupKey(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) string {
	return delivery.GroupKey(tmpl, run)
}

// groupLabel is a group key as a label value (delivery.GroupLabel).
func groupLabel(key string) string {
	return delivery.GroupLabel(key)
}
