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

package observability

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// A PromQL reader just good enough to list what a query needs from the
// scraped metrics: the metric names it selects, the labels its matchers
// name, and the labels it groups or matches by. Prometheus' own parser
// (promql/parser) would pull the whole Prometheus module into the
// operator's go.mod; promtool (built from it) checks the syntax of the
// alert rules, and this reader fails on anything it does not understand.

// selector is one vector selector: metric{label op "value", ...}.
type selector struct {
	Metric string
	Labels []string // label names of its matchers, in order
}

// query is what one PromQL expression uses.
type query struct {
	Selectors []selector
	Grouping  []string // labels of by/without/on/ignoring/group_left/group_right (…)
}

// promqlWords are the keywords and aggregation operators: an identifier
// that is one of them is not a metric name.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "stddev": true, "stdvar": true,
	"topk": true, "bottomk": true, "quantile": true, "count_values": true, "group": true,
	"limitk": true, "limit_ratio": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "offset": true, "bool": true, "atan2": true,
}

// groupingWords take a parenthesised list of label names.
var groupingWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number, or the punctuation itself
	text string
}

func lex(expr string) ([]token, error) {
	var toks []token
	r := []rune(expr)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '#': // comment to the end of the line
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(r) && r[j] != c {
				if r[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, token{'s', string(r[i+1 : j])})
			i = j + 1
		case c == '[': // range or subquery: durations and Grafana's $__rate_interval
			j := i
			for j < len(r) && r[j] != ']' {
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated [ at %d", i)
			}
			i = j + 1
		case unicode.IsLetter(c) || c == '_' || c == ':':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == ':') {
				j++
			}
			toks = append(toks, token{'i', string(r[i:j])})
			i = j
		case unicode.IsDigit(c) || c == '.':
			j := i
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.' || r[j] == 'e' || r[j] == 'E') {
				j++
			}
			toks = append(toks, token{'n', string(r[i:j])})
			i = j
		case strings.ContainsRune("(){},", c):
			toks = append(toks, token{byte(c), string(c)})
			i++
		case strings.ContainsRune("+-*/%^=!<>~", c):
			j := i + 1
			for j < len(r) && strings.ContainsRune("=!<>~", r[j]) {
				j++
			}
			toks = append(toks, token{'o', string(r[i:j])})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return toks, nil
}

// parseQuery lists the selectors and grouping labels of a PromQL expression.
func parseQuery(expr string) (query, error) {
	toks, err := lex(expr)
	if err != nil {
		return query{}, err
	}
	var q query
	next := func(i int) byte {
		if i+1 < len(toks) {
			return toks[i+1].kind
		}
		return 0
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == 'i' && groupingWords[t.text]:
			if next(i) != '(' {
				if t.text == "group_left" || t.text == "group_right" {
					continue // without a label list
				}
				return query{}, fmt.Errorf("%s without a label list", t.text)
			}
			j := i + 2
			for ; j < len(toks) && toks[j].kind != ')'; j++ {
				switch toks[j].kind {
				case 'i':
					q.Grouping = append(q.Grouping, toks[j].text)
				case ',':
				default:
					return query{}, fmt.Errorf("unexpected %q in %s (…)", toks[j].text, t.text)
				}
			}
			i = j
		case t.kind == 'i' && promqlWords[t.text]:
		case t.kind == 'i' && next(i) == '(':
			// a function call
		case t.kind == 'i' || t.kind == '{':
			s := selector{}
			if t.kind == 'i' {
				s.Metric = t.text
				if next(i) != '{' {
					q.Selectors = append(q.Selectors, s)
					continue
				}
				i++
			}
			j := i + 1
			for ; j < len(toks) && toks[j].kind != '}'; j++ {
				if toks[j].kind == ',' {
					continue
				}
				if j+2 >= len(toks) || toks[j].kind != 'i' || toks[j+1].kind != 'o' || toks[j+2].kind != 's' {
					return query{}, fmt.Errorf("bad matcher in %q", expr)
				}
				if toks[j].text == "__name__" {
					s.Metric = toks[j+2].text
				} else {
					s.Labels = append(s.Labels, toks[j].text)
				}
				j += 2
			}
			if j >= len(toks) {
				return query{}, fmt.Errorf("unterminated { in %q", expr)
			}
			if s.Metric == "" {
				return query{}, fmt.Errorf("a selector without a metric name in %q", expr)
			}
			q.Selectors = append(q.Selectors, s)
			i = j
		}
	}
	if len(q.Selectors) == 0 {
		return query{}, fmt.Errorf("no metric in %q", expr)
	}
	return q, nil
}

// parseLabelValues reads Grafana's label_values(selector, label) variable
// query: the selector's query plus the label it lists.
func parseLabelValues(def string) (query, error) {
	def = strings.TrimSpace(def)
	inner, ok := strings.CutPrefix(def, "label_values(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return query{}, fmt.Errorf("not label_values(…): %q", def)
	}
	inner = strings.TrimSuffix(inner, ")")
	comma := strings.LastIndexByte(inner, ',')
	if comma < 0 {
		return query{}, fmt.Errorf("label_values without a label: %q", def)
	}
	q, err := parseQuery(inner[:comma])
	if err != nil {
		return query{}, err
	}
	q.Grouping = append(q.Grouping, strings.TrimSpace(inner[comma+1:]))
	return q, nil
}

func TestParseQuery(t *testing.T) {
	cases := []struct {
		name    string
		expr    string
		want    query
		wantErr bool
	}{{
		name: "rate by labels",
		expr: `sum by (provider, code) (rate(hookrun_webhook_requests_total{job="hookrun", code=~"5.."}[$__rate_interval]))`,
		want: query{Selectors: []selector{{Metric: "hookrun_webhook_requests_total", Labels: []string{"job", "code"}}}, Grouping: []string{"provider", "code"}},
	}, {
		name: "histogram quantile",
		expr: `histogram_quantile(0.99, sum by (le, verb) (rate(rest_client_request_duration_seconds_bucket{job="hookrun"}[5m])))`,
		want: query{Selectors: []selector{{Metric: "rest_client_request_duration_seconds_bucket", Labels: []string{"job"}}}, Grouping: []string{"le", "verb"}},
	}, {
		name: "binary operators, unless on, absent, bare metric",
		expr: "max by (namespace) (up{job=\"x\"}) < 1\nunless on (namespace)\nabsent(leader_election_master_status{name='a'}) or vector(0) * other_metric",
		want: query{Selectors: []selector{
			{Metric: "up", Labels: []string{"job"}},
			{Metric: "leader_election_master_status", Labels: []string{"name"}},
			{Metric: "other_metric"},
		}, Grouping: []string{"namespace", "namespace"}},
	}, {
		name: "__name__ matcher",
		expr: `{__name__="hookrun_runs_total", phase!="Failed"}`,
		want: query{Selectors: []selector{{Metric: "hookrun_runs_total", Labels: []string{"phase"}}}},
	}, {
		name: "aggregation argument before the grouping",
		expr: `sum(rate(a_total[5m])) without (pod)`,
		want: query{Selectors: []selector{{Metric: "a_total"}}, Grouping: []string{"pod"}},
	}, {
		name:    "broken matcher",
		expr:    `a{job=}`,
		wantErr: true,
	}, {
		name:    "only a number",
		expr:    `vector(1)`,
		wantErr: true,
	}, {
		name:    "unterminated string",
		expr:    `a{job="x}`,
		wantErr: true,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseQuery(tc.expr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseLabelValues(t *testing.T) {
	got, err := parseLabelValues(`label_values(hookrun_runs_total{job="hookrun", namespace=~"$namespace"}, template)`)
	if err != nil {
		t.Fatal(err)
	}
	want := query{Selectors: []selector{{Metric: "hookrun_runs_total", Labels: []string{"job", "namespace"}}}, Grouping: []string{"template"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if _, err := parseLabelValues(`query_result(up)`); err == nil {
		t.Error("query_result accepted")
	}
}
