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

package webhookserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// gitlabProvider: authentic when a Standard Webhooks `webhook-signature`
// verifies (GitLab's signing token; when the header is present it must
// verify, and its timestamp must be within tolerance) or else when
// X-Gitlab-Token equals the secret. Event from X-Gitlab-Event; delivery id
// from Idempotency-Key (stable across GitLab's retries), else
// X-Gitlab-Event-UUID.
type gitlabProvider struct{}

func (gitlabProvider) verify(in *verifyInput) error {
	if hasStandardSignature(in.header) {
		return verifyStandard(in)
	}
	token := in.header.Get("X-Gitlab-Token")
	if token == "" {
		return fmt.Errorf("%w: no X-Gitlab-Token or webhook-signature header (set a secret token on the webhook)", errMissingSignature)
	}
	if !tokenEqual(token, in.keys) {
		return fmt.Errorf("%w: X-Gitlab-Token does not match", errBadSignature)
	}
	return nil
}

// gitlabPayload holds the fields hookrun reads from GitLab's push and tag
// push payloads (also as system hooks), and the project and user of other
// events.
type gitlabPayload struct {
	ObjectKind   string `json:"object_kind"`
	Ref          string `json:"ref"`
	Before       string `json:"before"`
	After        string `json:"after"`
	UserUsername string `json:"user_username"`
	UserName     string `json:"user_name"`
	User         struct {
		Username string `json:"username"`
	} `json:"user"`
	Project struct {
		PathWithNamespace string `json:"path_with_namespace"`
		GitHTTPURL        string `json:"git_http_url"`
	} `json:"project"`
	Repository struct {
		GitHTTPURL string `json:"git_http_url"`
	} `json:"repository"`
}

func (gitlabProvider) normalise(h http.Header, body []byte) (*event, error) {
	name := h.Get("X-Gitlab-Event")
	if name == "" {
		return nil, errors.New("no X-Gitlab-Event header")
	}
	var p gitlabPayload
	if err := decodeJSON(body, &p); err != nil {
		return nil, err
	}
	d := v1alpha1.Delivery{
		ID:         deliveryID(body, h.Get("Idempotency-Key"), h.Get("X-Gitlab-Event-UUID")),
		Provider:   v1alpha1.ProviderGitLab,
		Event:      name,
		Repository: p.Project.PathWithNamespace,
		Sender:     firstNonEmpty(p.UserUsername, p.User.Username, p.UserName),
		CloneURL:   firstNonEmpty(p.Project.GitHTTPURL, p.Repository.GitHTTPURL),
	}
	k := kindOther
	// object_kind tells a push apart also for system hooks
	// (X-Gitlab-Event: System Hook).
	if p.ObjectKind == "push" || p.ObjectKind == "tag_push" {
		d.Ref, d.SHA, d.Before = p.Ref, p.After, p.Before
		k = refKind(p.Ref)
		if isZeroSHA(p.After) {
			k = kindDelete
		}
	}
	return &event{candidates: []candidate{{delivery: d, kind: k}}, document: body}, nil
}
