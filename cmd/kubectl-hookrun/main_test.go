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

// The plugin's commands run as a built binary (go build in TestMain)
// against one envtest control plane, as a user "alice" with a kubeconfig
// of her own, and a webhook server (webhookserver, in-process, served from
// a manager's cache) for send and why. envtest has no reconciler: the tests
// write the runs' status themselves, as the HookRun reconciler would.
//
//   KUBEBUILDER_ASSETS=/work/main/bin/k8s/1.37.1 go test ./cmd/kubectl-hookrun/

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

// testUser is who the plugin runs as.
const testUser = "alice"

var suite struct {
	err        error
	binary     string
	kubeconfig string
	client     client.Client // direct, as the test checks
	cached     client.Reader // the manager's cache, what the webhook server reads
	hooksURL   string        // the webhook listener's base URL
}

func TestMain(m *testing.M) {
	flag.Parse()
	logf.SetLogger(zap.New(zap.WriteTo(bytes.NewBuffer(nil))))
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "kubectl-hookrun-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stop, err := startSuite(dir)
	suite.err = err
	code := m.Run()
	stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func startSuite(dir string) (stop func(), err error) {
	stop = func() {}
	suite.binary = filepath.Join(dir, "kubectl-hookrun")
	build := exec.Command("go", "build", "-o", suite.binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		return stop, fmt.Errorf("go build: %v\n%s", err, out)
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return stop, errors.New("KUBEBUILDER_ASSETS is not set: point it at the folder holding etcd and kube-apiserver, " +
			"e.g. KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 (make test-control-plane builds them), or run go test -short")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return stop, fmt.Errorf("start envtest: %w", err)
	}
	stopEnv := func() { _ = env.Stop() }
	user, err := env.AddUser(envtest.User{Name: testUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		stopEnv()
		return stop, fmt.Errorf("add user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		stopEnv()
		return stop, err
	}
	suite.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(suite.kubeconfig, kubeconfig, 0o600); err != nil {
		stopEnv()
		return stop, err
	}
	if suite.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		stopEnv()
		return stop, err
	}
	cancel, err := startWebhookServer(cfg)
	if err != nil {
		stopEnv()
		return stop, err
	}
	return func() { cancel(); stopEnv() }, nil
}

// startWebhookServer runs the webhook server as the manager does: reads
// from the manager's cache, on a free loopback port.
func startWebhookServer(cfg *rest.Config) (context.CancelFunc, error) {
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, err
	}
	// The field index the manager sets up for a HookSource's templates.
	if err := webhookserver.SetupIndexes(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	srv := webhookserver.New(mgr.GetClient(), mgr.GetClient(), scheme, webhookserver.Options{BindAddress: "127.0.0.1:0"})
	if err := mgr.Add(srv); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for srv.Addr() == nil {
		select {
		case err := <-done:
			cancel()
			return nil, fmt.Errorf("manager stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, errors.New("webhook server did not listen within 30s")
		}
	}
	suite.cached = mgr.GetClient()
	suite.hooksURL = "http://" + srv.Addr().String()
	return cancel, nil
}

func requireEnvtest(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the envtest control plane (skipped under -short)")
	}
	if suite.err != nil {
		t.Fatalf("envtest control plane unavailable: %v", suite.err)
	}
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// plugin runs the binary with the test kubeconfig in namespace ns.
func plugin(t *testing.T, ns string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := pluginCommand(ctx, ns, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{code: exitCode(t, err), stdout: stdout.String(), stderr: stderr.String()}
}

func pluginCommand(ctx context.Context, ns string, args ...string) *exec.Cmd {
	full := append([]string{"--kubeconfig", suite.kubeconfig, "-n", ns}, args...)
	cmd := exec.CommandContext(ctx, suite.binary, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent", "HOME="+os.TempDir())
	return cmd
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	t.Fatalf("run plugin: %v", err)
	return -1
}

// eventually polls check until it returns nil or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", timeout, err)
		}
		time.Sleep(25 * time.Millisecond) // poll interval, not synchronisation
	}
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "plugin-test-"}}
	if err := suite.client.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = suite.client.Delete(context.Background(), ns) })
	return ns.Name
}

// newTemplate stores a template of provider with its secret, sets the
// status.webhookPath the template reconciler would, and waits until the
// webhook server's cache has both.
func newTemplate(t *testing.T, ns, name string, provider hooksv1alpha1.Provider, secret string, match hooksv1alpha1.MatchSpec) *hooksv1alpha1.HookTemplate {
	t.Helper()
	ctx := context.Background()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-webhook", Namespace: ns},
		Data:       map[string][]byte{"secret": []byte(secret)},
	}
	if err := suite.client.Create(ctx, s); err != nil {
		t.Fatalf("create secret: %v", err)
	}
	tmpl := &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: provider, SecretRef: hooksv1alpha1.SecretKeyRef{Name: s.Name}},
			Match:  match,
			Run:    hooksv1alpha1.RunSpec{Image: "alpine:3", Shell: "echo deploy"},
		},
	}
	if err := suite.client.Create(ctx, tmpl); err != nil {
		t.Fatalf("create template: %v", err)
	}
	orig := tmpl.DeepCopy()
	tmpl.Status.WebhookPath = webhookserver.PathPrefix + ns + "/" + name
	if err := suite.client.Status().Patch(ctx, tmpl, client.MergeFrom(orig)); err != nil {
		t.Fatalf("set template status: %v", err)
	}
	eventually(t, 10*time.Second, func() error {
		var got hooksv1alpha1.HookTemplate
		if err := suite.cached.Get(ctx, client.ObjectKeyFromObject(tmpl), &got); err != nil {
			return err
		}
		if got.ResourceVersion != tmpl.ResourceVersion {
			return fmt.Errorf("cache has template version %s, want %s", got.ResourceVersion, tmpl.ResourceVersion)
		}
		return suite.cached.Get(ctx, client.ObjectKeyFromObject(s), &corev1.Secret{})
	})
	return tmpl
}

func getRun(t *testing.T, ns, name string) *hooksv1alpha1.HookRun {
	t.Helper()
	run := &hooksv1alpha1.HookRun{}
	if err := suite.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, run); err != nil {
		t.Fatalf("get run %s: %v", name, err)
	}
	return run
}

// setPhase writes a run's status as the reconciler would.
func setPhase(t *testing.T, run *hooksv1alpha1.HookRun, phase hooksv1alpha1.HookRunPhase, reason string) {
	t.Helper()
	orig := run.DeepCopy()
	run.Status.Phase, run.Status.Reason = phase, reason
	if err := suite.client.Status().Patch(context.Background(), run, client.MergeFrom(orig)); err != nil {
		t.Fatalf("set phase of %s: %v", run.Name, err)
	}
}
