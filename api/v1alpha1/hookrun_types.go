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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HookRunPhase is where a run is in its life.
// +kubebuilder:validation:Enum=Pending;Queued;Running;Succeeded;Failed;Cancelled;Skipped
type HookRunPhase string

// Phases of a HookRun.
const (
	PhasePending   HookRunPhase = "Pending"
	PhaseQueued    HookRunPhase = "Queued"
	PhaseRunning   HookRunPhase = "Running"
	PhaseSucceeded HookRunPhase = "Succeeded"
	PhaseFailed    HookRunPhase = "Failed"
	PhaseCancelled HookRunPhase = "Cancelled"
	PhaseSkipped   HookRunPhase = "Skipped"
)

// IsFinished reports whether the phase is final.
func (p HookRunPhase) IsFinished() bool {
	switch p {
	case PhaseSucceeded, PhaseFailed, PhaseCancelled, PhaseSkipped:
		return true
	}
	return false
}

// TemplateRef names the HookTemplate of a run, in the run's namespace.
type TemplateRef struct {
	// Name of the HookTemplate.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// Delivery is what the webhook server read from one request.
type Delivery struct {
	// ID is the provider's delivery id (the same on a redelivery).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ID string `json:"id,omitempty"`

	// Provider that sent the delivery.
	// +optional
	Provider Provider `json:"provider,omitempty"`

	// Event is the provider's event name, e.g. `push` or `Push Hook`.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Event string `json:"event,omitempty"`

	// Repository as "owner/name".
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Repository string `json:"repository,omitempty"`

	// Ref is the full git ref, e.g. `refs/heads/main`.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Ref string `json:"ref,omitempty"`

	// SHA is the commit after the push.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	SHA string `json:"sha,omitempty"`

	// Before is the commit before the push.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Before string `json:"before,omitempty"`

	// Sender is who caused the delivery.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Sender string `json:"sender,omitempty"`

	// CloneURL is the repository's clone URL.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	CloneURL string `json:"cloneURL,omitempty"`

	// Message is the head commit's message of a push (at most 1 KiB).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// PullRequest describes a pull or merge request delivery; its Ref is the
	// host's head ref of the request and its SHA the head commit.
	// +optional
	PullRequest *PullRequestDelivery `json:"pullRequest,omitempty"`

	// ReceivedAt is when the webhook server accepted the delivery.
	// +optional
	ReceivedAt *metav1.Time `json:"receivedAt,omitempty"`
}

// PullRequestAction is what happened to a pull or merge request, the same
// on every provider.
// +kubebuilder:validation:Enum=opened;synchronize;reopened;closed;merged;edited;other
type PullRequestAction string

// PullRequestDelivery is a pull or merge request, normalised.
type PullRequestDelivery struct {
	// Number is the request's number (GitLab's iid) in its repository.
	// +optional
	Number int64 `json:"number,omitempty"`

	// Action is what happened: opened, synchronize (new commits), reopened,
	// closed (without merging), merged, edited or other.
	// +optional
	Action PullRequestAction `json:"action,omitempty"`

	// BaseRef is the full ref the request merges into, e.g. `refs/heads/main`.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	BaseRef string `json:"baseRef,omitempty"`

	// HeadRef is the full ref of the request's source branch (in the
	// fork when FromFork).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	HeadRef string `json:"headRef,omitempty"`

	// FromFork is true when the source branch is in another repository.
	// +optional
	FromFork bool `json:"fromFork,omitempty"`

	// Title of the request.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Title string `json:"title,omitempty"`
}

// HookRunSpec is one delivery to run. Immutable after creation, but for cancel.
// +kubebuilder:validation:XValidation:rule="self.templateRef == oldSelf.templateRef",message="spec.templateRef is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.delivery) == has(oldSelf.delivery) && (!has(self.delivery) || self.delivery == oldSelf.delivery)",message="spec.delivery is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.params) == has(oldSelf.params) && (!has(self.params) || self.params == oldSelf.params)",message="spec.params is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.cancel) || !oldSelf.cancel || (has(self.cancel) && self.cancel)",message="spec.cancel cannot be undone"
type HookRunSpec struct {
	// TemplateRef names the HookTemplate to run.
	// +required
	TemplateRef TemplateRef `json:"templateRef"`

	// Delivery is the webhook delivery that caused the run; for a run created
	// by hand, fill what the command needs (ref, sha, …).
	// +optional
	Delivery Delivery `json:"delivery,omitempty"`

	// Params are the template's params as read from the payload.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Params map[string]string `json:"params,omitempty"`

	// Cancel stops the run (its Job is deleted) and ends it Cancelled.
	// +optional
	Cancel bool `json:"cancel,omitempty"`
}

// HookRunStatus is the observed state of a HookRun.
type HookRunStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase: Pending, Queued, Running, Succeeded, Failed, Cancelled or Skipped.
	// +optional
	Phase HookRunPhase `json:"phase,omitempty"`

	// JobName is the Job that runs this delivery; for a run on every node
	// (run.nodes), the first node's Job (every node's Job is in nodes).
	// +optional
	JobName string `json:"jobName,omitempty"`

	// ShortSHA is the first 7 characters of spec.delivery.sha (for kubectl get).
	// +optional
	ShortSHA string `json:"shortSHA,omitempty"`

	// Attempts counts the pods started so far (retries = attempts - 1).
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// QueuePosition is 1 for the queued run that starts next.
	// +optional
	QueuePosition int32 `json:"queuePosition,omitempty"`

	// StartTime is when the Job started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// CompletionTime is when the run finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// ExitCode of the run container's last terminated attempt.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`

	// Reason is a CamelCase word for the phase, e.g. BackoffLimitExceeded.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message is human-readable detail; for failures, the tail of the output.
	// +optional
	Message string `json:"message,omitempty"`

	// Conditions: Succeeded is Unknown until the run ends, then True or False;
	// Reported (templates with spec.report) says whether the git host accepted
	// the run's current state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Report is what the git host last accepted (templates with spec.report).
	// +optional
	Report *RunReport `json:"report,omitempty"`

	// Nodes are the nodes of a run on every node (template run.nodes), in
	// the order they run: taken once when the run starts, so that a
	// restart or a node that joins later does not change them.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=1000
	Nodes []NodeRunStatus `json:"nodes,omitempty"`

	// NodeSummary is "succeeded/total" for a run on every node (the NODES
	// column); empty for other runs.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	NodeSummary string `json:"nodeSummary,omitempty"`
}

// NodeRunStatus is how a run on every node went on one node.
type NodeRunStatus struct {
	// Name of the node.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Phase on this node: Pending (waiting for its turn, or for its Job's
	// pod), Running, Succeeded, Failed or Cancelled.
	// +optional
	Phase HookRunPhase `json:"phase,omitempty"`

	// JobName is the node's Job; empty until its turn comes.
	// +optional
	JobName string `json:"jobName,omitempty"`

	// ExitCode of the run container's last terminated attempt on this node.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`

	// Reason is a CamelCase word for a failure, e.g. BackoffLimitExceeded or NodeGone.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message is, for a failure, the (redacted) tail of the node's output.
	// +optional
	Message string `json:"message,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hr,categories=hooks
// +kubebuilder:printcolumn:name="Template",type=string,JSONPath=`.spec.templateRef.name`
// +kubebuilder:printcolumn:name="Event",type=string,JSONPath=`.spec.delivery.event`
// +kubebuilder:printcolumn:name="Ref",type=string,JSONPath=`.spec.delivery.ref`
// +kubebuilder:printcolumn:name="SHA",type=string,JSONPath=`.status.shortSHA`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Attempts",type=integer,JSONPath=`.status.attempts`
// +kubebuilder:printcolumn:name="Nodes",type=string,JSONPath=`.status.nodeSummary`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`,priority=1
// +kubebuilder:printcolumn:name="Reported",type=string,JSONPath=`.status.report.state`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// HookRun is one accepted webhook delivery (or a run created by hand) and the
// outcome of the Job that ran it.
type HookRun struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the delivery to run.
	// +required
	Spec HookRunSpec `json:"spec"`

	// Status is the outcome.
	// +optional
	Status HookRunStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HookRunList is a list of HookRuns.
type HookRunList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HookRun `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HookRun{}, &HookRunList{})
}
