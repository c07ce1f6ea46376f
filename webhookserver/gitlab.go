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
	"strconv"
	"strings"

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
	CheckoutSHA       string          `json:"checkout_sha"`
	Commits           []payloadCommit `json:"commits"`
	TotalCommitsCount int             `json:"total_commits_count"`
	ObjectAttributes  *struct {
		IID             int64  `json:"iid"`
		Title           string `json:"title"`
		Action          string `json:"action"`
		SourceBranch    string `json:"source_branch"`
		TargetBranch    string `json:"target_branch"`
		SourceProjectID int64  `json:"source_project_id"`
		TargetProjectID int64  `json:"target_project_id"`
		OldRev          string `json:"oldrev"`
		Source          *struct {
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"source"`
		Target *struct {
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"target"`
		LastCommit struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		} `json:"last_commit"`
	} `json:"object_attributes"`
}

// gitlabAction maps a merge request's object_attributes.action; an update
// with oldrev set brought new commits.
func gitlabAction(action, oldRev string) v1alpha1.PullRequestAction {
	switch action {
	case "open":
		return v1alpha1.PullRequestOpened
	case "reopen":
		return v1alpha1.PullRequestReopened
	case "close":
		return v1alpha1.PullRequestClosed
	case "merge":
		return v1alpha1.PullRequestMerged
	case "update":
		if oldRev != "" {
			return v1alpha1.PullRequestSynchronize
		}
		return v1alpha1.PullRequestEdited
	}
	return v1alpha1.PullRequestOther
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
	if mr := p.ObjectAttributes; p.ObjectKind == "merge_request" && mr != nil {
		d.Ref = "refs/merge-requests/" + strconv.FormatInt(mr.IID, 10) + "/head"
		d.SHA = mr.LastCommit.ID
		d.Message = commitMessage(mr.LastCommit.Message)
		d.PullRequest = &v1alpha1.PullRequestDelivery{
			Number:   mr.IID,
			Action:   gitlabAction(mr.Action, mr.OldRev),
			BaseRef:  fullRef(mr.TargetBranch, "branch"),
			HeadRef:  fullRef(mr.SourceBranch, "branch"),
			FromFork: gitlabFork(mr.SourceProjectID, mr.TargetProjectID, mr.Source, mr.Target),
			Title:    prTitle(mr.Title),
		}
		k = kindPullRequest
	}
	c := candidate{delivery: d, kind: k}
	if k == kindPush || k == kindTag {
		// The head commit is the one the push's checkout_sha names.
		for _, cm := range p.Commits {
			if cm.ID == firstNonEmpty(p.CheckoutSHA, p.After) {
				c.delivery.Message = commitMessage(cm.Message)
			}
		}
		c.files, c.filesKnown = changedFiles(p.Commits, p.TotalCommitsCount)
	}
	return &event{candidates: []candidate{c}, document: body}, nil
}

// gitlabFork reports whether a merge request's source project is another
// than its target: by path when both are sent, else by project id.
func gitlabFork(sourceID, targetID int64, source, target *struct {
	PathWithNamespace string `json:"path_with_namespace"`
}) bool {
	if source != nil && target != nil && source.PathWithNamespace != "" && target.PathWithNamespace != "" {
		return !strings.EqualFold(source.PathWithNamespace, target.PathWithNamespace)
	}
	return sourceID != 0 && targetID != 0 && sourceID != targetID
}
