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

// Command crdpatch adjusts the CRDs controller-gen wrote, where a marker
// cannot reach: a field of an embedded upstream type (corev1.PodSpec) whose
// "required" list is wrong for hookrun. `make manifests` runs it right after
// controller-gen, so the files in config/crd/bases stay generated.
//
//	go run ./hack/crdpatch config/crd/bases
//
// Why not a kustomize patch: envtest, `make install` and the e2e suite load
// config/crd/bases directly, and a JSON patch on a list index would break
// silently when the schema changes; this fails loudly instead.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"sigs.k8s.io/yaml"
)

// optionalField makes Field optional in the object schema found at Path
// (property names below a version's openAPIV3Schema).
type optionalField struct {
	File  string
	Path  []string
	Field string
}

// patches: run.podTemplate.spec.containers is required in a Pod, but a
// podTemplate that only sets pod-level fields (hostNetwork, nodeSelector,
// volumes) is complete: the reconciler adds the container named "run".
var patches = []optionalField{{
	File:  "hooks.hookrun.dev_hooktemplates.yaml",
	Path:  []string{"spec", "run", "podTemplate", "spec"},
	Field: "containers",
}}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crdpatch <folder with the generated CRDs>")
		os.Exit(2)
	}
	for _, p := range patches {
		if err := patchFile(filepath.Join(os.Args[1], p.File), p); err != nil {
			fmt.Fprintln(os.Stderr, "crdpatch:", err)
			os.Exit(1)
		}
	}
}

// controller-gen writes each CRD as one YAML document that starts with "---".
const docStart = "---\n"

func patchFile(path string, p optionalField) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := patch(raw, p)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}

// patch returns the CRD with p applied to every version. Applying it twice
// gives the same bytes; a path that no longer exists is an error.
func patch(raw []byte, p optionalField) ([]byte, error) {
	var crd map[string]any
	if err := yaml.Unmarshal(bytes.TrimPrefix(raw, []byte(docStart)), &crd); err != nil {
		return nil, err
	}
	versions, _ := dig(crd, "spec", "versions").([]any)
	if len(versions) == 0 {
		return nil, fmt.Errorf("no spec.versions")
	}
	for _, v := range versions {
		schema, _ := dig(v, "schema", "openAPIV3Schema").(map[string]any)
		for _, name := range p.Path {
			schema, _ = dig(schema, "properties", name).(map[string]any)
		}
		if _, ok := dig(schema, "properties", p.Field).(map[string]any); !ok {
			return nil, fmt.Errorf("no property %q under %v", p.Field, p.Path)
		}
		required, _ := schema["required"].([]any)
		required = slices.DeleteFunc(required, func(f any) bool { return f == p.Field })
		if len(required) == 0 {
			delete(schema, "required")
		} else {
			schema["required"] = required
		}
	}
	out, err := yaml.Marshal(crd)
	if err != nil {
		return nil, err
	}
	return append([]byte(docStart), out...), nil
}

// dig follows map keys; nil when any step is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
