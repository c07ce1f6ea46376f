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
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// waitingRuns makes runs r1…rn delivered one second apart.
func waitingRuns(n int) []*hooksv1alpha1.HookRun {
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var runs []*hooksv1alpha1.HookRun
	for i := 1; i <= n; i++ {
		runs = append(runs, &hooksv1alpha1.HookRun{ObjectMeta: metav1.ObjectMeta{
			Name:              "r" + strconv.Itoa(i),
			CreationTimestamp: metav1.NewTime(base.Add(time.Duration(i) * time.Second)),
		}})
	}
	return runs
}

func TestDecide(t *testing.T) {
	queue := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue}
	queue2 := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, MaxRunning: ptr.To[int32](2)}
	latest := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Pending: hooksv1alpha1.PendingLatest}
	forbid := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyForbid}
	replace := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyReplace}
	allow := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyAllow}
	start := decision{action: actionStart}
	queued := func(pos int32) decision {
		return decision{action: actionQueue, reason: hooksv1alpha1.ReasonQueued, position: pos}
	}
	skip := func(reason string) decision { return decision{action: actionSkip, reason: reason} }

	tests := []struct {
		name         string
		spec         hooksv1alpha1.ConcurrencySpec
		suspended    bool
		self         string
		active       []string
		waiting      int
		startedAfter bool
		want         decision
	}{
		{name: "queue: idle group starts the oldest", spec: queue, self: "r1", waiting: 3, want: start},
		{name: "queue: second waits at position 1", spec: queue, self: "r2", waiting: 3, want: queued(1)},
		{name: "queue: busy group queues the oldest at 1", spec: queue, self: "r1", active: []string{"r0"}, waiting: 2, want: queued(1)},
		{name: "queue: busy group queues the next at 2", spec: queue, self: "r2", active: []string{"r0"}, waiting: 2, want: queued(2)},
		{name: "queue: the window's last run shows its position", spec: queue, self: "r10", active: []string{"r0"}, waiting: 12, want: queued(10)},
		{name: "queue: beyond the window no position", spec: queue, self: "r11", active: []string{"r0"}, waiting: 12, want: queued(0)},
		{name: "queue maxRunning 2: two start", spec: queue2, self: "r2", waiting: 3, want: start},
		{name: "queue maxRunning 2: third waits", spec: queue2, self: "r3", waiting: 3, want: queued(1)},
		{name: "queue maxRunning 2: one active, oldest starts", spec: queue2, self: "r1", active: []string{"r0"}, waiting: 2, want: start},
		{name: "latest: busy group queues, newest first", spec: latest, self: "r3", active: []string{"r0"}, waiting: 3, want: queued(1)},
		{name: "latest: busy group queues older behind", spec: latest, self: "r1", active: []string{"r0"}, waiting: 3, want: queued(3)},
		{name: "latest: free slot starts the newest", spec: latest, self: "r3", waiting: 3, want: start},
		{name: "latest: free slot skips the older", spec: latest, self: "r1", waiting: 3, want: skip(hooksv1alpha1.ReasonSuperseded)},
		{name: "latest: a newer run started", spec: latest, self: "r1", active: []string{"r3"}, waiting: 1, startedAfter: true, want: skip(hooksv1alpha1.ReasonSuperseded)},
		{name: "forbid: idle group starts the oldest", spec: forbid, self: "r1", waiting: 2, want: start},
		{name: "forbid: the younger of two is skipped", spec: forbid, self: "r2", waiting: 2, want: skip(hooksv1alpha1.ReasonConcurrentRunActive)},
		{name: "forbid: active run skips newcomers", spec: forbid, self: "r1", active: []string{"r0"}, waiting: 1, want: skip(hooksv1alpha1.ReasonConcurrentRunActive)},
		{name: "replace: newest cancels the active", spec: replace, self: "r2", active: []string{"r0"}, waiting: 2,
			want: decision{action: actionStart, cancel: []string{"r0"}}},
		{name: "replace: older waiting run is superseded", spec: replace, self: "r1", waiting: 2, want: skip(hooksv1alpha1.ReasonSuperseded)},
		{name: "allow: always starts", spec: allow, self: "r1", active: []string{"r0", "r9"}, waiting: 3, want: start},
		{name: "suspended: everything waits in order", spec: allow, suspended: true, self: "r2", waiting: 3,
			want: decision{action: actionQueue, reason: hooksv1alpha1.ReasonTemplateSuspended, position: 2}},
		{name: "suspended: beyond the window no position", spec: allow, suspended: true, self: "r11", waiting: 12,
			want: decision{action: actionQueue, reason: hooksv1alpha1.ReasonTemplateSuspended}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := groupState{active: tt.active, waiting: waitingRuns(tt.waiting), startedAfter: tt.startedAfter}
			got := decide(tt.spec, tt.suspended, tt.self, state)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(decision{})); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupKey(t *testing.T) {
	run := testRun()
	tests := []struct {
		name  string
		group string
		want  string
	}{
		{name: "empty: one group per template", group: "", want: ""},
		{name: "ref", group: "$(HOOK_REF)", want: "refs/heads/main"},
		{name: "repository and branch", group: "$(HOOK_REPOSITORY)@$(HOOK_BRANCH)", want: "acme/site@main"},
		{name: "param, unescaped", group: "$(PUSHER)", want: "$(HOME) `rm -rf /`"},
		{name: "unknown name expands to nothing", group: "x-$(NOPE)", want: "x-"},
		{name: "literal text", group: "prod", want: "prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := testTemplate()
			tmpl.Spec.Concurrency.Group = tt.group
			if got := groupKey(tmpl, run); got != tt.want {
				t.Errorf("groupKey = %q, want %q", got, tt.want)
			}
		})
	}
	if groupLabel("refs/heads/main") == groupLabel("refs/heads/dev") || len(groupLabel("x")) != 16 {
		t.Error("groupLabel must be a 16-character hash that tells keys apart")
	}
}

func TestRunsToPrune(t *testing.T) {
	runs := waitingRuns(8)
	phases := []hooksv1alpha1.HookRunPhase{
		hooksv1alpha1.PhaseSucceeded, hooksv1alpha1.PhaseFailed, hooksv1alpha1.PhaseSucceeded, hooksv1alpha1.PhaseCancelled,
		hooksv1alpha1.PhaseSucceeded, hooksv1alpha1.PhaseSkipped, hooksv1alpha1.PhaseRunning, hooksv1alpha1.PhaseQueued,
	}
	for i, run := range runs {
		run.Status.Phase = phases[i]
	}
	names := func(rs []*hooksv1alpha1.HookRun) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	tests := []struct {
		name    string
		history hooksv1alpha1.HistorySpec
		want    []string
	}{
		{name: "defaults keep everything here", want: nil},
		{name: "keep 1 succeeded, 1 failed", history: hooksv1alpha1.HistorySpec{Succeeded: ptr.To[int32](1), Failed: ptr.To[int32](1)},
			want: []string{"r1", "r2", "r3", "r4"}},
		{name: "keep none", history: hooksv1alpha1.HistorySpec{Succeeded: ptr.To[int32](0), Failed: ptr.To[int32](0)},
			want: []string{"r1", "r2", "r3", "r4", "r5", "r6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(runsToPrune(tt.history, runs))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pruned (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCacheDecides(t *testing.T) {
	queue := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue}
	queue2 := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, MaxRunning: ptr.To[int32](2)}
	latest := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Pending: hooksv1alpha1.PendingLatest}
	forbid := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyForbid}
	// r1 runs, r2 finished, r3…r6 wait; r6 is in another group.
	runs := func() []hooksv1alpha1.HookRun {
		var out []hooksv1alpha1.HookRun
		for i, run := range waitingRuns(6) {
			switch i {
			case 0:
				run.Status = hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseRunning, JobName: run.Name}
			case 1:
				run.Status = hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseSucceeded, JobName: run.Name}
			case 5:
				run.Spec.Delivery.Ref = "refs/heads/other"
			}
			out = append(out, *run)
		}
		return out
	}
	tests := []struct {
		name      string
		spec      hooksv1alpha1.ConcurrencySpec
		suspended bool
		self      int // index into runs
		wantOK    bool
		wantPos   int32 // the position decide gives from the cache's state
	}{
		{name: "front of the queue needs the API server", spec: queue, self: 2},
		{name: "second in the queue waits from the cache", spec: queue, self: 3, wantOK: true, wantPos: 2},
		{name: "third in the queue", spec: queue, self: 4, wantOK: true, wantPos: 3},
		{name: "maxRunning 2: second may start", spec: queue2, self: 3},
		{name: "maxRunning 2: third waits", spec: queue2, self: 4, wantOK: true, wantPos: 2},
		{name: "pending=Latest always asks", spec: latest, self: 4},
		{name: "Forbid always asks", spec: forbid, self: 4},
		{name: "suspended: from the cache", spec: forbid, suspended: true, self: 2, wantOK: true, wantPos: 1},
		{name: "another group's queue is its own", spec: queue, self: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := testTemplate()
			tmpl.Spec.Concurrency = tt.spec
			tmpl.Spec.Concurrency.Group = "$(HOOK_REF)"
			tmpl.Spec.Suspend = tt.suspended
			all := runs()
			self := &all[tt.self]
			state, ok := cacheDecides(tmpl, self, groupKey(tmpl, self), all)
			if ok != tt.wantOK {
				t.Fatalf("cacheDecides ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			d := decide(tmpl.Spec.Concurrency, tt.suspended, self.Name, state)
			if d.action != actionQueue || d.position != tt.wantPos {
				t.Errorf("decision %+v, want queued at %d", d, tt.wantPos)
			}
		})
	}
}
