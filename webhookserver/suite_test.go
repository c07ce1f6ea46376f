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

package webhookserver

// The envtest suite: one real kube-apiserver + etcd for the package, started
// in TestMain, a manager whose cache serves the webhook server's reads, and
// the server itself started by the manager on a free 127.0.0.1 port.
//
//   KUBEBUILDER_ASSETS=/work/main/bin/k8s/1.37.1 go test ./webhookserver/
//
// Without KUBEBUILDER_ASSETS the envtest tests fail with a message saying
// so; `go test -short` runs only the tests that need no control plane.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// suite is the shared control plane, set up by TestMain.
var suite struct {
	err     error // why the control plane is not there
	cfg     *rest.Config
	scheme  *runtime.Scheme
	client  client.Client // direct, uncached: what the tests check with
	mgr     manager.Manager
	server  *Server
	baseURL string
}

func TestMain(m *testing.M) {
	flag.Parse()
	logf.SetLogger(testLogger())
	if testing.Short() {
		os.Exit(m.Run())
	}
	stop, err := startSuite()
	suite.err = err
	code := m.Run()
	stop()
	os.Exit(code)
}

// testLogger discards logs unless HOOKRUN_TEST_LOG is set.
func testLogger() logr.Logger {
	if os.Getenv("HOOKRUN_TEST_LOG") == "" {
		return logr.Discard()
	}
	return funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: 1})
}

// requireEnvtest skips under -short and fails when the suite could not start.
func requireEnvtest(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the envtest control plane (skipped under -short)")
	}
	if suite.err != nil {
		t.Fatalf("envtest control plane unavailable: %v", suite.err)
	}
}

// controlPlane is one envtest API server with a manager and our server.
type controlPlane struct {
	env     *envtest.Environment
	cfg     *rest.Config
	client  client.Client
	mgr     manager.Manager
	server  *Server
	baseURL string
	cancel  context.CancelFunc
	done    chan error
}

// startControlPlane starts etcd + kube-apiserver with the CRDs, a manager
// whose cache backs the webhook server, and the server (via the manager, on a
// free loopback port). apiStopTimeout (0: envtest's default) bounds how long
// stopping the API server may take before it is killed.
func startControlPlane(scheme *runtime.Scheme, opts Options, apiStopTimeout time.Duration) (*controlPlane, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: point it at the folder holding etcd and kube-apiserver, " +
			"e.g. KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 (make test-control-plane builds them), or run go test -short")
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return nil, fmt.Errorf("KUBEBUILDER_ASSETS=%s has no %s: %w", assets, bin, err)
		}
	}
	cp := &controlPlane{env: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}}
	cp.env.ControlPlaneStopTimeout = apiStopTimeout
	cfg, err := cp.env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	// Like ctrl.GetConfig: no client-side rate limit (the API server's
	// priority and fairness does that job).
	cfg.QPS, cfg.Burst = -1, 0
	cp.cfg = cfg
	fail := func(err error) (*controlPlane, error) {
		_ = cp.env.Stop()
		return nil, err
	}
	if cp.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	cp.mgr, err = manager.New(cfg, manager.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fail(fmt.Errorf("new manager: %w", err))
	}
	if err := SetupIndexes(context.Background(), cp.mgr.GetFieldIndexer()); err != nil {
		return fail(err)
	}
	if opts.BindAddress == "" {
		opts.BindAddress = "127.0.0.1:0"
	}
	cp.server = New(cp.mgr.GetClient(), cp.mgr.GetClient(), scheme, opts)
	if err := cp.mgr.Add(cp.server); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cp.cancel, cp.done = cancel, make(chan error, 1)
	go func() { cp.done <- cp.mgr.Start(ctx) }()

	deadline := time.Now().Add(30 * time.Second)
	for cp.server.Addr() == nil {
		select {
		case err := <-cp.done:
			cancel()
			return fail(fmt.Errorf("manager stopped: %w", err))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return fail(errors.New("webhook server did not listen within 30s"))
		}
	}
	cp.baseURL = "http://" + cp.server.Addr().String()
	return cp, nil
}

// stop ends the manager, then the control plane.
func (cp *controlPlane) stop() error {
	cp.cancel()
	var errs []error
	select {
	case err := <-cp.done:
		errs = append(errs, err)
	case <-time.After(time.Minute):
		errs = append(errs, errors.New("manager did not stop within 1m"))
	}
	errs = append(errs, cp.env.Stop())
	return errors.Join(errs...)
}

func startSuite() (stop func(), err error) {
	scheme := runtime.NewScheme()
	if err := addSchemes(scheme); err != nil {
		return func() {}, err
	}
	cp, err := startControlPlane(scheme, Options{}, 0)
	if err != nil {
		return func() {}, err
	}
	suite.cfg, suite.scheme, suite.client, suite.mgr, suite.server, suite.baseURL =
		cp.cfg, scheme, cp.client, cp.mgr, cp.server, cp.baseURL
	return func() {
		if err := cp.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}, nil
}

// eventually polls check until it returns nil or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", timeout, err)
		}
		<-tick.C
	}
}

// newNamespace creates a fresh namespace for one test.
func newNamespace(t testing.TB, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "hookrun-test-"}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), ns) })
	return ns.Name
}

// createTemplate stores the template and its secret and waits until the
// manager's cache (what the server reads) has both.
func createTemplate(t testing.TB, c client.Client, cached client.Reader, tmpl *v1alpha1.HookTemplate, secret *corev1.Secret) *v1alpha1.HookTemplate {
	t.Helper()
	ctx := context.Background()
	tmpl = tmpl.DeepCopy()
	tmpl.UID = ""
	if secret != nil {
		if err := c.Create(ctx, secret); err != nil {
			t.Fatalf("create secret: %v", err)
		}
	}
	if err := c.Create(ctx, tmpl); err != nil {
		t.Fatalf("create template: %v", err)
	}
	eventually(t, 10*time.Second, func() error {
		var got v1alpha1.HookTemplate
		if err := cached.Get(ctx, client.ObjectKeyFromObject(tmpl), &got); err != nil {
			return err
		}
		if got.ResourceVersion != tmpl.ResourceVersion {
			return fmt.Errorf("cache has template version %s, want %s", got.ResourceVersion, tmpl.ResourceVersion)
		}
		if secret != nil {
			var s corev1.Secret
			if err := cached.Get(ctx, client.ObjectKeyFromObject(secret), &s); err != nil {
				return err
			}
		}
		return nil
	})
	return tmpl
}

// post sends a delivery over real HTTP.
func post(t testing.TB, hc *http.Client, url string, h http.Header, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	return doRequest(t, hc, req)
}

func doRequest(t testing.TB, hc *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

func addSchemes(s *runtime.Scheme) error {
	return errors.Join(clientgoscheme.AddToScheme(s), v1alpha1.AddToScheme(s))
}
