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
	"testing"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// These tests count what the manager writes: every write a user does not
// see costs the API server as much as one they do, and a write that fails
// with a conflict costs it twice.

const statusPatches = "patch hookruns/status"

// countingManager starts the run reconciler on a client whose requests are
// counted.
func countingManager(t *testing.T, ns string) *benchutil.RequestCounter {
	t.Helper()
	requests := &benchutil.RequestCounter{}
	startManagerWithConfig(t, requests.Wrap(testCfg), ns, setupRunReconciler)
	return requests
}

// expectRequests waits until the manager made exactly the wanted requests of
// the listed kinds, with no conflict on any of them, and then checks that
// no further one follows for a moment: a late extra write fails the test.
func expectRequests(t *testing.T, requests *benchutil.RequestCounter, want map[string]int64) {
	t.Helper()
	g := NewWithT(t)
	got := func() map[string]int64 {
		counts, conflicts := requests.Counts(), requests.Conflicts()
		out := map[string]int64{}
		for kind := range want {
			out[kind] = counts[kind]
			if n := conflicts[kind]; n > 0 {
				out[kind+" (conflicts)"] = n
			}
		}
		return out
	}
	g.Eventually(got, timeout, poll).Should(Equal(want))
	g.Consistently(got, "500ms", poll).Should(Equal(want))
}

// eventCounts counts the Events recorded on a run by reason.
func eventCounts(g Gomega, ns, name string) map[string]int {
	counts := map[string]int{}
	for _, reason := range eventReasons(g, ns, name) {
		counts[reason]++
	}
	return counts
}

// A run created by hand (kubectl create) has no template label and no
// owner: the reconciler patches both, and its status patch must then lock on
// the resourceVersion that patch returned, not on the one it read.
func TestRunCreatedByHandIsWrittenWithoutConflict(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	requests := countingManager(t, ns)
	create(t, newTemplate(ns, "site"))
	run := newRun(ns, "site", "site-bbbb000001")
	create(t, run)

	waitForJob(t, ns, run.Name)
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(got.Labels).To(HaveKeyWithValue(hooksv1alpha1.LabelTemplate, "site"))
		g.Expect(got.Status.JobName).To(Equal(run.Name))
	}, timeout, poll).Should(Succeed())
	updateJobStatus(t, ns, run.Name, jobStarted)
	waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseRunning)

	expectRequests(t, requests, map[string]int64{
		"patch hookruns": 1, // label and owner
		statusPatches:    2, // Pending with the Job, Running
		"create jobs":    1,
	})
	g.Eventually(func(g Gomega) map[string]int { return eventCounts(g, ns, run.Name) }, timeout, poll).Should(Equal(map[string]int{
		hooksv1alpha1.EventJobCreated: 1, hooksv1alpha1.EventRunStarted: 1,
	}))
}

// TestRunWritesPerPhase: every status write is one a user sees — one per
// phase — and none fails with a conflict.
func TestRunWritesPerPhase(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	tests := []struct {
		name string
		// drive moves the template's runs; it returns the runs whose Events
		// are checked.
		drive func(t *testing.T, ns string, tmpl *hooksv1alpha1.HookTemplate) []string
		// want are the manager's requests; events the Events per run.
		want   map[string]int64
		events map[string]map[string]int
	}{{
		name: "a run that starts at once: Pending with its Job, Running, Succeeded",
		drive: func(t *testing.T, ns string, tmpl *hooksv1alpha1.HookTemplate) []string {
			create(t, labelledRun(tmpl, "site-cccc000001"))
			waitForJob(t, ns, "site-cccc000001")
			waitForJobName(t, ns, "site-cccc000001")
			updateJobStatus(t, ns, "site-cccc000001", jobStarted)
			waitForPhase(t, ns, "site-cccc000001", hooksv1alpha1.PhaseRunning)
			updateJobStatus(t, ns, "site-cccc000001", jobCompleted)
			waitForPhase(t, ns, "site-cccc000001", hooksv1alpha1.PhaseSucceeded)
			return []string{"site-cccc000001"}
		},
		want: map[string]int64{statusPatches: 3, "create jobs": 1},
		events: map[string]map[string]int{"site-cccc000001": {
			hooksv1alpha1.EventJobCreated: 1, hooksv1alpha1.EventRunStarted: 1, hooksv1alpha1.EventRunSucceeded: 1,
		}},
	}, {
		name: "a queued run: Queued, then Pending with its Job when its turn comes",
		drive: func(t *testing.T, ns string, tmpl *hooksv1alpha1.HookTemplate) []string {
			first, second := labelledRun(tmpl, "site-dddd000001"), labelledRun(tmpl, "site-dddd000002")
			create(t, first)
			waitForJobName(t, ns, first.Name)
			create(t, second)
			waitForPhase(t, ns, second.Name, hooksv1alpha1.PhaseQueued)
			// Started and complete in one write: the first run goes from
			// Pending straight to Succeeded.
			updateJobStatus(t, ns, first.Name, func(s *batchv1.JobStatus) { jobStarted(s); jobCompleted(s) })
			waitForPhase(t, ns, first.Name, hooksv1alpha1.PhaseSucceeded)
			waitForJobName(t, ns, second.Name)
			return []string{first.Name, second.Name}
		},
		// first: Pending, Succeeded; second: Queued, Pending.
		want: map[string]int64{statusPatches: 4, "create jobs": 2},
		events: map[string]map[string]int{
			"site-dddd000001": {hooksv1alpha1.EventJobCreated: 1, hooksv1alpha1.EventRunSucceeded: 1},
			"site-dddd000002": {hooksv1alpha1.EventRunQueued: 1, hooksv1alpha1.EventJobCreated: 1},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			requests := countingManager(t, ns)
			tmpl := newTemplate(ns, "site")
			tmpl.Spec.Concurrency.Policy = hooksv1alpha1.ConcurrencyQueue
			create(t, tmpl)
			runs := tt.drive(t, ns, tmpl)
			expectRequests(t, requests, tt.want)
			for _, name := range runs {
				g.Eventually(func(g Gomega) map[string]int { return eventCounts(g, ns, name) }, timeout, poll).
					Should(Equal(tt.events[name]), "Events of %s", name)
			}
		})
	}
}

// TestManyRunsToRunningWithoutConflict plays the job controller as the
// benchmark does: each Job is marked started the moment it appears, which
// often reaches the reconciler before the run's own Pending write has come
// back through its cache. Every run is still written exactly twice (Pending
// with its Job, Running) and no write fails with a conflict.
func TestManyRunsToRunningWithoutConflict(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	const n = 30
	ns := newNamespace(t)
	tmpl := newTemplate(ns, "site")
	tmpl.Spec.Concurrency.Policy = hooksv1alpha1.ConcurrencyAllow
	create(t, tmpl)
	obs, err := benchutil.StartObserver(context.Background(), testCfg, testScheme, benchutil.ObserverOptions{
		Namespace: ns, Jobs: benchutil.JobsStart, RunPhase: hooksv1alpha1.PhaseRunning, WantJobs: n, WantRuns: n,
	})
	if err != nil {
		t.Fatalf("observer: %v", err)
	}
	defer obs.Stop()
	for i := range n {
		create(t, labelledRun(tmpl, fmt.Sprintf("site-eeee%06d", i)))
	}
	requests := countingManager(t, ns)
	if _, err := obs.Wait(context.Background(), timeout); err != nil {
		t.Fatal(err)
	}
	expectRequests(t, requests, map[string]int64{statusPatches: 2 * n, "create jobs": n})
}

// labelledRun is a run as the webhook server creates it: labelled with and
// owned by its template.
func labelledRun(tmpl *hooksv1alpha1.HookTemplate, name string) *hooksv1alpha1.HookRun {
	run := newRun(tmpl.Namespace, tmpl.Name, name)
	run.Labels = map[string]string{hooksv1alpha1.LabelTemplate: tmpl.Name}
	utilMust(controllerutil.SetControllerReference(tmpl, run, testScheme))
	return run
}

// waitForJobName waits until the run shows its Job.
func waitForJobName(t *testing.T, ns, name string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(getRun(g, ns, name).Status.JobName).To(Equal(name))
	}, timeout, poll).Should(Succeed())
}

// TestOwnWritesFreshest pins how a reconcile picks the run it starts from:
// the cache, unless the cache shows a version this manager wrote past.
func TestOwnWritesFreshest(t *testing.T) {
	key := types.NamespacedName{Namespace: "web", Name: "site-1"}
	cached := func(rv string, phase hooksv1alpha1.HookRunPhase) *hooksv1alpha1.HookRun {
		return &hooksv1alpha1.HookRun{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, ResourceVersion: rv},
			Status:     hooksv1alpha1.HookRunStatus{Phase: phase},
		}
	}
	written := func(rv string, phase hooksv1alpha1.HookRunPhase, job string) *hooksv1alpha1.HookRun {
		run := cached(rv, phase)
		run.Status.JobName = job
		run.Status.Attempts = 1
		return run
	}
	type write struct {
		run  *hooksv1alpha1.HookRun
		from []string
	}
	tests := []struct {
		name      string
		writes    []write
		cached    *hooksv1alpha1.HookRun
		want      *hooksv1alpha1.HookRun
		wantEnded bool
		// kept: the entry is still there for the next reconcile.
		kept bool
	}{{
		name:   "nothing written: the cache",
		cached: cached("10", ""),
		want:   cached("10", ""),
	}, {
		name:   "the cache shows the version written from: the write",
		writes: []write{{written("11", hooksv1alpha1.PhasePending, "site-1"), []string{"10"}}},
		cached: cached("10", ""),
		want:   written("11", hooksv1alpha1.PhasePending, "site-1"),
		kept:   true,
	}, {
		name: "two writes, the cache shows neither: the last",
		writes: []write{
			{written("11", hooksv1alpha1.PhasePending, "site-1"), []string{"10"}},
			{written("12", hooksv1alpha1.PhaseRunning, "site-1"), []string{"11"}},
		},
		cached: cached("10", ""),
		want:   written("12", hooksv1alpha1.PhaseRunning, "site-1"),
		kept:   true,
	}, {
		name:   "a metadata patch and a status write in one reconcile, the cache shows neither",
		writes: []write{{written("12", hooksv1alpha1.PhasePending, "site-1"), []string{"10", "11"}}},
		cached: cached("10", ""),
		want:   written("12", hooksv1alpha1.PhasePending, "site-1"),
		kept:   true,
	}, {
		name:   "the cache caught up: the cache, and the entry goes",
		writes: []write{{written("11", hooksv1alpha1.PhasePending, "site-1"), []string{"10"}}},
		cached: cached("11", hooksv1alpha1.PhasePending),
		want:   cached("11", hooksv1alpha1.PhasePending),
	}, {
		name:   "somebody wrote after us: the cache",
		writes: []write{{written("11", hooksv1alpha1.PhasePending, "site-1"), []string{"10"}}},
		cached: cached("15", hooksv1alpha1.PhaseCancelled),
		want:   cached("15", hooksv1alpha1.PhaseCancelled),
	}, {
		name:      "we ended the run, the cache does not show it yet",
		writes:    []write{{written("11", hooksv1alpha1.PhaseSucceeded, "site-1"), []string{"10"}}},
		cached:    cached("10", hooksv1alpha1.PhaseRunning),
		want:      cached("10", hooksv1alpha1.PhaseRunning),
		wantEnded: true,
		kept:      true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w ownWrites
			for _, wr := range tt.writes {
				w.remember(wr.run, wr.from...)
			}
			got, ended := w.freshest(tt.cached)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("run (-want +got):\n%s", diff)
			}
			if ended != tt.wantEnded {
				t.Errorf("ended = %v, want %v", ended, tt.wantEnded)
			}
			if _, kept := w.runs[key]; kept != tt.kept {
				t.Errorf("entry kept = %v, want %v", kept, tt.kept)
			}
		})
	}
}
