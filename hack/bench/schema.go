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
	"fmt"
	"time"
)

// The result file format: one JSON object per benchmark, the same as
// github.com/hookrun/hookrun/test/bench/benchutil.Result (copied, not
// imported, so that this module does not pull in the operator's
// dependencies, nor the operator gonum's). Any benchmark may write it:
// unknown fields are ignored, missing ones left out of the report.

// Result is one benchmark's result file.
type Result struct {
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Order       int               `json:"order,omitempty"`
	Description string            `json:"description,omitempty"`
	Command     string            `json:"command,omitempty"`
	Machine     Machine           `json:"machine"`
	Params      map[string]string `json:"params,omitempty"`
	Headlines   []Headline        `json:"headlines,omitempty"`
	Tables      []Table           `json:"tables,omitempty"`
	Plots       []Plot            `json:"plots,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
}

// Machine describes where a result was measured.
type Machine struct {
	Date      time.Time `json:"date"`
	GoVersion string    `json:"goVersion"`
	GOOS      string    `json:"goos"`
	GOARCH    string    `json:"goarch"`
	CPUs      int       `json:"cpus"`
	CPUModel  string    `json:"cpuModel,omitempty"`
	LoadAvg   string    `json:"loadAvg,omitempty"`
}

// Headline is one judged number.
type Headline struct {
	Metric        string  `json:"metric"`
	Unit          string  `json:"unit"`
	Baseline      float64 `json:"baseline,omitempty"`
	BaselineLabel string  `json:"baselineLabel,omitempty"`
	Measured      float64 `json:"measured"`
	Ratio         float64 `json:"ratio,omitempty"`
	Goal          string  `json:"goal,omitempty"`
	Met           *bool   `json:"met,omitempty"`
	// Count marks Measured as a count per unit of work (conflicts per run):
	// 0 is a measured value and shows as 0, not as "not measured".
	Count bool `json:"count,omitempty"`
}

// formatMeasured formats the measured value; 0 is "–" unless it is a count.
func (h Headline) formatMeasured() string {
	if h.Count {
		return fmt.Sprintf("%.2f", h.Measured)
	}
	return formatUnit(h.Measured, h.Unit)
}

// formatBaseline formats the baseline; 0 is "–" (none).
func (h Headline) formatBaseline() string { return formatUnit(h.Baseline, h.Unit) }

// Table is a table of formatted cells.
type Table struct {
	Title   string     `json:"title,omitempty"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	Note    string     `json:"note,omitempty"`
}

// Plot is one chart: "line" (default) or "bar" (grouped over Categories).
type Plot struct {
	Title      string   `json:"title"`
	Kind       string   `json:"kind,omitempty"`
	XLabel     string   `json:"xLabel,omitempty"`
	YLabel     string   `json:"yLabel"`
	LogX       bool     `json:"logX,omitempty"`
	LogY       bool     `json:"logY,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Series     []Series `json:"series"`
	HLines     []HLine  `json:"hlines,omitempty"`
}

// Series is one line or one set of bars, with optional error bars.
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
