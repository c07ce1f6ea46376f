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
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

var (
	cacheT0  = metav1.NewTime(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	cacheT1  = metav1.NewTime(cacheT0.Add(42 * time.Second))
	cacheRun = &hooksv1alpha1.HookRun{ObjectMeta: metav1.ObjectMeta{Name: "site-00ca00001", Namespace: "web", UID: "run-uid-1"}}
)

// serverJob is the Job of cacheRun as the API server stores it: what
// BuildJob makes, owned by the run, with the labels, selector, identity and
// managedFields that the API server adds.
func serverJob(mutate func(*batchv1.Job)) *batchv1.Job {
	tmpl := newTemplate("web", "site")
	job := BuildJob(tmpl, newRun("web", "site", cacheRun.Name))
	job.Labels[hooksv1alpha1.LabelGroup] = groupLabel("")
	for _, key := range []string{"batch.kubernetes.io/controller-uid", "controller-uid"} {
		job.Labels[key] = "job-uid-1"
	}
	for _, key := range []string{"batch.kubernetes.io/job-name", "job-name"} {
		job.Labels[key] = job.Name
	}
	job.Annotations = map[string]string{"example.com/note": "made by hookrun"}
	job.UID, job.ResourceVersion, job.Generation, job.CreationTimestamp = "job-uid-1", "4711", 1, cacheT0
	job.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: hooksv1alpha1.GroupVersion.String(), Kind: "HookRun", Name: cacheRun.Name, UID: cacheRun.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}}
	job.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "hookrun", Operation: metav1.ManagedFieldsOperationUpdate}}
	job.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "job-uid-1"}}
	if mutate != nil {
		mutate(job)
	}
	return job
}

func jobCondition(typ batchv1.JobConditionType, reason, message string) batchv1.JobCondition {
	return batchv1.JobCondition{Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastProbeTime: cacheT1, LastTransitionTime: cacheT1}
}

func mustStrip[T any](t *testing.T, transform func(any) (any, error), in T) T {
	t.Helper()
	out, err := transform(in)
	if err != nil {
		t.Fatalf("transform: %v", err)
	}
	return out.(T)
}

// TestStripJob checks that the HookRun reconciler reads a stripped Job as
// it reads the whole one: same outcome, same "being deleted", same owner.
func TestStripJob(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
	}{
		{name: "created"},
		{name: "running", mutate: func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Active: 1, Ready: ptr.To[int32](1), Terminating: ptr.To[int32](0)}
		}},
		{name: "retrying", mutate: func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Active: 1, Failed: 1, Ready: ptr.To[int32](0),
				UncountedTerminatedPods: &batchv1.UncountedTerminatedPods{Failed: []types.UID{"pod-1"}}}
		}},
		{name: "success criteria met only", mutate: func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Succeeded: 1, Terminating: ptr.To[int32](1),
				Conditions: []batchv1.JobCondition{jobCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, "")}}
		}},
		{name: "complete", mutate: func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, CompletionTime: &cacheT1, Succeeded: 1, Conditions: []batchv1.JobCondition{
				jobCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, ""),
				jobCondition(batchv1.JobComplete, batchv1.JobReasonCompletionsReached, ""),
			}}
		}},
		{name: "complete without completionTime", mutate: func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Succeeded: 1, Conditions: []batchv1.JobCondition{
				jobCondition(batchv1.JobComplete, batchv1.JobReasonCompletionsReached, ""),
			}}
		}},
		{name: "failure target only", mutate: func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Failed: 2, Terminating: ptr.To[int32](1), Conditions: []batchv1.JobCondition{
				jobCondition(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"),
			}}
		}},
		{name: "failed", mutate: func(j *batchv1.Job) {
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Failed: 2, Conditions: []batchv1.JobCondition{
				jobCondition(batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline"),
				jobCondition(batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline"),
			}}
		}},
		{name: "failed, false conditions first", mutate: func(j *batchv1.Job) {
			stale := jobCondition(batchv1.JobComplete, "", "")
			stale.Status = corev1.ConditionFalse
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Failed: 1, Conditions: []batchv1.JobCondition{
				stale, jobCondition(batchv1.JobFailed, "", "pod failed"),
			}}
		}},
		{name: "deleted while running", mutate: func(j *batchv1.Job) {
			j.DeletionTimestamp, j.Finalizers = &cacheT1, []string{"orphan"}
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, Active: 1}
		}},
		{name: "deleted after it completed", mutate: func(j *batchv1.Job) {
			j.DeletionTimestamp = &cacheT1
			j.Status = batchv1.JobStatus{StartTime: &cacheT0, CompletionTime: &cacheT1, Succeeded: 1, Conditions: []batchv1.JobCondition{
				jobCondition(batchv1.JobComplete, batchv1.JobReasonCompletionsReached, ""),
			}}
		}},
		{name: "controlled by another run", mutate: func(j *batchv1.Job) { j.OwnerReferences[0].UID = "someone-else" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := serverJob(tt.mutate)
			stripped := mustStrip(t, stripJob, full.DeepCopy())

			if diff := cmp.Diff(outcomeOf(full), outcomeOf(stripped), cmp.AllowUnexported(jobOutcome{})); diff != "" {
				t.Errorf("outcomeOf differs on the stripped Job (-whole +stripped):\n%s", diff)
			}
			if got, want := jobBeingDeleted(stripped), jobBeingDeleted(full); got != want {
				t.Errorf("jobBeingDeleted = %v on the stripped Job, %v on the whole one", got, want)
			}
			if got, want := metav1.IsControlledBy(stripped, cacheRun), metav1.IsControlledBy(full, cacheRun); got != want {
				t.Errorf("IsControlledBy = %v on the stripped Job, %v on the whole one", got, want)
			}
			// What identifies the Job, and the label waitingSiblingsOfJob reads.
			if diff := cmp.Diff(
				[]any{full.Name, full.Namespace, full.UID, full.ResourceVersion, full.DeletionTimestamp, full.OwnerReferences},
				[]any{stripped.Name, stripped.Namespace, stripped.UID, stripped.ResourceVersion, stripped.DeletionTimestamp, stripped.OwnerReferences},
			); diff != "" {
				t.Errorf("stripped Job lost metadata (-whole +stripped):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{hooksv1alpha1.LabelTemplate: "site"}, stripped.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			// What makes a cached Job large is gone.
			if !reflect.DeepEqual(stripped.Spec, batchv1.JobSpec{}) || stripped.Annotations != nil || stripped.ManagedFields != nil {
				t.Errorf("stripped Job keeps spec %v, annotations %v or managedFields %v", stripped.Spec.Template.Spec.Containers != nil, stripped.Annotations, stripped.ManagedFields)
			}
			if st := stripped.Status; st.Ready != nil || st.Terminating != nil || st.UncountedTerminatedPods != nil {
				t.Errorf("stripped Job keeps pod counters outcomeOf does not read: %+v", st)
			}
			for _, c := range stripped.Status.Conditions {
				if c.Status != corev1.ConditionTrue || (c.Type != batchv1.JobComplete && c.Type != batchv1.JobFailed) {
					t.Errorf("stripped Job keeps condition %s=%s", c.Type, c.Status)
				}
			}
			again := mustStrip(t, stripJob, stripped.DeepCopy())
			if diff := cmp.Diff(stripped, again); diff != "" {
				t.Errorf("stripJob is not idempotent (-once +twice):\n%s", diff)
			}
		})
	}
}

// serverRun is a run as the API server stores it after the webhook server
// created it, kubectl annotated it and the reconciler gave it status.
func serverRun(name string, phase hooksv1alpha1.HookRunPhase, mutate func(*hooksv1alpha1.HookRun)) *hooksv1alpha1.HookRun {
	run := newRun("web", "site", name)
	received := cacheT0
	run.Spec.Delivery.Before, run.Spec.Delivery.Sender = "76543210fedcba9876543210fedcba9876543210", "octocat"
	run.Spec.Delivery.CloneURL, run.Spec.Delivery.ReceivedAt = "https://github.com/acme/site.git", &received
	run.Spec.Params = map[string]string{"ENV": "prod", "PUSHER": "octocat"}
	run.Labels = map[string]string{hooksv1alpha1.LabelTemplate: "site"}
	run.Annotations = map[string]string{lastAppliedAnnotation: `{"kind":"HookRun"}`, "example.com/note": "replayed"}
	run.UID, run.ResourceVersion, run.Generation, run.CreationTimestamp = types.UID(name+"-uid"), "815", 1, cacheT0
	run.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: hooksv1alpha1.GroupVersion.String(), Kind: "HookTemplate", Name: "site", UID: "tmpl-uid",
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}}
	run.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "hookrun", Operation: metav1.ManagedFieldsOperationUpdate}}
	run.Status = hooksv1alpha1.HookRunStatus{ObservedGeneration: 1, Phase: phase, ShortSHA: "0123456", Reason: "Because",
		Message: "run is " + string(phase),
		Conditions: []metav1.Condition{{Type: hooksv1alpha1.ConditionSucceeded, Status: metav1.ConditionUnknown, Reason: "Because",
			Message: "run is " + string(phase), ObservedGeneration: 1, LastTransitionTime: cacheT0}},
	}
	if phase != hooksv1alpha1.PhasePending && phase != hooksv1alpha1.PhaseQueued {
		run.Status.JobName, run.Status.StartTime, run.Status.Attempts = name, &cacheT0, 1
	}
	if phase.IsFinished() {
		run.Status.CompletionTime, run.Status.ExitCode = &cacheT1, ptr.To[int32](1)
	}
	if mutate != nil {
		mutate(run)
	}
	return run
}

// TestStripRun pins what the cache keeps of a run: an unfinished run
// whole, a finished one without its delivery, params, message, conditions,
// annotations and labels other than the template's.
func TestStripRun(t *testing.T) {
	output := strings.Repeat("error: deploy failed\n", 100)
	tests := []struct {
		name     string
		run      *hooksv1alpha1.HookRun
		finished bool
	}{
		{name: "new", run: serverRun("site-1", "", func(r *hooksv1alpha1.HookRun) { r.Status = hooksv1alpha1.HookRunStatus{} })},
		{name: "pending, no Job", run: serverRun("site-2", hooksv1alpha1.PhasePending, nil)},
		{name: "queued", run: serverRun("site-3", hooksv1alpha1.PhaseQueued, func(r *hooksv1alpha1.HookRun) { r.Status.QueuePosition = 3 })},
		{name: "pending, Job created", run: serverRun("site-4", hooksv1alpha1.PhasePending, func(r *hooksv1alpha1.HookRun) { r.Status.JobName = r.Name })},
		{name: "running", run: serverRun("site-5", hooksv1alpha1.PhaseRunning, nil)},
		{name: "running, cancel asked", run: serverRun("site-6", hooksv1alpha1.PhaseRunning, func(r *hooksv1alpha1.HookRun) { r.Spec.Cancel = true })},
		{name: "running, labels of its own", run: serverRun("site-7", hooksv1alpha1.PhaseRunning, func(r *hooksv1alpha1.HookRun) {
			r.Labels["team"] = "web"
		})},
		{name: "succeeded", finished: true, run: serverRun("site-8", hooksv1alpha1.PhaseSucceeded, nil)},
		{name: "failed with output", finished: true, run: serverRun("site-9", hooksv1alpha1.PhaseFailed, func(r *hooksv1alpha1.HookRun) {
			r.Status.Message, r.Status.Conditions[0].Message = output, output
		})},
		{name: "cancelled", finished: true, run: serverRun("site-10", hooksv1alpha1.PhaseCancelled, nil)},
		{name: "skipped, no Job", finished: true, run: serverRun("site-11", hooksv1alpha1.PhaseSkipped, func(r *hooksv1alpha1.HookRun) {
			r.Status.JobName, r.Status.StartTime = "", nil
		})},
		{name: "running on every node", run: serverRun("site-13", hooksv1alpha1.PhaseRunning, func(r *hooksv1alpha1.HookRun) {
			r.Status.Nodes = []hooksv1alpha1.NodeRunStatus{{Name: "web-1", Phase: hooksv1alpha1.PhaseRunning, JobName: "site-13-0123456789"}}
			r.Status.NodeSummary = "0/1"
		})},
		{name: "failed on every node", finished: true, run: serverRun("site-14", hooksv1alpha1.PhaseFailed, func(r *hooksv1alpha1.HookRun) {
			r.Status.Nodes = []hooksv1alpha1.NodeRunStatus{{Name: "web-1", Phase: hooksv1alpha1.PhaseFailed, JobName: "site-14-0123456789", Message: output}}
			r.Status.NodeSummary = "0/1"
		})},
		{name: "finished, labels of its own, being deleted", finished: true, run: serverRun("site-12", hooksv1alpha1.PhaseSucceeded, func(r *hooksv1alpha1.HookRun) {
			r.Labels["team"] = "web"
			r.DeletionTimestamp, r.Finalizers = &cacheT1, []string{"example.com/keep"}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stripped := mustStrip(t, stripRun, tt.run.DeepCopy())

			want := tt.run.DeepCopy()
			want.ManagedFields = nil
			delete(want.Annotations, lastAppliedAnnotation)
			if tt.finished {
				want.Annotations = nil
				want.Labels = map[string]string{hooksv1alpha1.LabelTemplate: "site"}
				want.Spec.Delivery, want.Spec.Params = hooksv1alpha1.Delivery{Ref: tt.run.Spec.Delivery.Ref}, nil
				want.Status.Message, want.Status.Conditions = "", nil
				want.Status.Nodes = nil
			}
			if diff := cmp.Diff(want, stripped); diff != "" {
				t.Errorf("cached run (-want +got):\n%s", diff)
			}
			again := mustStrip(t, stripRun, stripped.DeepCopy())
			if diff := cmp.Diff(stripped, again); diff != "" {
				t.Errorf("stripRun is not idempotent (-once +twice):\n%s", diff)
			}
		})
	}
}

// TestStrippedRunsReadAlike runs the readers of cached runs — admission
// from the cache, the template's counts and lastRun, history pruning and
// the wake-ups of waiting runs — on whole and on stripped copies of the
// same runs: they must decide alike.
func TestStrippedRunsReadAlike(t *testing.T) {
	env := func(v string) func(*hooksv1alpha1.HookRun) {
		return func(r *hooksv1alpha1.HookRun) { r.Spec.Params["ENV"] = v }
	}
	at := func(seconds int, then func(*hooksv1alpha1.HookRun)) func(*hooksv1alpha1.HookRun) {
		return func(r *hooksv1alpha1.HookRun) {
			r.CreationTimestamp = metav1.NewTime(cacheT0.Add(time.Duration(seconds) * time.Second))
			if then != nil {
				then(r)
			}
		}
	}
	full := []*hooksv1alpha1.HookRun{
		serverRun("site-a", hooksv1alpha1.PhaseSucceeded, at(1, env("prod"))),
		serverRun("site-b", hooksv1alpha1.PhaseFailed, at(2, env("prod"))),
		serverRun("site-c", hooksv1alpha1.PhaseSucceeded, at(3, env("staging"))),
		serverRun("site-d", hooksv1alpha1.PhaseCancelled, at(4, env("prod"))),
		serverRun("site-e", hooksv1alpha1.PhaseRunning, at(5, env("prod"))),
		serverRun("site-f", hooksv1alpha1.PhaseRunning, at(6, env("staging"))),
		serverRun("site-g", hooksv1alpha1.PhaseQueued, at(7, env("prod"))),
		serverRun("site-h", hooksv1alpha1.PhaseQueued, at(8, env("staging"))),
		serverRun("site-i", hooksv1alpha1.PhasePending, at(9, env("prod"))),
		serverRun("site-j", hooksv1alpha1.PhaseSkipped, at(10, env("prod"))),
		serverRun("site-k", hooksv1alpha1.PhaseSucceeded, at(11, func(r *hooksv1alpha1.HookRun) { r.DeletionTimestamp = &cacheT1 })),
		serverRun("site-l", hooksv1alpha1.PhasePending, at(12, env("prod"))),
	}
	stripped := make([]*hooksv1alpha1.HookRun, len(full))
	for i, run := range full {
		stripped[i] = mustStrip(t, stripRun, run.DeepCopy())
	}
	items := func(runs []*hooksv1alpha1.HookRun) []hooksv1alpha1.HookRun {
		out := make([]hooksv1alpha1.HookRun, len(runs))
		for i, run := range runs {
			out[i] = *run.DeepCopy()
		}
		return out
	}
	names := func(runs []*hooksv1alpha1.HookRun) []string {
		var out []string
		for _, run := range runs {
			out = append(out, run.Name)
		}
		return out
	}

	for _, variant := range []struct {
		name string
		spec func(*hooksv1alpha1.HookTemplate)
	}{
		{name: "queue by $(ENV)", spec: func(t *hooksv1alpha1.HookTemplate) {
			t.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Group: "$(ENV)"}
		}},
		{name: "queue by $(HOOK_SHA), two at a time", spec: func(t *hooksv1alpha1.HookTemplate) {
			t.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Group: "$(HOOK_SHA)", MaxRunning: ptr.To[int32](2)}
		}},
		{name: "suspended", spec: func(t *hooksv1alpha1.HookTemplate) {
			t.Spec.Suspend = true
			t.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyForbid, Group: "$(ENV)"}
		}},
	} {
		t.Run(variant.name, func(t *testing.T) {
			tmpl := newTemplate("web", "site")
			variant.spec(tmpl)
			for i, self := range full {
				if !isWaiting(self) {
					continue
				}
				group := groupKey(tmpl, self)
				wantState, wantOK := cacheDecides(tmpl, self, group, items(full))
				gotState, gotOK := cacheDecides(tmpl, stripped[i], groupKey(tmpl, stripped[i]), items(stripped))
				if diff := cmp.Diff(
					[]any{wantOK, wantState.active, names(wantState.waiting), wantState.startedAfter},
					[]any{gotOK, gotState.active, names(gotState.waiting), gotState.startedAfter},
				); diff != "" {
					t.Errorf("cacheDecides for %s (-whole +stripped):\n%s", self.Name, diff)
				}
			}
			wantTmpl, gotTmpl := tmpl.DeepCopy(), tmpl.DeepCopy()
			summarise(wantTmpl, full)
			summarise(gotTmpl, stripped)
			if diff := cmp.Diff(wantTmpl.Status, gotTmpl.Status); diff != "" {
				t.Errorf("summarise (-whole +stripped):\n%s", diff)
			}
		})
	}

	history := hooksv1alpha1.HistorySpec{Succeeded: ptr.To[int32](1), Failed: ptr.To[int32](1)}
	if diff := cmp.Diff(names(runsToPrune(history, full)), names(runsToPrune(history, stripped))); diff != "" {
		t.Errorf("runsToPrune (-whole +stripped):\n%s", diff)
	}
	for i := range full {
		if isWaiting(full[i]) != isWaiting(stripped[i]) {
			t.Errorf("isWaiting(%s) differs on the stripped run", full[i].Name)
		}
		for j := range full {
			if deliveredBefore(full[i], full[j]) != deliveredBefore(stripped[i], stripped[j]) {
				t.Errorf("deliveredBefore(%s, %s) differs on the stripped runs", full[i].Name, full[j].Name)
			}
		}
	}
}

// resetInternedMaps empties the table of interned maps now and after the
// test.
func resetInternedMaps(t *testing.T) {
	reset := func() {
		internedMaps.Lock()
		internedMaps.byKey = map[string]map[string]string{}
		internedMaps.Unlock()
	}
	reset()
	t.Cleanup(reset)
}

// mapID identifies a map instance: equal IDs are one shared map.
func mapID(m map[string]string) uintptr { return uintptr(reflect.ValueOf(m).UnsafePointer()) }

// TestCachedLabelsAndParamsAreShared checks what makes the cache smaller
// than its objects: the runs and Jobs of one template share one label map,
// and runs share equal params maps.
func TestCachedLabelsAndParamsAreShared(t *testing.T) {
	resetInternedMaps(t) // a table that starts over mid-test would end the sharing
	job1 := mustStrip(t, stripJob, serverJob(nil))
	job2 := mustStrip(t, stripJob, serverJob(func(j *batchv1.Job) { j.Name = "site-00ca00002" }))
	running := mustStrip(t, stripRun, serverRun("site-1", hooksv1alpha1.PhaseRunning, nil))
	finished := mustStrip(t, stripRun, serverRun("site-2", hooksv1alpha1.PhaseFailed, func(r *hooksv1alpha1.HookRun) { r.Labels["team"] = "web" }))
	other := mustStrip(t, stripRun, serverRun("site-3", hooksv1alpha1.PhaseQueued, nil))
	if ids := []uintptr{mapID(job1.Labels), mapID(job2.Labels), mapID(running.Labels), mapID(finished.Labels), mapID(other.Labels)}; ids[0] == 0 ||
		ids[1] != ids[0] || ids[2] != ids[0] || ids[3] != ids[0] || ids[4] != ids[0] {
		t.Errorf("the template's runs and Jobs do not share one label map: %v", ids)
	}
	if mapID(running.Spec.Params) == 0 || mapID(running.Spec.Params) != mapID(other.Spec.Params) {
		t.Error("equal params maps are not shared")
	}
	if job1.OwnerReferences[0].Name != job1.Name || running.Status.JobName != running.Name {
		t.Error("names lost")
	}
}

func TestInternMap(t *testing.T) {
	long := strings.Repeat("x", maxInternedMapBytes)
	nine := map[string]string{}
	for i := range maxInternedMapLen + 1 {
		nine[fmt.Sprint(i)] = "v"
	}
	tests := []struct {
		name string
		a, b map[string]string
		// shared: a and b intern to one map; none: a is not interned.
		shared, none bool
	}{
		{name: "equal maps", a: map[string]string{"k": "v", "l": "w"}, b: map[string]string{"l": "w", "k": "v"}, shared: true},
		{name: "one entry each", a: map[string]string{"a": "b"}, b: map[string]string{"a": "c"}},
		{name: "separator in a key", a: map[string]string{"a:b": "c"}, b: map[string]string{"a": "b:c"}},
		{name: "lengths in a key", a: map[string]string{"1:a": ""}, b: map[string]string{"1": "a"}},
		{name: "empty value", a: map[string]string{"ab": ""}, b: map[string]string{"a": "b"}},
		{name: "empty", a: map[string]string{}, none: true},
		{name: "too many entries", a: nine, none: true},
		{name: "too long", a: map[string]string{"k": long}, none: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := internMap(tt.a)
			if tt.none {
				if a != nil {
					t.Fatalf("internMap(%v) = %v, want nil", tt.a, a)
				}
				return
			}
			b := internMap(tt.b)
			if diff := cmp.Diff(tt.a, a); diff != "" {
				t.Errorf("interned a (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.b, b); diff != "" {
				t.Errorf("interned b (-want +got):\n%s", diff)
			}
			if again := internMap(tt.a); mapID(again) != mapID(a) {
				t.Error("a second internMap of a is another map")
			}
			if got := mapID(a) == mapID(b); got != tt.shared {
				t.Errorf("a and b shared = %v, want %v", got, tt.shared)
			}
		})
	}
}

func TestInternMapTableIsBounded(t *testing.T) {
	resetInternedMaps(t)
	for i := range maxInternedMaps + 10 {
		internMap(map[string]string{"bounded": fmt.Sprint(i)})
	}
	internedMaps.Lock()
	n := len(internedMaps.byKey)
	internedMaps.Unlock()
	if n > maxInternedMaps {
		t.Errorf("intern table holds %d maps, more than %d", n, maxInternedMaps)
	}
}

// TestCachedFinishedRunKeepsServerData runs a run to Failed with the
// manager's cache options and checks that the cache holds the stripped run
// and Job, that reconciling the run and its template from them writes
// nothing to the run, and that a status patch computed from the stripped
// copy leaves what the cache dropped on the server.
func TestCachedFinishedRunKeepsServerData(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	var mgr ctrl.Manager
	startManager(t, ns, func(m ctrl.Manager) error { mgr = m; return setupAll(m) })
	tmpl := newTemplate(ns, "site")
	create(t, tmpl)
	run := newRun(ns, "site", "site-cache00001")
	run.Spec.Params = map[string]string{"PUSHER": "octocat"}
	create(t, run)
	key := client.ObjectKeyFromObject(run)
	cached := mgr.GetClient()
	runReconciler := &HookRunReconciler{Client: cached, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("hookrun"), Now: time.Now}

	waitForJob(t, ns, run.Name)
	updateJobStatus(t, ns, run.Name, jobStarted)
	running := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseRunning)
	g.Eventually(func(g Gomega) {
		got, job := &hooksv1alpha1.HookRun{}, &batchv1.Job{}
		g.Expect(cached.Get(ctx, key, got)).To(Succeed())
		g.Expect(got.ResourceVersion).To(Equal(running.ResourceVersion))
		g.Expect(got.Spec.Params).To(Equal(run.Spec.Params), "an unfinished run is cached whole")
		g.Expect(got.Status.Conditions).To(HaveLen(1))
		g.Expect(cached.Get(ctx, key, job)).To(Succeed())
		g.Expect(job.Status.StartTime).NotTo(BeNil())
		g.Expect(job.Spec.Template.Spec.Containers).To(BeEmpty(), "the Job's spec is not cached")
		g.Expect(job.Labels).To(Equal(map[string]string{hooksv1alpha1.LabelTemplate: "site"}))
	}, timeout, poll).Should(Succeed())
	// Resync against the stripped Job: nothing to write.
	_, err := runReconciler.Reconcile(ctx, reconcile.Request{NamespacedName: key})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(getRun(g, ns, run.Name).ResourceVersion).To(Equal(running.ResourceVersion), "a resync of a running run wrote to it")

	createTerminatedPod(t, ns, run.Name, run.Name+"-a", time.Now(), 3, "step 2 failed\n")
	updateJobStatus(t, ns, run.Name, jobFailed(batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"))
	failed := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(failed.Status.Message).NotTo(BeEmpty())
	g.Expect(failed.Status.Conditions).NotTo(BeEmpty())

	stripped := &hooksv1alpha1.HookRun{}
	g.Eventually(func(g Gomega) {
		g.Expect(cached.Get(ctx, key, stripped)).To(Succeed())
		g.Expect(stripped.ResourceVersion).To(Equal(failed.ResourceVersion))
	}, timeout, poll).Should(Succeed())
	g.Expect(stripped.Status.Message).To(BeEmpty(), "the cache keeps a finished run's message")
	g.Expect(stripped.Status.Conditions).To(BeEmpty())
	g.Expect(stripped.Spec.Params).To(BeNil())
	g.Expect(stripped.Spec.Delivery).To(Equal(hooksv1alpha1.Delivery{Ref: failed.Spec.Delivery.Ref}), "the cache keeps only the ref of a finished run's delivery")

	// Reconcile the finished run and its template from the stripped copy:
	// the run is left as it is, the template reads its phase.
	_, err = runReconciler.Reconcile(ctx, reconcile.Request{NamespacedName: key})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = (&HookTemplateReconciler{Client: cached, Recorder: mgr.GetEventRecorder("hookrun")}).
		Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: tmpl.Name}})
	g.Expect(err).NotTo(HaveOccurred())
	after := getRun(g, ns, run.Name)
	g.Expect(after.ResourceVersion).To(Equal(failed.ResourceVersion), "reconciling a finished run wrote to it")
	gotTmpl := &hooksv1alpha1.HookTemplate{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(tmpl), gotTmpl)).To(Succeed())
	g.Expect(gotTmpl.Status.LastRun).NotTo(BeNil())
	g.Expect(gotTmpl.Status.LastRun.Phase).To(Equal(hooksv1alpha1.PhaseFailed))

	// A merge patch from the stripped copy carries only what it changes:
	// the fields the cache dropped are absent from both sides, not null.
	patched := stripped.DeepCopy()
	patched.Status.Attempts++
	g.Expect(k8sClient.Status().Patch(ctx, patched, client.MergeFromWithOptions(stripped, client.MergeFromWithOptimisticLock{}))).To(Succeed())
	after = getRun(g, ns, run.Name)
	g.Expect(after.Status.Attempts).To(Equal(failed.Status.Attempts + 1))
	after.Status.Attempts = failed.Status.Attempts
	if diff := cmp.Diff(failed.Status, after.Status); diff != "" {
		t.Errorf("status on the server after a patch from the stripped copy (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(failed.Spec, after.Spec); diff != "" {
		t.Errorf("spec on the server after a patch from the stripped copy (-before +after):\n%s", diff)
	}
}

func TestStripSecret(t *testing.T) {
	tests := []struct {
		name     string
		typ      corev1.SecretType
		keepData bool
	}{
		{name: "opaque: a webhook secret", typ: corev1.SecretTypeOpaque, keepData: true},
		{name: "Helm release", typ: helmReleaseSecretType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "web",
					Annotations:   map[string]string{lastAppliedAnnotation: `{"big":"copy"}`, "keep": "me"},
					ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
				Type: tt.typ,
				Data: map[string][]byte{"secret": []byte("x")},
			}
			want := secret.DeepCopy()
			want.ManagedFields = nil
			want.Annotations = map[string]string{"keep": "me"}
			if !tt.keepData {
				want.Data = nil
			}
			if diff := cmp.Diff(want, mustStrip(t, stripSecret, secret)); diff != "" {
				t.Errorf("cached Secret (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStripNode(t *testing.T) {
	node := nodeMeta()
	node.Name, node.ResourceVersion = "web-1", "7"
	node.Labels = map[string]string{"kubernetes.io/hostname": "web-1"}
	node.Annotations = map[string]string{"node.alpha.kubernetes.io/ttl": "0", lastAppliedAnnotation: "{}"}
	node.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	node.DeletionTimestamp = &cacheT1
	want := nodeMeta()
	want.Name, want.ResourceVersion, want.DeletionTimestamp = "web-1", "7", &cacheT1
	got, err := stripNode(node.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cached Node (-want +got):\n%s", diff)
	}
}

// TestTransformsPassTombstones: the informer may hand a transform the
// tombstone of an object deleted while it was not watching.
func TestTransformsPassTombstones(t *testing.T) {
	tombstone := toolscache.DeletedFinalStateUnknown{Key: "web/x", Obj: serverJob(nil)}
	opts := CacheOptions()
	transforms := map[string]toolscache.TransformFunc{"default": opts.DefaultTransform}
	for obj, byObject := range opts.ByObject {
		transforms[fmt.Sprintf("%T", obj)] = byObject.Transform
	}
	for name, transform := range transforms {
		if out, err := transform(tombstone); err != nil || !reflect.DeepEqual(out, tombstone) {
			t.Errorf("%s transform changed a tombstone: %v, %v", name, out, err)
		}
	}
	if len(transforms) != 5 {
		t.Errorf("CacheOptions has %d transforms, this test knows 5", len(transforms))
	}
}
