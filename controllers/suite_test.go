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

package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// The envtest suite runs the real manager against a real kube-apiserver and
// etcd. envtest has no job controller, pods or garbage collector: tests move
// Jobs through their states the way the job controller would.

var (
	testEnv    *envtest.Environment
	testCfg    *rest.Config
	testScheme = runtime.NewScheme()
	k8sClient  client.Client
	nsCounter  atomic.Int64
)

const (
	timeout = 30 * time.Second
	poll    = 50 * time.Millisecond
)

func TestMain(m *testing.M) {
	utilruntime.Must(clientgoscheme.AddToScheme(testScheme))
	utilruntime.Must(hooksv1alpha1.AddToScheme(testScheme))
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))

	if !envtestWanted() {
		os.Exit(m.Run())
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make test` (it builds etcd and kube-apiserver into bin/k8s) or `go test -short` for unit tests only")
		os.Exit(1)
	}
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	if testCfg, err = testEnv.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		_ = testEnv.Stop() // a half-started control plane must not outlive the test
		os.Exit(1)
	}
	if k8sClient, err = client.New(testCfg, client.Options{Scheme: testScheme}); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		_ = testEnv.Stop()
		os.Exit(1)
	}
	code := m.Run()
	if err := testEnv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
	}
	os.Exit(code)
}

// envtestWanted is false under `go test -short`: unit tests only.
func envtestWanted() bool {
	for _, arg := range os.Args[1:] {
		if arg == "-test.short=true" || arg == "-test.short" {
			return false
		}
	}
	return true
}

// zapLevel keeps test output to errors unless HOOKRUN_TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("HOOKRUN_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// needEnvtest skips a test under -short; without -short the suite has
// started (or failed on) the control plane before any test runs.
func needEnvtest(t *testing.T) {
	t.Helper()
	if testEnv == nil {
		t.Skip("envtest test: runs without -short")
	}
}

// newNamespace makes a namespace of the test's own.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e6, nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return name
}

// testManager is one running manager, watching only its test's namespace
// so that tests can run side by side.
type testManager struct {
	cancel context.CancelFunc
	done   chan error
}

func startManager(t *testing.T, namespace string, setup func(mgr ctrl.Manager) error) *testManager {
	t.Helper()
	return startManagerWithConfig(t, testCfg, namespace, setup)
}

// startManagerWithConfig is startManager with a client config of the
// test's own (one that counts requests, say).
func startManagerWithConfig(t *testing.T, cfg *rest.Config, namespace string, setup func(mgr ctrl.Manager) error) *testManager {
	t.Helper()
	opts := CacheOptions()
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testScheme,
		Cache:                  opts,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	if err := SetupIndexes(mgr); err != nil {
		t.Fatalf("indexes: %v", err)
	}
	if err := setup(mgr); err != nil {
		t.Fatalf("setup: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tm := &testManager{cancel: cancel, done: make(chan error, 1)}
	go func() { tm.done <- mgr.Start(ctx) }()
	t.Cleanup(tm.stop)
	return tm
}

func (tm *testManager) stop() {
	if tm.cancel == nil {
		return
	}
	tm.cancel()
	<-tm.done
	tm.cancel = nil
}

// setupRunReconciler wires the HookRun reconciler as main.go does.
func setupRunReconciler(mgr ctrl.Manager) error {
	return (&HookRunReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("hookrun"),
		MaxConcurrentReconciles: 4,
	}).SetupWithManager(mgr)
}

// setupAll wires both reconcilers as main.go does; the template reconciler
// judges readiness with the webhook server's own checks.
func setupAll(mgr ctrl.Manager) error {
	if err := setupRunReconciler(mgr); err != nil {
		return err
	}
	return (&HookTemplateReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("hookrun"),
	}).SetupWithManager(mgr)
}

func newTemplate(ns, name string) *hooksv1alpha1.HookTemplate {
	return &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: name + "-webhook"}},
			Match:  hooksv1alpha1.MatchSpec{Events: []string{"push"}},
			Run: hooksv1alpha1.RunSpec{
				Image:          "hookrun/runner:local",
				Shell:          "echo deploying $HOOK_SHA",
				Retries:        ptr.To[int32](1),
				TimeoutSeconds: ptr.To[int64](300),
			},
		},
	}
}

func newRun(ns, template, name string) *hooksv1alpha1.HookRun {
	return &hooksv1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: hooksv1alpha1.HookRunSpec{
			TemplateRef: hooksv1alpha1.TemplateRef{Name: template},
			Delivery: hooksv1alpha1.Delivery{
				ID: "delivery-" + name, Provider: hooksv1alpha1.ProviderGitHub, Event: "push",
				Repository: "acme/site", Ref: "refs/heads/main", SHA: "0123456789abcdef0123456789abcdef01234567",
			},
		},
	}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// getRun returns a fresh copy of the run (test helper for Eventually).
func getRun(g Gomega, ns, name string) *hooksv1alpha1.HookRun {
	run := &hooksv1alpha1.HookRun{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, run)).To(Succeed())
	return run
}

func waitForJob(t *testing.T, ns, name string) *batchv1.Job {
	t.Helper()
	g := NewWithT(t)
	job := &batchv1.Job{}
	g.Eventually(func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, job)
	}, timeout, poll).Should(Succeed())
	return job
}

func waitForPhase(t *testing.T, ns, name string, phase hooksv1alpha1.HookRunPhase) *hooksv1alpha1.HookRun {
	t.Helper()
	g := NewWithT(t)
	var run *hooksv1alpha1.HookRun
	g.Eventually(func(g Gomega) {
		run = getRun(g, ns, name)
		g.Expect(run.Status.Phase).To(Equal(phase), "reason=%s message=%s", run.Status.Reason, run.Status.Message)
	}, timeout, poll).Should(Succeed())
	return run
}

// updateJobStatus changes a Job's status as the job controller would,
// retrying on conflicts with the reconciler's own writes.
func updateJobStatus(t *testing.T, ns, name string, mutate func(*batchv1.JobStatus)) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func() error {
		job := &batchv1.Job{}
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, job); err != nil {
			return err
		}
		mutate(&job.Status)
		return k8sClient.Status().Update(context.Background(), job)
	}, timeout, poll).Should(Succeed())
}

// jobStarted and jobCompleted write what the job controller writes; the
// benchmarks' stand-in job controller (benchutil) is the one definition.
func jobStarted(s *batchv1.JobStatus) { benchutil.SetJobStarted(s, metav1.Now()) }

func jobRetried(s *batchv1.JobStatus) {
	s.Active, s.Failed = 1, 1
}

func jobCompleted(s *batchv1.JobStatus) { benchutil.SetJobCompleted(s, metav1.Now()) }

func jobFailed(reason, message string) func(*batchv1.JobStatus) {
	return func(s *batchv1.JobStatus) {
		now := metav1.Now()
		s.Active = 0
		s.Failed++
		s.Conditions = append(s.Conditions,
			batchv1.JobCondition{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: now, LastProbeTime: now},
			batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: now, LastProbeTime: now},
		)
	}
}

// createTerminatedPod stands in for a pod of the run's Job whose run
// container has exited, as the kubelet would report it.
func createTerminatedPod(t *testing.T, ns, runName, podName string, finishedAt time.Time, exitCode int32, output string) {
	t.Helper()
	createTerminatedPodLabelled(t, ns, map[string]string{hooksv1alpha1.LabelRun: runName}, podName, finishedAt, exitCode, output)
}

// createTerminatedPodLabelled is createTerminatedPod with the pod's labels
// given whole (a node Job's pod also carries its Job's name).
func createTerminatedPodLabelled(t *testing.T, ns string, labels map[string]string, podName string, finishedAt time.Time, exitCode int32, output string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			AutomountServiceAccountToken: ptr.To(false),
			Containers:                   []corev1.Container{{Name: hooksv1alpha1.RunContainerName, Image: "hookrun/runner:local"}},
		},
	}
	create(t, pod)
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodFailed,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: hooksv1alpha1.RunContainerName, Image: "hookrun/runner:local",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: exitCode, Reason: "Error", Message: output, FinishedAt: metav1.NewTime(finishedAt),
			}},
		}},
	}
	if err := k8sClient.Status().Update(context.Background(), pod); err != nil {
		t.Fatalf("update pod status: %v", err)
	}
}

// eventReasons lists the reasons of the Events recorded on an object.
func eventReasons(g Gomega, ns, name string) []string {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
