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

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseGoBench(t *testing.T) {
	text := `goos: linux
goarch: amd64
cpu: AMD EPYC
BenchmarkVerify/github/7KB-2   100000   12000 ns/op   512 B/op   4 allocs/op
BenchmarkVerify/github/7KB-2   100000   14000 ns/op   512 B/op   4 allocs/op
BenchmarkVerify/github/7KB-2   100000   13000 ns/op   512 B/op   4 allocs/op
BenchmarkNormalise/gitlab/1MB-2   100   2000000 ns/op   1048600 B/op   9 allocs/op   500.5 MB/s
PASS
`
	r, ok, err := parseGoBench("webhook-micro", strings.NewReader(text), time.Unix(0, 0))
	if err != nil || !ok {
		t.Fatalf("parse: ok=%v err=%v", ok, err)
	}
	if r.Order != 6 || r.Machine.CPUs != 2 || r.Machine.GOOS != "linux" {
		t.Errorf("order %d, machine %+v", r.Order, r.Machine)
	}
	want := [][]string{
		{"Verify/github/7KB", "3", "13000", "512", "4", "–"},
		{"Normalise/gitlab/1MB", "1", "2000000", "1048600", "9", "500.5"},
	}
	got := r.Tables[0].Rows
	if len(got) != len(want) {
		t.Fatalf("rows: %v", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if _, ok, _ := parseGoBench("empty", strings.NewReader("PASS\n"), time.Unix(0, 0)); ok {
		t.Error("a file without benchmark lines must be skipped")
	}
}

// TestRunIsReproducible renders a report twice from the same files: same
// Markdown, a PNG per plot, every judged headline in the summary.
func TestRunIsReproducible(t *testing.T) {
	in := t.TempDir()
	met := true
	res := Result{
		Name: "reconcile-throughput", Title: "Reconcile throughput", Order: 2,
		Machine:   Machine{Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), GoVersion: "go1.26", CPUs: 2},
		Headlines: []Headline{{Metric: "1000 runs", Unit: "s", Baseline: 2, Measured: 2.4, Ratio: 1.2, Goal: "≤ 1.25× baseline", Met: &met}},
		Tables:    []Table{{Columns: []string{"a", "b|c"}, Rows: [][]string{{"1", "2"}}}},
		Plots: []Plot{
			{Title: "bars", Kind: "bar", YLabel: "s", Categories: []string{"x", "y"}, Series: []Series{{Name: "s", Y: []float64{1, 2}, YLow: []float64{0.5, 1.5}, YHigh: []float64{1.5, 2.5}}}, HLines: []HLine{{Name: "goal", Y: 1.5}}},
			{Title: "lines", XLabel: "runs", YLabel: "s", Series: []Series{{Name: "a", X: []float64{250, 500, 1000}, Y: []float64{1, 2, 4}}}},
		},
	}
	data, _ := json.Marshal(res)
	if err := os.WriteFile(filepath.Join(in, "reconcile-throughput.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var pages [][]byte
	for range 2 {
		out := t.TempDir()
		if err := run(in, out, true); err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(filepath.Join(out, "performance.md"))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
		for _, png := range []string{"reconcile-throughput.png", "reconcile-throughput-2.png"} {
			if _, err := os.Stat(filepath.Join(out, "perf", png)); err != nil {
				t.Errorf("plot: %v", err)
			}
		}
	}
	if !bytes.Equal(pages[0], pages[1]) {
		t.Error("two runs on the same files gave different pages")
	}
	page := string(pages[0])
	for _, want := range []string{"| Reconcile throughput | 1000 runs | 2.00 s | 2.40 s | 1.20× | ≤ 1.25× baseline | **yes** |", `b\|c`, "1. Ingestion", "![bars](perf/reconcile-throughput.png)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestRunKeepsSectionsWithoutResultFiles regenerates a page from one result
// file: the previous page's other sections and summary rows stay, in their
// place; the section of the result is replaced, not repeated; -fresh drops
// the others.
func TestRunKeepsSectionsWithoutResultFiles(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	res := Result{
		Name: "queue-drain", Title: "Queue at scale", Order: 3,
		Machine:   Machine{Date: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), GoVersion: "go1.26", CPUs: 2},
		Headlines: []Headline{{Metric: "drain", Unit: "s", Measured: 9}},
	}
	data, _ := json.Marshal(res)
	if err := os.WriteFile(filepath.Join(in, "queue-drain.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := "# Performance\n\nMeasured on an old machine.\n\n## Summary\n\n" +
		"| benchmark | metric | baseline | measured | ratio | goal | met |\n|---|---|---|---|---|---|---|\n" +
		"| Reconcile throughput | 1000 runs | 2.00 s | 2.40 s | 1.20× | ≤ 1.25× baseline | **yes** |\n" +
		"| Queue at scale | drain | – | 50.0 s | – |  | – |\n" +
		"| In process | rate | – | 800 /s | – |  | – |\n" +
		"| Footprint | peak | – | 97.0 MiB | – | ≤ 100 MiB | **yes** |\n" +
		"\n## 2. Reconcile throughput\n\n*2 cores (AMD EPYC), linux/amd64, go1.26.8, 2026-01-05T01:02:03Z, load average 3 at start (the machine is shared)*\n\n| a |\n|---|\n| 17.9 s |\n\n" +
		"\n## In process\n\nsecondary figures: 804 /s\n" +
		"\n## 3. Queue at scale\n\nold drain figures: 50.0 s\n" +
		"\n## 4. Footprint\n\n![footprint](perf/footprint.png)\n"
	if err := os.WriteFile(filepath.Join(out, "performance.md"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, out, true); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "performance.md"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(page)
	order := []string{
		"| Reconcile throughput | 1000 runs | 2.00 s | 2.40 s | 1.20× | ≤ 1.25× baseline | **yes** |",
		"| In process | rate | – | 800 /s | – |  | – |",
		"| Queue at scale | drain | – | 9.00 s |",
		"| Footprint | peak | – | 97.0 MiB | – | ≤ 100 MiB | **yes** |",
		"## 2. Reconcile throughput\n\n*2 cores",
		"| 17.9 s |",
		"## In process\n\nsecondary figures: 804 /s",
		"## 3. Queue at scale",
		"## 4. Footprint\n\n![footprint](perf/footprint.png)",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(got[at:], want)
		if i < 0 {
			t.Fatalf("page lacks %q after offset %d:\n%s", want, at, got)
		}
		at += i + len(want)
	}
	for _, gone := range []string{"old drain figures", "| Queue at scale | drain | – | 50.0 s"} {
		if strings.Contains(got, gone) {
			t.Errorf("page still has %q: the rerun benchmark's section must replace the old one", gone)
		}
	}
	if !strings.Contains(got, "2026-01-05 to 2026-02-01") {
		t.Errorf("the machine line lacks the kept sections' dates:\n%s", got)
	}
	if strings.Contains(got, "Not in this report") && strings.Contains(got, "2. Reconcile throughput;") {
		t.Errorf("a kept numbered section is listed as missing:\n%s", got)
	}

	if err := run(in, out, false); err != nil {
		t.Fatal(err)
	}
	page, _ = os.ReadFile(filepath.Join(out, "performance.md"))
	for _, gone := range []string{"## 4. Footprint", "| Footprint |", "## In process"} {
		if strings.Contains(string(page), gone) {
			t.Errorf("-fresh: page still has %q", gone)
		}
	}
}
