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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Provider names the sender of a webhook and so its signature scheme and
// payload format.
// +kubebuilder:validation:Enum=github;gitlab;gitea;bitbucket;generic
type Provider string

// Providers understood by the webhook server.
const (
	ProviderGitHub    Provider = "github"
	ProviderGitLab    Provider = "gitlab"
	ProviderGitea     Provider = "gitea"
	ProviderBitbucket Provider = "bitbucket"
	ProviderGeneric   Provider = "generic"
)

// ConcurrencyPolicy says what happens when a run arrives while another run of
// the same group is active.
// +kubebuilder:validation:Enum=Allow;Forbid;Replace;Queue
type ConcurrencyPolicy string

// Concurrency policies.
const (
	// ConcurrencyAllow starts every run at once.
	ConcurrencyAllow ConcurrencyPolicy = "Allow"
	// ConcurrencyForbid skips a run that arrives while another is active.
	ConcurrencyForbid ConcurrencyPolicy = "Forbid"
	// ConcurrencyReplace cancels the active run and starts the new one.
	ConcurrencyReplace ConcurrencyPolicy = "Replace"
	// ConcurrencyQueue starts runs one after another in delivery order.
	ConcurrencyQueue ConcurrencyPolicy = "Queue"
)

// PendingPolicy says which queued runs start when a Queue slot frees up.
// +kubebuilder:validation:Enum=All;Latest
type PendingPolicy string

// Pending policies.
const (
	// PendingAll runs every queued run, oldest first.
	PendingAll PendingPolicy = "All"
	// PendingLatest runs only the newest queued run and skips the others.
	PendingLatest PendingPolicy = "Latest"
)

// SecretKeyRef points at one key of a Secret in the template's namespace.
type SecretKeyRef struct {
	// Name of the Secret, in the HookTemplate's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key of the Secret's data that holds the webhook secret.
	// +optional
	// +kubebuilder:default=secret
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// SourceSpec says who may send deliveries and how they prove it: either
// provider and secretRef (the template's own URL, /hooks/{namespace}/{name}),
// or sourceRef (a HookSource's URL, shared with other templates). A
// template with spec.poll or spec.schedule may give only the provider: it
// then takes no webhooks at all (HookTemplateSpec's rule).
// +kubebuilder:validation:XValidation:rule="has(self.sourceRef) || has(self.provider)",message="source needs a provider (with secretRef to take webhooks), or sourceRef"
// +kubebuilder:validation:XValidation:rule="!has(self.sourceRef) || (!has(self.provider) && !has(self.secretRef))",message="source.sourceRef excludes provider and secretRef: the HookSource has them"
// +kubebuilder:validation:XValidation:rule="!has(self.sourceRef) || (!has(self.previousSecretKey) && !has(self.allowSHA1))",message="source.sourceRef excludes previousSecretKey and allowSHA1: set them on the HookSource"
type SourceSpec struct {
	// Provider is the git host (or "generic" for any signed script); it selects
	// the signature scheme and how the payload is read. Required unless
	// sourceRef is set.
	// +optional
	Provider Provider `json:"provider,omitempty"`

	// SecretRef names the Secret key holding the shared webhook secret.
	// Required unless sourceRef is set, or the template has spec.poll or
	// spec.schedule: without it the template takes no webhooks (its
	// /hooks/ URL answers 404, status.webhookPath is empty) and its runs
	// come from polling and its schedule only.
	// +optional
	SecretRef SecretKeyRef `json:"secretRef,omitzero"`

	// SourceRef names a HookSource of the namespace whose URL, provider and
	// secret this template uses instead of its own: deliveries to
	// /sources/{namespace}/{sourceRef.name} run every template naming that
	// source whose match they pass, and the template's own /hooks/ URL
	// answers 404. signatureTolerance is then the source's too.
	// +optional
	SourceRef *SourceRef `json:"sourceRef,omitempty"`

	// PreviousSecretKey names a second key of the same Secret whose value is
	// accepted too, so the secret can be rotated at the git host without a
	// window of rejected deliveries.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PreviousSecretKey string `json:"previousSecretKey,omitempty"`

	// AllowSHA1 accepts GitHub's legacy X-Hub-Signature (HMAC-SHA1) header
	// when X-Hub-Signature-256 is absent. Off by default.
	// +optional
	AllowSHA1 bool `json:"allowSHA1,omitempty"`

	// SignatureTolerance is how far a Standard Webhooks `webhook-timestamp`
	// may be from the server's clock; older deliveries are rejected as replays.
	// +optional
	// +kubebuilder:default="5m"
	SignatureTolerance *metav1.Duration `json:"signatureTolerance,omitempty"`
}

// MatchSpec selects the deliveries that start a run. Every non-empty list must
// match; an empty list matches anything.
type MatchSpec struct {
	// Events are provider event names (`push`, `Push Hook`, `repo:push`, …) or
	// the normalised names `push` (any branch or tag push) and `tag` (a tag
	// push). `ping` never matches. A branch or tag deletion only matches when
	// `delete` is listed.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=128
	Events []string `json:"events,omitempty"`

	// Repositories are case-insensitive "owner/name" globs, e.g. `acme/*`:
	// `*` stays within one segment, `**` crosses `/`, a leading `!`
	// excludes.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	Repositories []string `json:"repositories,omitempty"`

	// Refs are globs on the full ref, e.g. `refs/heads/main`, `refs/tags/v*`,
	// `refs/heads/**`; a leading `!` excludes, e.g. `!refs/heads/wip/**`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	Refs []string `json:"refs,omitempty"`

	// Paths are globs on the files a delivery changed (added, modified or
	// removed in any of its commits), e.g. `deploy/**`; at least one changed
	// file must match. When the payload's file list may be incomplete the
	// delivery matches (a run too many, never a deploy missed).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(p, p != '' && p != '!')",message="match.paths: a pattern must not be empty or a lone !"
	Paths []string `json:"paths,omitempty"`

	// IgnorePaths are globs on changed files: a delivery whose changed files
	// all match them is ignored, e.g. `**/*.md`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(p, p != '' && p != '!')",message="match.ignorePaths: a pattern must not be empty or a lone !"
	IgnorePaths []string `json:"ignorePaths,omitempty"`

	// Senders are globs on the delivery's sender (case-insensitive), e.g.
	// `acme-bot*`; empty lets anyone.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(p, p != '' && p != '!')",message="match.senders: a pattern must not be empty or a lone !"
	Senders []string `json:"senders,omitempty"`

	// PullRequest narrows pull and merge request deliveries; other
	// deliveries pass it.
	// +optional
	PullRequest *PullRequestMatch `json:"pullRequest,omitempty"`

	// Expression is a CEL expression over `delivery`, `body` (the decoded
	// JSON payload) and `headers` (lower-cased names, signature and token
	// headers removed) that must return a bool, e.g.
	// `!delivery.message.contains("[skip deploy]")`.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Expression string `json:"expression,omitempty"`
}

// PullRequestMatch narrows pull and merge request deliveries.
type PullRequestMatch struct {
	// Actions that run; empty means every action.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=7
	Actions []PullRequestAction `json:"actions,omitempty"`

	// BaseRefs are globs on the full ref the request merges into, e.g.
	// `refs/heads/main`.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(p, p != '' && p != '!')",message="match.pullRequest.baseRefs: a pattern must not be empty or a lone !"
	BaseRefs []string `json:"baseRefs,omitempty"`

	// AllowForks lets requests from forks run. By default a fork's request
	// is ignored: it runs code the repository's owners have not reviewed.
	// +optional
	AllowForks bool `json:"allowForks,omitempty"`
}

// ParamSpec takes one value out of the JSON payload into an env var.
type ParamSpec struct {
	// Name of the environment variable.
	// +required
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('HOOK_')",message="param names must not start with HOOK_: that prefix is reserved for the variables hookrun sets"
	Name string `json:"name"`

	// Path is a client-go JSONPath expression into the payload, e.g.
	// `{.pusher.name}`. A path that finds nothing gives an empty value.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Path string `json:"path"`
}

// RunSpec describes the container that runs for each delivery.
// +kubebuilder:validation:XValidation:rule="has(self.image) || (has(self.podTemplate) && has(self.podTemplate.spec) && has(self.podTemplate.spec.containers) && self.podTemplate.spec.containers.exists(c, c.name == 'run' && has(c.image) && size(c.image) > 0))",message="run.image is required (or a container named run with an image in run.podTemplate)"
type RunSpec struct {
	// Image of the container that runs the shell command.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Image string `json:"image,omitempty"`

	// Shell is the script run as `/bin/sh -c "$shell"`. Delivery data reaches it
	// only as environment variables (HOOK_*, params), never spliced into it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	// +kubebuilder:validation:XValidation:rule="self.trim() != ''",message="run.shell must not be blank"
	Shell string `json:"shell"`

	// Env adds environment variables to the container (after HOOK_* and params).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=128
	Env []corev1.EnvVar `json:"env,omitempty"`

	// ServiceAccountName is the ServiceAccount the run's pod uses.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// TimeoutSeconds limits the whole run, retries included
	// (the Job's activeDeadlineSeconds). Unset: no limit.
	// +optional
	// +kubebuilder:validation:Minimum=1
	TimeoutSeconds *int64 `json:"timeoutSeconds,omitempty"`

	// Retries is how often a failed pod is retried (the Job's backoffLimit).
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Retries *int32 `json:"retries,omitempty"`

	// PodTemplate is the base pod: its volumes, node selection, tolerations,
	// hostNetwork, security context and extra containers are kept; a container
	// named `run` in it is merged with the fields above (those win).
	// restartPolicy is always Never. `spec.containers` is optional here (unlike
	// in a Pod): a podTemplate that only sets pod-level fields such as
	// hostNetwork or nodeSelector is enough; hack/crdpatch
	// drops it from the generated schema's required list.
	// +optional
	PodTemplate *corev1.PodTemplateSpec `json:"podTemplate,omitempty"`

	// Nodes runs the command once on every Ready, schedulable node that
	// matches the selector (one Job per node, pinned to it) instead of once
	// anywhere. The node set is taken when the run starts and recorded in
	// the run's status.nodes.
	// +optional
	Nodes *NodesSpec `json:"nodes,omitempty"`
}

// NodesSpec picks the nodes a run of every node runs on, and how many at once.
type NodesSpec struct {
	// Selector picks the nodes by label. Unset or empty: every node.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// MaxParallel is how many nodes run at once, rolling through the nodes
	// in name order; 0 runs every node at once.
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="run.nodes.maxParallel must be 0 (every node at once) or more"
	MaxParallel *int32 `json:"maxParallel,omitempty"`
}

// ConcurrencySpec says how runs of one template share the target.
// +kubebuilder:validation:XValidation:rule="self.policy == 'Queue' || !has(self.pending) || self.pending == 'All'",message="concurrency.pending: Latest only applies to policy Queue"
// +kubebuilder:validation:XValidation:rule="self.policy == 'Queue' || !has(self.maxRunning) || self.maxRunning == 1",message="concurrency.maxRunning only applies to policy Queue"
type ConcurrencySpec struct {
	// Policy for a run that arrives while another run of its group is active:
	// Allow (start it too), Forbid (skip it), Replace (cancel the active one),
	// Queue (start it when the active one finishes).
	// +optional
	// +kubebuilder:default=Queue
	Policy ConcurrencyPolicy `json:"policy,omitempty"`

	// Group is a key built from the delivery, e.g. `$(HOOK_REF)`; runs only
	// contend with runs of the same group. Empty: one group per template.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Group string `json:"group,omitempty"`

	// Pending (Queue only): All runs every queued run in order; Latest starts
	// only the newest queued run and skips the older ones as Superseded.
	// +optional
	// +kubebuilder:default=All
	Pending PendingPolicy `json:"pending,omitempty"`

	// MaxRunning (Queue only) is how many runs of a group may run at once.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxRunning *int32 `json:"maxRunning,omitempty"`
}

// HistorySpec bounds how many finished HookRuns are kept.
type HistorySpec struct {
	// Succeeded is how many succeeded runs to keep.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	Succeeded *int32 `json:"succeeded,omitempty"`

	// Failed is how many failed, cancelled or skipped runs to keep.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=0
	Failed *int32 `json:"failed,omitempty"`
}

// HookTemplateSpec is what a delivery may start.
// +kubebuilder:validation:XValidation:rule="has(self.source.sourceRef) || has(self.source.secretRef) || has(self.poll) || has(self.schedule)",message="source needs either provider and secretRef, or sourceRef (secretRef may only be left out when spec.poll or spec.schedule is set: the template then takes no webhooks)"
// +kubebuilder:validation:XValidation:rule="!has(self.report) || has(self.report.provider) || (has(self.source) && self.source.provider != 'generic')",message="report.provider is required when source.provider is generic"
// +kubebuilder:validation:XValidation:rule="!has(self.report) || !has(self.report.githubApp) || has(self.report.provider) || (has(self.source) && self.source.provider == 'github')",message="report.githubApp is for provider github only"
// +kubebuilder:validation:XValidation:rule="!has(self.report) || has(self.report.provider) || has(self.report.url) || !has(self.source) || self.source.provider != 'gitea'",message="report.url is required for gitea and bitbucket-server"
type HookTemplateSpec struct {
	// Source says who may send deliveries and how they are verified.
	// +required
	Source SourceSpec `json:"source"`

	// Match selects the deliveries that start a run.
	// +optional
	Match MatchSpec `json:"match,omitempty"`

	// Params are extra environment variables read from the JSON payload.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Params []ParamSpec `json:"params,omitempty"`

	// Run is the container that runs for each delivery.
	// +required
	Run RunSpec `json:"run"`

	// Concurrency says how runs share the target.
	// +optional
	// +kubebuilder:default={}
	Concurrency ConcurrencySpec `json:"concurrency,omitempty"`

	// History bounds the number of finished runs kept.
	// +optional
	// +kubebuilder:default={}
	History HistorySpec `json:"history,omitempty"`

	// Suspend records deliveries as runs but starts none until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Badge serves an SVG status badge of the last finished run at
	// GET /badges/{namespace}/{template}.svg on the webhook listener (anyone
	// who can reach the listener can read it). Off: that URL answers 404.
	// +optional
	// +kubebuilder:default=false
	Badge bool `json:"badge,omitempty"`

	// Report shows each run's state on the commit it deploys (a commit status,
	// or a check run for a GitHub App).
	// +optional
	Report *ReportSpec `json:"report,omitempty"`

	// Poll lists poll.url's refs every interval and runs each push to a ref
	// match.refs allows that no webhook delivered. With poll set a push run
	// is named after its ref and sha, so a webhook and the poller never run
	// the same push twice.
	// +optional
	Poll *PollSpec `json:"poll,omitempty"`

	// Schedule makes one run per cron tick (event `schedule`).
	// +optional
	Schedule *ScheduleSpec `json:"schedule,omitempty"`
}

// LastRun summarises the newest run of a template.
type LastRun struct {
	// Name of the HookRun.
	Name string `json:"name"`
	// Phase of the HookRun.
	// +optional
	Phase HookRunPhase `json:"phase,omitempty"`
	// Time the run was created.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// HookTemplateStatus is the observed state of a HookTemplate.
type HookTemplateStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready says whether the template can accept deliveries.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// WebhookPath is the path to POST deliveries to.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	// LastRun is the newest run of this template.
	// +optional
	LastRun *LastRun `json:"lastRun,omitempty"`

	// ActiveRuns counts runs that are running now. The default makes
	// `kubectl get ht -o wide` show 0 before any status patch has set it.
	// +optional
	// +kubebuilder:default=0
	ActiveRuns int32 `json:"activeRuns"`

	// QueuedRuns counts runs waiting for their turn.
	// +optional
	// +kubebuilder:default=0
	QueuedRuns int32 `json:"queuedRuns"`

	// Poll is the last listing of spec.poll.url.
	// +optional
	Poll *PollStatus `json:"poll,omitempty"`

	// LastScheduleTime is the tick of the last scheduled run.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ht,categories=hooks
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="HookTemplate names are at most 63 characters: the name is the hooks.hookrun.dev/template label of every run"
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.source.provider`
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.source.sourceRef.name`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Run",type=string,JSONPath=`.status.lastRun.name`
// +kubebuilder:printcolumn:name="Active",type=integer,JSONPath=`.status.activeRuns`,priority=1
// +kubebuilder:printcolumn:name="Queued",type=integer,JSONPath=`.status.queuedRuns`,priority=1
// +kubebuilder:printcolumn:name="Last Poll",type=date,JSONPath=`.status.poll.time`,priority=1
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.webhookPath`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// HookTemplate says which webhook deliveries run which shell command.
type HookTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behaviour.
	// +required
	Spec HookTemplateSpec `json:"spec"`

	// Status is the observed state.
	// +optional
	Status HookTemplateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HookTemplateList is a list of HookTemplates.
type HookTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HookTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HookTemplate{}, &HookTemplateList{})
}
