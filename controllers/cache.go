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
	"unique"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// lastAppliedAnnotation is kubectl's copy of the whole object as last
// applied: as large as the object, and never read by hookrun.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// helmReleaseSecretType is the type of the Secrets in which Helm stores
// every revision of every release (up to 1 MiB each). They are never a
// webhook secret.
const helmReleaseSecretType corev1.SecretType = "helm.sh/release.v1"

// CacheOptions keep the manager's cache small (docs/performance.md,
// "Footprint"): only Jobs that hookrun made are cached, and what the
// manager never reads is dropped before an object is stored:
//
//   - from every object: managedFields and kubectl's last-applied annotation;
//   - from Jobs: the spec (the pod template above all). The reconcilers read
//     a cached Job's metadata (name, labels, owner, deletion) and status
//     only; they never update a Job, so the stripped copy is never written
//     back. The concurrency check that needs Jobs lists them from the API
//     server.
//   - from Helm release Secrets: their data. The cache holds every Secret
//     (a template may name any), and these are the largest in most clusters.
//
// The strings that thousands of runs and Jobs repeat (namespace, label
// keys and values, owner kinds, repository, ref, phase, reasons…) are
// interned: every copy then shares one backing array. Values do not change.
//
// A transform must not strip a field that a reconciler writes back with
// Update or a patch computed from the cached copy: HookRuns and
// HookTemplates keep their spec and status whole.
func CacheOptions() cache.Options {
	hasRunLabel, err := labels.NewRequirement(hooksv1alpha1.LabelRun, selection.Exists, nil)
	utilruntime.Must(err)
	return cache.Options{
		DefaultTransform: stripUnread,
		ByObject: map[client.Object]cache.ByObject{
			&batchv1.Job{}:           {Label: labels.NewSelector().Add(*hasRunLabel), Transform: stripJob},
			&hooksv1alpha1.HookRun{}: {Transform: compactRun},
			&corev1.Secret{}:         {Transform: stripSecret},
		},
	}
}

// stripUnread drops managedFields and the last-applied annotation. It
// passes through anything that is not an object (a delete tombstone).
func stripUnread(in any) (any, error) {
	if tombstone, ok := in.(toolscache.DeletedFinalStateUnknown); ok {
		return tombstone, nil
	}
	obj, ok := in.(metav1.Object)
	if !ok {
		return in, nil
	}
	obj.SetManagedFields(nil)
	if annotations := obj.GetAnnotations(); annotations[lastAppliedAnnotation] != "" {
		delete(annotations, lastAppliedAnnotation)
		obj.SetAnnotations(annotations)
	}
	return in, nil
}

// stripJob also drops a Job's spec and interns what Jobs repeat.
func stripJob(in any) (any, error) {
	if job, ok := in.(*batchv1.Job); ok {
		job.Spec = batchv1.JobSpec{}
		internMeta(&job.ObjectMeta)
		for i := range job.Status.Conditions {
			c := &job.Status.Conditions[i]
			c.Type, c.Status = batchv1.JobConditionType(intern(string(c.Type))), corev1.ConditionStatus(intern(string(c.Status)))
			c.Reason, c.Message = intern(c.Reason), intern(c.Message)
		}
	}
	return stripUnread(in)
}

// compactRun interns what runs repeat: the template, the repository and
// ref of one project, phases, reasons and condition texts.
func compactRun(in any) (any, error) {
	run, ok := in.(*hooksv1alpha1.HookRun)
	if !ok {
		return stripUnread(in)
	}
	internMeta(&run.ObjectMeta)
	run.Spec.TemplateRef.Name = intern(run.Spec.TemplateRef.Name)
	d := &run.Spec.Delivery
	d.Provider = hooksv1alpha1.Provider(intern(string(d.Provider)))
	d.Event, d.Repository, d.Ref = intern(d.Event), intern(d.Repository), intern(d.Ref)
	d.Sender, d.CloneURL = intern(d.Sender), intern(d.CloneURL)
	if len(run.Spec.Params) > 0 {
		params := make(map[string]string, len(run.Spec.Params))
		for k, v := range run.Spec.Params {
			params[intern(k)] = intern(v)
		}
		run.Spec.Params = params
	}
	st := &run.Status
	st.Phase = hooksv1alpha1.HookRunPhase(intern(string(st.Phase)))
	st.Reason = intern(st.Reason)
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type, c.Status = intern(c.Type), metav1.ConditionStatus(intern(string(c.Status)))
		c.Reason, c.Message = intern(c.Reason), intern(c.Message)
	}
	return stripUnread(in)
}

// internMeta interns the metadata that objects of one kind share.
func internMeta(meta *metav1.ObjectMeta) {
	meta.Namespace = intern(meta.Namespace)
	if len(meta.Labels) > 0 {
		labels := make(map[string]string, len(meta.Labels))
		for k, v := range meta.Labels {
			labels[intern(k)] = intern(v)
		}
		meta.Labels = labels
	}
	for i := range meta.OwnerReferences {
		ref := &meta.OwnerReferences[i]
		ref.APIVersion, ref.Kind, ref.Name = intern(ref.APIVersion), intern(ref.Kind), intern(ref.Name)
	}
}

// intern returns the canonical copy of s. Long strings (a failed run's
// output tail) are left alone: they are seldom equal.
func intern(s string) string {
	if s == "" || len(s) > 256 {
		return s
	}
	return unique.Make(s).Value()
}

// stripSecret also drops the data of Helm release Secrets.
func stripSecret(in any) (any, error) {
	if secret, ok := in.(*corev1.Secret); ok && secret.Type == helmReleaseSecretType {
		secret.Data, secret.StringData = nil, nil
	}
	return stripUnread(in)
}
