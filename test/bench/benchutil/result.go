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

// Package benchutil holds what hookrun's benchmarks share: the result file
// format that hack/bench turns into docs/performance.md, a stand-in for the
// job controller, watchers that time phases, /proc readings and small
// statistics. It is imported by benchmarks only.
package benchutil

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// OutDirEnv names the folder that receives one JSON result file per
// benchmark. Unset: nothing is written, the tables are printed only.
const OutDirEnv = "HOOKRUN_BENCH_OUT"

// Result is one benchmark's result file, $HOOKRUN_BENCH_OUT/<Name>.json.
// hack/bench reads any file of this shape (other packages' benchmarks may
// write it too): the headlines go into the report's summary table, the
// tables are rendered as they are and each plot becomes a PNG.
type Result struct {
	// Name is the file stem and the PNG's name: "reconcile-throughput".
	Name string `json:"name"`
	// Title is the section heading.
	Title string `json:"title"`
	// Order places the section in the report (ascending); the item
	// number is a good choice.
	Order int `json:"order,omitempty"`
	// Description says what is measured and how, in Markdown.
	Description string `json:"description,omitempty"`
	// Command reproduces the result.
	Command string `json:"command,omitempty"`
	// Machine is where and when it ran.
	Machine Machine `json:"machine"`
	// Params are the sizes and settings used (repetitions, object counts).
	Params map[string]string `json:"params,omitempty"`
	// Headlines are the numbers the goal is judged on.
	Headlines []Headline `json:"headlines,omitempty"`
	Tables    []Table    `json:"tables,omitempty"`
	Plots     []Plot     `json:"plots,omitempty"`
	// Notes are findings, in Markdown, one paragraph each.
	Notes []string `json:"notes,omitempty"`
}

// Machine describes where a result was measured.
type Machine struct {
	Date      time.Time `json:"date"`
	GoVersion string    `json:"goVersion"`
	GOOS      string    `json:"goos"`
	GOARCH    string    `json:"goarch"`
	CPUs      int       `json:"cpus"`
	CPUModel  string    `json:"cpuModel,omitempty"`
	// LoadAvg is /proc/loadavg's 1-minute figure when the benchmark started:
	// the machine is shared, so it tells how noisy the run was.
	LoadAvg string `json:"loadAvg,omitempty"`
}

// Headline is one judged number: measured against a baseline from the same
// run, or against a fixed limit (Baseline 0, Ratio 0).
type Headline struct {
	Metric        string  `json:"metric"`
	Unit          string  `json:"unit"`
	Baseline      float64 `json:"baseline,omitempty"`
	BaselineLabel string  `json:"baselineLabel,omitempty"`
	Measured      float64 `json:"measured"`
	// Ratio is Measured/Baseline (0 when there is no baseline).
	Ratio float64 `json:"ratio,omitempty"`
	// Goal is the goal in words: "≤ 1.25× baseline", "≤ 100 MiB".
	Goal string `json:"goal,omitempty"`
	// Met is nil when the goal is not judged.
	Met *bool `json:"met,omitempty"`
	// Count marks Measured as a count per unit of work (conflicts per run):
	// 0 is a measured value and shows as 0, not as "not measured".
	Count bool `json:"count,omitempty"`
}

// Table is a table of already formatted cells.
type Table struct {
	Title   string     `json:"title,omitempty"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	Note    string     `json:"note,omitempty"`
}

// Plot is one chart. Kind "line" (default) draws each series as a line
// with points over X; "bar" draws grouped bars over Categories, one group per
// series, taking Y only.
type Plot struct {
	Title      string   `json:"title"`
	Kind       string   `json:"kind,omitempty"`
	XLabel     string   `json:"xLabel,omitempty"`
	YLabel     string   `json:"yLabel"`
	LogX       bool     `json:"logX,omitempty"`
	LogY       bool     `json:"logY,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Series     []Series `json:"series"`
	// HLines are horizontal reference lines (a goal, a limit).
	HLines []HLine `json:"hlines,omitempty"`
}

// Series is one line or one set of bars. YLow/YHigh, when given, draw
// error bars (the spread of the repetitions).
type Series struct {
	Name  string    `json:"name"`
	X     []float64 `json:"x,omitempty"`
	Y     []float64 `json:"y"`
	YLow  []float64 `json:"yLow,omitempty"`
	YHigh []float64 `json:"yHigh,omitempty"`
}

// HLine is a horizontal reference line.
type HLine struct {
	Name string  `json:"name"`
	Y    float64 `json:"y"`
}

// NewResult starts a result with the machine filled in.
func NewResult(name, title string, order int) *Result {
	return &Result{Name: name, Title: title, Order: order, Machine: ThisMachine(), Params: map[string]string{}}
}

// ThisMachine describes the machine the benchmark runs on.
func ThisMachine() Machine {
	m := Machine{
		Date:      time.Now().UTC().Truncate(time.Second),
		GoVersion: runtime.Version(),
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if fields := strings.Fields(string(b)); len(fields) > 0 {
			m.LoadAvg = fields[0]
		}
	}
	return m
}

// Write prints the result's tables to w and, when $HOOKRUN_BENCH_OUT is
// set, writes <Name>.json there. It returns the file written ("" if none).
func (r *Result) Write(w io.Writer) (string, error) {
	r.Print(w)
	dir := os.Getenv(OutDirEnv)
	if dir == "" {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, r.Name+".json")
	return path, os.WriteFile(path, append(data, '\n'), 0o644)
}

// Print writes the headlines and tables as aligned text.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s (%d CPUs, %s, load %s)\n", r.Title, r.Machine.CPUs, r.Machine.GoVersion, r.Machine.LoadAvg)
	if len(r.Headlines) > 0 {
		t := Table{Columns: []string{"metric", "baseline", "measured", "ratio", "goal", "met"}}
		for _, h := range r.Headlines {
			measured := FormatUnit(h.Measured, h.Unit)
			if h.Count {
				measured = fmt.Sprintf("%.2f", h.Measured)
			}
			t.Rows = append(t.Rows, []string{h.Metric, FormatUnit(h.Baseline, h.Unit), measured, FormatRatio(h.Ratio), h.Goal, FormatMet(h.Met)})
		}
		t.Print(w)
	}
	for _, t := range r.Tables {
		t.Print(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// Print writes the table as aligned text.
func (t Table) Print(w io.Writer) {
	if t.Title != "" {
		fmt.Fprintf(w, "\n-- %s\n", t.Title)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
	for _, row := range t.Rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
}

// FormatUnit formats a value with its unit; 0 is "–".
func FormatUnit(v float64, unit string) string {
	if v == 0 {
		return "–"
	}
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

// FormatRatio formats a ratio as "1.23×"; 0 is "–".
func FormatRatio(r float64) string {
	if r == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

// FormatMet formats a goal verdict.
func FormatMet(met *bool) string {
	switch {
	case met == nil:
		return "–"
	case *met:
		return "yes"
	default:
		return "no"
	}
}

// Bool returns a pointer to b, for Headline.Met.
func Bool(b bool) *bool { return &b }
