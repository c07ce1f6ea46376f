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

// Command release writes the release files of `make release` into dist/,
// once the Makefile has built the image tarball, the chart archive and the
// plugin binaries (dist/bin/<os>_<arch>/kubectl-hookrun):
//
//   - install.yaml: `kustomize build config/default` with the release's
//     image, one file for `kubectl apply --server-side -f`;
//
//   - kubectl-hookrun_<os>_<arch>.tar.gz: the plugin binaries, archived
//     reproducibly (fixed times and owners: the same binary gives the same
//     checksum);
//
//   - hookrun.yaml: plugins/hookrun.yaml, the krew manifest, with the
//     release's version, URLs and the archives' sha256;
//
//   - SHA256SUMS: `sha256sum -c` input for every file above.
//
//     go run ./hack/release --version 0.1.0 --image hookrun/hookrun:0.1.0 --dist dist
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// platforms the plugin is released for (the krew manifest lists the same).
var platforms = []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"}

func main() {
	version := flag.String("version", "", "release version without the v, e.g. 0.1.0")
	image := flag.String("image", "", "manager image of install.yaml, e.g. registry.example.com/hookrun:0.1.0")
	dist := flag.String("dist", "dist", "output folder")
	flag.Parse()
	if *version == "" || *image == "" {
		fmt.Fprintln(os.Stderr, "usage: release --version V --image REPO:TAG [--dist dist]")
		os.Exit(2)
	}
	if err := run(*version, *image, *dist); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version, image, dist string) error {
	install, err := installYAML(".", version, image)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dist, "install.yaml"), install, 0o644); err != nil {
		return err
	}
	sums := map[string]string{}
	for _, p := range platforms {
		bin, err := os.ReadFile(filepath.Join(dist, "bin", p, "kubectl-hookrun"))
		if err != nil {
			return fmt.Errorf("plugin binary for %s: %w", p, err)
		}
		archive, err := tarGz("kubectl-hookrun", bin)
		if err != nil {
			return err
		}
		name := "kubectl-hookrun_" + p + ".tar.gz"
		if err := os.WriteFile(filepath.Join(dist, name), archive, 0o644); err != nil {
			return err
		}
		sums[p] = sha(archive)
	}
	manifest, err := os.ReadFile("plugins/hookrun.yaml")
	if err != nil {
		return err
	}
	krew, err := krewManifest(manifest, version, sums)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dist, "hookrun.yaml"), krew, 0o644); err != nil {
		return err
	}
	return writeSums(dist)
}

// splitImage splits REPO:TAG at the tag's colon: the last one, after the
// last slash, so that a registry's port (registry:5000/hookrun:0.1.0) stays
// in the repository.
func splitImage(image string) (repo, tag string, err error) {
	i := strings.LastIndex(image, ":")
	if i <= 0 || i == len(image)-1 || strings.Contains(image[i+1:], "/") {
		return "", "", fmt.Errorf("image %q: want REPO:TAG", image)
	}
	return image[:i], image[i+1:], nil
}

// installYAML builds config/default with the release's image through an
// overlay, as `kustomize edit set image` would, leaving config/ untouched.
func installYAML(root, version, image string) ([]byte, error) {
	name, tag, err := splitImage(image)
	if err != nil {
		return nil, err
	}
	fs := filesys.MakeFsOnDisk()
	overlay, err := os.MkdirTemp(root, ".release-overlay-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(overlay) }()
	kustomization := fmt.Sprintf("resources:\n- ../config/default\nimages:\n- name: hookrun/hookrun\n  newName: %s\n  newTag: %q\n", name, tag)
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		return nil, err
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, overlay)
	if err != nil {
		return nil, fmt.Errorf("kustomize build: %w", err)
	}
	out, err := res.AsYaml()
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf("# hookrun %s: CRDs, RBAC and the manager (%s) in namespace hookrun-system.\n"+
		"#   kubectl apply --server-side -f install.yaml\n", version, image)
	return append([]byte(header), out...), nil
}

// tarGz archives one executable with fixed metadata, so that the archive's
// checksum depends on the binary only.
func tarGz(name string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	epoch := time.Unix(0, 0).UTC()
	hdr := &tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var (
	krewVersion = regexp.MustCompile(`(?m)^(  version: )v\S+$`)
	krewURI     = regexp.MustCompile(`/releases/download/v[^/]+/kubectl-hookrun_([a-z0-9]+_[a-z0-9]+)\.tar\.gz`)
	krewSHA     = regexp.MustCompile(`(?m)^(\s+sha256: )"[0-9a-f]{64}"$`)
)

// krewManifest fills the krew manifest in: version, each platform's URL and
// sha256, keeping its comments and layout. Every platform of the manifest
// must have an archive, and every archive a platform.
func krewManifest(manifest []byte, version string, sums map[string]string) ([]byte, error) {
	text := krewVersion.ReplaceAllString(string(manifest), "${1}v"+version)
	uris := krewURI.FindAllStringSubmatchIndex(text, -1)
	shas := krewSHA.FindAllStringSubmatchIndex(text, -1)
	if len(uris) != len(sums) || len(shas) != len(uris) {
		return nil, fmt.Errorf("krew manifest: %d URIs and %d sha256 fields for %d archives", len(uris), len(shas), len(sums))
	}
	var b strings.Builder
	last := 0
	var seen []string
	for i, u := range uris {
		platform := text[u[2]:u[3]]
		sum, ok := sums[platform]
		if !ok {
			return nil, fmt.Errorf("krew manifest: no archive for %s", platform)
		}
		seen = append(seen, platform)
		s := shas[i]
		if s[0] < u[1] {
			return nil, fmt.Errorf("krew manifest: the sha256 of %s must follow its uri", platform)
		}
		b.WriteString(text[last:u[0]])
		fmt.Fprintf(&b, "/releases/download/v%s/kubectl-hookrun_%s.tar.gz", version, platform)
		b.WriteString(text[u[1]:s[2]])
		b.WriteString(text[s[2]:s[3]])
		fmt.Fprintf(&b, "%q", sum)
		last = s[1]
	}
	b.WriteString(text[last:])
	slices.Sort(seen)
	if len(slices.Compact(seen)) != len(sums) {
		return nil, fmt.Errorf("krew manifest: a platform is listed twice")
	}
	return []byte(b.String()), nil
}

// writeSums writes SHA256SUMS for every file of dist (not its folders).
func writeSums(dist string) error {
	entries, err := os.ReadDir(dist)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "SHA256SUMS" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dist, e.Name()))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sha(data), e.Name())
	}
	return os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(b.String()), 0o644)
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
