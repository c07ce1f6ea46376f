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

// ReportProvider is the git host a run's state is reported to.
// +kubebuilder:validation:Enum=github;gitlab;gitea;bitbucket;bitbucket-server
type ReportProvider string

// Report providers.
const (
	ReportGitHub          ReportProvider = "github"
	ReportGitLab          ReportProvider = "gitlab"
	ReportGitea           ReportProvider = "gitea"
	ReportBitbucket       ReportProvider = "bitbucket"
	ReportBitbucketServer ReportProvider = "bitbucket-server"
)

// Default API base URLs of the hosted providers.
const (
	DefaultGitHubURL    = "https://api.github.com"
	DefaultGitLabURL    = "https://gitlab.com"
	DefaultBitbucketURL = "https://api.bitbucket.org"
)

// DefaultReportKey is the Secret key read when report.credentialsRef.key is empty.
const DefaultReportKey = "token"

// ReportCredentialsRef points at the Secret key holding the git host's API token.
type ReportCredentialsRef struct {
	// Name of the Secret, in the HookTemplate's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key of the Secret's data that holds the token. For Bitbucket Cloud a
	// value of the form `user:app-password` is sent as Basic auth.
	// +optional
	// +kubebuilder:default=token
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// PrivateKeyRef points at the Secret key holding a GitHub App's PEM private key.
type PrivateKeyRef struct {
	// Name of the Secret, in the HookTemplate's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key of the Secret's data that holds the PEM private key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// GitHubAppSpec reports through the Checks API as a GitHub App installation.
type GitHubAppSpec struct {
	// AppID is the GitHub App's id.
	// +required
	// +kubebuilder:validation:Minimum=1
	AppID int64 `json:"appID"`

	// InstallationID is the App's installation on the repository's owner.
	// +required
	// +kubebuilder:validation:Minimum=1
	InstallationID int64 `json:"installationID"`

	// PrivateKeyRef names the Secret key holding the App's private key.
	// +required
	PrivateKeyRef PrivateKeyRef `json:"privateKeyRef"`
}

// ReportSpec says where and how a run's state is shown on the commit it deploys.
// +kubebuilder:validation:XValidation:rule="!has(self.githubApp) || !has(self.provider) || self.provider == 'github'",message="report.githubApp is for provider github only"
// +kubebuilder:validation:XValidation:rule="!(has(self.githubApp) && has(self.credentialsRef))",message="report.githubApp and report.credentialsRef are exclusive"
// +kubebuilder:validation:XValidation:rule="has(self.githubApp) || has(self.credentialsRef)",message="report needs credentialsRef (or githubApp for github)"
// +kubebuilder:validation:XValidation:rule="!has(self.provider) || !(self.provider in ['gitea', 'bitbucket-server']) || (has(self.url) && size(self.url) > 0)",message="report.url is required for gitea and bitbucket-server"
type ReportSpec struct {
	// Provider is the git host's API. Default: the template's source.provider
	// (required when the source is generic).
	// +optional
	Provider ReportProvider `json:"provider,omitempty"`

	// URL is the API base: default https://api.github.com (github),
	// https://gitlab.com (gitlab), https://api.bitbucket.org (bitbucket);
	// required for gitea (its root URL) and bitbucket-server.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://')",message="report.url must be an http(s) URL"
	URL string `json:"url,omitempty"`

	// Repository is "owner/name" (Bitbucket Server: "PROJECT/slug").
	// Default: the run's delivery.repository.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Repository string `json:"repository,omitempty"`

	// CredentialsRef names the Secret key holding the API token.
	// +optional
	CredentialsRef *ReportCredentialsRef `json:"credentialsRef,omitempty"`

	// GitHubApp reports as a GitHub App through the Checks API (github only,
	// instead of credentialsRef).
	// +optional
	GitHubApp *GitHubAppSpec `json:"githubApp,omitempty"`

	// Context names the status on the commit (the check run's name).
	// Default "hookrun/<namespace>/<template>".
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Context string `json:"context,omitempty"`

	// TargetURL is the link shown with the status; $(HOOK_*) variables and
	// params are expanded.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	TargetURL string `json:"targetURL,omitempty"`
}

// RunReport is what the git host last accepted for a run.
type RunReport struct {
	// Phase is the run phase the host last accepted.
	// +optional
	Phase HookRunPhase `json:"phase,omitempty"`

	// State is the host's word for it, e.g. `pending`, `success`, `SUCCESSFUL`,
	// or `completed/success` for a check run.
	// +optional
	State string `json:"state,omitempty"`

	// Time is when the host accepted it.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`

	// Attempts counts the requests sent for the phase being reported.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// CheckRunID is the GitHub check run of this run (githubApp only).
	// +optional
	CheckRunID int64 `json:"checkRunID,omitempty"`
}
