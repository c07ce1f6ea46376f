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

// Package testtools finds the pinned tools tests run (helm, promtool): the
// binary hack/build-tool.sh builds into bin/, built on first use, so that
// `go test ./...` needs no manual step. The Makefile builds them before the
// tests and passes their paths in HOOKRUN_HELM and HOOKRUN_PROMTOOL.
package testtools

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Root is the repository's root folder: the first parent of the working
// directory with hack/build-tool.sh.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "build-tool.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no hack/build-tool.sh above the working directory")
		}
		dir = parent
	}
}

// Path is the path of the pinned tool ("helm" or "promtool"):
// $HOOKRUN_<TOOL> when set, else the one hack/build-tool.sh builds (cached
// in bin/; the first build takes minutes).
func Path(tool string) (string, error) {
	if p := os.Getenv("HOOKRUN_" + strings.ToUpper(tool)); p != "" {
		return p, nil
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(root, "hack", "build-tool.sh"), tool)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/build-tool.sh %s: %w\n%s", tool, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}
