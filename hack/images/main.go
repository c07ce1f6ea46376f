// Command images builds the local container images of hookrun as
// docker-archive tarballs (manifest.json, config JSON, one layer) that
// `ctr -n k8s.io images import` accepts. No registry and no Docker engine are
// involved: every image is one layer on an empty base.
//
// Usage:
//
//	images rootfs --tag hookrun/runner:local --out runner.tar (--dir DIR | --tar ROOTFS.tar[.gz]) [flags]
//	images pause  --tag hookrun/pause:local  --out pause.tar  --binary bin/pause
//	images binary --tag hookrun/hookrun:local --out manager.tar --binary bin/hookrun [--name hookrun] [flags]
//
// rootfs: the layer is a root filesystem, from a directory or a tar file
// (plain or gzip); the image runs as root with Cmd ["/bin/sh"] unless told.
// pause: the layer holds the binary as /pause (entrypoint, user 65535).
// binary: the layer holds the binary as /<name> (entrypoint, user 65532 —
// the "nonroot" convention of distroless images).
//
// Common flags: --env K=V (repeatable), --label K=V (repeatable),
// --add SRC:DST[:MODE] (extra files; binary and pause only), --user,
// --workdir, --entrypoint and --cmd (a JSON array or one word).
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// epoch is the time stamped on every file and on the image, so that the same
// inputs give the same image ID.
var epoch = time.Unix(0, 0).UTC()

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	kind       string
	tag        string
	out        string
	dir        string
	tarPath    string
	binary     string
	name       string
	user       string
	workdir    string
	entrypoint string
	cmd        string
	env        multiFlag
	labels     multiFlag
	add        multiFlag
	excludes   multiFlag
}

func usage() error {
	return errors.New("usage: images rootfs|pause|binary --tag TAG --out FILE [flags] (see the package comment)")
}

func run(args []string) error {
	if len(args) == 0 {
		return usage()
	}
	o := options{kind: args[0]}
	fl := flag.NewFlagSet("images "+o.kind, flag.ContinueOnError)
	fl.StringVar(&o.tag, "tag", "", "image reference written into the archive, e.g. hookrun/runner:local")
	fl.StringVar(&o.out, "out", "", "docker-archive tarball to write")
	fl.StringVar(&o.dir, "dir", "", "rootfs: directory holding the root filesystem")
	fl.StringVar(&o.tarPath, "tar", "", "rootfs: tar file (plain or gzip) holding the root filesystem")
	fl.StringVar(&o.binary, "binary", "", "pause, binary: the static binary to ship")
	fl.StringVar(&o.name, "name", "", "binary: file name in the image (default: base name of --binary)")
	fl.StringVar(&o.user, "user", "", "user the image runs as (default: rootfs 0, pause 65535, binary 65532)")
	fl.StringVar(&o.workdir, "workdir", "/", "working directory")
	fl.StringVar(&o.entrypoint, "entrypoint", "", "entrypoint, JSON array or one word (default: the binary)")
	fl.StringVar(&o.cmd, "cmd", "", `cmd, JSON array or one word (rootfs default: ["/bin/sh"])`)
	fl.Var(&o.env, "env", "K=V environment variable (repeatable)")
	fl.Var(&o.labels, "label", "K=V image label (repeatable)")
	fl.Var(&o.add, "add", "SRC:DST[:MODE] extra file for pause and binary images (repeatable)")
	fl.Var(&o.excludes, "exclude", "rootfs --dir: path relative to the root whose contents are left out, e.g. proc (repeatable)")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	if o.tag == "" || o.out == "" {
		return usage()
	}
	defer runCleanups()
	img, err := build(o)
	if err != nil {
		return err
	}
	return write(o.out, o.tag, img)
}

// build assembles the image described by o.
func build(o options) (v1.Image, error) {
	cfg := v1.Config{WorkingDir: o.workdir, Env: []string{defaultPath}}
	var layer v1.Layer
	var cleanup func()
	var err error
	switch o.kind {
	case "rootfs":
		cfg.User = "0"
		cfg.Cmd = []string{"/bin/sh"}
		switch {
		case (o.dir == "") == (o.tarPath == ""):
			return nil, errors.New("rootfs needs exactly one of --dir and --tar")
		case o.tarPath != "":
			layer, err = tarball.LayerFromFile(o.tarPath)
		default:
			layer, cleanup, err = layerFromDir(o.dir, o.excludes, o.out+".layer.tmp")
		}
	case "pause", "binary":
		if o.binary == "" {
			return nil, fmt.Errorf("%s needs --binary", o.kind)
		}
		fileName := "pause"
		cfg.User = "65535:65535"
		if o.kind == "binary" {
			fileName = o.name
			if fileName == "" {
				fileName = filepath.Base(o.binary)
			}
			cfg.User = "65532:65532"
		}
		cfg.Entrypoint = []string{"/" + fileName}
		files := []fileSpec{{src: o.binary, dst: fileName, mode: 0o755}}
		for _, a := range o.add {
			f, err := parseAdd(a)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
		layer, err = layerFromFiles(files)
	default:
		return nil, usage()
	}
	if err != nil {
		return nil, err
	}
	if cleanup != nil {
		// The layer is read again when the archive is written; the temporary
		// file goes when the process ends.
		registerCleanup(cleanup)
	}

	if o.user != "" {
		cfg.User = o.user
	}
	if o.entrypoint != "" {
		if cfg.Entrypoint, err = parseArgv(o.entrypoint); err != nil {
			return nil, fmt.Errorf("--entrypoint: %w", err)
		}
	}
	if o.cmd != "" {
		if cfg.Cmd, err = parseArgv(o.cmd); err != nil {
			return nil, fmt.Errorf("--cmd: %w", err)
		}
	}
	for _, e := range o.env {
		if !strings.Contains(e, "=") {
			return nil, fmt.Errorf("--env %q: want K=V", e)
		}
		if strings.HasPrefix(e, "PATH=") {
			cfg.Env[0] = e
			continue
		}
		cfg.Env = append(cfg.Env, e)
	}
	if len(o.labels) > 0 {
		cfg.Labels = map[string]string{}
		for _, l := range o.labels {
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				return nil, fmt.Errorf("--label %q: want K=V", l)
			}
			cfg.Labels[k] = v
		}
	}

	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "hookrun hack/images " + o.kind},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture = runtime.GOARCH
	cf.OS = "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

// write stores img as a docker-archive tarball tagged tag, atomically.
func write(out, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}

var cleanups []func()

func registerCleanup(f func()) { cleanups = append(cleanups, f) }
func runCleanups() {
	for _, f := range cleanups {
		f()
	}
	cleanups = nil
}

func parseArgv(s string) ([]string, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "[") {
		var argv []string
		err := json.Unmarshal([]byte(s), &argv)
		return argv, err
	}
	return []string{s}, nil
}

type fileSpec struct {
	src, dst string
	mode     int64
}

func parseAdd(s string) (fileSpec, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return fileSpec{}, fmt.Errorf("--add %q: want SRC:DST[:MODE]", s)
	}
	f := fileSpec{src: parts[0], dst: strings.TrimPrefix(path.Clean("/"+parts[1]), "/"), mode: 0o644}
	if len(parts) == 3 {
		m, err := strconv.ParseInt(parts[2], 8, 32)
		if err != nil {
			return fileSpec{}, fmt.Errorf("--add %q: mode: %w", s, err)
		}
		f.mode = m
	}
	return f, nil
}

// layerFromFiles builds an in-memory layer holding the given files (owned by
// root) and the directories leading to them.
func layerFromFiles(files []fileSpec) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	sort.Slice(files, func(i, j int) bool { return files[i].dst < files[j].dst })
	for _, f := range files {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		var parents []string
		for d := path.Dir(f.dst); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
			dirs[d] = true
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parents[i] + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.dst, Mode: f.mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

// layerFromDir writes the tree under root into the tar file tmp (keeping
// owners, modes, symlinks, hard links and device nodes) and returns it as a
// layer plus a function that removes tmp. The contents of each excluded
// directory are left out; the directory itself is kept.
func layerFromDir(root string, excludes []string, tmp string) (v1.Layer, func(), error) {
	f, err := os.Create(tmp)
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.Remove(tmp) }
	if err := writeDirTar(f, root, excludes); err != nil {
		f.Close()
		cleanup()
		return nil, nil, err
	}
	if err := f.Close(); err != nil {
		cleanup()
		return nil, nil, err
	}
	layer, err := tarball.LayerFromFile(tmp)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return layer, cleanup, nil
}

func writeDirTar(w io.Writer, root string, excludes []string) error {
	skip := map[string]bool{}
	for _, e := range excludes {
		skip[strings.Trim(path.Clean("/"+e), "/")] = true
	}
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if skip[path.Dir(rel)] {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSocket != 0 {
			return nil // sockets cannot live in a layer
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		hdr.Name = rel
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		hdr.Format = tar.FormatPAX
		hdr.ModTime = info.ModTime().Truncate(time.Second)
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
			if info.Mode().IsRegular() && st.Nlink > 1 {
				key := inode{uint64(st.Dev), st.Ino}
				if first, ok := seen[key]; ok {
					hdr.Typeflag = tar.TypeLink
					hdr.Linkname = first
					hdr.Size = 0
				} else {
					seen[key] = rel
				}
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			src.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
