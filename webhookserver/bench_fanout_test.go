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

// BenchmarkIngestionFanOut (issue 15): one signed GitHub push POSTed to a
// HookSource whose 10 templates all match, so each delivery stores 10
// HookRuns, against the same-run baseline of 10 raw HookRun creates (the
// very runs a delivery stored, from one client, at most createParallelism
// in flight, as the server creates them). Concurrency as in
// BenchmarkIngestion. Writes $HOOKRUN_BENCH_OUT/ingestion-fanout.json:
//
//   KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 HOOKRUN_BENCH_OUT=$PWD/bin/bench \
//     go test ./webhookserver -run '^$' -bench '^BenchmarkIngestionFanOut$' -benchtime=1x -timeout 30m
//
// Settings: HOOKRUN_BENCH_REPS (repetitions, default 3),
// HOOKRUN_BENCH_INGEST_CONCURRENCY (default 1,8,32,128),
// HOOKRUN_BENCH_FANOUT_OPS (deliveries per block, at least; default 16, and
// 2 per worker: a block is more than one burst; a repetition is 4 blocks per
// side). Every delivery stores 10 runs: the defaults store about 42,000
// HookRuns per side (3 to 6 minutes on a loaded 2-core machine; set
// HOOKRUN_BENCH_INGEST_CONCURRENCY=1,8,32 for a quicker run).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// fanOutTemplates is how many templates of the source match each delivery.
const fanOutTemplates = 10

func BenchmarkIngestionFanOut(b *testing.B) {
	requireEnvtest(b)
	ctx := context.Background()
	levels := benchutil.EnvInts("HOOKRUN_BENCH_INGEST_CONCURRENCY", []int{1, 8, 32, 128})
	reps := max(1, benchutil.EnvInt("HOOKRUN_BENCH_REPS", 3))
	minOps := benchutil.EnvInt("HOOKRUN_BENCH_FANOUT_OPS", 16)
	blockOps := func(c int) int { return max(minOps, 2*c) }
	// Order 8: after the in-process ingestion benchmark it compares with.
	result := benchutil.NewResult("ingestion-fanout", "Fan-out ingestion (HookSource): one signed delivery to a source with 10 matching templates against 10 raw HookRun creates", 8)

	ns := newNamespace(b, suite.client)
	createSource(b, suite.client, suite.mgr.GetClient(), testSource(ns), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-webhook", Namespace: ns}, Data: map[string][]byte{"secret": testKey},
	})
	var names []string
	for i := range fanOutTemplates {
		tmpl := sourcedTemplate(ns, fmt.Sprintf("service-%02d", i), "acme/*")
		tmpl.Spec.Match.Refs = []string{"refs/heads/main"}
		tmpl.Spec.Params = []v1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name}"}}
		createTemplate(b, suite.client, suite.mgr.GetClient(), tmpl, nil)
		names = append(names, tmpl.Name)
	}
	body := compact(b, fixture(b, "github/push.json"))
	url := suite.baseURL + SourcePath(ns, "acme")
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
	defer hc.CloseIdleConnections()
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	signed := signedHeaders("github", testKey, body, "push", "")
	deliver := func(id string) error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header = signed.Clone()
		req.Header.Set("X-GitHub-Delivery", id)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("delivery %s: %d %s", id, resp.StatusCode, bytes.TrimSpace(answer))
		}
		var a SourceRunsAnswer
		if err := json.Unmarshal(answer, &a); err != nil || len(a.Runs) != fanOutTemplates {
			return fmt.Errorf("delivery %s: answer %s: want %d runs", id, bytes.TrimSpace(answer), fanOutTemplates)
		}
		return nil
	}

	// The baseline's objects are the very HookRuns a delivery stored, one
	// per template.
	proto := "prototype-" + run
	if err := deliver(proto); err != nil {
		b.Fatal(err)
	}
	bases := make([]*benchutil.Baseline, 0, len(names))
	for _, name := range names {
		base, err := benchutil.NewBaseline(ctx, suite.client, types.NamespacedName{Namespace: ns, Name: RunName(name, proto)})
		if err != nil {
			b.Fatal(err)
		}
		bases = append(bases, base)
	}
	// One baseline operation: the delivery's 10 runs created straight on
	// the API server, as many in flight as the server allows itself.
	createRaw := func(id string) error {
		var wg sync.WaitGroup
		errs := make([]error, len(bases))
		sem := make(chan struct{}, createParallelism)
		for i, base := range bases {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				errs[i] = base.Create(ctx, id+"-"+strconv.Itoa(i))
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	meter := benchutil.NewIdleCPUMeter(benchutil.NewCPUMeter(), 3*time.Second)
	// A short warm-up (connections, caches, the API server's first
	// requests): each operation stores 10 runs.
	var warm benchutil.OpStats
	benchutil.Measure(&warm, meter, 8, 24, func(i int) error { return deliver(fmt.Sprintf("warm-%s-%d", run, i)) })
	benchutil.Measure(&warm, meter, 8, 24, func(i int) error { return createRaw(fmt.Sprintf("warm-%s-%d", run, i)) })
	if warm.Errs > 0 {
		b.Fatalf("warm-up: %d errors, first: %v", warm.Errs, warm.FirstErr)
	}

	var rows []*benchutil.Pair
	for _, c := range levels {
		b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) {
			row := benchutil.CompareAt(meter, c, blockOps(c), reps, run, deliver, createRaw, func(rep int, srv, base *benchutil.OpStats) {
				b.Logf("concurrency %d, repetition %d: %.1f deliveries/s = %.0f runs/s, baseline %.0f raw creates/s (ratio %.2f); p50 %.1f / %.1f ms, p99 %.1f / %.1f ms",
					c, rep+1, srv.Rate(), fanOutTemplates*srv.Rate(), fanOutTemplates*base.Rate(), srv.Rate()/base.Rate(),
					srv.QuantileMs(0.5), base.QuantileMs(0.5), srv.QuantileMs(0.99), base.QuantileMs(0.99))
				for _, s := range []*benchutil.OpStats{srv, base} {
					if s.FirstErr != nil {
						b.Logf("concurrency %d, repetition %d: %d errors, first: %v", c, rep+1, s.Errs, s.FirstErr)
					}
				}
			})
			rows = slices.DeleteFunc(rows, func(r *benchutil.Pair) bool { return r.C == c })
			rows = append(rows, row)
			rate := benchutil.Median(benchutil.ValuesOf(row.Measured, (*benchutil.OpStats).Rate))
			b.ReportMetric(rate, "deliveries/s")
			b.ReportMetric(fanOutTemplates*rate, "runs/s")
			b.ReportMetric(fanOutTemplates*benchutil.Median(benchutil.ValuesOf(row.Base, (*benchutil.OpStats).Rate)), "baseline-runs/s")
			b.ReportMetric(benchutil.Median(row.Ratios()), "ratio")
			b.ReportMetric(benchutil.Median(benchutil.ValuesOf(row.Measured, func(s *benchutil.OpStats) float64 { return s.QuantileMs(0.5) })), "p50-ms")
			b.ReportMetric(benchutil.Median(benchutil.ValuesOf(row.Measured, func(s *benchutil.OpStats) float64 { return s.QuantileMs(0.99) })), "p99-ms")
			srvErrs, baseErrs := row.Errors()
			b.ReportMetric(float64(srvErrs+baseErrs), "errors")
		})
	}
	if len(rows) == 0 {
		return
	}
	result.Params["repetitions"] = strconv.Itoa(reps)
	result.Params["deliveries per side and repetition"] = fmt.Sprintf("4 blocks of max(%d, 2 × concurrency)", minOps)
	result.Params["templates per delivery"] = fmt.Sprintf("%d, all matching (one param each)", fanOutTemplates)
	result.Params["payload"] = fmt.Sprintf("GitHub push fixture, %d bytes, X-Hub-Signature-256", len(body))
	result.Params["HookRun spec (JSON)"] = fmt.Sprintf("%d bytes", bases[0].SpecJSON)
	result.Params["GOMAXPROCS"] = strconv.Itoa(runtime.GOMAXPROCS(0))
	fillFanOutResult(result, rows)
	path, err := result.Write(os.Stdout)
	if err != nil {
		b.Fatalf("write result: %v", err)
	}
	if path != "" {
		fmt.Printf("wrote %s\n", path)
	}
}

func fillFanOutResult(r *benchutil.Result, rows []*benchutil.Pair) {
	r.Command = "KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 HOOKRUN_BENCH_OUT=$PWD/bin/bench go test ./webhookserver -run '^$' -bench '^BenchmarkIngestionFanOut$' -benchtime=1x -timeout 30m"
	r.Description = fmt.Sprintf("Signed GitHub `push` deliveries (the push fixture of testdata/github, `X-Hub-Signature-256`) POSTed over real HTTP on 127.0.0.1 to a HookSource's URL "+
		"(`/sources/{namespace}/{name}`) whose %d templates all match: the webhook server verifies and normalises the delivery once, lists the source's templates "+
		"from the manager's cache, matches each, evaluates one param per template and creates the %d HookRuns on envtest's API server concurrently "+
		"(at most %d in flight) before it answers 202 with every run. Closed loop, each worker sends its next delivery when the previous one is answered. "+
		"Baseline, in the same run and process: the same %d HookRuns a delivery stored, created straight on the API server by one controller-runtime client, "+
		"at most %d in flight per operation, at the same concurrency. In every repetition the two sides alternate in blocks (ABBAABBA); each figure is the median "+
		"of the repetitions, the range in brackets. Everything shares the machine's cores.",
		fanOutTemplates, fanOutTemplates, createParallelism, fanOutTemplates, createParallelism)
	r.Tables = append(r.Tables, fanOutTable(rows))
	r.Plots = fanOutPlots(rows)
	if row := benchutil.PairAt(rows, 32); row != nil {
		ratio, p99 := benchutil.Median(row.Ratios()), benchutil.Median(row.P99Ratios())
		r.Headlines = append(r.Headlines,
			benchutil.Headline{
				Metric: "runs stored per second at concurrency 32 (10 per delivery)", Unit: "/s",
				Baseline: fanOutTemplates * benchutil.Median(benchutil.ValuesOf(row.Base, (*benchutil.OpStats).Rate)), BaselineLabel: "raw HookRun creates",
				Measured: fanOutTemplates * benchutil.Median(benchutil.ValuesOf(row.Measured, (*benchutil.OpStats).Rate)),
				Ratio:    ratio, Goal: "≥ 0.8× baseline", Met: benchutil.Bool(ratio >= 0.8),
			},
			benchutil.Headline{
				Metric: "p99 latency of a delivery (10 runs) at concurrency 32", Unit: "ms",
				Baseline: benchutil.Median(fanOutLatencies(row.Base, 0.99)), BaselineLabel: "10 raw HookRun creates",
				Measured: benchutil.Median(fanOutLatencies(row.Measured, 0.99)),
				Ratio:    p99, Goal: "≤ 2× baseline", Met: benchutil.Bool(p99 <= 2),
			})
	}
	errs, total := benchutil.Operations(rows)
	r.Headlines = append(r.Headlines, benchutil.Headline{
		Metric:   fmt.Sprintf("errors: %d in %d deliveries and baseline operations", errs, total),
		Measured: float64(errs), Count: true, Goal: "0", Met: benchutil.Bool(errs == 0),
	})
	if note := fanOutErrorNote(rows); note != "" {
		r.Notes = append(r.Notes, note)
	}
}

// fanOutErrorNote names the first error of each level that had any: a
// delivery answered 503 has some of its runs stored, and the git host's
// redelivery would create the others.
func fanOutErrorNote(rows []*benchutil.Pair) string {
	var parts []string
	for _, row := range rows {
		srvErrs, baseErrs := row.Errors()
		if srvErrs+baseErrs == 0 {
			continue
		}
		var first []string
		for _, side := range [][]*benchutil.OpStats{row.Measured, row.Base} {
			for _, s := range side {
				if s.FirstErr != nil {
					msg := s.FirstErr.Error()
					if len(msg) > 200 {
						msg = msg[:200] + "…"
					}
					first = append(first, msg)
					break
				}
			}
		}
		parts = append(parts, fmt.Sprintf("at concurrency %d, %d deliveries and %d baseline operations failed (first: `%s`)",
			row.C, srvErrs, baseErrs, strings.Join(first, "`; `")))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("Errors: %s. The webhook server bounds each API call of a request by %s (a create that takes longer is a failure it answers "+
		"with 503, listing the runs that are stored; a redelivery creates the others); the baseline's creates have no deadline.",
		strings.Join(parts, "; "), apiTimeout)
}

func fanOutLatencies(reps []*benchutil.OpStats, q float64) []float64 {
	return benchutil.ValuesOf(reps, func(s *benchutil.OpStats) float64 { return s.QuantileMs(q) })
}

// fanOutTable counts both sides in deliveries and in runs: one delivery
// against one baseline operation of 10 creates.
func fanOutTable(rows []*benchutil.Pair) benchutil.Table {
	t := benchutil.Table{
		Title: "Throughput and latency",
		Columns: []string{"concurrency", "deliveries/s", "runs/s", "baseline runs/s (raw creates)", "ratio",
			"p50", "baseline p50", "p99", "baseline p99", "p99 ratio", "errors (deliveries / baseline)"},
	}
	runs := func(s *benchutil.OpStats) float64 { return fanOutTemplates * s.Rate() }
	for _, row := range rows {
		srvErrs, baseErrs := row.Errors()
		t.Rows = append(t.Rows, []string{
			strconv.Itoa(row.C),
			benchutil.Spread(benchutil.ValuesOf(row.Measured, (*benchutil.OpStats).Rate), "%.1f"),
			benchutil.Spread(benchutil.ValuesOf(row.Measured, runs), "%.0f"),
			benchutil.Spread(benchutil.ValuesOf(row.Base, runs), "%.0f"),
			benchutil.Spread(row.Ratios(), "%.2f"),
			benchutil.Spread(fanOutLatencies(row.Measured, 0.5), "%.1f") + " ms",
			benchutil.Spread(fanOutLatencies(row.Base, 0.5), "%.1f") + " ms",
			benchutil.Spread(fanOutLatencies(row.Measured, 0.99), "%.1f") + " ms",
			benchutil.Spread(fanOutLatencies(row.Base, 0.99), "%.1f") + " ms",
			benchutil.Spread(row.P99Ratios(), "%.2f"),
			fmt.Sprintf("%d / %d", srvErrs, baseErrs),
		})
	}
	t.Note = fmt.Sprintf("A delivery stores %d runs; a baseline operation creates the same %d. ratio = runs/s ÷ baseline runs/s and p99 ratio = p99 of a delivery ÷ p99 of "+
		"a baseline operation, both within each repetition, then the median. Errors are every answer other than 202 with %d runs (deliveries) or any create error "+
		"(baseline), over all repetitions.", fanOutTemplates, fanOutTemplates, fanOutTemplates)
	return t
}

func fanOutPlots(rows []*benchutil.Pair) []benchutil.Plot {
	srv, base := benchutil.Series{Name: "runs from fanned-out deliveries"}, benchutil.Series{Name: "raw HookRun creates (baseline)"}
	add := func(s *benchutil.Series, x float64, v []float64) {
		lo, hi := benchutil.MinMax(v)
		s.X, s.Y, s.YLow, s.YHigh = append(s.X, x), append(s.Y, benchutil.Median(v)), append(s.YLow, lo), append(s.YHigh, hi)
	}
	runs := func(s *benchutil.OpStats) float64 { return fanOutTemplates * s.Rate() }
	for _, row := range rows {
		add(&srv, float64(row.C), benchutil.ValuesOf(row.Measured, runs))
		add(&base, float64(row.C), benchutil.ValuesOf(row.Base, runs))
	}
	return []benchutil.Plot{{
		Title: "Fan-out to 10 templates: runs stored per second against raw creates", XLabel: "concurrency (deliveries in flight, closed loop)",
		YLabel: "HookRuns/s", LogX: true, Series: []benchutil.Series{srv, base},
	}}
}
