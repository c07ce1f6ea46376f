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

// Package delivery is what a HookRun's delivery means, computed the same way
// wherever it is needed: its name, its Job's name, its environment, its
// branch or tag and its concurrency group. It is pure (no client) and a leaf:
// the webhook server and the reconcilers both import it, and neither imports
// the other.
package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// MaxNameLength keeps run and Job names DNS-1123 labels and usable as label
// values: a run's Job is named after it, and the job controller labels
// every pod with its Job's name.
const MaxNameLength = 63

// nameHashLength is the length of the hash suffix of run and Job names.
const nameHashLength = 10

// ShortHash is the first n hex digits of the SHA-256 of s.
func ShortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// RunName is the HookRun name of a delivery: `<template>-<first 10 hex
// digits of sha256(delivery id)>`. A redelivery maps to the same name, so the
// API server's AlreadyExists is the lock that keeps one run per delivery.
// The template part is trimmed so that the whole is at most 63 characters
// and a DNS-1123 label (dots become dashes).
func RunName(template, deliveryID string) string {
	suffix := ShortHash(deliveryID, nameHashLength)
	prefix := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		default:
			return '-'
		}
	}, template)
	if limit := MaxNameLength - nameHashLength - 1; len(prefix) > limit {
		prefix = prefix[:limit]
	}
	prefix = strings.Trim(prefix, "-")
	if prefix == "" {
		return "run-" + suffix
	}
	return prefix + "-" + suffix
}

// JobName is the name of the Job that runs the HookRun named run. It is
// derived from the run's name only, so it doubles as a lock: a second create
// of the same run's Job hits AlreadyExists instead of making a second Job.
func JobName(run string) string {
	if len(run) <= MaxNameLength {
		return run
	}
	suffix := ShortHash(run, nameHashLength)
	prefix := strings.TrimRight(run[:MaxNameLength-len(suffix)-1], "-.")
	return prefix + "-" + suffix
}

// NodeJobName is the name of the Job that runs the HookRun named run on one
// node (run.nodes): `<run>-<first 10 hex digits of sha256(node)>`. When that
// would be longer than 63 characters, the run part is cut to its first 41
// characters followed by the first 10 hex digits of sha256(run), so that
// two long run names that share a prefix still get different Jobs:
// `<run[:41]>-<hash(run)>-<hash(node)>`. Like JobName it depends on its
// inputs only, so it doubles as a lock against a second Job for the node.
func NodeJobName(run, node string) string {
	suffix := ShortHash(node, nameHashLength)
	if len(run)+1+len(suffix) <= MaxNameLength {
		return run + "-" + suffix
	}
	runHash := ShortHash(run, nameHashLength)
	prefix := strings.TrimRight(run[:MaxNameLength-2*(nameHashLength+1)], "-.")
	return prefix + "-" + runHash + "-" + suffix
}

// ShortSHA is the commit's abbreviation as a run shows it: 7 characters.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
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

// Env is the environment a run's container gets: the HOOK_* variables from
// the delivery, then the params (sorted by name), then the template's own
// run.env (tmpl may be nil). Values taken from the delivery are escaped
// (`$` → `$$`) so that Kubernetes' $(VAR) expansion leaves them as sent;
// run.env is the template author's and is passed as written.
func Env(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) []corev1.EnvVar {
	delivered := Vars(run)
	for i := range delivered {
		delivered[i].Value = strings.ReplaceAll(delivered[i].Value, "$", "$$")
	}
	if tmpl == nil {
		return delivered
	}
	return MergeEnv(delivered, tmpl.Spec.Run.Env)
}

// Vars are the run's HOOK_* variables, then its params sorted by name, with
// the values exactly as delivered (unescaped).
func Vars(run *hooksv1alpha1.HookRun) []corev1.EnvVar {
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
		{Name: hooksv1alpha1.EnvMessage, Value: d.Message},
	}
	var pr hooksv1alpha1.PullRequestDelivery
	if d.PullRequest != nil {
		pr = *d.PullRequest
	}
	number := ""
	if pr.Number != 0 {
		number = strconv.FormatInt(pr.Number, 10)
	}
	env = append(env,
		corev1.EnvVar{Name: hooksv1alpha1.EnvPRNumber, Value: number},
		corev1.EnvVar{Name: hooksv1alpha1.EnvPRAction, Value: string(pr.Action)},
		corev1.EnvVar{Name: hooksv1alpha1.EnvBaseRef, Value: pr.BaseRef},
		corev1.EnvVar{Name: hooksv1alpha1.EnvHeadRef, Value: pr.HeadRef},
	)
	for _, name := range slices.Sorted(maps.Keys(run.Spec.Params)) {
		env = append(env, corev1.EnvVar{Name: name, Value: run.Spec.Params[name]})
	}
	return env
}

// MergeEnv returns base with overrides applied: a variable of overrides
// replaces the one of the same name in place, new names are appended.
func MergeEnv(base, overrides []corev1.EnvVar) []corev1.EnvVar {
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

var groupVarPattern = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// GroupKey expands the template's concurrency.group for a run: $(NAME) is
// replaced by the run's HOOK_* variable or param of that name (unknown names
// expand to nothing). An empty group puts every run of the template in one
// group.
func GroupKey(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) string {
	expr := tmpl.Spec.Concurrency.Group
	if expr == "" {
		return ""
	}
	vars := map[string]string{}
	for _, env := range Vars(run) {
		vars[env.Name] = env.Value
	}
	return groupVarPattern.ReplaceAllStringFunc(expr, func(m string) string {
		return vars[groupVarPattern.FindStringSubmatch(m)[1]]
	})
}

// GroupLabel turns a group key into a label value (keys may hold any bytes).
func GroupLabel(key string) string {
	return ShortHash(key, 16)
}
