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
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// TestDeployedWithKustomize installs hookrun the way a user does
// (kubectl apply -k, here the config/local overlay of config/default with
// the image built by `make image`) and sends a delivery through it.
func TestDeployedWithKustomize(t *testing.T) {
	g := NewWithT(t)
	stopSharedManager()
	if out, err := exec.Command("make", "-C", repoRoot, "image-load").CombinedOutput(); err != nil {
		t.Fatalf("make image-load: %v\n%s", err, tailOf(string(out), 2000))
	}
	kubectl(t, "apply", "--server-side", "--force-conflicts", "-k", filepath.Join(repoRoot, "config", "local"))
	t.Cleanup(func() {
		// The CRDs stay: other tests use them.
		_, _ = exec.Command("kubectl", "delete", "namespace", "hookrun-system", "--wait=true", "--timeout=60s").CombinedOutput()
	})
	kubectl(t, "-n", "hookrun-system", "rollout", "status", "deployment/hookrun-controller-manager", "--timeout=120s")

	ns, secret := newNamespace(t, false)
	createTemplate(t, template(ns, "deployed", hooksv1alpha1.ProviderGeneric, localRunner(`echo "deployed $HOOK_SHA"`)))
	answer := send(t, "http://127.0.0.1:18080", ns, "deployed", secret, map[string]string{"X-Hook-Delivery": "via-deployment"},
		[]byte(`{"ref":"refs/heads/main","repository":"acme/site","sha":"abc123"}`))
	g.Expect(answer.Status).To(Equal(http.StatusAccepted), "answer %+v", answer)
	run := waitForFinish(t, ns, answer.Run, 2*time.Minute)
	g.Expect(run.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), run.Status.Message)
	g.Expect(kubectl(t, "-n", ns, "logs", "job/"+run.Status.JobName)).To(ContainSubstring("deployed abc123"))

	// The manager's own pod runs as the restricted profile asks.
	pods := &corev1.PodList{}
	g.Expect(k8s.List(context.Background(), pods, client.InNamespace("hookrun-system"))).To(Succeed())
	g.Expect(pods.Items).NotTo(BeEmpty())
	sc := pods.Items[0].Spec.Containers[0].SecurityContext
	g.Expect(*sc.RunAsNonRoot && !*sc.AllowPrivilegeEscalation && *sc.ReadOnlyRootFilesystem).To(BeTrue())
	g.Expect(sc.Capabilities.Drop).To(ContainElement(corev1.Capability("ALL")))
}

// delivery is one webhook delivery of the fault test and what became of it.
type delivery struct {
	id      string
	lane    int
	status  int // 0: no answer (connection refused, manager dead)
	run     string
	retried bool
}

// TestFaultsLoseNothing sends a stream of signed deliveries to two
// leader-elected managers while the leader is killed, the other one is
// killed and restarted, and kube-apiserver restarts. Every delivery ends as
// exactly one HookRun with at most one Job, no run is stuck, and no Queue
// group ever ran two pods at once.
func TestFaultsLoseNothing(t *testing.T) {
	g := NewWithT(t)
	stopSharedManager()
	ns, secret := newNamespace(t, false)
	tmpl := template(ns, "stream", hooksv1alpha1.ProviderGeneric, localRunner(`echo "lane $LANE delivery $HOOK_DELIVERY"`))
	tmpl.Spec.Params = []hooksv1alpha1.ParamSpec{{Name: "LANE", Path: "{.lane}"}}
	tmpl.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyQueue, Group: "$(LANE)"}
	tmpl.Spec.History = hooksv1alpha1.HistorySpec{Succeeded: ptr.To[int32](1000), Failed: ptr.To[int32](1000)}
	tmpl.Spec.Run.PodTemplate.Spec.TerminationGracePeriodSeconds = ptr.To[int64](1)

	elect := []string{"--leader-elect", "--leader-election-namespace=" + ns}
	managers := [2]*manager{}
	for i := range managers {
		m, err := startManager(managerBin, fmt.Sprintf("fault-%d", i), elect...)
		if err != nil {
			t.Fatal(err)
		}
		managers[i] = m
	}
	t.Cleanup(func() {
		for _, m := range managers {
			if m != nil {
				m.kill()
			}
		}
	})
	createTemplate(t, tmpl)

	const total, lanes = 36, 3
	var deliveries []*delivery
	sendOne := func(d *delivery, m *manager) {
		d.status, d.run = 0, ""
		if m == nil {
			return
		}
		body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","repository":"acme/site","sha":"%040d","lane":"%d"}`, len(deliveries), d.lane))
		answer, err := trySend(m.webhookURL, ns, "stream", secret, map[string]string{"X-Hook-Delivery": d.id}, body)
		if err == nil {
			d.status, d.run = answer.Status, answer.Run
		}
	}
	counts := map[string]int{}
	for i := 0; i < total; i++ {
		switch i {
		case 6: // (a) kill -9 the leader
			leader := waitForLeader(t, managers[:])
			t.Logf("delivery %d: kill -9 leader %s", i, managers[leader].log)
			managers[leader].kill()
			managers[leader] = nil
			counts["leader killed"]++
		case 14: // restart it, so that two run again
			for j, m := range managers {
				if m == nil {
					nm, err := startManager(managerBin, fmt.Sprintf("fault-%d-again", j), elect...)
					if err != nil {
						t.Fatal(err)
					}
					managers[j] = nm
				}
			}
		case 18: // (b) kill -9 the other one (not the leader), then restart it
			leader := waitForLeader(t, managers[:])
			other := 1 - leader
			t.Logf("delivery %d: kill -9 non-leader %s", i, managers[other].log)
			managers[other].kill()
			managers[other] = nil
			counts["non-leader killed"]++
		case 22:
			for j, m := range managers {
				if m == nil {
					nm, err := startManager(managerBin, fmt.Sprintf("fault-%d-restarted", j), elect...)
					if err != nil {
						t.Fatal(err)
					}
					managers[j] = nm
				}
			}
		case 26: // (c) restart kube-apiserver for a few seconds
			t.Logf("delivery %d: restarting kube-apiserver", i)
			restartAPIServer(t, 3*time.Second, func() {
				// Deliveries during the outage must be refused, never 2xx.
				for k := 0; k < 2; k++ {
					d := &delivery{id: fmt.Sprintf("fault-outage-%d", k), lane: k % lanes}
					deliveries = append(deliveries, d)
					sendOne(d, managers[k%2])
					if d.status >= 200 && d.status < 300 {
						t.Errorf("delivery during the API server outage answered %d", d.status)
					}
				}
			})
			counts["apiserver restarted"]++
		}
		d := &delivery{id: fmt.Sprintf("fault-%03d", i), lane: i % lanes}
		deliveries = append(deliveries, d)
		sendOne(d, managers[i%2])
	}

	// The sender redelivers what was not answered 2xx.
	for _, d := range deliveries {
		if d.status >= 200 && d.status < 300 {
			counts[strconv.Itoa(d.status)]++
			continue
		}
		counts[fmt.Sprintf("first answer %d", d.status)]++
		d.retried = true
		g.Eventually(func() int {
			for _, m := range managers {
				if m != nil {
					sendOne(d, m)
					break
				}
			}
			return d.status
		}, 60*time.Second, 500*time.Millisecond).Should(BeElementOf(http.StatusAccepted, http.StatusOK), "redelivery of %s", d.id)
	}

	// Every delivery: exactly one HookRun, at most one Job, nothing stuck.
	runNames := map[string]bool{}
	for _, d := range deliveries {
		g.Expect(d.run).NotTo(BeEmpty(), "delivery %s has a run", d.id)
		g.Expect(runNames[d.run]).To(BeFalse(), "two deliveries map to run %s", d.run)
		runNames[d.run] = true
	}
	g.Eventually(func(g Gomega) {
		runs := &hooksv1alpha1.HookRunList{}
		g.Expect(k8s.List(context.Background(), runs, client.InNamespace(ns))).To(Succeed())
		g.Expect(runs.Items).To(HaveLen(len(deliveries)), "exactly one HookRun per delivery")
		for _, r := range runs.Items {
			g.Expect(runNames[r.Name]).To(BeTrue(), "run %s belongs to no delivery", r.Name)
			g.Expect(r.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), "run %s: %s %s", r.Name, r.Status.Reason, r.Status.Message)
		}
	}, 5*time.Minute, time.Second).Should(Succeed())

	jobs := &batchv1.JobList{}
	g.Expect(k8s.List(context.Background(), jobs, client.InNamespace(ns))).To(Succeed())
	perRun := map[string]int{}
	for _, j := range jobs.Items {
		perRun[j.Labels[hooksv1alpha1.LabelRun]]++
	}
	for run, n := range perRun {
		g.Expect(n).To(BeNumerically("<=", 1), "run %s has %d Jobs", run, n)
	}
	g.Expect(jobs.Items).To(HaveLen(len(deliveries)))
	assertNoOverlapPerLane(t, ns)

	t.Logf("fault test: %d deliveries, %d HookRuns, %d Jobs; %v", len(deliveries), len(runNames), len(jobs.Items), counts)
	fmt.Printf("fault test counts: deliveries=%d runs=%d jobs=%d %v\n", len(deliveries), len(runNames), len(jobs.Items), counts)
}

// assertNoOverlapPerLane checks on the real pods that no two runs of one
// Queue group (lane) ever ran at the same time.
func assertNoOverlapPerLane(t *testing.T, ns string) {
	t.Helper()
	g := NewWithT(t)
	runs := &hooksv1alpha1.HookRunList{}
	g.Expect(k8s.List(context.Background(), runs, client.InNamespace(ns))).To(Succeed())
	laneOf := map[string]string{}
	for _, r := range runs.Items {
		laneOf[r.Name] = r.Spec.Params["LANE"]
	}
	pods := &corev1.PodList{}
	g.Expect(k8s.List(context.Background(), pods, client.InNamespace(ns))).To(Succeed())
	type span struct {
		run        string
		start, end metav1.Time
	}
	byLane := map[string][]span{}
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == hooksv1alpha1.RunContainerName && cs.State.Terminated != nil {
				run := p.Labels[hooksv1alpha1.LabelRun]
				byLane[laneOf[run]] = append(byLane[laneOf[run]], span{run, cs.State.Terminated.StartedAt, cs.State.Terminated.FinishedAt})
			}
		}
	}
	for lane, spans := range byLane {
		sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(&spans[j].start) })
		for i := 1; i < len(spans); i++ {
			g.Expect(spans[i].start.Before(&spans[i-1].end)).To(BeFalse(),
				"lane %s: %s started at %s before %s finished at %s", lane, spans[i].run, spans[i].start, spans[i-1].run, spans[i-1].end)
		}
	}
}

// trySend is send without failing the test on a refused connection.
func trySend(baseURL, ns, template, secret string, headers map[string]string, body []byte) (deliveryResponse, error) {
	req, err := signedRequest(baseURL, ns, template, secret, headers, body)
	if err != nil {
		return deliveryResponse{}, err
	}
	httpClient := &http.Client{Timeout: 15 * time.Second}
	resp, err := httpClient.Do(req)
	if err != nil {
		return deliveryResponse{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return decodeAnswer(resp.StatusCode, raw)
}

// waitForLeader returns the index of the manager that holds the lease,
// read from controller-runtime's leader_election_master_status metric.
func waitForLeader(t *testing.T, managers []*manager) int {
	t.Helper()
	leader := -1
	NewWithT(t).Eventually(func() int {
		for i, m := range managers {
			if m != nil && m.isLeader() {
				leader = i
				return i
			}
		}
		return -1
	}, 60*time.Second, 200*time.Millisecond).Should(BeNumerically(">=", 0), "a leader is elected")
	return leader
}

func (m *manager) isLeader() bool {
	resp, err := http.Get(m.metricsURL + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "leader_election_master_status") && strings.HasSuffix(line, " 1") {
			return true
		}
	}
	return false
}

// restartAPIServer stops the local cluster's kube-apiserver, runs during()
// while it is down for about downFor, then starts it again with the same
// command line and waits until it is ready.
func restartAPIServer(t *testing.T, downFor time.Duration, during func()) {
	t.Helper()
	pidFile := filepath.Join(repoRoot, ".cluster", "pids", "kube-apiserver.pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("read %s (is the local cluster up?): %v", pidFile, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("read apiserver command line: %v", err)
	}
	argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	_ = syscall.Kill(pid, syscall.SIGKILL)
	NewWithT(t).Eventually(func() bool {
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}, 30*time.Second, 50*time.Millisecond).Should(BeTrue())
	stopped := time.Now()
	during()
	if rest := downFor - time.Since(stopped); rest > 0 {
		time.Sleep(rest) // the outage itself: the API server stays down this long
	}
	logFile, err := os.OpenFile(filepath.Join(repoRoot, ".cluster", "logs", "kube-apiserver.log"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart kube-apiserver: %v", err)
	}
	// hack/local-cluster/down stops the processes it finds in the pid files.
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }() // reap it when the cluster goes down
	NewWithT(t).Eventually(func() error {
		_, err := exec.Command("kubectl", "get", "--raw", "/readyz").CombinedOutput()
		return err
	}, 90*time.Second, 250*time.Millisecond).Should(Succeed(), "kube-apiserver ready again")
}
