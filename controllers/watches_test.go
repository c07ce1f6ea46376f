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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// A burst of run changes reconciles their template once, after the delay.
func TestEnqueueTemplateOfRunCoalesces(t *testing.T) {
	g := NewWithT(t)
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	h := enqueueTemplateOfRun()
	ctx := context.Background()

	owned := func(name, template string) *hooksv1alpha1.HookRun {
		run := testRun()
		run.Name = name
		run.OwnerReferences = ownedBy(template)
		return run
	}
	start := time.Now()
	for _, name := range []string{"a", "b", "c"} {
		h.Create(ctx, event.CreateEvent{Object: owned(name, "site")}, q)
		h.Update(ctx, event.UpdateEvent{ObjectOld: owned(name, "site"), ObjectNew: owned(name, "site")}, q)
	}
	h.Delete(ctx, event.DeleteEvent{Object: owned("d", "docs")}, q)
	h.Create(ctx, event.CreateEvent{Object: testRun()}, q) // no owner: nothing to enqueue

	var got []types.NamespacedName
	for range 2 {
		req, _ := q.Get()
		got = append(got, req.NamespacedName)
		q.Done(req)
	}
	g.Expect(time.Since(start)).To(BeNumerically(">=", templateStatusDelay), "enqueued only after the delay")
	g.Expect(got).To(ConsistOf(
		types.NamespacedName{Namespace: "web", Name: "site"},
		types.NamespacedName{Namespace: "web", Name: "docs"},
	))
	g.Consistently(q.Len, 2*templateStatusDelay, 100*time.Millisecond).Should(BeZero(), "seven events, two templates: two reconciles")
}

func ownedBy(template string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{
		APIVersion: hooksv1alpha1.GroupVersion.String(), Kind: "HookTemplate", Name: template, UID: "u-" + types.UID(template),
		Controller: ptr.To(true),
	}}
}

// Only a change that may let a waiting run start or move its position wakes
// the queue: every wake-up costs a reconcile per woken run.
func TestQueueMovedBy(t *testing.T) {
	queue := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue}
	latest := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Pending: hooksv1alpha1.PendingLatest}
	forbid := hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyForbid}
	tests := []struct {
		name        string
		concurrency hooksv1alpha1.ConcurrencySpec
		suspend     bool
		phase       hooksv1alpha1.HookRunPhase
		want        bool
	}{
		{name: "queued behind the others", concurrency: queue, phase: hooksv1alpha1.PhaseQueued, want: false},
		{name: "queued under pending=Latest: positions count from the newest", concurrency: latest, phase: hooksv1alpha1.PhaseQueued, want: true},
		{name: "the front run got its Job: positions behind it stay", concurrency: queue, phase: hooksv1alpha1.PhasePending, want: false},
		{name: "got its Job under pending=Latest: older runs are superseded", concurrency: latest, phase: hooksv1alpha1.PhasePending, want: true},
		{name: "got its Job under Forbid: the others are skipped", concurrency: forbid, phase: hooksv1alpha1.PhasePending, want: true},
		{name: "got its Job while suspended: positions count without slots", concurrency: queue, suspend: true, phase: hooksv1alpha1.PhasePending, want: true},
		{name: "finished: a slot freed", concurrency: queue, phase: hooksv1alpha1.PhaseSucceeded, want: true},
		{name: "cancelled: a slot freed", concurrency: queue, phase: hooksv1alpha1.PhaseCancelled, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := &hooksv1alpha1.HookTemplate{Spec: hooksv1alpha1.HookTemplateSpec{Concurrency: tt.concurrency, Suspend: tt.suspend}}
			run := testRun()
			run.Status.Phase = tt.phase
			if got := queueMovedBy(tmpl, run); got != tt.want {
				t.Errorf("queueMovedBy = %v, want %v", got, tt.want)
			}
		})
	}
}
