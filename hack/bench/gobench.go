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
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A file NAME.txt holding `go test -bench` output (the webhook handler's
// micro-benchmarks, issue 7 item 6) becomes a section of its own: one row
// per benchmark with the median of its -count runs, and a plot of ns/op.

// benchLine matches "BenchmarkName-8   1000   1234 ns/op   56 B/op   2 allocs/op".
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-(\d+))?\s+(\d+)\s+(.+)$`)

// parseGoBench turns `go test -bench` output into a Result. ok is false
// when the text holds no benchmark line.
func parseGoBench(name string, r io.Reader, modTime time.Time) (res *Result, ok bool, err error) {
	type bench struct {
		name    string
		metrics map[string][]float64
	}
	var order []string
	benches := map[string]*bench{}
	units := []string{}
	machine := Machine{Date: modTime.UTC().Truncate(time.Second)}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if k, v, found := strings.Cut(line, ":"); found && !strings.HasPrefix(line, "Benchmark") {
			switch k {
			case "goos":
				machine.GOOS = strings.TrimSpace(v)
			case "goarch":
				machine.GOARCH = strings.TrimSpace(v)
			case "cpu":
				machine.CPUModel = strings.TrimSpace(v)
			}
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if procs, err := strconv.Atoi(m[2]); err == nil && procs > machine.CPUs {
			machine.CPUs = procs
		}
		b := benches[m[1]]
		if b == nil {
			b = &bench{name: m[1], metrics: map[string][]float64{}}
			benches[m[1]] = b
			order = append(order, m[1])
		}
		fields := strings.Fields(m[4])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			unit := fields[i+1]
			b.metrics[unit] = append(b.metrics[unit], v)
			if !slices.Contains(units, unit) {
				units = append(units, unit)
			}
		}
	}
	if err := s.Err(); err != nil {
		return nil, false, err
	}
	if len(order) == 0 {
		return nil, false, nil
	}
	// ns/op, B/op, allocs/op first, then custom metrics in order of appearance.
	slices.SortStableFunc(units, func(a, b string) int { return unitRank(a) - unitRank(b) })

	res = &Result{
		Name: name, Title: "Go micro-benchmarks: " + name, Order: 90, Machine: machine,
		Description: fmt.Sprintf("`go test -bench` output from %s.txt: the median of each benchmark's runs (`-count`).", name),
	}
	if strings.Contains(name, "webhook") || strings.Contains(name, "micro") {
		res.Order = 6
	}
	table := Table{Columns: append([]string{"benchmark", "runs"}, units...)}
	plot := Plot{Title: name + ": time per operation (median)", Kind: "dots", YLabel: "ns/op (log scale)", LogY: true}
	ns := Series{Name: "ns/op"}
	for _, n := range order {
		b := benches[n]
		row := []string{strings.TrimPrefix(n, "Benchmark"), strconv.Itoa(len(b.metrics[units[0]]))}
		for _, u := range units {
			if v := b.metrics[u]; len(v) > 0 {
				row = append(row, formatNumber(median(v)))
			} else {
				row = append(row, "–")
			}
		}
		table.Rows = append(table.Rows, row)
		if v := b.metrics["ns/op"]; len(v) > 0 {
			plot.Categories = append(plot.Categories, strings.TrimPrefix(n, "Benchmark"))
			lo, hi := slices.Min(v), slices.Max(v)
			ns.Y, ns.YLow, ns.YHigh = append(ns.Y, median(v)), append(ns.YLow, lo), append(ns.YHigh, hi)
		}
	}
	res.Tables = []Table{table}
	if len(ns.Y) > 0 {
		plot.Series = []Series{ns}
		res.Plots = []Plot{plot}
	}
	return res, true, nil
}

func unitRank(u string) int {
	switch u {
	case "ns/op":
		return 0
	case "B/op":
		return 1
	case "allocs/op":
		return 2
	}
	return 3
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// formatNumber prints integers without decimals and small values with a few.
func formatNumber(v float64) string {
	switch {
	case v >= 1000 || v == float64(int64(v)):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
