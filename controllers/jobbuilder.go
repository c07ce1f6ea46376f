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
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// maxJobNameLength keeps Job names usable as label values: the job
// controller labels every pod with its Job's name.
const maxJobNameLength = 63

// JobName is the name of the Job that runs a HookRun. It is derived from the
// run's name only, so it doubles as a lock: a second create of the same run's
// Job hits AlreadyExists instead of making a second Job.
func JobName(run *hooksv1alpha1.HookRun) string {
	if len(run.Name) <= maxJobNameLength {
		return run.Name
	}
	sum := sha256.Sum256([]byte(run.Name))
	suffix := hex.EncodeToString(sum[:])[:10]
	prefix := strings.TrimRight(run.Name[:maxJobNameLength-len(suffix)-1], "-.")
	return prefix + "-" + suffix
}

// escapeEnv stops Kubernetes from expanding $(NAME) in a value that came
// from a request: the container must see exactly the bytes that were sent.
func escapeEnv(value string) string {
	return strings.ReplaceAll(value, "$", "$$")
}

// BranchAndTag splits a full git ref into the branch or tag it names.
func BranchAndTag(ref string) (branch, tag string) {
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		return b, ""
	}
	if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		return "", t
	}
	return "", ""
}

// RunEnv is the environment a run's container gets: the HOOK_* variables from
// the delivery, then the params (sorted by name), then the template's own
// run.env. Values taken from the delivery are escaped so that Kubernetes'
// $(VAR) expansion leaves them as sent; run.env is the template author's and
// is passed as written.
func RunEnv(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) []corev1.EnvVar {
	delivered := deliveryEnv(run)
	for i := range delivered {
		delivered[i].Value = escapeEnv(delivered[i].Value)
	}
	if tmpl == nil {
		return delivered
	}
	return mergeEnv(delivered, tmpl.Spec.Run.Env)
}

// deliveryEnv is the run's HOOK_* variables, then its params sorted by
// name, with the values exactly as delivered (unescaped).
func deliveryEnv(run *hooksv1alpha1.HookRun) []corev1.EnvVar {
	d := run.Spec.Delivery
	branch, tag := BranchAndTag(d.Ref)
	env := []corev1.EnvVar{
		{Name: hooksv1alpha1.EnvRun, Value: run.Name},
		{Name: hooksv1alpha1.EnvTemplate, Value: run.Spec.TemplateRef.Name},
		{Name: hooksv1alpha1.EnvProvider, Value: string(d.Provider)},
		{Name: hooksv1alpha1.EnvEvent, Value: d.Event},
		{Name: hooksv1alpha1.EnvDelivery, Value: d.ID},
		{Name: hooksv1alpha1.EnvRepository, Value: d.Repository},
		{Name: hooksv1alpha1.EnvRef, Value: d.Ref},
		{Name: hooksv1alpha1.EnvBranch, Value: branch},
		{Name: hooksv1alpha1.EnvTag, Value: tag},
		{Name: hooksv1alpha1.EnvSHA, Value: d.SHA},
		{Name: hooksv1alpha1.EnvBefore, Value: d.Before},
		{Name: hooksv1alpha1.EnvSender, Value: d.Sender},
		{Name: hooksv1alpha1.EnvCloneURL, Value: d.CloneURL},
	}
	names := make([]string, 0, len(run.Spec.Params))
	for name := range run.Spec.Params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		env = append(env, corev1.EnvVar{Name: name, Value: run.Spec.Params[name]})
	}
	return env
}

// mergeEnv returns base with overrides applied: a variable of overrides
// replaces the one of the same name in place, new names are appended.
func mergeEnv(base, overrides []corev1.EnvVar) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(base)+len(overrides))
	index := make(map[string]int, len(base)+len(overrides))
	for _, list := range [][]corev1.EnvVar{base, overrides} {
		for _, env := range list {
			if i, ok := index[env.Name]; ok {
				out[i] = *env.DeepCopy()
				continue
			}
			index[env.Name] = len(out)
			out = append(out, *env.DeepCopy())
		}
	}
	return out
}

// BuildJob turns a template and a run into the Job that runs the template's
// shell command. run.podTemplate is the base pod; a container named "run" in
// it is merged with run.*, whose fields win.
func BuildJob(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) *batchv1.Job {
	spec := tmpl.Spec.Run
	labels := map[string]string{
		hooksv1alpha1.LabelTemplate: tmpl.Name,
		hooksv1alpha1.LabelRun:      run.Name,
	}

	pod := corev1.PodTemplateSpec{}
	if spec.PodTemplate != nil {
		pod = *spec.PodTemplate.DeepCopy()
	}
	pod.Labels = mergeLabels(pod.Labels, labels)
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	if spec.ServiceAccountName != "" {
		pod.Spec.ServiceAccountName = spec.ServiceAccountName
	}

	runIndex := -1
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == hooksv1alpha1.RunContainerName {
			runIndex = i
			break
		}
	}
	if runIndex < 0 {
		// The run container goes first so `kubectl logs job/<run>` shows it.
		pod.Spec.Containers = append([]corev1.Container{{Name: hooksv1alpha1.RunContainerName}}, pod.Spec.Containers...)
		runIndex = 0
	}
	c := &pod.Spec.Containers[runIndex]
	if spec.Image != "" {
		c.Image = spec.Image
	}
	c.Command = []string{"/bin/sh", "-c", spec.Shell}
	c.Args = nil
	c.Env = mergeEnv(c.Env, RunEnv(tmpl, run))
	c.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:      JobName(run),
			Namespace: run.Namespace,
			Labels:    labels,
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To(ptr.Deref(spec.Retries, 0)),
			ActiveDeadlineSeconds: spec.TimeoutSeconds,
			Template:              pod,
		},
	}
	return job
}

func mergeLabels(base, ours map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(ours))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range ours {
		out[k] = v
	}
	return out
}
