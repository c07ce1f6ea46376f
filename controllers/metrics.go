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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// Run metrics, on controller-runtime's registry (served on the metrics
// endpoint). Labels are bounded: namespace, template and phase, never run
// names or delivery ids.
var (
	runsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookrun_runs_total",
		Help: "HookRuns that reached a final phase.",
	}, []string{"namespace", "template", "phase"})
	runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hookrun_run_duration_seconds",
		Help:    "Time from a run's start to its completion.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600},
	}, []string{"namespace", "template", "phase"})
	queueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hookrun_queue_wait_seconds",
		Help:    "Time from a run's creation until its Job was created.",
		Buckets: []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800},
	}, []string{"namespace", "template"})
	runsQueued = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "hookrun_runs_queued",
		Help: "Runs waiting for their turn, per template.",
	}, []string{"namespace", "template"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(runsTotal, runDuration, queueWait, runsQueued)
}

// observePhase counts a run that reached a final phase.
func observePhase(run *hooksv1alpha1.HookRun) {
	if !run.Status.Phase.IsFinished() {
		return
	}
	labels := []string{run.Namespace, run.Spec.TemplateRef.Name, string(run.Status.Phase)}
	runsTotal.WithLabelValues(labels...).Inc()
	if run.Status.StartTime != nil && run.Status.CompletionTime != nil {
		runDuration.WithLabelValues(labels...).Observe(run.Status.CompletionTime.Sub(run.Status.StartTime.Time).Seconds())
	}
}

// observeQueueWait records how long a run waited before its Job was created.
func observeQueueWait(run *hooksv1alpha1.HookRun, now time.Time) {
	queueWait.WithLabelValues(run.Namespace, run.Spec.TemplateRef.Name).Observe(now.Sub(run.CreationTimestamp.Time).Seconds())
}
