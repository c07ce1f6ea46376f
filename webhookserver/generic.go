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

// genericProvider is for scripts and tools without a dialect of their own.
// Credentials, strongest first; the strongest one present decides:
//   - Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature),
//     with replay protection;
//   - X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>;
//   - Authorization: Bearer <secret>.
//
// The body is an optional JSON object whose top-level fields event,
// repository, ref, sha, before, sender and cloneURL fill the delivery; the
// event may also come from X-Hook-Event (the body wins) and defaults to
// "push". The delivery id is X-Hook-Delivery, else a hash of the body.
type genericProvider struct{}

func (genericProvider) verify(in *verifyInput) error {
	if hasStandardSignature(in.header) {
		return verifyStandard(in)
	}
	if sig := in.header.Get("X-Hub-Signature-256"); sig != "" {
		if verifyHexMAC(sha256.New, "sha256=", sig, in.body, in.keys) {
			return nil
		}
		return fmt.Errorf("%w: X-Hub-Signature-256 does not match", errBadSignature)
	}
	if token, ok := bearerToken(in.header); ok {
		if tokenEqual(token, in.keys) {
			return nil
		}
		return fmt.Errorf("%w: bearer token does not match", errBadSignature)
	}
	return fmt.Errorf("%w: send X-Hub-Signature-256, Authorization: Bearer or a Standard Webhooks signature", errMissingSignature)
}

type genericPayload struct {
	Event      string `json:"event"`
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
	SHA        string `json:"sha"`
	Before     string `json:"before"`
	Sender     string `json:"sender"`
	CloneURL   string `json:"cloneURL"`
}

func (genericProvider) normalise(h http.Header, body []byte) (*event, error) {
	var p genericPayload
	doc := body
	if len(bytes.TrimSpace(body)) == 0 {
		doc = []byte("{}")
	} else {
		if t := bytes.TrimSpace(body); t[0] != '{' {
			return nil, errors.New("body must be a JSON object")
		}
		if err := decodeJSON(body, &p); err != nil {
			return nil, err
		}
	}
	name := firstNonEmpty(strings.TrimSpace(p.Event), strings.TrimSpace(h.Get("X-Hook-Event")), EventPush)
	if name == "ping" {
		return &event{ping: true}, nil
	}
	d := v1alpha1.Delivery{
		ID:         deliveryID(body, h.Get("X-Hook-Delivery")),
		Provider:   v1alpha1.ProviderGeneric,
		Event:      name,
		Repository: p.Repository,
		Ref:        p.Ref,
		SHA:        p.SHA,
		Before:     p.Before,
		Sender:     p.Sender,
		CloneURL:   p.CloneURL,
	}
	k := kindOther
	switch {
	case isZeroSHA(p.SHA) || strings.EqualFold(name, EventDelete):
		k = kindDelete
		// A deletion points at no commit: its SHA is all zeros, as the git
		// hosts say it. A sha sent with a delete event can only be the
		// deleted ref's last commit, which is what "before" means.
		if !isZeroSHA(d.SHA) && d.Before == "" {
			d.Before = d.SHA
		}
		d.SHA = zeroSHA
	case strings.EqualFold(name, EventPush) || strings.EqualFold(name, EventTag):
		k = refKind(p.Ref)
	}
	return &event{candidates: []candidate{{delivery: d, kind: k}}, document: doc}, nil
}
