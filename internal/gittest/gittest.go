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

// Package gittest serves a real git repository on loopback for tests: a
// bare repository behind `git daemon` (git's own protocol, git://), and a
// working copy that pushes to it. Used by the poller's envtest tests and by
// the manager's test through main.go's wiring.
package gittest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Remote is a bare repository served by `git daemon` on 127.0.0.1, and a
// working copy that pushes to it. Its first commit is on main.
type Remote struct {
	t testing.TB
	// Bare is the served repository's folder, Work the working copy's.
	Bare, Work string
	// URL is the git:// URL the daemon serves Bare at.
	URL string
	n   int
}

// New creates the repositories, commits once on main, starts the daemon
// (stopped at the end of the test) and waits until it answers.
func New(t testing.TB) *Remote {
	t.Helper()
	root := t.TempDir()
	r := &Remote{t: t, Bare: filepath.Join(root, "git", "site.git"), Work: filepath.Join(root, "work")}
	for _, dir := range []string{r.Bare, r.Work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.Git(r.Bare, "init", "--bare", "--initial-branch=main")
	r.Git(r.Work, "init", "--initial-branch=main")
	r.Commit("main")

	r.URL = Serve(t, filepath.Join(root, "git"), "site.git")
	return r
}

// Serve runs `git daemon` over the bare repositories under base on
// 127.0.0.1, waits until it serves repo (a folder under base) and returns
// repo's git:// URL. The
// daemon runs in a process group of its own that the test's cleanup kills
// whole: `git daemon` forks git-daemon as a child, and killing only the
// parent would leave that child serving (and holding every inherited file
// descriptor, such as a lock the test runner took) after the test.
func Serve(t testing.TB, base, repo string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
		fmt.Sprintf("--port=%d", port), "--base-path="+base, base)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("git daemon: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	url := fmt.Sprintf("git://127.0.0.1:%d/%s", port, repo)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := exec.CommandContext(ctx, "git", "ls-remote", url).Run()
		cancel()
		if err == nil {
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("git daemon does not serve %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond) // polling the daemon's start-up, with a deadline
	}
}

// Git runs git in dir and returns its trimmed output; a failure fails the
// test.
func (r *Remote) Git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@hookrun.invalid"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// CommitLocal makes a commit on branch in the working copy, without
// pushing it; it returns its sha.
func (r *Remote) CommitLocal(branch string) string {
	r.t.Helper()
	r.n++
	if r.n > 1 {
		r.Git(r.Work, "checkout", "-q", "-B", branch)
	}
	if err := os.WriteFile(filepath.Join(r.Work, "f.txt"), []byte(fmt.Sprintf("%d\n", r.n)), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.Git(r.Work, "add", ".")
	r.Git(r.Work, "commit", "-q", "-m", fmt.Sprintf("change %d", r.n))
	return r.Git(r.Work, "rev-parse", "HEAD")
}

// Push pushes branch (forced) to the served repository.
func (r *Remote) Push(branch string) {
	r.t.Helper()
	r.Git(r.Work, "push", "-q", "-f", r.Bare, branch)
}

// Commit makes a commit on branch and pushes it; it returns its sha.
func (r *Remote) Commit(branch string) string {
	r.t.Helper()
	sha := r.CommitLocal(branch)
	r.Push(branch)
	return sha
}
