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
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// runsToPrune returns the finished runs beyond the template's history limits,
// oldest first: succeeded runs beyond history.succeeded, and failed,
// cancelled or skipped runs beyond history.failed. Unfinished runs are never
// pruned.
func runsToPrune(history hooksv1alpha1.HistorySpec, runs []*hooksv1alpha1.HookRun) []*hooksv1alpha1.HookRun {
	var succeeded, failed []*hooksv1alpha1.HookRun
	for _, run := range runs {
		switch {
		case run.DeletionTimestamp != nil || !run.Status.Phase.IsFinished():
		case run.Status.Phase == hooksv1alpha1.PhaseSucceeded:
			succeeded = append(succeeded, run)
		default:
			failed = append(failed, run)
		}
	}
	var prune []*hooksv1alpha1.HookRun
	for _, kept := range []struct {
		runs  []*hooksv1alpha1.HookRun
		limit int32
	}{
		{succeeded, ptr.Deref(history.Succeeded, 10)},
		{failed, ptr.Deref(history.Failed, 20)},
	} {
		sortByDelivery(kept.runs)
		if excess := len(kept.runs) - int(max(kept.limit, 0)); excess > 0 {
			prune = append(prune, kept.runs[:excess]...)
		}
	}
	sortByDelivery(prune)
	return prune
}
