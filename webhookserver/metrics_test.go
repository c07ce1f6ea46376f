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

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

func TestPathKindOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want pathKind
	}{
		{path: "/hooks/web/site", want: pathHooks},
		{path: "/hooks/", want: pathHooks},
		{path: "/hooks/web/site/extra", want: pathHooks},
		{path: "/sources/web/acme", want: pathSources},
		{path: "/sources/", want: pathSources},
		{path: "/hooks", want: pathOther},
		{path: "/sources", want: pathOther},
		{path: "/", want: pathOther},
		{path: "/metrics", want: pathOther},
		{path: "/web/hooks/site", want: pathOther},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := pathKindOf(tc.path); got != tc.want {
				t.Errorf("pathKindOf(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

// histogramCount is the number of observations of one histogram series.
func histogramCount(t testing.TB, o prometheus.Observer) uint64 {
	t.Helper()
	m := &dto.Metric{}
	if err := o.(prometheus.Metric).Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

func TestMetricsSplitByPathKind(t *testing.T) {
	env := newFakeEnv(t, Options{}, nil, testTemplate("web", v1alpha1.ProviderGitHub), testSecret("web", map[string]string{"secret": "k"}))
	for _, tc := range []struct {
		name, path   string
		header       http.Header
		wantCode     int
		wantProvider string
		wantKind     pathKind
		wantSigFail  bool
	}{
		{name: "unsigned delivery to a template", path: "/hooks/web/site", header: headers("X-GitHub-Event", "push"),
			wantCode: http.StatusUnauthorized, wantProvider: "github", wantKind: pathHooks, wantSigFail: true},
		{name: "unknown template", path: "/hooks/web/nope", header: headers(),
			wantCode: http.StatusNotFound, wantProvider: noProvider, wantKind: pathHooks},
		{name: "unknown source", path: "/sources/web/nope", header: headers(),
			wantCode: http.StatusNotFound, wantProvider: noProvider, wantKind: pathSources},
		{name: "neither a template's nor a source's path", path: "/web/site", header: headers(),
			wantCode: http.StatusNotFound, wantProvider: noProvider, wantKind: pathOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests := requestsTotal.WithLabelValues(tc.wantProvider, strconv.Itoa(tc.wantCode), string(tc.wantKind))
			observed := requestDuration.WithLabelValues(tc.wantProvider, string(tc.wantKind))
			sigFails := signatureFailuresTotal.WithLabelValues(tc.wantProvider, string(tc.wantKind))
			beforeReq, beforeObs, beforeSig := counterValue(t, requests), histogramCount(t, observed), counterValue(t, sigFails)

			r := env.do(t, http.MethodPost, tc.path, tc.header, []byte("{}"))
			if r.code != tc.wantCode {
				t.Fatalf("POST %s: %d %s, want %d", tc.path, r.code, r.body, tc.wantCode)
			}
			if got := counterValue(t, requests) - beforeReq; got != 1 {
				t.Errorf("requests_total{provider=%q,code=%d,path_kind=%q} grew by %v, want 1", tc.wantProvider, tc.wantCode, tc.wantKind, got)
			}
			if got := histogramCount(t, observed) - beforeObs; got != 1 {
				t.Errorf("request_duration_seconds{provider=%q,path_kind=%q} observed %d times, want 1", tc.wantProvider, tc.wantKind, got)
			}
			wantSig := 0.0
			if tc.wantSigFail {
				wantSig = 1
			}
			if got := counterValue(t, sigFails) - beforeSig; got != wantSig {
				t.Errorf("signature_failures_total{provider=%q,path_kind=%q} grew by %v, want %v", tc.wantProvider, tc.wantKind, got, wantSig)
			}
		})
	}
}

// TestMetricsLabels pins the label names a dashboard queries, and that the
// path is never a label value (bounded cardinality).
func TestMetricsLabels(t *testing.T) {
	env := newFakeEnv(t, Options{}, nil, testTemplate("web", v1alpha1.ProviderGitHub), testSecret("web", map[string]string{"secret": "k"}))
	env.do(t, http.MethodPost, "/hooks/web/site", headers("X-GitHub-Event", "push"), []byte("{}"))
	env.do(t, http.MethodPost, "/sources/web/some-source", headers(), []byte("{}"))
	duplicatesTotal.WithLabelValues(string(pathHooks)) // a family is only gathered with a series
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"hookrun_webhook_requests_total":           {"code", "path_kind", "provider"},
		"hookrun_webhook_signature_failures_total": {"path_kind", "provider"},
		"hookrun_webhook_duplicates_total":         {"path_kind"},
		"hookrun_webhook_request_duration_seconds": {"path_kind", "provider"},
	}
	kinds := []string{string(pathHooks), string(pathSources), string(pathOther)}
	got := map[string][]string{}
	for _, f := range families {
		if _, ok := want[f.GetName()]; !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
				if l.GetName() == labelPathKind && !slices.Contains(kinds, l.GetValue()) {
					t.Errorf("%s: path_kind %q, want one of %v", f.GetName(), l.GetValue(), kinds)
				}
			}
			slices.Sort(names)
			got[f.GetName()] = names
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("label names (-want +got):\n%s", diff)
	}
}
