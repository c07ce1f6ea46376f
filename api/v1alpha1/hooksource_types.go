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

// MaxSourceTemplates is how many templates one HookSource serves. A
// delivery to a source is matched against each of its templates and their
// runs are created within one request's deadline; beyond this many the
// source is Ready=False/TooManyTemplates and refuses deliveries rather than
// answer late or time out half-way.
const MaxSourceTemplates = 200

// SourceRef names a HookSource in the template's namespace.
type SourceRef struct {
	// Name of the HookSource.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// HookSourceSpec says who may send deliveries to the source's URL and how
// they prove it: the same fields a template's own source has.
type HookSourceSpec struct {
	// Provider is the git host (or "generic" for any signed script); it selects
	// the signature scheme and how the payload is read.
	// +required
	Provider Provider `json:"provider"`

	// SecretRef names the Secret key holding the shared webhook secret.
	// +required
	SecretRef SecretKeyRef `json:"secretRef"`

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

// HookSourceStatus is the observed state of a HookSource.
type HookSourceStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready says whether the source can take deliveries.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// WebhookPath is where the git host sends deliveries:
	// /sources/{namespace}/{name}.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	// Templates counts the templates of the namespace that use the source.
	// +optional
	// +kubebuilder:default=0
	Templates int32 `json:"templates"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hs,categories=hooks
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.provider`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Templates",type=integer,JSONPath=`.status.templates`
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.webhookPath`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// HookSource is one webhook URL for many templates: a delivery to
// /sources/{namespace}/{name} is verified once with the source's secret and
// then runs every template of the namespace that names the source
// (spec.source.sourceRef) and matches it. An organisation webhook (GitHub
// org, GitLab group, Gitea org) points at it.
type HookSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behaviour.
	// +required
	Spec HookSourceSpec `json:"spec"`

	// Status is the observed state.
	// +optional
	Status HookSourceStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// HookSourceList is a list of HookSources.
type HookSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HookSource `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HookSource{}, &HookSourceList{})
}
