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
	"strconv"
	"strings"
	"sync"
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
//   - from Jobs: everything but what the HookRun reconciler reads of its
//     Job (stripJob);
//   - from finished HookRuns: the delivery, params, message and conditions
//     (stripRun). An unfinished run is kept whole: admission, the Job
//     builder and the status patch read all of it;
//   - from Nodes, cached by metadata only: all but their name and deletion
//     (stripNode);
//   - from Helm release Secrets: their data. The cache holds every Secret
//     (a template may name any), and these are the largest in most clusters.
//
// The strings that thousands of runs and Jobs repeat (namespace, owner
// kinds, repository, ref, phase, reasons…) are interned, and so are the
// small label and params maps that repeat: equal maps share one instance.
//
// Objects in the cache are shared and must not be modified: the client
// hands out deep copies, event handlers and predicates only read. A
// transform must not strip a field that a reconciler writes back with
// Update, or with a patch computed from a cached copy, or reads to decide:
// cache_test.go checks the readers against stripped objects.
func CacheOptions() cache.Options {
	hasRunLabel, err := labels.NewRequirement(hooksv1alpha1.LabelRun, selection.Exists, nil)
	utilruntime.Must(err)
	return cache.Options{
		DefaultTransform: stripUnread,
		ByObject: map[client.Object]cache.ByObject{
			&batchv1.Job{}:           {Label: labels.NewSelector().Add(*hasRunLabel), Transform: stripJob},
			&hooksv1alpha1.HookRun{}: {Transform: stripRun},
			&corev1.Secret{}:         {Transform: stripSecret},
			nodeMeta():               {Transform: stripNode},
		},
	}
}

// Transforms run once when an object enters the informer and may run again
// on the result (client-go applies them in the watch-list store and in the
// FIFO): each of them must be idempotent.

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

// stripJob keeps of a Job what the HookRun reconciler reads from the
// cache: its name, owner and deletion (getJob, jobBeingDeleted), the
// template label (a deleted Job wakes its template's waiting runs:
// waitingSiblingsOfJob) and the status fields that outcomeOf maps to the
// run's phase. That excludes the spec (the pod template above all), the
// annotations, the other labels (the API server adds four, two of them
// unique per Job; admission lists Jobs by label from the API server, not
// the cache), the pod counters other than active/succeeded/failed and the
// interim conditions (SuccessCriteriaMet, FailureTarget), which outcomeOf
// ignores. hookrun never updates a Job, so the stripped copy is never
// written back.
func stripJob(in any) (any, error) {
	job, ok := in.(*batchv1.Job)
	if !ok {
		return stripUnread(in)
	}
	job.ManagedFields = nil
	job.Annotations = nil
	job.Labels = templateLabels(job.Labels[hooksv1alpha1.LabelTemplate])
	job.Namespace = intern(job.Namespace)
	internOwners(&job.ObjectMeta)
	job.Spec = batchv1.JobSpec{}
	st := job.Status
	job.Status = batchv1.JobStatus{
		Conditions:     terminalConditions(st.Conditions),
		StartTime:      st.StartTime,
		CompletionTime: st.CompletionTime,
		Active:         st.Active,
		Succeeded:      st.Succeeded,
		Failed:         st.Failed,
	}
	return job, nil
}

// terminalConditions keeps the conditions that end a run, Complete=True and
// Failed=True, in their order: outcomeOf reads the first of them and no
// other condition.
func terminalConditions(conditions []batchv1.JobCondition) []batchv1.JobCondition {
	var kept []batchv1.JobCondition
	for _, c := range conditions {
		if c.Status != corev1.ConditionTrue || (c.Type != batchv1.JobComplete && c.Type != batchv1.JobFailed) {
			continue
		}
		c.Type, c.Status = batchv1.JobConditionType(intern(string(c.Type))), corev1.ConditionStatus(intern(string(c.Status)))
		c.Reason, c.Message = intern(c.Reason), intern(c.Message)
		c.LastProbeTime = metav1.Time{}
		kept = append(kept, c)
	}
	return kept
}

// stripRun compacts a HookRun. A finished run (Succeeded, Failed,
// Cancelled, Skipped) is read only for what the template's status and
// history, admission, the wake-ups of waiting runs and the status badge
// look at: its name, owner, template, creation and deletion, phase,
// jobName, completion time and delivery ref. The HookRun reconciler
// returns before anything else for a finished run and never writes its
// status again, so its delivery (but the ref), params, status.message (up
// to 4 KiB of a failed run's output) and conditions are dropped, and its
// labels cut to the template label. An unfinished run keeps everything:
// admission evaluates the group key of every run with a Job (delivery and
// params), the Job builder reads the whole spec, and the status patch is
// computed against the cached status.
func stripRun(in any) (any, error) {
	run, ok := in.(*hooksv1alpha1.HookRun)
	if !ok {
		return stripUnread(in)
	}
	if run.Status.Phase.IsFinished() {
		run.ManagedFields = nil
		run.Annotations = nil
		run.Labels = templateLabels(run.Labels[hooksv1alpha1.LabelTemplate])
		// The ref stays: the status badge (webhookserver) picks the last
		// finished run of one ref. Refs repeat and are interned.
		run.Spec.Delivery = hooksv1alpha1.Delivery{Ref: run.Spec.Delivery.Ref}
		run.Spec.Params = nil
		run.Status.Message = ""
		run.Status.Conditions = nil
		run.Status.Nodes = nil // read only while the run runs
	} else if _, err := stripUnread(run); err != nil {
		return nil, err
	}
	internRun(run)
	return run, nil
}

// internRun interns what runs repeat: the template, the repository and
// ref of one project, phases, reasons and condition texts.
func internRun(run *hooksv1alpha1.HookRun) {
	run.Namespace = intern(run.Namespace)
	run.Labels = internStringMap(run.Labels)
	internOwners(&run.ObjectMeta)
	run.Spec.TemplateRef.Name = intern(run.Spec.TemplateRef.Name)
	d := &run.Spec.Delivery
	d.Provider = hooksv1alpha1.Provider(intern(string(d.Provider)))
	d.Event, d.Repository, d.Ref = intern(d.Event), intern(d.Repository), intern(d.Ref)
	d.Sender, d.CloneURL = intern(d.Sender), intern(d.CloneURL)
	run.Spec.Params = internStringMap(run.Spec.Params)
	st := &run.Status
	st.Phase = hooksv1alpha1.HookRunPhase(intern(string(st.Phase)))
	st.Reason = intern(st.Reason)
	if st.JobName == run.Name {
		st.JobName = run.Name // the Job is named after the run: one string
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type, c.Status = intern(c.Type), metav1.ConditionStatus(intern(string(c.Status)))
		c.Reason, c.Message = intern(c.Reason), intern(c.Message)
	}
}

// internStringMap returns the shared copy of a label or params map
// (internMap), or, when it is too large to share, a copy whose strings are
// interned.
func internStringMap(in map[string]string) map[string]string {
	if len(in) == 0 {
		return in
	}
	if shared := internMap(in); shared != nil {
		return shared
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[intern(k)] = intern(v)
	}
	return out
}

// internOwners interns the owner references' kinds and names. A Job's
// owner is the run it is named after: its name is the Job's own string.
// Unique strings are not interned: an entry in the intern table costs more
// than the copy it would save.
func internOwners(meta *metav1.ObjectMeta) {
	for i := range meta.OwnerReferences {
		ref := &meta.OwnerReferences[i]
		ref.APIVersion, ref.Kind = intern(ref.APIVersion), intern(ref.Kind)
		if ref.Name == meta.Name {
			ref.Name = meta.Name
		} else {
			ref.Name = intern(ref.Name)
		}
	}
}

// templateLabels returns the label map that only names the template, nil
// for an empty name.
func templateLabels(name string) map[string]string {
	if name == "" {
		return nil
	}
	return internMap(map[string]string{hooksv1alpha1.LabelTemplate: name})
}

// Small string maps repeat as strings do: every run of a template carries
// the same label map, most runs of a project the same few params, and after
// stripJob every Job of a template the same single label. A Go map costs
// over 300 bytes even with one entry, so such maps are interned like
// strings: equal maps share one instance. The table is bounded: when it is
// full it starts over, which only ends the sharing of later copies with the
// earlier ones; the maps already shared stay valid.
const (
	maxInternedMaps     = 4096
	maxInternedMapBytes = 512
	maxInternedMapLen   = 8
)

var internedMaps = struct {
	sync.Mutex
	byKey map[string]map[string]string
}{byKey: map[string]map[string]string{}}

// internMap returns the shared map equal to m, or nil when m is empty or
// too large to share. The shared map must never be modified.
func internMap(m map[string]string) map[string]string {
	if len(m) == 0 || len(m) > maxInternedMapLen {
		return nil
	}
	keys := make([]string, 0, len(m))
	size := 0
	for k, v := range m {
		keys = append(keys, k)
		size += len(k) + len(v)
	}
	if size > maxInternedMapBytes {
		return nil
	}
	sort.Strings(keys)
	// Length-prefixed, so that no two different maps share a key.
	var b strings.Builder
	for _, k := range keys {
		for _, s := range []string{k, m[k]} {
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
	}
	key := b.String()

	internedMaps.Lock()
	defer internedMaps.Unlock()
	if shared, ok := internedMaps.byKey[key]; ok {
		return shared
	}
	if len(internedMaps.byKey) >= maxInternedMaps {
		internedMaps.byKey = map[string]map[string]string{}
	}
	shared := make(map[string]string, len(m))
	for k, v := range m {
		shared[intern(k)] = intern(v)
	}
	internedMaps.byKey[key] = shared
	return shared
}

// intern returns the canonical copy of s. Long strings (a failed run's
// output tail) are left alone: they are seldom equal.
func intern(s string) string {
	if s == "" || len(s) > 256 {
		return s
	}
	return unique.Make(s).Value()
}

// stripNode keeps of a Node's metadata its name and deletion: the HookRun
// reconciler only asks whether a node of a run is still there (nodeGone).
// Nodes carry large label and annotation maps that hookrun never reads.
func stripNode(in any) (any, error) {
	if node, ok := in.(*metav1.PartialObjectMetadata); ok {
		node.Labels, node.Annotations, node.OwnerReferences, node.ManagedFields = nil, nil, nil, nil
	}
	return stripUnread(in)
}

// stripSecret also drops the data of Helm release Secrets.
func stripSecret(in any) (any, error) {
	if secret, ok := in.(*corev1.Secret); ok && secret.Type == helmReleaseSecretType {
		secret.Data, secret.StringData = nil, nil
	}
	return stripUnread(in)
}
