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

// Package ingestion measures webhook ingestion as users run it (issue 11,
// section 4): the shipped hookrun binary, built with `go build`, runs as a
// process of its own with its default flags against envtest, and this
// process sends it signed GitHub pushes over HTTP, interleaved with raw
// HookRun creates on the same API server as the baseline.
//
//	KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 HOOKRUN_BENCH_OUT=$PWD/bin/bench \
//	  go test ./test/bench/ingestion -run '^$' -bench . -benchtime=1x -timeout 30m
//
// Settings: HOOKRUN_BENCH_REPS (repetitions, default 3),
// HOOKRUN_BENCH_BINARY_CONCURRENCY (default 8,32,128),
// HOOKRUN_BENCH_INGEST_OPS (operations per block, at least; default 1024, and
// 8 per worker: longer than any client-side burst), HOOKRUN_BENCH_BINARY_ARGS (extra flags for the binary,
// space-separated, e.g. "--webhook-kube-api-qps=200 --webhook-kube-api-burst=400"
// for the limit the webhook client inherited before it had flags of its own),
// HOOKRUN_BENCH_BINARY_PROFILE (a file: after the measurement, a CPU profile
// of the binary under the same load at concurrency 32, taken through
// --pprof-bind-address, for `go tool pprof -top`), HOOKRUN_BENCH_BINARY_LOG
// (a file for the binary's log; default: the benchmark's temporary folder),
// HOOKRUN_BENCH_BINARY (a hookrun binary built elsewhere instead of this work
// tree's; its command name must be "hookrun"), HOOKRUN_BENCH_BINARY_BEFORE (a
// binary built from an older commit: it runs beside the other as a second
// non-leader replica with its default flags, and both are measured in the
// same run, each against raw creates, for a same-run before/after table).
//
// The binary is not the leader, as every replica but one is in a
// deployment: it runs with --leader-elect, as config/manager deploys it, and
// the benchmark holds the Lease as "another replica", so the binary's
// reconcilers never start (checked at the end: no Job, no reconcile, the
// Lease still held by the other replica) while its webhook server answers.
package ingestion

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hooksv1alpha1.AddToScheme(scheme))
}

const (
	ns = "bench"
	// leaseNS and leaseID are where the binary looks for the leader
	// election Lease (main.go's LeaderElectionID).
	leaseNS      = "hookrun-system"
	leaseID      = "hookrun.hooks.hookrun.dev"
	otherReplica = "other-replica"
	// procKey is the binary's name in the CPU meter (its command name).
	procKey = "hookrun"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// repoRoot is the hookrun module's folder (this package is test/bench/ingestion).
func repoRoot(b *testing.B) string {
	b.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	return root
}

// setUp creates the template, its Secret and the Lease the other replica
// holds.
func setUp(ctx context.Context, c client.Client) error {
	now := metav1.NewMicroTime(time.Now())
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNS}},
		&coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: leaseID, Namespace: leaseNS},
			// An hour: the binary must see it as held for the whole run
			// without the benchmark renewing it.
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(otherReplica), LeaseDurationSeconds: ptr.To[int32](3600),
				AcquireTime: &now, RenewTime: &now,
			},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "webhook", Namespace: ns},
			Data:       map[string][]byte{hooksv1alpha1.DefaultSecretKey: secret},
		},
		&hooksv1alpha1.HookTemplate{
			ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: ns},
			Spec: hooksv1alpha1.HookTemplateSpec{
				Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "webhook"}},
				Match:  hooksv1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"acme/*"}, Refs: []string{"refs/heads/main"}},
				Params: []hooksv1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name}"}},
				Run: hooksv1alpha1.RunSpec{
					Image: "hookrun/runner:local",
					Shell: "git clone --depth 1 --branch \"$HOOK_BRANCH\" \"$HOOK_CLONE_URL\" /src && /src/deploy.sh",
				},
			},
		},
	} {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// sender is the load generator: a git host sending signed GitHub pushes
// over keep-alive connections, one per concurrent delivery. It records
// every delivery id it sent and whether the answer was 202.
type sender struct {
	url    string
	body   []byte
	header http.Header
	hc     *http.Client

	mu   sync.Mutex
	sent map[string]bool // delivery id → answered 202
}

func newSender(url string, body []byte) *sender {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	// The body is the same for every delivery, so is its signature: the
	// load generator shares the CPUs with the binary and should cost little.
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-GitHub-Event", "push")
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	return &sender{
		url: url, body: body, header: h, sent: map[string]bool{},
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute, DisableCompression: true,
		}},
	}
}

// deliver sends one delivery and returns the run the answer names.
func (s *sender) deliver(id string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(s.body))
	if err != nil {
		return "", err
	}
	req.Header = s.header.Clone()
	req.Header.Set("X-GitHub-Delivery", id)
	s.mu.Lock()
	s.sent[id] = false
	s.mu.Unlock()
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("delivery %s: %d %s", id, resp.StatusCode, bytes.TrimSpace(answer))
	}
	s.mu.Lock()
	s.sent[id] = true
	s.mu.Unlock()
	var run struct {
		Run string `json:"run"`
	}
	if err := json.Unmarshal(answer, &run); err != nil {
		return "", fmt.Errorf("delivery %s: answer %q: %w", id, answer, err)
	}
	return run.Run, nil
}

// lost compares what was sent with the HookRuns stored: deliveries without
// a HookRun (answered with an error, or lost after a 202), and those
// answered 202 without one (a broken guarantee).
func (s *sender) lost(ctx context.Context, c client.Client) (sent, lost, lostAccepted int, err error) {
	stored := map[string]bool{}
	list := &hooksv1alpha1.HookRunList{}
	for cont := ""; ; {
		if err := c.List(ctx, list, client.InNamespace(ns), client.Limit(2000), client.Continue(cont)); err != nil {
			return 0, 0, 0, err
		}
		for i := range list.Items {
			stored[list.Items[i].Spec.Delivery.ID] = true
		}
		if cont = list.Continue; cont == "" {
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, accepted := range s.sent {
		if !stored[id] {
			lost++
			if accepted {
				lostAccepted++
			}
		}
	}
	return len(s.sent), lost, lostAccepted, nil
}

// waitReady polls the binary's /readyz until it answers 200 and its
// webhook listener accepts connections (the readiness checks do not cover
// the listener, which starts beside them).
func waitReady(p *benchutil.Process, url, webhookAddr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-p.Exited:
			return fmt.Errorf("hookrun exited: %v", err)
		case <-tick.C:
		}
		if resp, err := http.Get(url); err == nil {
			_ = resp.Body.Close()
			if conn, err := net.Dial("tcp", webhookAddr); resp.StatusCode == http.StatusOK && err == nil {
				_ = conn.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", url, timeout)
		}
	}
}

// checkNotLeader fails unless the binary stayed a non-leader replica: the
// Lease is still the other replica's, no Job exists and the binary's
// reconcilers never ran.
func checkNotLeader(ctx context.Context, c client.Client, metricsURL string) error {
	lease := &coordinationv1.Lease{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: leaseNS, Name: leaseID}, lease); err != nil {
		return err
	}
	if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h != otherReplica {
		return fmt.Errorf("the Lease is held by %q: the binary became the leader", h)
	}
	jobs := &batchv1.JobList{}
	if err := c.List(ctx, jobs, client.InNamespace(ns), client.Limit(1)); err != nil {
		return err
	}
	if len(jobs.Items) > 0 {
		return fmt.Errorf("Job %s exists: the binary's reconcilers ran", jobs.Items[0].Name)
	}
	metrics, err := benchutil.Scrape(metricsURL)
	if err != nil {
		return err
	}
	if n := benchutil.SumMetric(metrics, "controller_runtime_reconcile_total"); n > 0 {
		return fmt.Errorf("%v reconciles: the binary's reconcilers ran", n)
	}
	return nil
}

// profile takes a CPU profile of the binary while c workers keep sending
// deliveries, and writes it to path.
func profile(snd *sender, pprofAddr, path string, c int, seconds int) error {
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sent atomic.Int64
	for w := range c {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				_, _ = snd.deliver(fmt.Sprintf("profile-%d-%d", w, i))
				sent.Add(1)
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, seconds))
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Printf("CPU profile of hookrun over %d s, %d deliveries at concurrency %d: %s (go tool pprof -top %s)\n", seconds, sent.Load(), c, path, path)
	return os.WriteFile(path, data, 0o644)
}

// binary is one hookrun process under test, a non-leader replica.
type binary struct {
	// name labels it in the report; key is its command name, its key in
	// the CPU meter.
	name, key  string
	proc       *benchutil.Process
	snd        *sender
	metricsURL string
	pprofAddr  string
}

// startBinary starts bin with its default flags but for where to listen
// (free loopback ports on a shared machine) and leader election as
// config/manager deploys it, and waits until it takes deliveries.
func startBinary(name, bin, kubeconfig, logPath string, body []byte, profiling bool, extraArgs []string) (*binary, error) {
	ports := make([]int, 4)
	for i := range ports {
		var err error
		if ports[i], err = benchutil.FreePort(); err != nil {
			return nil, err
		}
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect", "--leader-election-namespace=" + leaseNS,
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", ports[0]),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", ports[1]),
		fmt.Sprintf("--webhook-bind-address=127.0.0.1:%d", ports[2]),
	}
	v := &binary{
		name: name, key: filepath.Base(bin),
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0]),
		pprofAddr:  fmt.Sprintf("127.0.0.1:%d", ports[3]),
		snd:        newSender(fmt.Sprintf("http://127.0.0.1:%d/hooks/%s/site", ports[2], ns), body),
	}
	if len(v.key) > 15 {
		v.key = v.key[:15] // the kernel's command name
	}
	if profiling {
		args = append(args, "--pprof-bind-address="+v.pprofAddr)
	}
	proc, err := benchutil.StartProcess(bin, append(args, extraArgs...), logPath)
	if err != nil {
		return nil, err
	}
	v.proc = proc
	if err := waitReady(proc, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1]), fmt.Sprintf("127.0.0.1:%d", ports[2]), time.Minute); err != nil {
		proc.Stop()
		return nil, err
	}
	return v, nil
}

func (v *binary) deliver(id string) error { _, err := v.snd.deliver(id); return err }

func (v *binary) stop() {
	v.proc.Stop()
	v.snd.hc.CloseIdleConnections()
}

// copyFile copies an executable.
func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

func BenchmarkIngestionBinary(b *testing.B) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Skip("KUBEBUILDER_ASSETS is not set (bin/k8s/1.37.1)")
	}
	ctx := context.Background()
	levels := benchutil.EnvInts("HOOKRUN_BENCH_BINARY_CONCURRENCY", []int{8, 32, 128})
	reps := max(1, benchutil.EnvInt("HOOKRUN_BENCH_REPS", 3))
	// Blocks longer than a client-side burst: with blocks of 256 deliveries
	// the webhook client's former limit (200/s, burst 400, refilled while the
	// baseline's blocks ran) did not show; with 2048 it halved the ratio.
	minOps := benchutil.EnvInt("HOOKRUN_BENCH_INGEST_OPS", 1024)
	blockOps := func(c int) int { return max(minOps, 8*c) }
	extraArgs := strings.Fields(os.Getenv("HOOKRUN_BENCH_BINARY_ARGS"))
	profilePath := os.Getenv("HOOKRUN_BENCH_BINARY_PROFILE")
	beforeBin := os.Getenv("HOOKRUN_BENCH_BINARY_BEFORE")
	root := repoRoot(b)
	load := benchutil.ThisMachine().LoadAvg

	for range b.N {
		dir := b.TempDir()
		bin := os.Getenv("HOOKRUN_BENCH_BINARY")
		if bin == "" {
			bin = filepath.Join(dir, "hookrun")
			if err := benchutil.BuildManager(root, bin, nil); err != nil {
				b.Fatal(err)
			}
		}
		env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
		cfg, err := env.Start()
		if err != nil {
			b.Fatalf("start envtest: %v", err)
		}
		defer func() { _ = env.Stop() }()
		kubeconfig := filepath.Join(dir, "kubeconfig")
		if err := benchutil.WriteKubeconfig(cfg, kubeconfig); err != nil {
			b.Fatal(err)
		}
		// The baseline's client: one controller-runtime client without a
		// client-side limit, as the webhook server's default.
		c, err := client.New(benchutil.Unthrottled(cfg), client.Options{Scheme: scheme})
		if err != nil {
			b.Fatal(err)
		}
		if err := setUp(ctx, c); err != nil {
			b.Fatal(err)
		}
		body, err := os.ReadFile(filepath.Join(root, "webhookserver", "testdata", "github", "push.json"))
		if err != nil {
			b.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, body); err != nil {
			b.Fatal(err)
		}
		body = compact.Bytes()

		logPath := benchutil.EnvString("HOOKRUN_BENCH_BINARY_LOG", filepath.Join(dir, "hookrun.log"))
		after, err := startBinary("this tree", bin, kubeconfig, logPath, body, profilePath != "", extraArgs)
		if err != nil {
			b.Fatal(err)
		}
		defer after.stop()
		variants := []*binary{after}
		if beforeBin != "" {
			// Its own command name, so that the CPU meter tells the two apart.
			copied := filepath.Join(dir, "hookrun-before")
			if err := copyFile(beforeBin, copied); err != nil {
				b.Fatal(err)
			}
			before, err := startBinary("before", copied, kubeconfig, logPath+".before", body, false, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer before.stop()
			variants = append(variants, before)
		}
		run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)

		// The baseline's object is the very HookRun the binary stores.
		protoName, err := after.snd.deliver("prototype-" + run)
		if err != nil {
			b.Fatal(err)
		}
		base, err := benchutil.NewBaseline(ctx, c, types.NamespacedName{Namespace: ns, Name: protoName})
		if err != nil {
			b.Fatal(err)
		}
		createRaw := func(id string) error { return base.Create(ctx, id) }

		// Meters this process (load generator, baseline client) and its
		// children: kube-apiserver, etcd and the binaries.
		meter := benchutil.NewIdleCPUMeter(benchutil.NewCPUMeter(), 3*time.Second)
		for i, v := range variants {
			if err := benchutil.WarmUp(meter, fmt.Sprintf("%s%d", run, i), v.deliver, createRaw); err != nil {
				b.Fatal(err)
			}
		}

		// pairs[i] are variant i's levels. With a "before" binary, each
		// repetition measures both, each against raw creates interleaved
		// with it, the one that goes first alternating.
		pairs := make([][]*benchutil.Pair, len(variants))
		for _, conc := range levels {
			for i := range variants {
				pairs[i] = append(pairs[i], &benchutil.Pair{C: conc})
			}
			for rep := range reps {
				for k := range variants {
					i := (k + rep) % len(variants)
					v, pair := variants[i], pairs[i][len(pairs[i])-1]
					srv, base := benchutil.CompareRep(meter, conc, blockOps(conc), rep, fmt.Sprintf("%s%d", run, i), v.deliver, createRaw)
					pair.Measured, pair.Base = append(pair.Measured, srv), append(pair.Base, base)
					fmt.Printf("%s, concurrency %d, repetition %d: %.0f deliveries/s, %.0f creates/s (%.2f); p99 %.1f / %.1f ms; CPU ms/op %s %.2f, load generator %.2f / baseline client %.2f, kube-apiserver %.2f / %.2f, etcd %.2f / %.2f\n",
						v.name, conc, rep+1, srv.Rate(), base.Rate(), srv.Rate()/base.Rate(), srv.QuantileMs(0.99), base.QuantileMs(0.99),
						v.key, srv.CPUPerOp(v.key), srv.CPUPerOp("self"), base.CPUPerOp("self"), srv.CPUPerOp("kube-apiserver"), base.CPUPerOp("kube-apiserver"),
						srv.CPUPerOp("etcd"), base.CPUPerOp("etcd"))
					for _, s := range []*benchutil.OpStats{srv, base} {
						if s.FirstErr != nil {
							fmt.Printf("%s, concurrency %d, repetition %d: %d errors, first: %v\n", v.name, conc, rep+1, s.Errs, s.FirstErr)
						}
					}
				}
			}
			pair := pairs[0][len(pairs[0])-1]
			b.ReportMetric(benchutil.Median(benchutil.ValuesOf(pair.Measured, (*benchutil.OpStats).Rate)), fmt.Sprintf("deliveries/s@c%d", conc))
			b.ReportMetric(benchutil.Median(pair.Ratios()), fmt.Sprintf("ratio@c%d", conc))
		}

		lost := make([]lostCount, len(variants))
		for i, v := range variants {
			l := &lost[i]
			if l.sent, l.lost, l.lostAccepted, err = v.snd.lost(ctx, c); err != nil {
				b.Fatal(err)
			}
			if err := checkNotLeader(ctx, c, v.metricsURL); err != nil {
				b.Fatalf("%s: %v", v.name, err)
			}
			fmt.Printf("%s: %d deliveries sent, %d without a HookRun, %d of them answered 202\n", v.name, l.sent, l.lost, l.lostAccepted)
		}
		if profilePath != "" {
			if err := profile(after.snd, after.pprofAddr, profilePath, 32, benchutil.EnvInt("HOOKRUN_BENCH_BINARY_PROFILE_SECONDS", 10)); err != nil {
				b.Fatal(err)
			}
		}

		r := benchutil.NewResult("ingestion-binary", "Ingestion as users run it: the shipped binary, signed GitHub deliveries against raw HookRun creates", 1)
		r.Machine.LoadAvg = load
		benchutil.IngestionParams(r, reps, minOps, len(body), base)
		r.Params["benchmark GOMAXPROCS"] = strconv.Itoa(goruntime.GOMAXPROCS(0))
		if bin := os.Getenv("HOOKRUN_BENCH_BINARY"); bin != "" {
			r.Params["binary"] = bin
		}
		if len(extraArgs) > 0 {
			r.Params["extra flags"] = strings.Join(extraArgs, " ")
		}
		fillResult(r, pairs[0], lost[0])
		if len(variants) > 1 {
			r.Params["before binary"] = beforeBin
			r.Tables = append(r.Tables, beforeAfterTable(variants, pairs, lost))
		}
		path, err := r.Write(os.Stdout)
		if err != nil {
			b.Fatalf("write result: %v", err)
		}
		if path != "" {
			fmt.Printf("wrote %s\n", path)
		}
	}
}

// lostCount is what a binary's sender found at the end.
type lostCount struct{ sent, lost, lostAccepted int }

// beforeAfterTable compares the binaries measured in the same run, each
// against the raw creates interleaved with it.
func beforeAfterTable(variants []*binary, pairs [][]*benchutil.Pair, lost []lostCount) benchutil.Table {
	t := benchutil.Table{
		Title: "Before and after, in the same run",
		Columns: []string{"concurrency", "binary", "deliveries/s", "baseline creates/s", "ratio", "p99", "p99 ratio",
			"binary's CPU per delivery (ms)", "lost"},
	}
	for l := range pairs[0] {
		for i, v := range variants {
			p := pairs[i][l]
			t.Rows = append(t.Rows, []string{
				strconv.Itoa(p.C), v.name,
				benchutil.Spread(benchutil.ValuesOf(p.Measured, (*benchutil.OpStats).Rate), "%.0f"),
				benchutil.Spread(benchutil.ValuesOf(p.Base, (*benchutil.OpStats).Rate), "%.0f"),
				benchutil.Spread(p.Ratios(), "%.2f"),
				benchutil.Spread(benchutil.ValuesOf(p.Measured, func(s *benchutil.OpStats) float64 { return s.QuantileMs(0.99) }), "%.1f") + " ms",
				benchutil.Spread(p.P99Ratios(), "%.2f"),
				benchutil.Spread(benchutil.ValuesOf(p.Measured, func(s *benchutil.OpStats) float64 { return s.CPUPerOp(v.key) }), "%.2f"),
				fmt.Sprintf("%d of %d", lost[i].lost, lost[i].sent),
			})
		}
	}
	t.Note = "Both binaries run side by side as non-leader replicas against the same API server (each one's cache also watches the other's HookRuns); " +
		"in every repetition each is measured against raw creates interleaved with it, the one that goes first alternating. " +
		"The figures of this table's run are therefore not those of the runs above, which had one binary only."
	return t
}

// procs are the processes whose CPU time is metered.
var procs = []struct{ key, label string }{
	{procKey, "hookrun (the binary)"}, {"self", "benchmark (load generator / baseline client)"},
	{"kube-apiserver", "kube-apiserver"}, {"etcd", "etcd"},
}

func cpuMedian(reps []*benchutil.OpStats, proc string) float64 {
	return benchutil.Median(benchutil.ValuesOf(reps, func(s *benchutil.OpStats) float64 { return s.CPUPerOp(proc) }))
}

func fillResult(r *benchutil.Result, pairs []*benchutil.Pair, l lostCount) {
	r.Command = "KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 HOOKRUN_BENCH_OUT=$PWD/bin/bench go test ./test/bench/ingestion -run '^$' -bench . -benchtime=1x -timeout 30m"
	r.Description = "The hookrun binary, built with `go build .` as the image builds it, runs as a process of its own against envtest with its default flags " +
		"(only its listen addresses moved to free loopback ports) and `--leader-elect` as config/manager deploys it, while the benchmark holds the leader Lease " +
		"as another replica: the binary is a non-leader replica, its reconcilers stay idle and only its webhook server works (checked at the end: the Lease still " +
		"the other replica's, no Job, no reconcile). The benchmark process is the git host: signed GitHub `push` deliveries (the push fixture of " +
		"webhookserver/testdata/github, `X-Hub-Signature-256`) POSTed over HTTP on 127.0.0.1, keep-alive, closed loop (each worker sends its next delivery when " +
		"the previous one is answered). Baseline, in the same run: the same HookRun object created straight on the same API server by one controller-runtime " +
		"client without a client-side limit, from the benchmark process, at the same concurrency. In every repetition the two sides alternate in blocks " +
		"(ABBAABBA); each figure is the median of the repetitions, the range in brackets. The binary, the benchmark, kube-apiserver and etcd share the machine's cores."

	table, plots := benchutil.IngestionReport(pairs, "Ingestion (shipped binary)")
	r.Tables = append(r.Tables, table, cpuTable(pairs))
	r.Plots = plots
	r.Headlines = append(r.Headlines, benchutil.IngestionHeadlines(pairs, 32)...)
	r.Headlines = append(r.Headlines, benchutil.Headline{
		Metric:   fmt.Sprintf("lost deliveries: %d of %d sent have no HookRun (%d of them answered 202)", l.lost, l.sent, l.lostAccepted),
		Measured: float64(l.lost), Count: true, Goal: "0", Met: benchutil.Bool(l.lost == 0),
	})
	if p := benchutil.PairAt(pairs, 32); p != nil {
		r.Headlines = append(r.Headlines, benchutil.Headline{
			Metric: "CPU of the hookrun process per delivery at concurrency 32", Unit: "ms",
			Baseline: cpuMedian(p.Base, "self"), BaselineLabel: "the benchmark's client per raw create",
			Measured: cpuMedian(p.Measured, procKey), Ratio: cpuMedian(p.Measured, procKey) / cpuMedian(p.Base, "self"),
		})
	}
	if note := cpuNote(pairs); note != "" {
		r.Notes = append(r.Notes, note)
	}
	errs, total := benchutil.Operations(pairs)
	r.Notes = append(r.Notes, fmt.Sprintf("Errors: %d in %d deliveries and baseline creates. A lost delivery is one sent whose HookRun is not stored at the end "+
		"(every HookRun of the namespace listed, matched by delivery id); a 2xx answer without a HookRun would break the guarantee of DESIGN.md.", errs, total))
}

// cpuTable shows where the CPU of one operation goes, by process.
func cpuTable(pairs []*benchutil.Pair) benchutil.Table {
	t := benchutil.Table{Title: "CPU per operation (ms, median of the repetitions)", Columns: []string{"concurrency", "side"}}
	for _, p := range procs {
		t.Columns = append(t.Columns, p.label)
	}
	t.Columns = append(t.Columns, "total")
	for _, pair := range pairs {
		for _, side := range []struct {
			name string
			reps []*benchutil.OpStats
		}{{"delivery", pair.Measured}, {"baseline create", pair.Base}} {
			cells := []string{strconv.Itoa(pair.C), side.name}
			var total float64
			for _, p := range procs {
				v := cpuMedian(side.reps, p.key)
				total += v
				cells = append(cells, fmt.Sprintf("%.2f", v))
			}
			t.Rows = append(t.Rows, append(cells, fmt.Sprintf("%.2f", total)))
		}
	}
	t.Note = "CPU time from /proc/<pid>/stat (user + system) over each side's blocks, less the process's idle rate (measured before the run), divided by its operations. " +
		"The hookrun process only works for deliveries (its reconcilers are idle), so its figure on a baseline row is what it spends in the background meanwhile."
	return t
}

// total is the CPU per operation of all metered processes.
func total(reps []*benchutil.OpStats) float64 {
	var t float64
	for _, p := range procs {
		t += cpuMedian(reps, p.key)
	}
	return t
}

// cpuNote says what the CPU figures mean for the ratio at concurrency 32
// (or the highest level measured).
func cpuNote(pairs []*benchutil.Pair) string {
	if len(pairs) == 0 {
		return ""
	}
	p := pairs[len(pairs)-1]
	if at := benchutil.PairAt(pairs, 32); at != nil {
		p = at
	}
	binary, background := cpuMedian(p.Measured, procKey), cpuMedian(p.Base, procKey)
	delivery, create := total(p.Measured), total(p.Base)
	if delivery == 0 || create == 0 {
		return ""
	}
	return fmt.Sprintf("What limits the ratio at concurrency %d: a delivery costs the hookrun process %.2f ms of CPU, of which %.2f ms it spends "+
		"for any HookRun created on the API server (its cache watches HookRuns: the same figure shows on the baseline rows), so the webhook path "+
		"itself costs %.2f ms; the load generator spends %.2f ms per delivery where the baseline's client spends %.2f ms per create. "+
		"All processes counted, a delivery costs %.2f ms of CPU against %.2f ms for a raw create: on a saturated machine the CPU allows a ratio of %.2f; "+
		"measured: %s. The measured ratio also carries the extra hop (load generator → hookrun → API server), which waits for a core whenever other load "+
		"keeps the machine busy: it moves from repetition to repetition far more than the CPU figures.",
		p.C, binary, background, binary-background, cpuMedian(p.Measured, "self"), cpuMedian(p.Base, "self"),
		delivery, create, create/delivery, benchutil.Spread(p.Ratios(), "%.2f"))
}
