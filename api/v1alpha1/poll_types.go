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

// PollSpec lists a git remote's refs every interval and runs each push the
// webhooks missed (or replaces webhooks where the cluster cannot be reached).
// +kubebuilder:validation:XValidation:rule="duration(self.interval) >= duration('1m')",message="poll.interval must be at least 1m: every template lists its remote once per interval"
type PollSpec struct {
	// URL of the git remote: https://, http://, ssh://, git:// or
	// user@host:path. Its refs are listed with git's protocol; nothing is
	// cloned.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^(https?|ssh|git)://[^/]+/.+$') || self.matches('^[^/:@ ]+@[^/: ]+:.+$')",message="poll.url must be a git remote: https://host/path, ssh://host/path, git://host/path or user@host:path"
	URL string `json:"url"`

	// Interval between two listings; at least 1m.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	Interval metav1.Duration `json:"interval,omitempty"`

	// CredentialsRef names a Secret of the template's namespace with keys
	// `username` and `password` (HTTP basic; a token as password) or
	// `ssh-privatekey` (and optionally `known_hosts`). Empty: the remote is
	// listed anonymously.
	// +optional
	CredentialsRef *LocalObjectRef `json:"credentialsRef,omitempty"`
}

// LocalObjectRef names an object of the same namespace.
type LocalObjectRef struct {
	// Name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ScheduleSpec makes one run per cron tick.
type ScheduleSpec struct {
	// Cron is a five-field cron expression (minute hour day-of-month month
	// day-of-week, e.g. `0 3 * * *`) or one of the descriptors @yearly,
	// @annually, @monthly, @weekly, @daily, @midnight, @hourly. The API
	// checks the shape; what a pattern cannot catch (`61 * * * *`) makes
	// the template Ready=False with reason ScheduleInvalid.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches('^ *(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9A-Za-z*?/,-]+( +[0-9A-Za-z*?/,-]+){4}) *$')",message="schedule.cron must be five fields separated by spaces (minute hour day-of-month month day-of-week, e.g. '0 3 * * *') or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly; the time zone goes in schedule.timeZone"
	Cron string `json:"cron"`

	// TimeZone is the IANA time zone the cron expression is read in, e.g.
	// `Europe/Berlin`. Empty: UTC. The API checks the shape; a name the
	// time zone database does not know makes the template Ready=False with
	// reason ScheduleInvalid.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self != 'Local' && self.matches('^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$')",message="schedule.timeZone must be an IANA time zone name such as Europe/Berlin, America/New_York or UTC"
	TimeZone string `json:"timeZone,omitempty"`

	// Ref is the ref a scheduled run deploys (HOOK_REF); its sha is looked
	// up through poll.url when poll is set.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Ref string `json:"ref"`

	// StartingDeadlineSeconds: a tick missed by more than this is not run.
	// After downtime only the latest missed tick runs.
	// +optional
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=1
	StartingDeadlineSeconds *int64 `json:"startingDeadlineSeconds,omitempty"`
}

// PollStatus is the last successful listing of poll.url.
type PollStatus struct {
	// Time of the last listing (successful or not).
	// +optional
	Time *metav1.Time `json:"time,omitempty"`

	// Error of the last listing; empty when it succeeded. Never holds
	// credentials.
	// +optional
	Error string `json:"error,omitempty"`

	// ConsecutiveFailures counts the listings that failed in a row (0 after
	// a success). The next try waits interval × 2^(failures-1), at most ten
	// intervals or 1h (never less than one interval).
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`

	// ObservedGeneration is the template generation of the last listing: a
	// changed spec (a fixed URL, say) is listed at once, not after the
	// interval or back-off.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Refs the last successful listing found that match.refs allows. Not
	// omitted when empty: an empty list (a listing that found no matching
	// ref) is not the absent list of "never listed", so that the first
	// push to a new repository or ref runs.
	// +optional
	// +listType=map
	// +listMapKey=ref
	// +kubebuilder:validation:MaxItems=1024
	Refs []PolledRef `json:"refs"`
}

// PolledRef is one ref of a listing.
type PolledRef struct {
	// Ref is the full ref, e.g. refs/heads/main.
	Ref string `json:"ref"`
	// SHA the ref pointed at.
	SHA string `json:"sha"`
}

// Poll and schedule deliveries.
const (
	// PollSender is the sender of a delivery the poller makes.
	PollSender = "hookrun-poll"
	// ScheduleSender is the sender of a scheduled run's delivery.
	ScheduleSender = "hookrun-schedule"
	// EventPush is the event of a poll delivery.
	EventPush = "push"
	// EventSchedule is the event of a scheduled run's delivery.
	EventSchedule = "schedule"
	// PollDeliveryPrefix starts a poll delivery id: poll/<ref>/<sha>.
	PollDeliveryPrefix = "poll/"
	// ScheduleDeliveryPrefix starts a schedule delivery id:
	// schedule/<tick time, RFC 3339>.
	ScheduleDeliveryPrefix = "schedule/"
	// ZeroSHA is git's all-zero sha: "no commit" (a new ref's before).
	ZeroSHA = "0000000000000000000000000000000000000000"

	// ReasonPollFailed is the Event reason of a failed listing.
	ReasonPollFailed = "PollFailed"
	// ReasonPolled is the Event reason of a run the poller created.
	ReasonPolled = "PushPolled"
	// ReasonScheduled is the Event reason of a scheduled run.
	ReasonScheduled = "Scheduled"
	// ReasonScheduleInvalid is the Event and Ready condition reason of a
	// cron or time zone the API's patterns let through but the parser
	// refuses (61 * * * *, Europe/Berln).
	ReasonScheduleInvalid = "ScheduleInvalid"
)
