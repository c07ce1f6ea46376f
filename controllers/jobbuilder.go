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
	"maps"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// JobName is the name of the Job that runs a HookRun (delivery.JobName):
// derived from the run's name only, so it doubles as a lock.
func JobName(run *hooksv1alpha1.HookRun) string {
	return delivery.JobName(run.Name)
}

// RunEnv is the environment a run's container gets (delivery.Env).
func RunEnv(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) []corev1.EnvVar {
	return delivery.Env(tmpl, run)
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
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	maps.Copy(pod.Labels, labels)
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
	c.Env = delivery.MergeEnv(c.Env, delivery.Env(tmpl, run))
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

// nodeNameField is the node field that required node affinity pins a pod
// to one node by (matchFields supports only this one).
const nodeNameField = "metadata.name"

// BuildNodeJob is BuildJob for one node of a run on every node (run.nodes):
// the Job is named NodeJobName, its pod gets HOOK_NODE and is pinned to the
// node by required node affinity on the node's name. The affinity is added
// to every term the podTemplate already has (terms are ORed, requirements
// within a term ANDed), so the template's own node affinity still applies.
// No toleration is added: the pod tolerates the node's taints only if the
// podTemplate says so.
func BuildNodeJob(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun, node string) *batchv1.Job {
	job := BuildJob(tmpl, run)
	job.Name = delivery.NodeJobName(run.Name, node)
	job.Annotations = map[string]string{hooksv1alpha1.AnnotationNode: node}
	pod := &job.Spec.Template.Spec
	for i := range pod.Containers {
		if c := &pod.Containers[i]; c.Name == hooksv1alpha1.RunContainerName {
			c.Env = delivery.MergeEnv(c.Env, []corev1.EnvVar{{Name: hooksv1alpha1.EnvNode, Value: node}})
		}
	}
	pinToNode(pod, node)
	return job
}

// pinToNode adds required node affinity on the node's name to a pod.
func pinToNode(pod *corev1.PodSpec, node string) {
	if pod.Affinity == nil {
		pod.Affinity = &corev1.Affinity{}
	}
	if pod.Affinity.NodeAffinity == nil {
		pod.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := pod.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	required := na.RequiredDuringSchedulingIgnoredDuringExecution
	if len(required.NodeSelectorTerms) == 0 {
		required.NodeSelectorTerms = []corev1.NodeSelectorTerm{{}}
	}
	for i := range required.NodeSelectorTerms {
		term := &required.NodeSelectorTerms[i]
		term.MatchFields = append(term.MatchFields, corev1.NodeSelectorRequirement{
			Key: nodeNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
		})
	}
}
