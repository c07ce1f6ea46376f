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
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestKrewManifestFilledIn(t *testing.T) {
	manifest, err := os.ReadFile("../../plugins/hookrun.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for i, p := range platforms {
		sums[p] = strings.Repeat(string(rune('a'+i)), 64)
	}
	out, err := krewManifest(manifest, "1.2.3", sums)
	if err != nil {
		t.Fatal(err)
	}
	var plugin struct {
		Spec struct {
			Version   string `json:"version"`
			Platforms []struct {
				Selector struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"selector"`
				URI    string `json:"uri"`
				SHA256 string `json:"sha256"`
			} `json:"platforms"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(out, &plugin); err != nil {
		t.Fatal(err)
	}
	if plugin.Spec.Version != "v1.2.3" || len(plugin.Spec.Platforms) != len(platforms) {
		t.Fatalf("version %s, %d platforms", plugin.Spec.Version, len(plugin.Spec.Platforms))
	}
	for _, p := range plugin.Spec.Platforms {
		key := p.Selector.MatchLabels["os"] + "_" + p.Selector.MatchLabels["arch"]
		wantURI := "https://github.com/hookrun/hookrun/releases/download/v1.2.3/kubectl-hookrun_" + key + ".tar.gz"
		if p.URI != wantURI || p.SHA256 != sums[key] {
			t.Errorf("%s: uri %s sha256 %s, want %s %s", key, p.URI, p.SHA256, wantURI, sums[key])
		}
	}

	delete(sums, "darwin_amd64")
	if _, err := krewManifest(manifest, "1.2.3", sums); err == nil {
		t.Error("a manifest platform without an archive was accepted")
	}
}

func TestTarGzIsReproducible(t *testing.T) {
	a, err := tarGz("kubectl-hookrun", []byte("binary"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := tarGz("kubectl-hookrun", []byte("binary"))
	if !bytes.Equal(a, b) {
		t.Error("two archives of the same binary differ")
	}
	gz, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(tr)
	if hdr.Name != "kubectl-hookrun" || hdr.Mode != 0o755 || string(data) != "binary" {
		t.Errorf("entry %s mode %o content %q", hdr.Name, hdr.Mode, data)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("more than one entry: %v", err)
	}
}

func TestInstallYAML(t *testing.T) {
	out, err := installYAML("../..", "1.2.3", "registry.example.com/hookrun:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"image: registry.example.com/hookrun:1.2.3\n",
		"kind: CustomResourceDefinition\n", "kind: ClusterRole\n", "kind: Deployment\n",
		"name: hookrun-controller-manager\n", "namespace: hookrun-system\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("install.yaml lacks %q", want)
		}
	}
	if strings.Contains(text, "hookrun/hookrun:local") {
		t.Error("install.yaml still has the local image")
	}
	if _, err := installYAML("../..", "1.2.3", "no-tag"); err == nil {
		t.Error("an image without a tag was accepted")
	}
}

func TestSplitImage(t *testing.T) {
	for _, c := range []struct {
		image, repo, tag string
		ok               bool
	}{
		{"hookrun/hookrun:0.1.0", "hookrun/hookrun", "0.1.0", true},
		{"registry.example.com:5000/hookrun:v0.1.0", "registry.example.com:5000/hookrun", "v0.1.0", true},
		{"localhost:5000/team/hookrun:1", "localhost:5000/team/hookrun", "1", true},
		{"registry:5000/hookrun", "", "", false}, // the port is no tag
		{"hookrun/hookrun", "", "", false},
		{"hookrun/hookrun:", "", "", false},
		{":0.1.0", "", "", false},
	} {
		repo, tag, err := splitImage(c.image)
		if (err == nil) != c.ok || repo != c.repo || tag != c.tag {
			t.Errorf("splitImage(%q) = %q, %q, %v; want %q, %q, ok=%v", c.image, repo, tag, err, c.repo, c.tag, c.ok)
		}
	}
}
