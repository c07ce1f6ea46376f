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
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Labels are bounded: provider is one of the five providers or "none" (the
// template was not found), code is an HTTP status code.
var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookrun_webhook_requests_total",
		Help: "Webhook requests answered, by provider and HTTP status code.",
	}, []string{"provider", "code"})

	signatureFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookrun_webhook_signature_failures_total",
		Help: "Webhook requests rejected with 401 for a missing or wrong signature, by provider.",
	}, []string{"provider"})

	duplicatesTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hookrun_webhook_duplicates_total",
		Help: "Redeliveries answered as duplicates of a stored HookRun.",
	})

	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hookrun_webhook_request_duration_seconds",
		Help:    "Time to answer a webhook request, by provider.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"provider"})
)

// noProvider labels requests answered before a template was found.
const noProvider = "none"

func init() {
	ctrlmetrics.Registry.MustRegister(requestsTotal, signatureFailuresTotal, duplicatesTotal, requestDuration)
}
