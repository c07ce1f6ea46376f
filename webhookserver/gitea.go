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
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"

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
			if verifyHexMAC(sha256.New, "", sig, in.body, in.keys) {
				return nil
			}
			return fmt.Errorf("%w: %s does not match", errBadSignature, hdr)
		}
	}
	if sig := in.header.Get("X-Hub-Signature-256"); sig != "" {
		if verifyHexMAC(sha256.New, "sha256=", sig, in.body, in.keys) {
			return nil
		}
		return fmt.Errorf("%w: X-Hub-Signature-256 does not match", errBadSignature)
	}
	return fmt.Errorf("%w: no X-Gitea-Signature, X-Forgejo-Signature or X-Gogs-Signature header (set a secret on the webhook)", errMissingSignature)
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
	Pusher giteaUser `json:"pusher"`
	Sender giteaUser `json:"sender"`
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
	switch name {
	case "push":
		d.Ref, d.SHA, d.Before = p.Ref, p.After, p.Before
		k = refKind(p.Ref)
		if isZeroSHA(p.After) {
			k = kindDelete
		}
	case "create":
		d.Ref, d.SHA = fullRef(p.Ref, p.RefType), p.SHA
	case "delete":
		d.Ref, d.SHA = fullRef(p.Ref, p.RefType), zeroSHA
		k = kindDelete
	}
	return &event{candidates: []candidate{{delivery: d, kind: k}}, document: doc}, nil
}
