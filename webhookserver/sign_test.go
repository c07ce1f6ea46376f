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
	"testing"
	"time"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// TestSignVerifies: what Sign makes, the provider's own verify accepts and
// normalise reads (event and delivery id); the same request under another
// secret is refused as a bad signature.
func TestSignVerifies(t *testing.T) {
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/site"},"project":{"path_with_namespace":"acme/site"},"object_kind":"push","push":{"changes":[]}}`)
	tests := []struct {
		name      string
		provider  v1alpha1.Provider
		secret    string
		event     string
		wantEvent string
	}{
		{name: "github", provider: v1alpha1.ProviderGitHub, secret: "s3cret", wantEvent: "push"},
		{name: "github named event", provider: v1alpha1.ProviderGitHub, secret: "s3cret", event: "release", wantEvent: "release"},
		{name: "gitea", provider: v1alpha1.ProviderGitea, secret: "s3cret", wantEvent: "push"},
		{name: "bitbucket", provider: v1alpha1.ProviderBitbucket, secret: "s3cret", wantEvent: "repo:push"},
		{name: "gitlab", provider: v1alpha1.ProviderGitLab, secret: "s3cret", wantEvent: "Push Hook"},
		{name: "generic plain secret", provider: v1alpha1.ProviderGeneric, secret: "s3cret", wantEvent: "push"},
		{name: "generic whsec secret", provider: v1alpha1.ProviderGeneric, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", event: "deploy", wantEvent: "deploy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := body
			if tc.provider == v1alpha1.ProviderGeneric {
				body = []byte(`{"ref":"refs/heads/main","repository":"acme/site"}`)
			}
			h, err := Sign(tc.provider, SignInput{Secret: []byte(tc.secret), Body: body, Event: tc.event, DeliveryID: "d-1", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			p := providers[tc.provider]
			in := &verifyInput{header: h, body: body, keys: [][]byte{[]byte(tc.secret)}, now: now, tolerance: time.Minute}
			if err := p.verify(in); err != nil {
				t.Fatalf("verify: %v", err)
			}
			ev, err := p.normalise(h, body)
			if err != nil {
				t.Fatalf("normalise: %v", err)
			}
			d := ev.candidates[0].delivery
			if d.ID != "d-1" || d.Event != tc.wantEvent {
				t.Errorf("delivery id %q event %q, want d-1 and %q", d.ID, d.Event, tc.wantEvent)
			}
			in.keys = [][]byte{[]byte("another secret")}
			if err := p.verify(in); !errors.Is(err, errBadSignature) {
				t.Errorf("verify under another secret: %v, want %v", err, errBadSignature)
			}
		})
	}
}

// TestSignEveryProvider: send can sign for every provider the server knows.
func TestSignEveryProvider(t *testing.T) {
	for name := range providers {
		if _, err := Sign(name, SignInput{Secret: []byte("k"), Body: []byte("{}")}); err != nil {
			t.Errorf("Sign(%s): %v", name, err)
		}
	}
	if _, err := Sign("svn", SignInput{}); err == nil {
		t.Error("Sign of an unknown provider: no error")
	}
}
