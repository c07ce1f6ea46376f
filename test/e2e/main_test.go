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

// Package e2e runs hookrun against a real single-node cluster (the local
// cluster of hack/local-cluster, or any cluster with the hookrun/runner:local
// image) and checks that the template's command really runs in a container.
//
// Run with `make test-e2e`: it builds bin/hookrun, brings the local cluster
// up and sets KUBECONFIG and HOOKRUN_BIN.
package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

var (
	scheme     = runtime.NewScheme()
	k8s        client.Client
	repoRoot   string
	webhookURL string // base URL of the manager started by TestMain
)

func TestMain(m *testing.M) {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hooksv1alpha1.AddToScheme(scheme))
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	kubeconfig := os.Getenv("KUBECONFIG")
	bin := os.Getenv("HOOKRUN_BIN")
	if kubeconfig == "" || bin == "" {
		return 0, fmt.Errorf("KUBECONFIG and HOOKRUN_BIN must be set: run `make test-e2e`")
	}
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	repoRoot = filepath.Join(wd, "..", "..")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return 0, fmt.Errorf("load kubeconfig: %w", err)
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	if out, err := exec.Command("kubectl", "apply", "--server-side", "--force-conflicts", "-f",
		filepath.Join(repoRoot, "config", "crd", "bases")).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("install CRDs: %v: %s", err, out)
	}
	if err := waitForCRDs(60 * time.Second); err != nil {
		return 0, err
	}
	managerBin = bin
	defer stopSharedManager()
	return m.Run(), nil
}

var (
	managerBin string
	shared     *manager
)

// useSharedManager makes sure the manager most tests share is running and
// points webhookURL at it. Tests that run managers of their own (deployed,
// leader-elected) stop it first: two unelected reconcilers must not compete.
func useSharedManager(t *testing.T) {
	t.Helper()
	if shared != nil {
		return
	}
	mgr, err := startManager(managerBin, "shared")
	if err != nil {
		t.Fatal(err)
	}
	shared, webhookURL = mgr, mgr.webhookURL
}

func stopSharedManager() {
	if shared != nil {
		shared.kill()
		shared, webhookURL = nil, ""
	}
}

// waitForCRDs polls until both kinds can be listed (the CRDs are established).
func waitForCRDs(within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		errT := k8s.List(context.Background(), &hooksv1alpha1.HookTemplateList{})
		errR := k8s.List(context.Background(), &hooksv1alpha1.HookRunList{})
		if errT == nil && errR == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRDs not established within %s: %v %v", within, errT, errR)
		}
		time.Sleep(200 * time.Millisecond) // polling the API server, bounded by the deadline
	}
}

// manager is a hookrun process started from the built binary.
type manager struct {
	cmd        *exec.Cmd
	webhookURL string
	healthURL  string
	metricsURL string
	log        string
}

// startManager starts bin/hookrun on free loopback ports and waits until it
// is ready.
func startManager(bin, name string, extraArgs ...string) (*manager, error) {
	webhookPort, healthPort, metricsPort := freePort(), freePort(), freePort()
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("hookrun-%s-%d.log", name, time.Now().UnixNano()))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		fmt.Sprintf("--webhook-bind-address=127.0.0.1:%d", webhookPort),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", healthPort),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort),
	}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	m := &manager{
		cmd:        cmd,
		webhookURL: fmt.Sprintf("http://127.0.0.1:%d", webhookPort),
		healthURL:  fmt.Sprintf("http://127.0.0.1:%d", healthPort),
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d", metricsPort),
		log:        logPath,
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.healthURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		time.Sleep(200 * time.Millisecond) // polling a process for readiness, not synchronising test steps
	}
	m.kill()
	out, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("manager %s not ready within 60s; log:\n%s", name, tailOf(string(out), 3000))
}

func (m *manager) kill() {
	if m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// namespace makes a namespace for one test with a webhook Secret in it.
func namespace(t *testing.T) (ns, secret string) {
	t.Helper()
	return newNamespace(t, true)
}

// newNamespace makes the namespace; withShared also starts the shared manager.
func newNamespace(t *testing.T, withShared bool) (ns, secret string) {
	t.Helper()
	if withShared {
		useSharedManager(t)
	}
	ns = fmt.Sprintf("e2e-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name()[4:], "/", "-")), time.Now().UnixNano()%100000)
	if len(ns) > 60 {
		ns = ns[:60]
	}
	ns = strings.Trim(ns, "-")
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = k8s.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		}
	})
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	secret = hex.EncodeToString(raw)
	if err := k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook", Namespace: ns},
		StringData: map[string]string{"secret": secret},
	}); err != nil {
		t.Fatalf("create secret: %v", err)
	}
	// Pods are refused until the namespace's default ServiceAccount exists.
	NewWithT(t).Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "default"}, &corev1.ServiceAccount{})
	}, 60*time.Second, 200*time.Millisecond).Should(Succeed())
	return ns, secret
}

// localRunner is the run spec every e2e template uses: the locally built
// runner image on the host network (no traffic leaves loopback).
func localRunner(shell string) hooksv1alpha1.RunSpec {
	return hooksv1alpha1.RunSpec{
		Image: "hookrun/runner:local",
		Shell: shell,
		PodTemplate: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			HostNetwork:                  true,
			AutomountServiceAccountToken: ptr.To(false),
			Containers:                   []corev1.Container{{Name: "run", ImagePullPolicy: corev1.PullNever}},
		}},
	}
}

func template(ns, name string, provider hooksv1alpha1.Provider, run hooksv1alpha1.RunSpec) *hooksv1alpha1.HookTemplate {
	return &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: provider, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "webhook"}},
			Run:    run,
		},
	}
}

func createTemplate(t *testing.T, tmpl *hooksv1alpha1.HookTemplate) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(k8s.Create(context.Background(), tmpl)).To(Succeed())
	// The webhook server reads templates from its cache: wait until the
	// template reports Ready, which also proves the Secret is visible.
	g.Eventually(func(g Gomega) {
		got := &hooksv1alpha1.HookTemplate{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
		var ready bool
		for _, c := range got.Status.Conditions {
			ready = ready || (c.Type == hooksv1alpha1.ConditionReady && c.Status == metav1.ConditionTrue)
		}
		g.Expect(ready).To(BeTrue(), "template Ready: %+v", got.Status.Conditions)
	}, 60*time.Second, 200*time.Millisecond).Should(Succeed())
}

// deliveryResponse is the webhook server's answer.
type deliveryResponse struct {
	Status int
	Run    string `json:"run"`
	Error  string `json:"error"`
}

// send POSTs a signed delivery (X-Hub-Signature-256, as GitHub and the
// generic provider sign) to the given manager.
func send(t *testing.T, baseURL, ns, template, secret string, headers map[string]string, body []byte) deliveryResponse {
	t.Helper()
	req, err := signedRequest(baseURL, ns, template, secret, headers, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST delivery: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out, err := decodeAnswer(resp.StatusCode, raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func signedRequest(baseURL, ns, template, secret string, headers map[string]string, body []byte) (*http.Request, error) {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/hooks/%s/%s", baseURL, ns, template), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

func decodeAnswer(status int, raw []byte) (deliveryResponse, error) {
	out := deliveryResponse{Status: status}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return out, fmt.Errorf("answer %d is not JSON: %q", status, raw)
		}
	}
	return out, nil
}

// waitForFinish waits until the run reaches a final phase.
func waitForFinish(t *testing.T, ns, name string, within time.Duration) *hooksv1alpha1.HookRun {
	t.Helper()
	run := &hooksv1alpha1.HookRun{}
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, run)).To(Succeed())
		g.Expect(run.Status.Phase.IsFinished()).To(BeTrue(), "phase %s", run.Status.Phase)
	}, within, 250*time.Millisecond).Should(Succeed())
	return run
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("kubectl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
