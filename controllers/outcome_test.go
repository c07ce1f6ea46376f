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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func TestOutcomeOf(t *testing.T) {
	start := metav1.NewTime(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	end := metav1.NewTime(start.Add(42 * time.Second))
	cond := func(typ batchv1.JobConditionType, reason, message string) batchv1.JobCondition {
		return batchv1.JobCondition{Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: end}
	}
	tests := []struct {
		name   string
		status batchv1.JobStatus
		want   jobOutcome
	}{
		{
			name: "created, not started",
			want: jobOutcome{phase: hooksv1alpha1.PhasePending, reason: hooksv1alpha1.ReasonJobCreated},
		},
		{
			name:   "first pod active",
			status: batchv1.JobStatus{StartTime: &start, Active: 1},
			want:   jobOutcome{phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, attempts: 1, startTime: &start},
		},
		{
			name:   "retried: one failed, one active",
			status: batchv1.JobStatus{StartTime: &start, Active: 1, Failed: 1},
			want:   jobOutcome{phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, attempts: 2, startTime: &start},
		},
		{
			name: "success criteria met is interim",
			status: batchv1.JobStatus{StartTime: &start, Succeeded: 1,
				Conditions: []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, "CompletionsReached", "")}},
			want: jobOutcome{phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, attempts: 1, startTime: &start},
		},
		{
			name: "complete",
			status: batchv1.JobStatus{StartTime: &start, Succeeded: 1, CompletionTime: &end,
				Conditions: []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, "CompletionsReached", ""), cond(batchv1.JobComplete, "CompletionsReached", "")}},
			want: jobOutcome{phase: hooksv1alpha1.PhaseSucceeded, reason: hooksv1alpha1.ReasonCompleted, attempts: 1, startTime: &start, completionTime: &end},
		},
		{
			name: "failure target is interim",
			status: batchv1.JobStatus{StartTime: &start, Failed: 2,
				Conditions: []batchv1.JobCondition{cond(batchv1.JobFailureTarget, "BackoffLimitExceeded", "Job has reached the specified backoff limit")}},
			want: jobOutcome{phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, attempts: 2, startTime: &start},
		},
		{
			name: "failed: backoff limit",
			status: batchv1.JobStatus{StartTime: &start, Failed: 2,
				Conditions: []batchv1.JobCondition{
					cond(batchv1.JobFailureTarget, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
					cond(batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")}},
			want: jobOutcome{phase: hooksv1alpha1.PhaseFailed, reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit",
				attempts: 2, startTime: &start, completionTime: &end},
		},
		{
			name: "failed: deadline",
			status: batchv1.JobStatus{StartTime: &start, Failed: 1,
				Conditions: []batchv1.JobCondition{cond(batchv1.JobFailed, "DeadlineExceeded", "Job was active longer than specified deadline")}},
			want: jobOutcome{phase: hooksv1alpha1.PhaseFailed, reason: "DeadlineExceeded", message: "Job was active longer than specified deadline",
				attempts: 1, startTime: &start, completionTime: &end},
		},
		{
			name: "failed without a reason",
			status: batchv1.JobStatus{StartTime: &start, Failed: 1,
				Conditions: []batchv1.JobCondition{cond(batchv1.JobFailed, "", "")}},
			want: jobOutcome{phase: hooksv1alpha1.PhaseFailed, reason: hooksv1alpha1.ReasonFailed, attempts: 1, startTime: &start, completionTime: &end},
		},
		{
			name: "a condition that is not True does not count",
			status: batchv1.JobStatus{StartTime: &start, Active: 1,
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionFalse}}},
			want: jobOutcome{phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, attempts: 1, startTime: &start},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeOf(&batchv1.Job{Status: tt.status})
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(jobOutcome{})); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLastRunContainerResult(t *testing.T) {
	older := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	newer := metav1.NewTime(older.Add(time.Minute))
	pod := func(created metav1.Time, name string, term *corev1.ContainerStateTerminated) corev1.Pod {
		return corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{CreationTimestamp: created},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
				Name: name, State: corev1.ContainerState{Terminated: term},
			}}},
		}
	}
	tests := []struct {
		name string
		pods []corev1.Pod
		want containerResult
	}{
		{name: "no pods", want: containerResult{}},
		{
			name: "newest pod wins",
			pods: []corev1.Pod{
				pod(newer, "run", &corev1.ContainerStateTerminated{ExitCode: 3, Message: "second try\n"}),
				pod(older, "run", &corev1.ContainerStateTerminated{ExitCode: 1, Message: "first try\n"}),
			},
			want: containerResult{exitCode: ptr.To[int32](3), message: "second try\n"},
		},
		{
			name: "only the run container counts",
			pods: []corev1.Pod{pod(newer, "sidecar", &corev1.ContainerStateTerminated{ExitCode: 9})},
			want: containerResult{},
		},
		{
			name: "a running newest pod falls back to the previous one",
			pods: []corev1.Pod{pod(older, "run", &corev1.ContainerStateTerminated{ExitCode: 2}), pod(newer, "run", nil)},
			want: containerResult{exitCode: ptr.To[int32](2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lastRunContainerResult(tt.pods)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(containerResult{})); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTail(t *testing.T) {
	long := strings.Repeat("x", 10) + "é" + strings.Repeat("y", 5)
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "short is kept", in: "abc", n: 10, want: "abc"},
		{name: "keeps the end", in: "0123456789", n: 4, want: "6789"},
		{name: "never starts inside a rune", in: long, n: 6, want: strings.Repeat("y", 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tail(tt.in, tt.n); got != tt.want {
				t.Errorf("tail(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestHead(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{name: "short", in: "abc", n: 5, want: "abc"},
		{name: "cut", in: "hello", n: 3, want: "hel"},
		{name: "cut in a rune drops its piece", in: "hé", n: 2, want: "h"},
		{name: "cut after a rune keeps it", in: "héllo", n: 3, want: "hé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := head(tt.in, tt.n); got != tt.want {
				t.Errorf("head(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
