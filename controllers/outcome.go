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
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// maxMessageBytes bounds status.message. The kubelet already caps a
// termination message taken from the logs at 2048 bytes / 80 lines; this
// keeps the tail if a container writes a larger terminationMessagePath file.
const maxMessageBytes = 4096

// jobOutcome is what a Job says about its run.
type jobOutcome struct {
	phase          hooksv1alpha1.HookRunPhase
	reason         string
	message        string
	attempts       int32
	startTime      *metav1.Time
	completionTime *metav1.Time
}

// outcomeOf maps a Job's status to the run's phase. Only the terminal
// conditions Complete and Failed end a run: SuccessCriteriaMet and
// FailureTarget are interim (pods may still be terminating).
func outcomeOf(job *batchv1.Job) jobOutcome {
	out := jobOutcome{
		phase:     hooksv1alpha1.PhasePending,
		reason:    hooksv1alpha1.ReasonJobCreated,
		attempts:  job.Status.Active + job.Status.Succeeded + job.Status.Failed,
		startTime: job.Status.StartTime,
	}
	if job.Status.StartTime != nil || job.Status.Active > 0 {
		out.phase = hooksv1alpha1.PhaseRunning
		out.reason = hooksv1alpha1.ReasonRunning
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			out.phase = hooksv1alpha1.PhaseSucceeded
			out.reason = hooksv1alpha1.ReasonCompleted
			out.message = ""
			out.completionTime = job.Status.CompletionTime
			if out.completionTime == nil {
				out.completionTime = c.LastTransitionTime.DeepCopy()
			}
			return out
		case batchv1.JobFailed:
			out.phase = hooksv1alpha1.PhaseFailed
			out.reason = c.Reason
			if out.reason == "" {
				out.reason = hooksv1alpha1.ReasonFailed
			}
			out.message = c.Message
			out.completionTime = c.LastTransitionTime.DeepCopy()
			return out
		}
	}
	return out
}

// containerResult is how the run container of the newest finished pod ended.
type containerResult struct {
	exitCode *int32
	message  string
}

// lastRunContainerResult finds the run container's most recent termination
// across the Job's pods (latest finishedAt, then latest pod).
func lastRunContainerResult(pods []corev1.Pod) containerResult {
	type termination struct {
		pod  *corev1.Pod
		term *corev1.ContainerStateTerminated
	}
	var found []termination
	for i := range pods {
		for _, cs := range pods[i].Status.ContainerStatuses {
			if cs.Name != hooksv1alpha1.RunContainerName {
				continue
			}
			term := cs.State.Terminated
			if term == nil {
				term = cs.LastTerminationState.Terminated
			}
			if term != nil {
				found = append(found, termination{pod: &pods[i], term: term})
			}
		}
	}
	if len(found) == 0 {
		return containerResult{}
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if !a.term.FinishedAt.Equal(&b.term.FinishedAt) {
			return b.term.FinishedAt.Before(&a.term.FinishedAt)
		}
		return b.pod.CreationTimestamp.Before(&a.pod.CreationTimestamp)
	})
	last := found[0].term
	return containerResult{exitCode: &last.ExitCode, message: tail(last.Message, maxMessageBytes)}
}

// tail keeps the last n bytes of s, starting at a line or rune boundary.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for i := 0; i < len(s) && i < 4; i++ {
		if s[i]&0xC0 != 0x80 { // not a UTF-8 continuation byte
			return s[i:]
		}
	}
	return s
}

// head keeps the first n bytes of s, without a rune cut in two at the end.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for i := 0; i < utf8.UTFMax && s != ""; i++ {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
