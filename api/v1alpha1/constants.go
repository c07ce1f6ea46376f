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

// Labels put on every HookRun and on everything a run creates.
const (
	// LabelTemplate names the HookTemplate a run belongs to.
	LabelTemplate = "hooks.hookrun.dev/template"
	// LabelRun names the HookRun a Job or Pod belongs to.
	LabelRun = "hooks.hookrun.dev/run"
	// LabelGroup holds a hash of a Job's concurrency group key.
	LabelGroup = "hooks.hookrun.dev/group"
	// LabelRerunOf names the run a rerun (kubectl hookrun rerun) repeats.
	LabelRerunOf = "hooks.hookrun.dev/rerun-of"
	// AnnotationNode names the node a Job of a run on every node is pinned
	// to (node names may be longer than a label value).
	AnnotationNode = "hooks.hookrun.dev/node"
)

// Condition types.
const (
	// ConditionSucceeded is Unknown while a run has not finished and True or
	// False once it has (Tekton's convention), so that
	// `kubectl wait --for=condition=Succeeded` works.
	ConditionSucceeded = "Succeeded"
	// ConditionReady reports whether a HookTemplate can accept deliveries.
	ConditionReady = "Ready"
	// ConditionReported says whether the git host accepted a run's current
	// state (templates with spec.report only).
	ConditionReported = "Reported"
)

// Reasons used in HookRun.status.reason and in conditions. A run whose Job
// failed carries the Job's own reason (BackoffLimitExceeded,
// DeadlineExceeded, …) as the job controller wrote it.
const (
	ReasonPending             = "Pending"
	ReasonJobCreated          = "JobCreated"
	ReasonRunning             = "Running"
	ReasonCompleted           = "Completed"
	ReasonFailed              = "Failed"
	ReasonJobDeleted          = "JobDeleted"
	ReasonTemplateNotFound    = "TemplateNotFound"
	ReasonInvalidTemplate     = "InvalidTemplate"
	ReasonJobConflict         = "JobConflict"
	ReasonQueued              = "Queued"
	ReasonConcurrentRunActive = "ConcurrentRunActive"
	ReasonSuperseded          = "Superseded"
	ReasonCancelledByUser     = "CancelledByUser"
	ReasonTemplateSuspended   = "TemplateSuspended"
	// ReasonNoMatchingNodes: a run on every node found no Ready,
	// schedulable node matching run.nodes.selector.
	ReasonNoMatchingNodes = "NoMatchingNodes"
	// ReasonTooManyNodes: more nodes matched than status.nodes can hold.
	ReasonTooManyNodes = "TooManyNodes"
	// ReasonNodesFailed: a run on every node ended with at least one node failed.
	ReasonNodesFailed = "NodesFailed"
	// ReasonNodeGone: a node of a run on every node was deleted before its Job finished.
	ReasonNodeGone = "NodeGone"

	ReasonReady            = "Ready"
	ReasonSecretNotFound   = "SecretNotFound"
	ReasonSecretKeyMissing = "SecretKeyMissing"
	ReasonInvalidParam     = "InvalidParam"
	ReasonInvalidMatch     = "InvalidMatch"

	// ReasonSourceNotFound: a template's sourceRef names no HookSource.
	ReasonSourceNotFound = "SourceNotFound"
	// ReasonSourceNotReady: a template's HookSource cannot take deliveries
	// (the message says why).
	ReasonSourceNotReady = "SourceNotReady"
	// ReasonTooManyTemplates: more templates use a HookSource than
	// MaxSourceTemplates.
	ReasonTooManyTemplates = "TooManyTemplates"

	// ReasonReportCredentialsNotFound: the template's report Secret or key is missing.
	ReasonReportCredentialsNotFound = "ReportCredentialsNotFound"

	// Reasons of the Reported condition.
	ReasonReported            = "Reported"
	ReasonReportFailed        = "ReportFailed"
	ReasonCredentialsNotFound = "CredentialsNotFound"
	ReasonReportRejected      = "ReportRejected"
	ReasonNoCommit            = "NoCommit"
)

// Event reasons recorded on HookRuns.
const (
	EventJobCreated   = "JobCreated"
	EventRunStarted   = "RunStarted"
	EventRunSucceeded = "RunSucceeded"
	EventRunFailed    = "RunFailed"
	EventRunQueued    = "RunQueued"
	EventRunSkipped   = "RunSkipped"
	EventRunCancelled = "RunCancelled"
	// EventReportFailed: the git host refused a report (or its credentials are missing).
	EventReportFailed = "ReportFailed"
)

// Environment variables every run gets.
const (
	EnvRun        = "HOOK_RUN"
	EnvTemplate   = "HOOK_TEMPLATE"
	EnvProvider   = "HOOK_PROVIDER"
	EnvEvent      = "HOOK_EVENT"
	EnvDelivery   = "HOOK_DELIVERY"
	EnvRepository = "HOOK_REPOSITORY"
	EnvRef        = "HOOK_REF"
	EnvBranch     = "HOOK_BRANCH"
	EnvTag        = "HOOK_TAG"
	EnvSHA        = "HOOK_SHA"
	EnvBefore     = "HOOK_BEFORE"
	EnvSender     = "HOOK_SENDER"
	EnvCloneURL   = "HOOK_CLONE_URL"
	EnvMessage    = "HOOK_MESSAGE"
	EnvPRNumber   = "HOOK_PR_NUMBER"
	EnvPRAction   = "HOOK_PR_ACTION"
	EnvBaseRef    = "HOOK_BASE_REF"
	EnvHeadRef    = "HOOK_HEAD_REF"
	// EnvNode is the node a run on every node runs on (run.nodes only).
	EnvNode = "HOOK_NODE"
)

// Pull request actions (delivery.pullRequest.action), the same on every
// provider.
const (
	PullRequestOpened      PullRequestAction = "opened"
	PullRequestSynchronize PullRequestAction = "synchronize"
	PullRequestReopened    PullRequestAction = "reopened"
	PullRequestClosed      PullRequestAction = "closed"
	PullRequestMerged      PullRequestAction = "merged"
	PullRequestEdited      PullRequestAction = "edited"
	PullRequestOther       PullRequestAction = "other"
)

// RunContainerName is the name of the container that runs the shell command.
const RunContainerName = "run"

// DefaultSecretKey is the Secret key read when secretRef.key is empty.
const DefaultSecretKey = "secret"

// Field index keys registered on the manager's cache.
const (
	// IndexRunTemplate indexes HookRuns by spec.templateRef.name.
	IndexRunTemplate = "spec.templateRef.name"
	// IndexTemplateSecret indexes HookTemplates by every Secret they read:
	// spec.source.secretRef, spec.report's credentials, spec.poll.credentialsRef.
	IndexTemplateSecret = "secrets"
	// IndexTemplateSource indexes HookTemplates by spec.source.sourceRef.name.
	IndexTemplateSource = "spec.source.sourceRef.name"
	// IndexSourceSecret indexes HookSources by spec.secretRef.name.
	IndexSourceSecret = "spec.secretRef.name"
	// IndexRunNode indexes unfinished HookRuns by the nodes in status.nodes
	// whose entry has not finished: a deleted node wakes only those runs.
	IndexRunNode = "status.nodes.unfinished"
)
