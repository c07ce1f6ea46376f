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
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Labels are bounded: provider is one of the five providers or "none" (the
// template or source was not found), code is an HTTP status code, path_kind
// is the kind of URL the request was POSTed to (pathKind): never the
// namespace or the name in the path.
var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookrun_webhook_requests_total",
		Help: "Webhook requests answered, by provider, HTTP status code and path kind (hooks: a template's URL, sources: a HookSource's).",
	}, []string{"provider", "code", labelPathKind})

	signatureFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookrun_webhook_signature_failures_total",
		Help: "Webhook requests rejected with 401 for a missing or wrong signature, by provider and path kind.",
	}, []string{"provider", labelPathKind})

	duplicatesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookrun_webhook_duplicates_total",
		Help: "Runs of a redelivery that existed already (one per matching template for a HookSource), by path kind.",
	}, []string{labelPathKind})

	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hookrun_webhook_request_duration_seconds",
		Help:    "Time to answer a webhook request, by provider and path kind.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"provider", labelPathKind})
)

// noProvider labels requests answered before a template was found.
const noProvider = "none"

// labelPathKind is the metrics label of the kind of URL a request was for.
const labelPathKind = "path_kind"

// pathKind is the value of labelPathKind: a fan-out delivery to a HookSource
// costs more than one to a template, so a platform team splits latency,
// errors and duplicates by it.
type pathKind string

const (
	pathHooks   pathKind = "hooks"   // POST /hooks/{namespace}/{template}
	pathSources pathKind = "sources" // POST /sources/{namespace}/{source}
	pathOther   pathKind = "other"   // anything else that reaches the handler (404)
)

// pathKindOf is the kind of a request path.
func pathKindOf(p string) pathKind {
	switch {
	case strings.HasPrefix(p, PathPrefix):
		return pathHooks
	case strings.HasPrefix(p, SourcePathPrefix):
		return pathSources
	default:
		return pathOther
	}
}

func init() {
	ctrlmetrics.Registry.MustRegister(requestsTotal, signatureFailuresTotal, duplicatesTotal, requestDuration)
}
