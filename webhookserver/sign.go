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
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// SignInput is one delivery to sign as a provider would send it.
type SignInput struct {
	// Secret is the template's webhook secret.
	Secret []byte
	// Body is the payload, signed as is.
	Body []byte
	// Event is the provider's event name; empty: the provider's push event.
	Event string
	// DeliveryID is the delivery id the provider's headers carry.
	DeliveryID string
	// Now is the signing time (Standard Webhooks' webhook-timestamp).
	Now time.Time
}

// signer writes the headers one provider sends with a delivery.
type signer func(in SignInput, h http.Header)

// signers sign as the providers of the providers table verify: the same
// MAC (macOf) and the same Standard Webhooks message (standardMessage).
var signers = map[v1alpha1.Provider]signer{
	v1alpha1.ProviderGitHub: func(in SignInput, h http.Header) {
		h.Set("X-GitHub-Event", orDefault(in.Event, EventPush))
		h.Set("X-GitHub-Delivery", in.DeliveryID)
		h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(macOf(sha256.New, in.Secret, in.Body)))
	},
	v1alpha1.ProviderGitea: func(in SignInput, h http.Header) {
		h.Set("X-Gitea-Event", orDefault(in.Event, EventPush))
		h.Set("X-Gitea-Delivery", in.DeliveryID)
		h.Set("X-Gitea-Signature", hex.EncodeToString(macOf(sha256.New, in.Secret, in.Body)))
	},
	v1alpha1.ProviderBitbucket: func(in SignInput, h http.Header) {
		h.Set("X-Event-Key", orDefault(in.Event, "repo:push"))
		h.Set("X-Request-UUID", in.DeliveryID)
		h.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(macOf(sha256.New, in.Secret, in.Body)))
	},
	v1alpha1.ProviderGitLab: func(in SignInput, h http.Header) {
		// GitLab's secret token travels as the header itself.
		h.Set("X-Gitlab-Event", orDefault(in.Event, "Push Hook"))
		h.Set("X-Gitlab-Event-UUID", in.DeliveryID)
		h.Set("X-Gitlab-Token", string(in.Secret))
	},
	v1alpha1.ProviderGeneric: func(in SignInput, h http.Header) {
		if in.Event != "" {
			h.Set("X-Hook-Event", in.Event)
		}
		h.Set("X-Hook-Delivery", in.DeliveryID)
		signStandard(in, h)
	},
}

// signStandard adds a Standard Webhooks signature (webhook-id,
// webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>) with the
// key a verifier derives from the secret first (standardKeys).
func signStandard(in SignInput, h http.Header) {
	ts := strconv.FormatInt(in.Now.Unix(), 10)
	key := in.Secret
	if keys := standardKeys([][]byte{in.Secret}); len(keys) > 0 {
		key = keys[0]
	}
	mac := macOf(sha256.New, key, standardMessage(in.DeliveryID, ts, in.Body))
	h.Set(hdrWebhookID, in.DeliveryID)
	h.Set(hdrWebhookTimestamp, ts)
	h.Set(hdrWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(mac))
}

// Sign returns the headers provider sends with in.Body: its event and
// delivery headers, its signature (or token) made with in.Secret, and a
// JSON content type. The server's verify accepts them.
func Sign(provider v1alpha1.Provider, in SignInput) (http.Header, error) {
	sign, ok := signers[provider]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", provider)
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	sign(in, h)
	return h, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
