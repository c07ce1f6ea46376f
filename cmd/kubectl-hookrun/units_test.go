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

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func TestRerunNumber(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want int
	}{
		{name: "first", id: "rerun/site-abc/1", want: 1},
		{name: "tenth", id: "rerun/site-abc/10", want: 10},
		{name: "rerun of another run", id: "rerun/site-abcd/7", want: 0},
		{name: "rerun of a rerun's name prefix", id: "rerun/site-ab/3", want: 0},
		{name: "not a number", id: "rerun/site-abc/x", want: 0},
		{name: "webhook delivery", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rerunNumber("site-abc", tc.id); got != tc.want {
				t.Errorf("rerunNumber(site-abc, %q) = %d, want %d", tc.id, got, tc.want)
			}
		})
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		name    string
		flags   []string
		want    map[string]string
		wantErr string
	}{
		{name: "none", flags: nil, want: nil},
		{name: "two", flags: []string{"CHANNEL=stable", "NOTE=a=b"}, want: map[string]string{"CHANNEL": "stable", "NOTE": "a=b"}},
		{name: "empty value", flags: []string{"EMPTY="}, want: map[string]string{"EMPTY": ""}},
		{name: "no equals", flags: []string{"CHANNEL"}, wantErr: "NAME=VALUE"},
		{name: "reserved prefix", flags: []string{"HOOK_REF=x"}, wantErr: "HOOK_"},
		{name: "bad name", flags: []string{"1X=y"}, wantErr: "not a usable variable name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseParams(tc.flags)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunOutcome(t *testing.T) {
	tests := []struct {
		name   string
		status hooksv1alpha1.HookRunStatus
		want   string // "" for success
	}{
		{name: "succeeded", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseSucceeded}},
		{name: "failed with exit code and output", status: hooksv1alpha1.HookRunStatus{
			Phase: hooksv1alpha1.PhaseFailed, Reason: "BackoffLimitExceeded", ExitCode: ptr.To[int32](3), Message: "checking out\nerror: deploy failed\n",
		}, want: "run r Failed: BackoffLimitExceeded (exit code 3): error: deploy failed; kubectl hookrun logs r shows its output"},
		{name: "skipped", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseSkipped, Reason: "Superseded"},
			want: "run r Skipped: Superseded; kubectl hookrun logs r shows its output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runOutcome(&hooksv1alpha1.HookRun{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Status: tc.status})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("runOutcome = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestStarted: logs waits for an attempt's run container to start before
// it streams it, and reads a finished pod whatever its statuses say.
func TestStarted(t *testing.T) {
	status := func(phase corev1.PodPhase, state corev1.ContainerState) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "run", State: state}}}}
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{name: "creating", pod: status(corev1.PodPending, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}), want: false},
		{name: "no status yet", pod: &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending}}, want: false},
		{name: "running", pod: status(corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}), want: true},
		{name: "terminated", pod: status(corev1.PodRunning, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}), want: true},
		{name: "failed pod", pod: &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := started(tc.pod); got != tc.want {
				t.Errorf("started = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRowOf(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC))
	tmpl := &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: "web"},
		Spec:       hooksv1alpha1.HookTemplateSpec{Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub}},
		Status: hooksv1alpha1.HookTemplateStatus{
			Conditions:  []metav1.Condition{{Type: hooksv1alpha1.ConditionReady, Status: metav1.ConditionTrue}},
			WebhookPath: "/hooks/web/site",
			LastRun:     &hooksv1alpha1.LastRun{Name: "site-1", Phase: hooksv1alpha1.PhaseFailed, Time: &now},
			ActiveRuns:  1, QueuedRuns: 3,
		},
	}
	want := templateRow{Namespace: "web", Name: "site", Provider: "github", Ready: "True", LastRun: "site-1", LastPhase: "Failed", Active: 1, Queued: 3, Path: "/hooks/web/site"}
	if diff := cmp.Diff(want, rowOf(tmpl)); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}
