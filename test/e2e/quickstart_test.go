//go:build e2e

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

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// The run name the README's example output uses; the test puts the real one
// in its place.
const readmeRunName = "hello-f3c9227b7c"

// readmeChecks says what each kubectl command of the README's "Try it in five
// minutes" must show. Every key must be in the README, and every kubectl
// command there must have a key: the README and this test cannot drift apart.
var readmeChecks = map[string]func(g Gomega, out, run string){
	"wait --for=condition=Succeeded hookrun/": func(g Gomega, out, run string) {
		g.Expect(out).To(ContainSubstring("hookrun.hooks.hookrun.dev/" + run + " condition met"))
	},
	"get hookruns": func(g Gomega, out, run string) {
		// NODES stays empty for a run that is not on every node.
		g.Expect(out).To(MatchRegexp(`(?m)^NAME\s+TEMPLATE\s+EVENT\s+REF\s+SHA\s+PHASE\s+ATTEMPTS\s+NODES\s+AGE$`))
		g.Expect(out).To(MatchRegexp(`(?m)^` + run + `\s+hello\s+push\s+refs/heads/main\s+0123456\s+Succeeded\s+1\s`))
	},
	"get hookrun ": func(g Gomega, out, run string) {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		g.Expect(lines).To(HaveLen(2), "one header and one run:\n%s", out)
		g.Expect(lines[1]).To(MatchRegexp(`^` + run + `\s+hello\s+push\s.*\sSucceeded\s`))
	},
	"describe hookrun ": func(g Gomega, out, run string) {
		g.Expect(out).To(MatchRegexp(`(?m)^Name:\s+` + run + `$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Events:`))
		g.Expect(out).To(ContainSubstring("RunSucceeded"))
	},
	"logs job/": func(g Gomega, out, run string) {
		g.Expect(out).To(ContainSubstring("hello from hookrun: acme/site refs/heads/main at 0123456789abcdef0123456789abcdef01234567 (run " + run + ")"))
	},
	"get hooktemplates -o wide": func(g Gomega, out, run string) {
		// ACTIVE and QUEUED both show 0 when nothing runs or waits.
		g.Expect(out).To(MatchRegexp(`(?m)^NAME\s+PROVIDER\s+SOURCE\s+READY\s+LAST RUN\s+ACTIVE\s+QUEUED\s+LAST POLL\s+PATH\s+AGE$`))
		g.Expect(out).To(MatchRegexp(`(?m)^hello\s+generic\s+True\s+hello-[0-9a-f]+\s+0\s+0\s+/hooks/hookrun-demo/hello\s`))
	},
	"get hooks": func(g Gomega, out, run string) {
		// The category lists both kinds, and does not shadow `get hookrun NAME`.
		g.Expect(out).To(ContainSubstring("hooktemplate.hooks.hookrun.dev/hello"))
		g.Expect(out).To(ContainSubstring("hookrun.hooks.hookrun.dev/" + run))
	},
}

// TestQuickStartFromTheREADME follows "Try it in five minutes" as a new user
// does, several times in a row: `make run`, paste the curl command it
// prints, run the README's kubectl commands verbatim, Ctrl-C. The first
// round also runs `make samples` and waits for the sample run to succeed.
func TestQuickStartFromTheREADME(t *testing.T) {
	stopSharedManager() // make run starts an unelected manager of its own
	commands := readmeCommands(t)
	_, _ = exec.Command("kubectl", "delete", "namespace", "hookrun-samples", "--wait=true", "--timeout=60s").CombinedOutput()
	t.Cleanup(func() {
		if !t.Failed() {
			_, _ = exec.Command("kubectl", "delete", "namespace", "hookrun-samples", "hookrun-demo", "--wait=false").CombinedOutput()
		}
	})
	for round := 1; round <= 3; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			g := NewWithT(t)
			mr := startMakeRun(t)
			run := sendPrintedDelivery(t, mr)
			for _, c := range commands {
				cmdline := strings.ReplaceAll(c.line, readmeRunName, run)
				args := strings.Fields(cmdline)
				// The template's counts follow the run within about a second
				// (coalesced status writes): a user looking twice sees them.
				g.Eventually(func(g Gomega) {
					out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
					g.Expect(err).NotTo(HaveOccurred(), "%s:\n%s", cmdline, out)
					c.check(g, string(out), run)
				}, 15*time.Second, time.Second).Should(Succeed(), cmdline)
			}
			if round == 1 {
				checkSamples(t)
				checkGiteaDemo(t)
			}
			mr.interrupt(t)
		})
		if t.Failed() {
			return
		}
	}
}

type readmeCommand struct {
	line  string
	check func(g Gomega, out, run string)
}

// readmeCommands returns the `$ kubectl …` lines of the README's step 3, each
// with the check for it.
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "**3. Watch the deploy history**")
	if start < 0 {
		t.Fatal("README has no step 3 \"Watch the deploy history\"")
	}
	block := readme[start:]
	block = block[strings.Index(block, "```")+3:]
	block = block[:strings.Index(block, "```")]
	var cmds []readmeCommand
	seen := map[string]bool{}
	for _, line := range strings.Split(block, "\n") {
		if !strings.HasPrefix(line, "$ kubectl") {
			continue
		}
		line = strings.TrimPrefix(line, "$ ")
		const prefix = "kubectl -n hookrun-demo "
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("README command %q does not name the demo namespace", line)
		}
		var key string
		for k := range readmeChecks {
			if strings.HasPrefix(line[len(prefix):], k) && len(k) > len(key) {
				key = k
			}
		}
		if key == "" {
			t.Fatalf("README command %q has no check in readmeChecks", line)
		}
		seen[key] = true
		cmds = append(cmds, readmeCommand{line: line, check: readmeChecks[key]})
	}
	for k := range readmeChecks {
		if !seen[k] {
			t.Errorf("README's step 3 lacks `kubectl -n hookrun-demo %s…`", k)
		}
	}
	return cmds
}

// makeRun is `make run` started in the repository, in a process group of
// its own (Ctrl-C reaches every process of it, as in a terminal).
type makeRun struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

func (m *makeRun) output() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.String()
}

func startMakeRun(t *testing.T) *makeRun {
	t.Helper()
	m := &makeRun{done: make(chan struct{})}
	m.cmd = exec.Command("make", "run")
	m.cmd.Dir = repoRoot
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := m.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	m.cmd.Stderr = m.cmd.Stdout
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("make run: %v", err)
	}
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			m.mu.Lock()
			m.out.WriteString(sc.Text() + "\n")
			m.mu.Unlock()
		}
		_ = m.cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.done
		}
		if t.Failed() {
			t.Logf("make run output:\n%s", tailOf(m.output(), 6000))
		}
	})
	return m
}

// interrupt is Ctrl-C: make run must end, and free the webhook port.
func (m *makeRun) interrupt(t *testing.T) {
	t.Helper()
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-m.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("make run did not stop within 60s of Ctrl-C")
	}
	l, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Fatalf("port 8080 still taken after make run stopped: %v", err)
	}
	_ = l.Close()
}

var printedScript = regexp.MustCompile(`(?s)In another shell, send a signed delivery:\n(.*?)\n\s*kubectl -n hookrun-demo get hookruns -w`)

// sendPrintedDelivery waits for make run's instructions, runs the printed
// shell lines as a user pasting them would, and returns the run's name from
// the answer. It retries while the manager is still starting (connection
// refused, or the template not yet in its cache).
func sendPrintedDelivery(t *testing.T, m *makeRun) string {
	t.Helper()
	g := NewWithT(t)
	var script string
	// The first round may build the manager: allow minutes.
	g.Eventually(func(g Gomega) {
		select {
		case <-m.done:
			g.Expect(fmt.Errorf("make run exited early")).NotTo(HaveOccurred())
		default:
		}
		match := printedScript.FindStringSubmatch(m.output())
		g.Expect(match).To(HaveLen(2), "make run has not printed the curl command yet")
		script = match[1]
	}, 10*time.Minute, time.Second).Should(Succeed())

	var answer struct {
		Run   string `json:"run"`
		Error string `json:"error"`
	}
	g.Eventually(func(g Gomega) {
		out, err := exec.Command("bash", "-c", script).Output()
		g.Expect(err).NotTo(HaveOccurred(), "the printed commands: %s", out)
		g.Expect(json.Unmarshal(out, &answer)).To(Succeed(), "answer %q", out)
		g.Expect(answer.Run).To(HavePrefix("hello-"), "answer %q", out)
	}, 3*time.Minute, time.Second).Should(Succeed())
	return answer.Run
}

// checkSamples: `make samples` on the local cluster applies the overlay and
// its hand-made run succeeds, followed with the commands it prints.
func checkSamples(t *testing.T) {
	t.Helper()
	g := NewWithT(t)
	out, err := exec.Command("make", "-C", repoRoot, "samples").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "make samples:\n%s", out)
	var follow []string
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "kubectl -n hookrun-samples ") {
			follow = append(follow, line)
		}
	}
	g.Expect(follow).To(HaveLen(2), "make samples prints how to follow the run:\n%s", out)
	wait, err := exec.Command("bash", "-c", follow[0]).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s:\n%s\n%s", follow[0], wait,
		kubectl(t, "-n", "hookrun-samples", "get", "hookrun", "site-manual-1", "-o", "yaml"))
	logs, err := exec.Command("bash", "-c", follow[1]).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s:\n%s", follow[1], logs)
	g.Expect(string(logs)).To(ContainSubstring("deploying acme/site@0123456789abcdef0123456789abcdef01234567 (pushed by you)"))
}

// checkGiteaDemo: `make gitea` starts Gitea with a demo repository wired to
// the demo template and prints three commands; typing them (clone, an empty
// commit, push) deploys that commit.
func checkGiteaDemo(t *testing.T) {
	t.Helper()
	g := NewWithT(t)
	if exec.Command(filepath.Join(repoRoot, "hack", "gitea", "status")).Run() != nil {
		t.Cleanup(func() { _, _ = exec.Command(filepath.Join(repoRoot, "hack", "gitea", "down")).CombinedOutput() })
	}
	out, err := exec.Command("make", "-C", repoRoot, "gitea").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "make gitea:\n%s", tailOf(string(out), 4000))
	var typed []string
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "git ") {
			typed = append(typed, line)
		}
	}
	g.Expect(typed).To(HaveLen(3), "make gitea prints clone, commit and push:\n%s", out)
	dir := t.TempDir()
	cmd := exec.Command("bash", "-ec", strings.Join(typed, "\n")+"\ngit rev-parse HEAD")
	cmd.Dir = dir
	typedOut, err := cmd.Output()
	g.Expect(err).NotTo(HaveOccurred(), "%s", typedOut)
	lines := strings.Split(strings.TrimSpace(string(typedOut)), "\n")
	sha := lines[len(lines)-1]
	g.Expect(sha).To(MatchRegexp(`^[0-9a-f]{40}$`))

	var runName string
	g.Eventually(func(g Gomega) {
		runs := runsFor(t, "hookrun-demo", "hello-gitea", sha)
		g.Expect(runs).To(HaveLen(1), "the push's run")
		runName = runs[0].Name
	}, 2*time.Minute, 500*time.Millisecond).Should(Succeed())
	run := waitForFinish(t, "hookrun-demo", runName, 2*time.Minute)
	g.Expect(run.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), run.Status.Message)
	g.Expect(kubectl(t, "-n", "hookrun-demo", "logs", "job/"+run.Status.JobName)).To(
		ContainSubstring("deployed " + sha + " (deploy) pushed by hookrun to refs/heads/main"))
}
