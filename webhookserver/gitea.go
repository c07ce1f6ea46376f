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
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// giteaProvider covers Gitea, Forgejo and Gogs. They sign the raw body with
// hex HMAC-SHA256 (no prefix) in X-Forgejo-Signature, X-Gitea-Signature or
// X-Gogs-Signature (Gitea and Forgejo also send the Gogs header and
// X-Hub-Signature-256 for compatibility); event and delivery id come from the
// X-<host>-Event and X-<host>-Delivery headers of the same host.
type giteaProvider struct{}

// giteaHosts is the order the header families are looked at.
var giteaHosts = []string{"Forgejo", "Gitea", "Gogs"}

func (giteaProvider) verify(in *verifyInput) error {
	for _, host := range giteaHosts {
		hdr := "X-" + host + "-Signature"
		if sig := in.header.Get(hdr); sig != "" {
			if giteaSigned(in, func(msg []byte) bool { return verifyHexMAC(sha256.New, "", sig, msg, in.keys) }) {
				return nil
			}
			return fmt.Errorf("%w: %s does not match", errBadSignature, hdr)
		}
	}
	if sig := in.header.Get("X-Hub-Signature-256"); sig != "" {
		if giteaSigned(in, func(msg []byte) bool { return verifyHexMAC(sha256.New, "sha256=", sig, msg, in.keys) }) {
			return nil
		}
		return fmt.Errorf("%w: X-Hub-Signature-256 does not match", errBadSignature)
	}
	return fmt.Errorf("%w: no X-Gitea-Signature, X-Forgejo-Signature or X-Gogs-Signature header (set a secret on the webhook)", errMissingSignature)
}

// giteaSigned reports whether check accepts the bytes a Gitea signature may
// cover. Gitea signs the JSON payload even when the webhook's content type is "form" and it sends
// `payload=<url-encoded JSON>` (measured with Gitea 1.26), so for a form body
// the payload field is checked too; the body as sent stays accepted (Gogs and
// Forgejo, and what GitHub does for form deliveries). Either way only the
// payload field is read afterwards, and it is covered by the signature.
func giteaSigned(in *verifyInput, check func(msg []byte) bool) bool {
	if check(in.body) {
		return true
	}
	doc, err := formDocument(in.header, in.body)
	return err == nil && !bytes.Equal(doc, in.body) && check(doc)
}

// giteaPayload holds the fields hookrun reads from Gitea's push, create and
// delete payloads; other events give repository and sender.
type giteaPayload struct {
	Ref        string `json:"ref"`
	RefType    string `json:"ref_type"`
	Before     string `json:"before"`
	After      string `json:"after"`
	SHA        string `json:"sha"`
	Repository struct {
		FullName string `json:"full_name"`
		CloneURL string `json:"clone_url"`
	} `json:"repository"`
	Pusher       giteaUser       `json:"pusher"`
	Sender       giteaUser       `json:"sender"`
	HeadCommit   *payloadCommit  `json:"head_commit"`
	Commits      []payloadCommit `json:"commits"`
	TotalCommits int             `json:"total_commits"`
	Action       string          `json:"action"`
	PullRequest  *hubPullRequest `json:"pull_request"`
}

type giteaUser struct {
	Login    string `json:"login"`
	Username string `json:"username"`
}

func (giteaProvider) normalise(h http.Header, body []byte) (*event, error) {
	var name, id string
	for _, host := range giteaHosts {
		if name = h.Get("X-" + host + "-Event"); name != "" {
			id = h.Get("X-" + host + "-Delivery")
			break
		}
	}
	if name == "" {
		return nil, errors.New("no X-Gitea-Event, X-Forgejo-Event or X-Gogs-Event header")
	}
	doc, err := formDocument(h, body)
	if err != nil {
		return nil, err
	}
	var p giteaPayload
	if err := decodeJSON(doc, &p); err != nil {
		return nil, err
	}
	d := v1alpha1.Delivery{
		ID:         deliveryID(body, id),
		Provider:   v1alpha1.ProviderGitea,
		Event:      name,
		Repository: p.Repository.FullName,
		Sender:     firstNonEmpty(p.Sender.Login, p.Sender.Username, p.Pusher.Login, p.Pusher.Username),
		CloneURL:   p.Repository.CloneURL,
	}
	k := kindOther
	echo := ""
	switch name {
	case "push":
		// The "test delivery" button sends the default branch's short name.
		d.Ref, d.SHA, d.Before = fullRef(p.Ref, "branch"), p.After, p.Before
		k = refKind(d.Ref)
		if isZeroSHA(p.After) {
			k = kindDelete
		} else if p.HeadCommit != nil && p.HeadCommit.ID != "" {
			// For an annotated tag, after is the tag object; the commit it
			// points to is what a deploy checks out and a status goes on.
			d.SHA = p.HeadCommit.ID
		}
	case "create":
		d.Ref, d.SHA = fullRef(p.Ref, p.RefType), p.SHA
		k = kindCreate
	case "delete":
		d.Ref, d.SHA = fullRef(p.Ref, p.RefType), zeroSHA
		k = kindDelete
		if strings.EqualFold(p.RefType, "tag") {
			// A deleted branch arrives only as this event; a deleted tag also
			// as a push with an all-zero sha, and that one runs.
			k = kindEcho
			echo = fmt.Sprintf("%s was deleted: Gitea's push delivery with an all-zero sha for the same tag is the one that runs", d.Ref)
		}
	case "pull_request", "pull_request_sync":
		// Gitea names new commits "synchronized" (Gogs: "synchronize").
		if p.PullRequest != nil {
			action := p.Action
			if action == "synchronize" {
				action = "synchronized"
			}
			p.PullRequest.normalise(&d, action, "synchronized")
			k = kindPullRequest
		}
	}
	c := candidate{delivery: d, kind: k, echo: echo}
	if k == kindPush || k == kindTag {
		if p.HeadCommit != nil {
			c.delivery.Message = commitMessage(p.HeadCommit.Message)
		}
		c.files, c.filesKnown = changedFiles(p.Commits, p.TotalCommits)
	}
	return &event{candidates: []candidate{c}, document: doc}, nil
}
