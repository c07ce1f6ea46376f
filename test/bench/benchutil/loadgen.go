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

package benchutil

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// OpStats is what one side of a comparison (deliveries or baseline creates)
// measured in one repetition.
type OpStats struct {
	OK, Errs int
	Elapsed  time.Duration
	Lat      []time.Duration // of the successful operations
	CPU      map[string]float64
	FirstErr error
}

// Rate is the successful operations per second.
func (s *OpStats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.OK) / s.Elapsed.Seconds()
}

// Quantile of the successful operations' latencies (nearest rank).
func (s *OpStats) Quantile(q float64) time.Duration {
	if len(s.Lat) == 0 {
		return 0
	}
	lat := slices.Clone(s.Lat)
	slices.Sort(lat)
	i := int(float64(len(lat))*q+0.5) - 1
	return lat[min(max(i, 0), len(lat)-1)]
}

// QuantileMs is Quantile in milliseconds.
func (s *OpStats) QuantileMs(q float64) float64 { return Ms(s.Quantile(q)) }

// CPUPerOp is the CPU milliseconds one operation cost in a process.
func (s *OpStats) CPUPerOp(proc string) float64 {
	if s.OK+s.Errs == 0 {
		return 0
	}
	return s.CPU[proc] * 1000 / float64(s.OK+s.Errs)
}

// Ms is a duration in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ValuesOf applies f to every repetition.
func ValuesOf(reps []*OpStats, f func(*OpStats) float64) []float64 {
	out := make([]float64, len(reps))
	for i, r := range reps {
		out[i] = f(r)
	}
	return out
}

// IdleCPUMeter meters the CPU time of processes less what they spend idle
// (kube-apiserver and etcd keep some background work).
type IdleCPUMeter struct {
	*CPUMeter
	idle map[string]float64 // CPU seconds per second
}

// NewIdleCPUMeter meters m's processes and measures their idle rates over a
// quiet window.
func NewIdleCPUMeter(m *CPUMeter, window time.Duration) *IdleCPUMeter {
	im := &IdleCPUMeter{CPUMeter: m, idle: map[string]float64{}}
	m.Start()
	t0 := time.Now()
	<-time.After(window) // a measurement window, nothing to wait for
	elapsed := time.Since(t0).Seconds()
	for k, v := range m.Stop() {
		im.idle[k] = v / elapsed
	}
	return im
}

// Measure runs n operations on c workers (closed loop) and adds what they
// took (time, latencies, errors, the CPU every metered process spent beyond
// idle) to s. Errors are counted, not fatal: "zero errors" is one of the
// goals.
func Measure(s *OpStats, meter *IdleCPUMeter, c, n int, op func(i int) error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	failed := make([]bool, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	meter.Start()
	start := time.Now()
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				err := op(i)
				lat[i] = time.Since(t0)
				if err != nil {
					failed[i] = true
					mu.Lock()
					if s.FirstErr == nil {
						s.FirstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	s.Elapsed += elapsed
	cpu := meter.Stop()
	if s.CPU == nil {
		s.CPU = map[string]float64{}
	}
	for k, v := range cpu {
		s.CPU[k] += max(0, v-meter.idle[k]*elapsed.Seconds())
	}
	for i := range n {
		if failed[i] {
			s.Errs++
			continue
		}
		s.OK++
		s.Lat = append(s.Lat, lat[i])
	}
}

// Interleaved is the order of the 8 blocks of one repetition of a
// comparison: true for a block of the measured side, false for one of the
// baseline. The sides alternate in ABBAABBA order, the baseline first in
// even repetitions and second in odd ones, so that drift (etcd growing) and
// bursts of other load on a shared machine weigh on both alike.
func Interleaved(rep int) []bool {
	order := []bool{false, true, true, false, false, true, true, false}
	if rep%2 == 1 {
		for i := range order {
			order[i] = !order[i]
		}
	}
	return order
}

// Pair is one level of an interleaved comparison (one concurrency, say):
// the measured side and its baseline, one OpStats per repetition each.
type Pair struct {
	C              int
	Measured, Base []*OpStats
}

// Ratios are measured ÷ baseline throughput, per repetition.
func (p *Pair) Ratios() []float64 {
	out := make([]float64, len(p.Measured))
	for i := range p.Measured {
		out[i] = p.Measured[i].Rate() / p.Base[i].Rate()
	}
	return out
}

// P99Ratios are measured ÷ baseline p99 latency, per repetition.
func (p *Pair) P99Ratios() []float64 {
	out := make([]float64, len(p.Measured))
	for i := range p.Measured {
		out[i] = float64(p.Measured[i].Quantile(0.99)) / float64(p.Base[i].Quantile(0.99))
	}
	return out
}

// Errors are the failed operations of each side over all repetitions.
func (p *Pair) Errors() (measured, base int) {
	for i := range p.Measured {
		measured += p.Measured[i].Errs
		base += p.Base[i].Errs
	}
	return measured, base
}

// PairAt is the level with concurrency c, or nil.
func PairAt(pairs []*Pair, c int) *Pair {
	for _, p := range pairs {
		if p.C == c {
			return p
		}
	}
	return nil
}

// latencies are the q-quantiles of each repetition, in milliseconds.
func latencies(reps []*OpStats, q float64) []float64 {
	return ValuesOf(reps, func(s *OpStats) float64 { return s.QuantileMs(q) })
}

// IngestionReport is the throughput and latency table of deliveries against
// raw creates, one row per level, and its two plots (throughput, p99).
func IngestionReport(pairs []*Pair, title string) (Table, []Plot) {
	table := Table{
		Title: "Throughput and latency",
		Columns: []string{"concurrency", "deliveries/s", "baseline creates/s", "ratio", "p50", "baseline p50",
			"p99", "baseline p99", "p99 ratio", "errors (deliveries / baseline)"},
	}
	plot := Plot{
		Title: title + " throughput against raw creates", XLabel: "concurrency (closed loop)", YLabel: "operations/s", LogX: true,
	}
	latPlot := Plot{
		Title: title + " p99 latency against raw creates", XLabel: "concurrency (closed loop)", YLabel: "p99 latency (ms)", LogX: true, LogY: true,
	}
	srvSeries, baseSeries := Series{Name: "webhook deliveries"}, Series{Name: "raw HookRun creates (baseline)"}
	srvLat, baseLat := Series{Name: "webhook deliveries"}, Series{Name: "raw HookRun creates (baseline)"}
	add := func(s *Series, x float64, v []float64) {
		lo, hi := MinMax(v)
		s.X, s.Y, s.YLow, s.YHigh = append(s.X, x), append(s.Y, Median(v)), append(s.YLow, lo), append(s.YHigh, hi)
	}
	for _, row := range pairs {
		srvRate, baseRate := ValuesOf(row.Measured, (*OpStats).Rate), ValuesOf(row.Base, (*OpStats).Rate)
		srvErrs, baseErrs := row.Errors()
		table.Rows = append(table.Rows, []string{
			strconv.Itoa(row.C),
			Spread(srvRate, "%.0f"), Spread(baseRate, "%.0f"), Spread(row.Ratios(), "%.2f"),
			Spread(latencies(row.Measured, 0.5), "%.1f") + " ms", Spread(latencies(row.Base, 0.5), "%.1f") + " ms",
			Spread(latencies(row.Measured, 0.99), "%.1f") + " ms", Spread(latencies(row.Base, 0.99), "%.1f") + " ms",
			Spread(row.P99Ratios(), "%.2f"),
			fmt.Sprintf("%d / %d", srvErrs, baseErrs),
		})
		add(&srvSeries, float64(row.C), srvRate)
		add(&baseSeries, float64(row.C), baseRate)
		add(&srvLat, float64(row.C), latencies(row.Measured, 0.99))
		add(&baseLat, float64(row.C), latencies(row.Base, 0.99))
	}
	table.Note = "ratio = deliveries/s ÷ baseline creates/s and p99 ratio = p99 ÷ baseline p99, both within each repetition, then the median. " +
		"Errors are every answer other than 202 (deliveries) or any create error (baseline), over all repetitions."
	plot.Series = []Series{srvSeries, baseSeries}
	latPlot.Series = []Series{srvLat, baseLat}
	return table, []Plot{plot, latPlot}
}

// IngestionHeadlines judge the level at concurrency c (when measured)
// against the goals: ≥ 0.8× the raw creates' throughput, p99 ≤ 2×.
func IngestionHeadlines(pairs []*Pair, c int) []Headline {
	row := PairAt(pairs, c)
	if row == nil {
		return nil
	}
	base, srv := Median(ValuesOf(row.Base, (*OpStats).Rate)), Median(ValuesOf(row.Measured, (*OpStats).Rate))
	ratio := Median(row.Ratios())
	basePs, srvPs := Median(latencies(row.Base, 0.99)), Median(latencies(row.Measured, 0.99))
	p99Ratio := Median(row.P99Ratios())
	return []Headline{
		{
			Metric: fmt.Sprintf("throughput at concurrency %d", c), Unit: "/s", Baseline: base, BaselineLabel: "raw HookRun creates",
			Measured: srv, Ratio: ratio, Goal: "≥ 0.8× baseline", Met: Bool(ratio >= 0.8),
		},
		{
			Metric: fmt.Sprintf("p99 latency at concurrency %d", c), Unit: "ms", Baseline: basePs, BaselineLabel: "raw HookRun creates",
			Measured: srvPs, Ratio: p99Ratio, Goal: "≤ 2× baseline", Met: Bool(p99Ratio <= 2),
		},
	}
}

// Operations counts the errors and all operations of both sides.
func Operations(pairs []*Pair) (errs, total int) {
	for _, row := range pairs {
		s, b := row.Errors()
		errs += s + b
		for i := range row.Measured {
			total += row.Measured[i].OK + row.Measured[i].Errs + row.Base[i].OK + row.Base[i].Errs
		}
	}
	return errs, total
}

// WarmUp runs 200 operations of each side at concurrency 8 (connections,
// caches, the API server's first requests) and fails on any error.
func WarmUp(meter *IdleCPUMeter, run string, measured, baseline func(id string) error) error {
	var warm OpStats
	Measure(&warm, meter, 8, 200, func(i int) error { return measured(fmt.Sprintf("warm-%s-%d", run, i)) })
	Measure(&warm, meter, 8, 200, func(i int) error { return baseline(fmt.Sprintf("warm-%s-%d", run, i)) })
	if warm.Errs > 0 {
		return fmt.Errorf("warm-up: %d errors, first: %w", warm.Errs, warm.FirstErr)
	}
	return nil
}

// CompareAt measures one level of an interleaved comparison: reps
// repetitions (CompareRep) at concurrency c. report, when given, sees each
// repetition.
func CompareAt(meter *IdleCPUMeter, c, n, reps int, run string, measured, baseline func(id string) error, report func(rep int, m, b *OpStats)) *Pair {
	pair := &Pair{C: c}
	for rep := range reps {
		m, b := CompareRep(meter, c, n, rep, run, measured, baseline)
		pair.Measured, pair.Base = append(pair.Measured, m), append(pair.Base, b)
		if report != nil {
			report(rep, m, b)
		}
	}
	return pair
}

// CompareRep is one repetition of an interleaved comparison: 8 blocks of n
// operations at concurrency c, the sides in Interleaved(rep) order. Each
// operation gets an id of its own, with run in it (unique to the benchmark
// run and side).
func CompareRep(meter *IdleCPUMeter, c, n, rep int, run string, measured, baseline func(id string) error) (m, b *OpStats) {
	m, b = &OpStats{}, &OpStats{}
	for k, isMeasured := range Interleaved(rep) {
		if isMeasured {
			Measure(m, meter, c, n, func(i int) error { return measured(fmt.Sprintf("d%d-%s-%d-%d-%d", c, run, rep, k, i)) })
		} else {
			Measure(b, meter, c, n, func(i int) error { return baseline(fmt.Sprintf("b%d-%s-%d-%d-%d", c, run, rep, k, i)) })
		}
	}
	return m, b
}

// Baseline is the baseline of an ingestion benchmark: raw creates of the
// very HookRun a delivery stored (proto), from one client.
type Baseline struct {
	c     client.Client
	proto *hooksv1alpha1.HookRun
	// SpecJSON is the size of proto's spec as JSON, for the report.
	SpecJSON int
}

// NewBaseline reads the HookRun a delivery stored.
func NewBaseline(ctx context.Context, c client.Client, key client.ObjectKey) (*Baseline, error) {
	proto := &hooksv1alpha1.HookRun{}
	if err := c.Get(ctx, key, proto); err != nil {
		return nil, fmt.Errorf("read the delivery's HookRun: %w", err)
	}
	spec, err := json.Marshal(proto.Spec)
	if err != nil {
		return nil, err
	}
	return &Baseline{c: c, proto: proto, SpecJSON: len(spec)}, nil
}

// Create creates a copy of the delivery's HookRun with delivery id id, its
// name as long as the webhook server's names (<prefix>-<10 hex digits>).
func (b *Baseline) Create(ctx context.Context, id string) error {
	sum := sha256.Sum256([]byte(id))
	obj := &hooksv1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{
			Name: "baseline-" + hex.EncodeToString(sum[:5]), Namespace: b.proto.Namespace,
			Labels: b.proto.Labels, OwnerReferences: b.proto.OwnerReferences,
		},
		Spec: *b.proto.Spec.DeepCopy(),
	}
	obj.Spec.Delivery.ID = id
	return b.c.Create(ctx, obj)
}

// IngestionParams are the parameters both ingestion benchmarks report.
func IngestionParams(r *Result, reps, minOps, payloadBytes int, base *Baseline) {
	r.Params["repetitions"] = strconv.Itoa(reps)
	r.Params["operations per side and repetition"] = fmt.Sprintf("4 blocks of max(%d, 8 × concurrency)", minOps)
	r.Params["payload"] = fmt.Sprintf("GitHub push fixture, %d bytes, X-Hub-Signature-256", payloadBytes)
	r.Params["HookRun spec (JSON)"] = fmt.Sprintf("%d bytes", base.SpecJSON)
}
