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
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// runGets counts the HookRun reads of the run reconciler's client: every
// reconcile reads its run exactly once (getRun), and nothing else reads a
// HookRun with Get, so this counts reconciles.
type runGets struct {
	client.Client
	n *atomic.Int64
}

func (c runGets) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*hooksv1alpha1.HookRun); ok {
		c.n.Add(1)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// queuePositionWrites is how many status writes the position refreshes of
// a queue of n runs (one slot) cost when every start settles before the
// next: each start moves every run in the window up by one place, and the
// first run beyond the window into it. A run further back is not written.
func queuePositionWrites(n int) int64 {
	var writes int64
	for started := 2; started <= n; started++ { // the second run starts
		writes += int64(min(n-started, queuePositionWindow))
	}
	return writes
}

// TestQueueCostPerRun drains a queue longer than the position window one
// start at a time, letting the positions settle after each, and counts
// what the manager did: per run, one status write for each phase it shows
// (Queued or Pending at once, Pending when it starts, Running, Succeeded)
// plus one per place it moves up inside the window, and no reconcile that
// writes nothing beyond the one each pruned run's deletion costs. A change
// that moves nobody (a run getting its Job, the deletion of a finished
// run) must not wake the queue: that cost a reconcile per run in the
// window, per start, and grew with the queue.
func TestQueueCostPerRun(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	requests := &benchutil.RequestCounter{}
	reconciles := &atomic.Int64{}
	startManagerWithConfig(t, requests.Wrap(testCfg), ns, func(mgr ctrl.Manager) error {
		if err := (&HookRunReconciler{
			Client:                  runGets{Client: mgr.GetClient(), n: reconciles},
			APIReader:               mgr.GetAPIReader(),
			Scheme:                  mgr.GetScheme(),
			Recorder:                mgr.GetEventRecorder("hookrun"),
			MaxConcurrentReconciles: 4,
		}).SetupWithManager(mgr); err != nil {
			return err
		}
		// The template reconciler prunes finished runs beyond the history
		// limit (10 succeeded): their deletions must not wake the queue.
		return (&HookTemplateReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("hookrun")}).SetupWithManager(mgr)
	})
	create(t, templateWithPolicy(ns, hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue}))
	n := queuePositionWindow + 5
	runs := createRuns(t, ns, n)

	for i, name := range runs {
		waitForJob(t, ns, name)
		for k, waiting := range runs[i+1:] {
			want := windowedPosition(k + 1)
			g.Eventually(func(g Gomega) {
				got := getRun(g, ns, waiting)
				g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseQueued))
				g.Expect(got.Status.QueuePosition).To(Equal(want), "position of %s", waiting)
			}, timeout, poll).Should(Succeed())
		}
		// One job controller write per phase, each one seen before the
		// next: the run shows Running, then Succeeded.
		updateJobStatus(t, ns, name, jobStarted)
		waitForPhase(t, ns, name, hooksv1alpha1.PhaseRunning)
		updateJobStatus(t, ns, name, jobCompleted)
		waitForPhase(t, ns, name, hooksv1alpha1.PhaseSucceeded)
	}

	// Queued or Pending at once; Pending when started (all but the first);
	// Running; Succeeded; and the position refreshes.
	writes := int64(n+(n-1)+n+n) + queuePositionWrites(n)
	expectRequests(t, requests, map[string]int64{statusPatches: writes, "create jobs": int64(n)})
	// The history keeps 10 succeeded runs (the default): the others are
	// pruned, and each deletion reconciles its run once, to find it gone.
	pruned := int64(n - 10)
	g.Eventually(func() int64 { return requests.Counts()["delete hookruns"] }, timeout, poll).Should(Equal(pruned))
	t.Logf("%d runs: %d reconciles, %d status writes, %d pruned", n, reconciles.Load(), writes, pruned)
	g.Expect(reconciles.Load()).To(BeNumerically("<=", writes+pruned),
		"reconciles that wrote nothing, beyond one per pruned run")
}
