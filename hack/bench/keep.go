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

// Sections kept from the previous page. The full `make bench` takes half an
// hour; running one benchmark and regenerating the page must not drop the
// sections of the others because their result files are not in -in. A
// section of the previous performance.md that no result file renders is
// kept as it was (its text, its summary rows, its plots in perf/), in its
// place; -fresh drops them.

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// kept is one section of the previous page that no result file renders.
type kept struct {
	// heading is the section's heading without "## ", as sectionTitle
	// wrote it ("2. Reconcile throughput").
	heading string
	// title is the benchmark's title (the heading without its number), the
	// first cell of its summary rows.
	title string
	// order places it among the results: its number, or the order of the
	// section before it on the previous page.
	order int
	// body is the section's Markdown after the heading, trimmed.
	body string
	// summary are its rows of the previous summary table.
	summary []string
	// machine and date are read from the section's machine line, for the
	// page's "Measured on" line.
	machine string
	date    time.Time
}

var (
	numberedHeading = regexp.MustCompile(`^(\d+)\. (.*)$`)
	machineLineRE   = regexp.MustCompile(`(?m)^\*(.*?)(?:, (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ))?(?:, load average [^*]*)?\*$`)
)

// keptSections reads the sections of a previous page (its Markdown) that
// none of the results renders.
func keptSections(page string, results []*Result) []kept {
	rendered := map[string]bool{}
	for _, r := range results {
		rendered[sectionTitle(r)] = true
	}
	chunks := splitSections(page)
	var summaryRows []string
	var out []kept
	order := 0
	for _, c := range chunks {
		if c.heading == "Summary" {
			summaryRows = tableRows(c.body)
			continue
		}
		title := c.heading
		if m := numberedHeading.FindStringSubmatch(c.heading); m != nil {
			order, _ = strconv.Atoi(m[1])
			title = m[2]
		}
		if rendered[c.heading] {
			continue
		}
		k := kept{heading: c.heading, title: title, order: order, body: strings.TrimSpace(c.body)}
		if m := machineLineRE.FindStringSubmatch(k.body); m != nil {
			k.machine = m[1]
			k.date, _ = time.Parse(time.RFC3339, m[2])
		}
		out = append(out, k)
	}
	for i := range out {
		for _, row := range summaryRows {
			if firstCell(row) == cell(out[i].title) {
				out[i].summary = append(out[i].summary, row)
			}
		}
	}
	return out
}

type chunk struct{ heading, body string }

// splitSections splits a page at its "## " headings; the text before the
// first one (the page's preamble, regenerated) is dropped.
func splitSections(page string) []chunk {
	var out []chunk
	for _, part := range strings.Split("\n"+page, "\n## ")[1:] {
		heading, body, _ := strings.Cut(part, "\n")
		out = append(out, chunk{heading: strings.TrimSpace(heading), body: body})
	}
	return out
}

// tableRows are the body rows of the first Markdown table in s.
func tableRows(s string) []string {
	var rows []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		rows = append(rows, line)
	}
	if len(rows) > 0 && strings.HasPrefix(rows[0], "| benchmark |") {
		rows = rows[1:]
	}
	return rows
}

// firstCell is a table row's first cell as written ("|" escaped).
func firstCell(row string) string {
	rest := strings.TrimPrefix(row, "| ")
	for i := 0; i+2 < len(rest); i++ {
		if rest[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(rest[i:], " | ") {
			return rest[:i]
		}
	}
	return ""
}
