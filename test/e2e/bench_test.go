//go:build e2e && e2ebench

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

// TestBenchEndToEnd (issue 7, item 5) times a real run on the local cluster,
// stage by stage: delivery → Job → pod's container started → finished →
// HookRun Succeeded, for a `true` command, against the same pod as a raw Job
// created with `kubectl create -f`. It has a build tag of its own so that
// `make test-e2e` never runs it:
//
//	KEEP_CLUSTER=1 make test-e2e   # or: hack/local-cluster/up && go build -o bin/hookrun .
//	KUBECONFIG=$PWD/.cluster/kubeconfig HOOKRUN_BIN=$PWD/bin/hookrun HOOKRUN_BENCH_OUT=$PWD/bin/bench \
//	  go test -tags 'e2e e2ebench' -count=1 -run TestBenchEndToEnd -v ./test/e2e/
//
// HOOKRUN_BENCH_E2E_RUNS sets the number of runs of each kind (default 20).

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// stopwatch records, from watches of one namespace, when each Job, its
// pod's run container and each HookRun first reached a state. Times are
// this process's clock when the watch event arrived: the API's own
// timestamps have one-second resolution.
type stopwatch struct {
	mu          sync.Mutex
	jobSeen     map[string]time.Time // by Job name
	jobComplete map[string]time.Time
	started     map[string]time.Time // the run container is running or has run (pod status)
	finished    map[string]time.Time // the run container has terminated (pod status)
	exitCode    map[string]int32
	runJob      map[string]string // HookRun name → Job name
	succeeded   map[string]time.Time
	failed      map[string]string // HookRun or Job name → why
	changed     chan struct{}
}

func newStopwatch() *stopwatch {
	return &stopwatch{
		jobSeen: map[string]time.Time{}, jobComplete: map[string]time.Time{}, started: map[string]time.Time{},
		finished: map[string]time.Time{}, exitCode: map[string]int32{}, runJob: map[string]string{},
		succeeded: map[string]time.Time{}, failed: map[string]string{}, changed: make(chan struct{}, 1),
	}
}

// first records t under key unless a time is there already.
func first(m map[string]time.Time, key string, t time.Time) {
	if _, ok := m[key]; !ok {
		m[key] = t
	}
}

func (s *stopwatch) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *stopwatch) onJob(obj any) {
	now := time.Now()
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	first(s.jobSeen, job.Name, now)
	if run := job.Labels[hooksv1alpha1.LabelRun]; run != "" {
		s.runJob[run] = job.Name
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			first(s.jobComplete, job.Name, now)
		case batchv1.JobFailed:
			s.failed[job.Name] = "Job failed: " + c.Reason + " " + c.Message
		}
	}
}

func (s *stopwatch) onPod(obj any) {
	now := time.Now()
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	job := pod.Labels[batchv1.JobNameLabel]
	if job == "" {
		job = pod.Labels["job-name"]
	}
	if job == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != hooksv1alpha1.RunContainerName {
			continue
		}
		if cs.State.Running != nil || cs.State.Terminated != nil {
			first(s.started, job, now)
		}
		if t := cs.State.Terminated; t != nil {
			first(s.finished, job, now)
			s.exitCode[job] = t.ExitCode
		}
	}
}

func (s *stopwatch) onRun(obj any) {
	now := time.Now()
	run, ok := obj.(*hooksv1alpha1.HookRun)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	switch run.Status.Phase {
	case hooksv1alpha1.PhaseSucceeded:
		first(s.succeeded, run.Name, now)
	case hooksv1alpha1.PhaseFailed, hooksv1alpha1.PhaseCancelled, hooksv1alpha1.PhaseSkipped:
		s.failed[run.Name] = fmt.Sprintf("HookRun %s: %s %s", run.Status.Phase, run.Status.Reason, run.Status.Message)
	}
}

// waitFor waits for the watches to make done true, failing at the deadline
// or when a watched object failed.
func (s *stopwatch) waitFor(t *testing.T, what string, within time.Duration, done func(s *stopwatch) (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, failed := done(s)
		s.mu.Unlock()
		if ok {
			return
		}
		if failed != "" {
			t.Fatalf("%s: %s", what, failed)
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}

// watchNamespace starts informers on Jobs, Pods and HookRuns of ns.
func watchNamespace(t *testing.T, ns string) *stopwatch {
	t.Helper()
	// The informers log when they stop; nothing here reads those logs.
	logf.SetLogger(logr.Discard())
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		t.Fatal(err)
	}
	s := newStopwatch()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	for _, w := range []struct {
		obj client.Object
		fn  func(any)
	}{{&batchv1.Job{}, s.onJob}, {&corev1.Pod{}, s.onPod}, {&hooksv1alpha1.HookRun{}, s.onRun}} {
		inf, err := ca.GetInformer(ctx, w.obj)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: w.fn, UpdateFunc: func(_, obj any) { w.fn(obj) },
		}); err != nil {
			t.Fatal(err)
		}
	}
	go func() { defer close(done); _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		t.Fatal("watches did not sync")
	}
	return s
}

// e2eStages are the stage durations of one run, in seconds, by stage name.
type e2eStages map[string]float64

// Stages, in order. The first column names what ends the create step:
// the delivery's 202 for hookrun, `kubectl create` returning for the
// raw Job.
const (
	stageAnswer    = "delivery answered (202) / `kubectl create` returned"
	stageJob       = "delivery / create → Job created"
	stageStarted   = "Job created → container started"
	stageRan       = "container started → finished"
	stageComplete  = "container finished → Job Complete"
	stageSucceeded = "Job Complete → HookRun Succeeded"
	stageDone      = "container finished → HookRun Succeeded / Job Complete"
	stageTotal     = "total: delivery → HookRun Succeeded / create → Job Complete"
)

var e2eStageOrder = []string{stageAnswer, stageJob, stageStarted, stageRan, stageComplete, stageSucceeded, stageDone, stageTotal}

func seconds(d time.Duration) float64 { return d.Seconds() }

func TestBenchEndToEnd(t *testing.T) {
	runs := benchutil.EnvInt("HOOKRUN_BENCH_E2E_RUNS", 20)
	result := benchutil.NewResult("e2e", "End to end on the local cluster: delivery → HookRun Succeeded against a raw Job", 5)
	ns, secret := namespace(t)
	watch := watchNamespace(t, ns)

	tmpl := template(ns, "bench", hooksv1alpha1.ProviderGitHub, localRunner("true"))
	tmpl.Spec.Concurrency = hooksv1alpha1.ConcurrencySpec{Policy: hooksv1alpha1.ConcurrencyAllow}
	// Keep every run: deleting old ones would add work to later runs.
	tmpl.Spec.History = hooksv1alpha1.HistorySpec{Succeeded: ptr.To[int32](int32(runs + 10)), Failed: ptr.To[int32](int32(runs + 10))}
	createTemplate(t, tmpl)
	stamp := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	sha := strings.Repeat("ab", 20)

	hookrunRun := func(id string) (e2eStages, string) {
		t.Helper()
		body := githubPush("acme/site", "refs/heads/main", strings.Repeat("0", 40), sha, "git://127.0.0.1/site.git")
		t0 := time.Now()
		answer := send(t, webhookURL, ns, "bench", secret, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": id}, body)
		answered := time.Now()
		if answer.Status != http.StatusAccepted {
			t.Fatalf("delivery %s: %+v", id, answer)
		}
		var job string
		watch.waitFor(t, "run "+answer.Run, 3*time.Minute, func(s *stopwatch) (bool, string) {
			job = s.runJob[answer.Run]
			_, ok1 := s.succeeded[answer.Run]
			_, ok2 := s.finished[job]
			_, ok3 := s.jobComplete[job]
			return job != "" && ok1 && ok2 && ok3, s.failed[answer.Run] + s.failed[job]
		})
		watch.mu.Lock()
		defer watch.mu.Unlock()
		if code := watch.exitCode[job]; code != 0 {
			t.Fatalf("run %s: exit code %d", answer.Run, code)
		}
		seen, started, finished := watch.jobSeen[job], watch.started[job], watch.finished[job]
		complete, succeeded := watch.jobComplete[job], watch.succeeded[answer.Run]
		return e2eStages{
			stageAnswer: seconds(answered.Sub(t0)), stageJob: seconds(seen.Sub(t0)), stageStarted: seconds(started.Sub(seen)),
			stageRan: seconds(finished.Sub(started)), stageComplete: seconds(complete.Sub(finished)),
			stageSucceeded: seconds(succeeded.Sub(complete)), stageDone: seconds(succeeded.Sub(finished)), stageTotal: seconds(succeeded.Sub(t0)),
		}, job
	}

	// The warm-up run gives the Job whose pod the baseline repeats.
	_, protoName := hookrunRun("bench-" + stamp + "-warm")
	var proto batchv1.Job
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: protoName}, &proto); err != nil {
		t.Fatalf("get the warm-up run's Job: %v", err)
	}
	dir := t.TempDir()
	rawRun := func(name string) e2eStages {
		t.Helper()
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, rawJob(&proto, name), 0o644); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if out, err := exec.Command("kubectl", "create", "-f", path).CombinedOutput(); err != nil {
			t.Fatalf("kubectl create -f %s: %v\n%s", path, err, out)
		}
		returned := time.Now()
		watch.waitFor(t, "Job "+name, 3*time.Minute, func(s *stopwatch) (bool, string) {
			_, ok1 := s.jobComplete[name]
			_, ok2 := s.finished[name]
			return ok1 && ok2, s.failed[name]
		})
		watch.mu.Lock()
		defer watch.mu.Unlock()
		if code := watch.exitCode[name]; code != 0 {
			t.Fatalf("Job %s: exit code %d", name, code)
		}
		seen, started, finished, complete := watch.jobSeen[name], watch.started[name], watch.finished[name], watch.jobComplete[name]
		return e2eStages{
			stageAnswer: seconds(returned.Sub(t0)), stageJob: seconds(seen.Sub(t0)), stageStarted: seconds(started.Sub(seen)),
			stageRan: seconds(finished.Sub(started)), stageComplete: seconds(complete.Sub(finished)),
			stageDone: seconds(complete.Sub(finished)), stageTotal: seconds(complete.Sub(t0)),
		}
	}
	rawRun("raw-" + stamp + "-warm")

	// One after another, the two kinds alternating (in swapped order every
	// other round) so that drift on the shared machine weighs on both.
	var hook, raw []e2eStages
	for i := range runs {
		steps := []func(){
			func() {
				stages, _ := hookrunRun(fmt.Sprintf("bench-%s-%d", stamp, i))
				hook = append(hook, stages)
			},
			func() { raw = append(raw, rawRun(fmt.Sprintf("raw-%s-%d", stamp, i))) },
		}
		if i%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			step()
		}
	}
	fillE2EResult(result, hook, raw)
	path, err := result.Write(os.Stdout)
	if err != nil {
		t.Fatalf("write result: %v", err)
	}
	if path != "" {
		t.Logf("wrote %s", path)
	}
}

// rawJob is the Job hookrun made, as a user would write it for
// `kubectl create -f`: the same pod, without hookrun's labels, owner and
// the selector the API server generates.
func rawJob(proto *batchv1.Job, name string) []byte {
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: proto.Namespace},
		Spec:       *proto.Spec.DeepCopy(),
	}
	job.Spec.Selector, job.Spec.ManualSelector = nil, nil
	labels := map[string]string{}
	for k, v := range job.Spec.Template.Labels {
		if strings.HasPrefix(k, "hooks.hookrun.dev/") || strings.Contains(k, "controller-uid") || strings.HasSuffix(k, "job-name") {
			continue
		}
		labels[k] = v
	}
	job.Spec.Template.Labels = labels
	out, err := json.Marshal(job)
	if err != nil {
		panic(err)
	}
	return out
}

// quantile by nearest rank: with 20 runs p99 is the slowest.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func column(runs []e2eStages, stage string) []float64 {
	var out []float64
	for _, r := range runs {
		if v, ok := r[stage]; ok {
			out = append(out, v)
		}
	}
	return out
}

func fillE2EResult(r *benchutil.Result, hook, raw []e2eStages) {
	r.Command = "KEEP_CLUSTER=1 make test-e2e && KUBECONFIG=$PWD/.cluster/kubeconfig HOOKRUN_BIN=$PWD/bin/hookrun HOOKRUN_BENCH_OUT=$PWD/bin/bench " +
		"go test -tags 'e2e e2ebench' -count=1 -run TestBenchEndToEnd -v ./test/e2e/"
	r.Description = "One run at a time on the local single-node cluster (hack/local-cluster: kubelet, containerd, runc; no network beyond 127.0.0.1): " +
		"a signed GitHub push delivery to the manager (bin/hookrun, Allow policy) for a template whose command is `true` " +
		"(runner image hookrun/runner:local, host network), until the HookRun is Succeeded. " +
		"Baseline, alternating with it in the same run: the same pod as a raw Job — the Job hookrun created, without its labels and owner — created with `kubectl create -f`, until the Job is Complete. " +
		"Every instant is when this test's watch (Jobs, Pods, HookRuns of the namespace) saw the change, on one clock; " +
		"container started and finished are the run container's state in the pod status (Running or Terminated, then Terminated). " +
		"The API's own timestamps have one-second resolution, too coarse for these stages."
	r.Params["runs of each kind"] = strconv.Itoa(len(hook))
	r.Params["warm-up"] = "one of each kind, not counted"
	r.Params["p99"] = fmt.Sprintf("nearest rank: with %d runs, the slowest", len(hook))

	ms := func(v float64) string { return fmt.Sprintf("%.0f ms", v*1000) }
	cell := func(runs []e2eStages, stage string, q float64) string {
		v := column(runs, stage)
		if len(v) == 0 {
			return "–"
		}
		return ms(quantile(v, q))
	}
	table := benchutil.Table{
		Title:   "Stages (p50 / p99 of the runs)",
		Columns: []string{"stage", "hookrun p50", "hookrun p99", "raw Job p50", "raw Job p99"},
	}
	plot := benchutil.Plot{Title: "End to end, median of each stage (see the table)", Kind: "bar", YLabel: "seconds (p50)"}
	hookSeries, rawSeries := benchutil.Series{Name: "hookrun (delivery)"}, benchutil.Series{Name: "raw Job (kubectl create -f)"}
	for _, stage := range e2eStageOrder {
		table.Rows = append(table.Rows, []string{stage, cell(hook, stage, 0.5), cell(hook, stage, 0.99), cell(raw, stage, 0.5), cell(raw, stage, 0.99)})
		if stage == stageDone {
			continue // the sum of two stages
		}
		plot.Categories = append(plot.Categories, shortStage(stage))
		hookSeries.Y = append(hookSeries.Y, quantile(column(hook, stage), 0.5)) // 0 when the kind has no such stage
		rawSeries.Y = append(rawSeries.Y, quantile(column(raw, stage), 0.5))
	}
	plot.Series = []benchutil.Series{hookSeries, rawSeries}
	table.Note = "The stages are consecutive: answer/create and \"→ Job created\" both start at the delivery (or `kubectl create`); " +
		"the others start where the previous one ends, so Job created → … → Succeeded adds up to the total. " +
		"\"Job Complete → HookRun Succeeded\" is hookrun's reconciler mirroring the Job's outcome; the raw Job has no such step."
	r.Tables = append(r.Tables, table)
	r.Plots = []benchutil.Plot{plot}

	hTotal, rTotal := column(hook, stageTotal), column(raw, stageTotal)
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.5}, {"p99", 0.99}} {
		h, b := quantile(hTotal, q.q), quantile(rTotal, q.q)
		r.Headlines = append(r.Headlines, benchutil.Headline{
			Metric: "delivery → HookRun Succeeded, " + q.name, Unit: "s",
			Baseline: b, BaselineLabel: "raw Job, kubectl create → Complete, " + q.name, Measured: h, Ratio: h / b,
		})
	}
	hookStart, rawStart := quantile(column(hook, stageJob), 0.5)+quantile(column(hook, stageStarted), 0.5),
		quantile(column(raw, stageJob), 0.5)+quantile(column(raw, stageStarted), 0.5)
	r.Notes = append(r.Notes, fmt.Sprintf("Medians: a delivery's Job exists %s after it was sent (the 202 comes after %s); "+
		"a `kubectl create` takes %s to return, its Job is seen after %s. From delivery (create) to the container running: %s against %s. "+
		"After the container ends, hookrun needs the job controller's Complete (%s) and then its own status write (%s); the raw Job only the former (%s).",
		ms(quantile(column(hook, stageJob), 0.5)), ms(quantile(column(hook, stageAnswer), 0.5)),
		ms(quantile(column(raw, stageAnswer), 0.5)), ms(quantile(column(raw, stageJob), 0.5)),
		ms(hookStart), ms(rawStart),
		ms(quantile(column(hook, stageComplete), 0.5)), ms(quantile(column(hook, stageSucceeded), 0.5)), ms(quantile(column(raw, stageComplete), 0.5))))
}

func shortStage(stage string) string {
	switch stage {
	case stageAnswer:
		return "answer / create"
	case stageJob:
		return "→ Job"
	case stageStarted:
		return "→ started"
	case stageRan:
		return "→ finished"
	case stageComplete:
		return "→ Complete"
	case stageSucceeded:
		return "→ Succeeded"
	case stageTotal:
		return "total"
	}
	return stage
}
