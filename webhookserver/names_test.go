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
	"encoding/hex"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestRunName(t *testing.T) {
	hash := func(id string) string {
		s := sha256.Sum256([]byte(id))
		return hex.EncodeToString(s[:])[:10]
	}
	long := strings.Repeat("a", 60)
	tests := []struct {
		name     string
		template string
		id       string
		want     string
	}{
		{name: "short", template: "site", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", want: "site-" + hash("72d3162e-cc78-11e3-81ab-4c9367dc0958")},
		{name: "dots become dashes", template: "site.prod", id: "d", want: "site-prod-" + hash("d")},
		{name: "long template is trimmed to 63", template: long, id: "d", want: strings.Repeat("a", 52) + "-" + hash("d")},
		{name: "trim does not leave a dash", template: strings.Repeat("a", 51) + "-bcd", id: "d", want: strings.Repeat("a", 51) + "-" + hash("d")},
		{name: "253-char subdomain", template: strings.Repeat("ab.", 84) + "c", id: "d", want: strings.TrimRight(strings.Repeat("ab-", 18)[:52], "-") + "-" + hash("d")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RunName(tt.template, tt.id)
			if got != tt.want {
				t.Errorf("RunName = %q, want %q", got, tt.want)
			}
			if len(got) > 63 {
				t.Errorf("len = %d > 63", len(got))
			}
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("not a DNS-1123 label: %v", errs)
			}
		})
	}
	if RunName("site", "a") == RunName("site", "b") {
		t.Error("two delivery ids give one name")
	}
	if RunName("site", "a") != RunName("site", "a") {
		t.Error("a redelivery gives another name")
	}
}
