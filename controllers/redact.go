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
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// What leaves the cluster is redacted (DESIGN.md): before a run's output
// reaches status.message, an Event or a git host, the value of every Secret
// key the run's pod can see, and of the template's webhook and report
// secrets, is replaced by redactedMark when it is at least minRedactBytes
// long (shorter values would blank out ordinary words).
//
// The output is redacted whole, before it is cut to its tail, so a cut can
// only split the mark, never a value. The kubelet cuts a termination message
// read from the logs itself (2048 bytes / 80 lines), so the text we get may
// already begin in the middle of a value: a beginning of at least
// minRedactBytes that is the end of a value is replaced by the mark too.

const (
	redactedMark   = "[redacted]"
	minRedactBytes = 4
)

// redactor replaces secret values in text.
type redactor struct {
	values   []string // longest first, so a value inside another loses
	replacer *strings.Replacer
}

// newRedactor makes a redactor for the given values; short and repeated
// values are dropped.
func newRedactor(values []string) *redactor {
	var keep []string
	for _, v := range values {
		if len(v) >= minRedactBytes && !slices.Contains(keep, v) {
			keep = append(keep, v)
		}
	}
	// strings.Replacer tries its pairs in argument order at each position.
	slices.SortStableFunc(keep, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(keep))
	for _, v := range keep {
		pairs = append(pairs, v, redactedMark)
	}
	return &redactor{values: keep, replacer: strings.NewReplacer(pairs...)}
}

// redact replaces every value in s, and a leading piece of s that is the end
// of a value cut off by an earlier truncation.
func (r *redactor) redact(s string) string {
	if r == nil || len(r.values) == 0 || s == "" {
		return s
	}
	s = r.replacer.Replace(s)
	return r.redactLeadingPiece(s)
}

// redactLeadingPiece replaces the longest beginning of s (at least
// minRedactBytes) that is a proper suffix of a value.
func (r *redactor) redactLeadingPiece(s string) string {
	best := 0
	for _, v := range r.values {
		for n := min(len(v)-1, len(s)); n >= minRedactBytes && n > best; n-- {
			if strings.HasPrefix(s, v[len(v)-n:]) {
				best = n
				break
			}
		}
	}
	if best == 0 {
		return s
	}
	return redactedMark + s[best:]
}

// secretRef is one Secret the pod can see: one key of it, or all of them.
type secretRef struct {
	name string
	key  string // "" means every key
}

// podSecretRefs lists the Secrets a pod spec exposes to its containers: env
// valueFrom.secretKeyRef, envFrom.secretRef, and secret (and projected
// secret) volumes. Volumes and envFrom expose every key (a volume's items
// only select, redacting every key is the safe side).
func podSecretRefs(spec *corev1.PodSpec) []secretRef {
	var refs []secretRef
	containers := slices.Concat(spec.InitContainers, spec.Containers)
	for _, c := range containers {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				refs = append(refs, secretRef{name: e.ValueFrom.SecretKeyRef.Name, key: e.ValueFrom.SecretKeyRef.Key})
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				refs = append(refs, secretRef{name: e.SecretRef.Name})
			}
		}
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			refs = append(refs, secretRef{name: v.Secret.SecretName})
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					refs = append(refs, secretRef{name: src.Secret.Name})
				}
			}
		}
	}
	return refs
}

// templateSecretRefs lists the template's own Secrets: the webhook secret
// (and its previous key) and the report credentials.
func templateSecretRefs(tmpl *hooksv1alpha1.HookTemplate) []secretRef {
	if tmpl == nil {
		return nil
	}
	src := tmpl.Spec.Source.SecretRef
	refs := []secretRef{}
	if src.Name != "" {
		key := src.Key
		if key == "" {
			key = hooksv1alpha1.DefaultSecretKey
		}
		refs = append(refs, secretRef{name: src.Name, key: key})
		if prev := tmpl.Spec.Source.PreviousSecretKey; prev != "" {
			refs = append(refs, secretRef{name: src.Name, key: prev})
		}
	}
	if rep := tmpl.Spec.Report; rep != nil {
		if c := rep.CredentialsRef; c != nil {
			key := c.Key
			if key == "" {
				key = hooksv1alpha1.DefaultReportKey
			}
			refs = append(refs, secretRef{name: c.Name, key: key})
		}
		if app := rep.GitHubApp; app != nil {
			refs = append(refs, secretRef{name: app.PrivateKeyRef.Name, key: app.PrivateKeyRef.Key})
		}
	}
	return refs
}

// secretValues reads the values refs point at from the Secrets found in
// namespace; a Secret that does not exist exposes nothing.
func secretValues(ctx context.Context, reader client.Reader, namespace string, refs []secretRef) ([]string, error) {
	var values []string
	read := map[string]*corev1.Secret{}
	for _, ref := range refs {
		if ref.name == "" {
			continue
		}
		secret, seen := read[ref.name]
		if !seen {
			secret = &corev1.Secret{}
			if err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.name}, secret); err != nil {
				if !apierrors.IsNotFound(err) {
					return nil, fmt.Errorf("get Secret %s: %w", ref.name, err)
				}
				secret = nil
			}
			read[ref.name] = secret
		}
		if secret == nil {
			continue
		}
		if ref.key != "" {
			values = append(values, string(secret.Data[ref.key]), secret.StringData[ref.key])
			continue
		}
		for _, v := range secret.Data {
			values = append(values, string(v))
		}
	}
	return values, nil
}

// runRedactor builds the redactor of a run: its pod's Secrets and its
// template's. tmpl may be nil (the template is gone).
func runRedactor(ctx context.Context, reader client.Reader, namespace string, pod *corev1.PodSpec, tmpl *hooksv1alpha1.HookTemplate) (*redactor, error) {
	var refs []secretRef
	if pod != nil {
		refs = podSecretRefs(pod)
	}
	refs = append(refs, templateSecretRefs(tmpl)...)
	values, err := secretValues(ctx, reader, namespace, refs)
	if err != nil {
		return nil, err
	}
	return newRedactor(values), nil
}

// redactorOf builds the redactor of a run from its Job's pod template and its
// template, read through the manager's cache.
func (r *HookRunReconciler) redactorOf(ctx context.Context, run *hooksv1alpha1.HookRun, job *batchv1.Job) (*redactor, error) {
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: run.Namespace, Name: run.Spec.TemplateRef.Name}, tmpl); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("get HookTemplate %s: %w", run.Spec.TemplateRef.Name, err)
		}
		tmpl = nil
	}
	// The cache keeps a Job without its pod template (see CacheOptions):
	// the pod the run sees is the one BuildJob makes of the template; the
	// Job's own, where present, is added.
	red, err := runRedactor(ctx, r.Client, run.Namespace, &job.Spec.Template.Spec, tmpl)
	if err != nil || tmpl == nil {
		return red, err
	}
	built, err := runRedactor(ctx, r.Client, run.Namespace, &BuildJob(tmpl, run).Spec.Template.Spec, nil)
	if err != nil {
		return nil, err
	}
	return newRedactor(append(red.values, built.values...)), nil
}

// redactTerminationMessages redacts the run container's termination messages
// of pods in place, before anything cuts them to a tail.
func redactTerminationMessages(pods []corev1.Pod, red *redactor) {
	for i := range pods {
		for j := range pods[i].Status.ContainerStatuses {
			cs := &pods[i].Status.ContainerStatuses[j]
			for _, term := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if term != nil {
					term.Message = red.redact(term.Message)
				}
			}
		}
	}
}
