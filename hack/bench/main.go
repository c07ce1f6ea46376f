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

// Command bench turns the benchmarks' result files into docs/performance.md
// and one PNG plot per benchmark in docs/perf/:
//
//	cd hack/bench && go run . -in ../../bin/bench -out ../../docs
//
// It reads every NAME.json in -in (the format in schema.go, written by the
// benchmarks when HOOKRUN_BENCH_OUT is set) and every NAME.txt holding
// `go test -bench` output. The output depends on the result files (and the
// previous page) only (no clock, no machine probe), so regenerating from the
// same files gives the same report. Sections of the previous performance.md
// that no result file renders are kept as they were, so that one benchmark
// can be rerun alone (keep.go); -fresh drops them.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	in := flag.String("in", "bin/bench", "folder with the result files (NAME.json, NAME.txt)")
	out := flag.String("out", "docs", "folder that receives performance.md and perf/*.png")
	fresh := flag.Bool("fresh", false, "drop the sections of the previous performance.md that no result file renders (default: keep them as they are)")
	flag.Parse()
	if err := run(*in, *out, !*fresh); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run renders the report; with keepOld, the sections of the previous
// out/performance.md that no result file renders stay (keep.go).
func run(in, out string, keepOld bool) error {
	results, err := readResults(in)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no result files in %s: run `make bench` first", in)
	}
	perf := filepath.Join(out, "perf")
	if err := os.MkdirAll(perf, 0o755); err != nil {
		return err
	}
	plots := map[string][]string{}
	for _, r := range results {
		for i, spec := range r.Plots {
			file := r.Name + ".png"
			if i > 0 {
				file = fmt.Sprintf("%s-%d.png", r.Name, i+1)
			}
			if err := renderPlot(spec, filepath.Join(perf, file)); err != nil {
				return fmt.Errorf("plot %s: %w", file, err)
			}
			plots[r.Name] = append(plots[r.Name], "perf/"+file)
		}
	}
	path := filepath.Join(out, "performance.md")
	var keep []kept
	if keepOld {
		old, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		keep = keptSections(string(old), results)
	}
	md := renderMarkdown(results, plots, keep)
	if err := os.WriteFile(path, md, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %d plots from %d result files, %d sections kept from the previous page\n", path, countPlots(plots), len(results), len(keep))
	return nil
}

func countPlots(plots map[string][]string) int {
	n := 0
	for _, p := range plots {
		n += len(p)
	}
	return n
}

// readResults reads the result files, ordered by Order, then name.
func readResults(dir string) ([]*Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var results []*Result
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		switch filepath.Ext(e.Name()) {
		case ".json":
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			r := &Result{}
			dec := json.NewDecoder(bytes.NewReader(data))
			if err := dec.Decode(r); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if r.Name == "" {
				r.Name = strings.TrimSuffix(e.Name(), ".json")
			}
			if r.Title == "" {
				r.Title = r.Name
			}
			results = append(results, r)
		case ".txt":
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			info, _ := f.Stat()
			r, ok, err := parseGoBench(strings.TrimSuffix(e.Name(), ".txt"), f, info.ModTime())
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if ok {
				results = append(results, r)
			}
		}
	}
	slices.SortStableFunc(results, func(a, b *Result) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.Name, b.Name)
	})
	return results, nil
}
