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

import (
	"strings"
	"testing"
)

const crd = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  versions:
  - name: v1alpha1
    schema:
      openAPIV3Schema:
        properties:
          spec:
            properties:
              pod:
                properties:
                  containers:
                    type: array
                  volumes:
                    type: array
                required:
                  - containers
                  - volumes
                type: object
`

func TestPatch(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		field   string
		path    []string
		want    []string // substrings that must be there
		notWant []string
		wantErr string
	}{
		{
			name: "drops one of two required fields", in: crd, field: "containers", path: []string{"spec", "pod"},
			want: []string{"required:\n                - volumes\n"}, notWant: []string{"- containers"},
		},
		{
			name: "drops the list when it becomes empty", in: strings.Replace(crd, "                  - volumes\n", "", 1),
			field: "containers", path: []string{"spec", "pod"}, notWant: []string{"required"},
		},
		{
			name: "a path that no longer exists is an error", in: crd, field: "containers", path: []string{"spec", "gone"},
			wantErr: `no property "containers"`,
		},
		{name: "no versions", in: "---\nspec: {}\n", field: "x", wantErr: "no spec.versions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := optionalField{Path: tt.path, Field: tt.field}
			out, err := patch([]byte(tt.in), p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), docStart) {
				t.Errorf("output lost the document start:\n%s", out)
			}
			for _, s := range tt.want {
				if !strings.Contains(string(out), s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(string(out), s) {
					t.Errorf("output still has %q:\n%s", s, out)
				}
			}
			again, err := patch(out, p)
			if err != nil || string(again) != string(out) {
				t.Errorf("patch is not idempotent (err %v):\n%s\n---\n%s", err, out, again)
			}
		})
	}
}
