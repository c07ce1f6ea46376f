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
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func (a *app) logsCommand() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs RUN [-f]",
		Short: "Print the run container's output of every attempt of RUN, in order",
		Example: `  kubectl hookrun logs site-3f9c2a1b7e
  kubectl hookrun logs -f site-3f9c2a1b7e   # follows retries, then prints the final phase`,
		Args:              exactArgs("RUN"),
		ValidArgsFunction: a.completeRuns,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.clients()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			run, err := k.run(ctx, args[0])
			if err != nil {
				return err
			}
			if follow {
				return a.followLogs(ctx, k, run.Name)
			}
			pods, err := k.attempts(ctx, run.Name)
			if err != nil {
				return err
			}
			if len(pods) == 0 {
				return fmt.Errorf("run %s has no pods yet (phase %s): kubectl hookrun logs -f %s waits for them", run.Name, orDash(string(run.Status.Phase)), run.Name)
			}
			for i := range pods {
				if err := a.podLogs(ctx, k, &pods[i], i+1, false); err != nil {
					fmt.Fprintf(a.errOut, "attempt %d (pod %s): no output: %s\n", i+1, pods[i].Name, oneLine(err.Error()))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow the current attempt, then the next one on a retry, until the run ends")
	return cmd
}

// attempts are the pods of a run, oldest first: one per attempt.
func (k *clients) attempts(ctx context.Context, run string) ([]corev1.Pod, error) {
	pods, err := k.cs.CoreV1().Pods(k.ns).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{hooksv1alpha1.LabelRun: run}.String(),
	})
	if err != nil {
		return nil, apiError(err, "the pods of run "+run, "")
	}
	items := pods.Items
	slices.SortStableFunc(items, func(x, y corev1.Pod) int {
		if c := x.CreationTimestamp.Compare(y.CreationTimestamp.Time); c != 0 {
			return c
		}
		if x.Name < y.Name {
			return -1
		}
		if x.Name > y.Name {
			return 1
		}
		return 0
	})
	return items, nil
}

// podLogs copies the run container's log of one attempt to out.
func (a *app) podLogs(ctx context.Context, k *clients, pod *corev1.Pod, attempt int, follow bool) error {
	fmt.Fprintf(a.errOut, "--- attempt %d (pod %s)\n", attempt, pod.Name)
	stream, err := k.cs.CoreV1().Pods(k.ns).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: hooksv1alpha1.RunContainerName,
		Follow:    follow,
	}).Stream(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = stream.Close() }()
	_, err = io.Copy(a.out, stream)
	return err
}

// started reports whether a pod's run container has started (its log can
// be read) or the pod is already done.
func started(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return true
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == hooksv1alpha1.RunContainerName {
			return cs.State.Running != nil || cs.State.Terminated != nil
		}
	}
	return false
}

// followLogs streams every attempt in turn: the current one until its
// container ends, then the next pod a retry starts, until the run ends;
// then it prints the run's final phase.
func (a *app) followLogs(ctx context.Context, k *clients, name string) error {
	done := map[string]bool{}
	attempt := 0
	for {
		run, err := k.run(ctx, name)
		if err != nil {
			return err
		}
		finished := run.Status.Phase.IsFinished()
		pods, err := k.attempts(ctx, name)
		if err != nil {
			return err
		}
		progressed := false
		for i := range pods {
			pod := &pods[i]
			if done[pod.Name] {
				continue
			}
			if !started(pod) && !finished {
				break // logs in order: wait for this attempt to start
			}
			attempt++
			done[pod.Name] = true
			progressed = true
			if err := a.podLogs(ctx, k, pod, attempt, true); err != nil && !apierrors.IsNotFound(err) {
				fmt.Fprintf(a.errOut, "attempt %d (pod %s): no output: %s\n", attempt, pod.Name, oneLine(err.Error()))
			}
		}
		if finished && !progressed {
			fmt.Fprintf(a.errOut, "run %s: %s\n", name, runSummary(run))
			return nil
		}
		if progressed {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pollInterval):
		}
	}
}

// runSummary is a finished run's phase with its reason.
func runSummary(run *hooksv1alpha1.HookRun) string {
	s := string(run.Status.Phase)
	if run.Status.Reason != "" && run.Status.Reason != string(run.Status.Phase) {
		s += " (" + run.Status.Reason + ")"
	}
	return s
}
