package main

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// readArchive opens a docker-archive written by run and returns its
// manifest.json, the image config and the layer's file names.
func readArchive(t *testing.T, file, tag string) (manifest []tarball.Descriptor, entrypoint []string, user string, files map[string]tar.Header) {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(file, &ref)
	if err != nil {
		t.Fatalf("read back %s: %v", file, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %v, %d", err, len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files = map[string]tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = *h
	}

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	outer := tar.NewReader(f)
	for {
		h, err := outer.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(outer).Decode(&manifest); err != nil {
				t.Fatal(err)
			}
		}
	}
	return manifest, cf.Config.Entrypoint, cf.Config.User, files
}

func TestBinaryImage(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookrun")
	if err := os.WriteFile(bin, []byte("#!fake"), 0o700); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "img.tar")
	if err := run([]string{"binary", "--tag", "hookrun/hookrun:local", "--out", out, "--binary", bin,
		"--add", bin + ":/etc/hookrun/copy:600"}); err != nil {
		t.Fatal(err)
	}
	manifest, entrypoint, user, files := readArchive(t, out, "hookrun/hookrun:local")
	if len(manifest) != 1 || cmp.Diff([]string{"hookrun/hookrun:local"}, manifest[0].RepoTags) != "" {
		t.Errorf("manifest.json = %+v", manifest)
	}
	if diff := cmp.Diff([]string{"/hookrun"}, entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	if user != "65532:65532" {
		t.Errorf("user = %q", user)
	}
	if h, ok := files["hookrun"]; !ok || h.Mode != 0o755 || h.Uid != 0 {
		t.Errorf("hookrun entry = %+v (present %v)", h, ok)
	}
	if h, ok := files["etc/hookrun/copy"]; !ok || h.Mode != 0o600 {
		t.Errorf("etc/hookrun/copy entry = %+v (present %v)", h, ok)
	}
	if _, ok := files["etc/hookrun/"]; !ok {
		t.Errorf("parent directories missing: %v", files)
	}
}

func TestRootfsFromDir(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"bin", "proc/self", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busy"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "bin/busy"), filepath.Join(root, "bin/hard")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busy", filepath.Join(root, "bin/sh")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := run([]string{"rootfs", "--tag", "hookrun/runner:local", "--out", out, "--dir", root, "--exclude", "proc"}); err != nil {
		t.Fatal(err)
	}
	_, _, user, files := readArchive(t, out, "hookrun/runner:local")
	if user != "0" {
		t.Errorf("user = %q", user)
	}
	if h := files["bin/sh"]; h.Typeflag != tar.TypeSymlink || h.Linkname != "busy" {
		t.Errorf("bin/sh = %+v", h)
	}
	if files["bin/busy"].Typeflag != tar.TypeReg {
		t.Errorf("bin/busy = %+v", files["bin/busy"])
	}
	// Whichever of the two names the walk met second is the hard link.
	if h := files["bin/hard"]; h.Typeflag != tar.TypeLink || h.Linkname != "bin/busy" {
		t.Errorf("bin/hard = %+v", h)
	}
	if _, ok := files["proc/"]; !ok {
		t.Error("excluded directory itself should be kept")
	}
	if _, ok := files["proc/self/"]; ok {
		t.Error("contents of excluded directory were written")
	}
	if _, err := os.Stat(out + ".layer.tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary layer left behind: %v", err)
	}
}
