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

package main

import "testing"

func TestHeadlineFormat(t *testing.T) {
	tests := []struct {
		name         string
		h            Headline
		measured     string
		baselineText string
	}{
		{name: "a time", h: Headline{Unit: "s", Baseline: 1.5, Measured: 2}, measured: "2.00 s", baselineText: "1.50 s"},
		{name: "not measured", h: Headline{Unit: "ms"}, measured: "–", baselineText: "–"},
		{name: "a count of zero is a value", h: Headline{Count: true}, measured: "0.00", baselineText: "–"},
		{name: "a count", h: Headline{Count: true, Measured: 0.45}, measured: "0.45", baselineText: "–"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.formatMeasured(); got != tt.measured {
				t.Errorf("formatMeasured() = %q, want %q", got, tt.measured)
			}
			if got := tt.h.formatBaseline(); got != tt.baselineText {
				t.Errorf("formatBaseline() = %q, want %q", got, tt.baselineText)
			}
		})
	}
}
