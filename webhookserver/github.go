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
	"crypto/sha1" //nolint:gosec // GitHub's legacy X-Hub-Signature, only when a template opts in
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// githubProvider: X-Hub-Signature-256 (`sha256=` + hex HMAC-SHA256 of the
// raw body), X-Hub-Signature (sha1) only with spec.source.allowSHA1;
// X-GitHub-Event, X-GitHub-Delivery (kept on redeliveries).
type githubProvider struct{}

func (githubProvider) verify(in *verifyInput) error {
	if sig := in.header.Get("X-Hub-Signature-256"); sig != "" {
		if verifyHexMAC(sha256.New, "sha256=", sig, in.body, in.keys) {
			return nil
		}
		return fmt.Errorf("%w: X-Hub-Signature-256 does not match", errBadSignature)
	}
	if sig := in.header.Get("X-Hub-Signature"); sig != "" && in.allowSHA1 {
		if verifyHexMAC(sha1.New, "sha1=", sig, in.body, in.keys) {
			return nil
		}
		return fmt.Errorf("%w: X-Hub-Signature does not match", errBadSignature)
	}
	return fmt.Errorf("%w: no X-Hub-Signature-256 header (set a secret on the webhook)", errMissingSignature)
}

// githubPayload holds the fields hookrun reads from GitHub's push, create,
// delete, release and pull_request payloads; other events give repository
// and sender.
type githubPayload struct {
	Ref        string `json:"ref"`
	RefType    string `json:"ref_type"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Deleted    bool   `json:"deleted"`
	Repository struct {
		FullName string `json:"full_name"`
		CloneURL string `json:"clone_url"`
	} `json:"repository"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
	Pusher struct {
		Name string `json:"name"`
	} `json:"pusher"`
	Action      string          `json:"action"`
	PullRequest *hubPullRequest `json:"pull_request"`
	HeadCommit  *payloadCommit  `json:"head_commit"`
	Commits     []payloadCommit `json:"commits"`
	Release     *struct {
		TagName string `json:"tag_name"`
	} `json:"release"`
}

func (githubProvider) normalise(h http.Header, body []byte) (*event, error) {
	name := h.Get("X-GitHub-Event")
	if name == "" {
		return nil, errors.New("no X-GitHub-Event header")
	}
	if name == "ping" {
		return &event{ping: true}, nil
	}
	doc, err := formDocument(h, body)
	if err != nil {
		return nil, err
	}
	var p githubPayload
	if err := decodeJSON(doc, &p); err != nil {
		return nil, err
	}
	d := v1alpha1.Delivery{
		ID:         deliveryID(body, h.Get("X-GitHub-Delivery")),
		Provider:   v1alpha1.ProviderGitHub,
		Event:      name,
		Repository: p.Repository.FullName,
		Sender:     firstNonEmpty(p.Sender.Login, p.Pusher.Name),
		CloneURL:   p.Repository.CloneURL,
	}
	k := kindOther
	switch name {
	case "push":
		d.Ref, d.SHA, d.Before = p.Ref, p.After, p.Before
		k = refKind(p.Ref)
		if p.Deleted || isZeroSHA(p.After) {
			k = kindDelete
		} else if p.HeadCommit != nil && p.HeadCommit.ID != "" {
			// An annotated tag's `after` is the tag object: runs, their
			// statuses and check runs belong to the commit it points to.
			d.SHA = p.HeadCommit.ID
		}
	case "create":
		d.Ref = fullRef(p.Ref, p.RefType)
		k = kindCreate
	case "delete":
		d.Ref, d.SHA = fullRef(p.Ref, p.RefType), zeroSHA
		k = kindDelete
	case "release":
		if p.Release != nil {
			d.Ref = fullRef(p.Release.TagName, "tag")
		}
	case "pull_request":
		if p.PullRequest != nil {
			p.PullRequest.normalise(&d, p.Action, "synchronize")
			k = kindPullRequest
		}
	}
	c := candidate{delivery: d, kind: k}
	if k == kindPush || k == kindTag {
		if p.HeadCommit != nil {
			c.delivery.Message = commitMessage(p.HeadCommit.Message)
		}
		c.files, c.filesKnown = changedFiles(p.Commits, 0)
	}
	return &event{candidates: []candidate{c}, document: doc}, nil
}

// hubPullRequest is a pull request as GitHub and Gitea (Forgejo, Gogs)
// send it.
type hubPullRequest struct {
	Number int64  `json:"number"`
	Title  string `json:"title"`
	Merged bool   `json:"merged"`
	Head   hubEnd `json:"head"`
	Base   hubEnd `json:"base"`
}

type hubEnd struct {
	Ref  string `json:"ref"`
	SHA  string `json:"sha"`
	Repo *struct {
		FullName string `json:"full_name"`
	} `json:"repo"`
}

// normalise fills a delivery from the request: ref refs/pull/N/head (the
// ref both hosts keep), sha the head commit. A merged request arrives as
// action closed with merged true; sync is the host's name for new commits.
func (pr *hubPullRequest) normalise(d *v1alpha1.Delivery, action, sync string) {
	d.Ref = "refs/pull/" + strconv.FormatInt(pr.Number, 10) + "/head"
	d.SHA = pr.Head.SHA
	a := v1alpha1.PullRequestOther
	switch action {
	case "opened":
		a = v1alpha1.PullRequestOpened
	case sync:
		a = v1alpha1.PullRequestSynchronize
	case "reopened":
		a = v1alpha1.PullRequestReopened
	case "edited":
		a = v1alpha1.PullRequestEdited
	case "closed":
		a = v1alpha1.PullRequestClosed
		if pr.Merged {
			a = v1alpha1.PullRequestMerged
		}
	}
	// A fork's head repository differs from the base's; a deleted fork has
	// none at all.
	fromFork := pr.Head.Repo == nil || pr.Base.Repo == nil ||
		!strings.EqualFold(pr.Head.Repo.FullName, pr.Base.Repo.FullName)
	d.PullRequest = &v1alpha1.PullRequestDelivery{
		Number:   pr.Number,
		Action:   a,
		BaseRef:  fullRef(pr.Base.Ref, "branch"),
		HeadRef:  fullRef(pr.Head.Ref, "branch"),
		FromFork: fromFork,
		Title:    prTitle(pr.Title),
	}
}
