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
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// The badge reads a template's runs from the manager's cache. A finished
// run keeps its phase, completion time and ref there (controllers'
// stripRun), which is all a badge needs.
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns,verbs=get;list;watch

// BadgePrefix is where status badges are served:
// GET BadgePrefix + "{namespace}/{template}.svg[?ref=<full ref>]".
const BadgePrefix = "/badges/"

// badgeSuffix ends a badge path.
const badgeSuffix = ".svg"

// Badge colours: the ones shields.io badges use.
const (
	colourGreen = "#4c1"
	colourRed   = "#e05d44"
	colourGrey  = "#9f9f9f"
	colourLabel = "#555"
)

// noRunText is a badge's status before any run has finished.
const noRunText = "none"

// serveBadge answers GET /badges/{namespace}/{template}.svg: an SVG with
// the template's name and the phase of its last finished run (of ?ref=
// when given). A template that does not exist, is being deleted or has not
// set spec.badge gets the 404 of any unknown path: a badge URL tells
// nothing about templates that did not opt in.
func (s *Server) serveBadge(w http.ResponseWriter, r *http.Request) {
	ns, name, ok := badgePath(r.URL.Path)
	if !ok {
		writeAnswer(w, notFound())
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		a := fail(http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: badges are read with GET", r.Method))
		a.allow = "GET, HEAD"
		writeAnswer(w, a)
		return
	}
	log := logf.FromContext(r.Context()).WithValues("namespace", ns, "template", name)
	ctx, cancel := context.WithTimeout(logf.IntoContext(r.Context(), log), apiTimeout)
	defer cancel()
	tmpl, err := s.template(ctx, ns, name)
	if err != nil {
		writeAnswer(w, answerOf(err))
		return
	}
	if !tmpl.Spec.Badge {
		writeAnswer(w, notFound())
		return
	}
	var runs v1alpha1.HookRunList
	if err := s.reader.List(ctx, &runs, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelTemplate: name}); err != nil {
		log.Error(err, "list HookRuns for the badge")
		writeAnswer(w, fail(http.StatusServiceUnavailable, "badge unavailable; try again later"))
		return
	}
	phase := lastFinished(runs.Items, name, r.URL.Query().Get("ref"))
	body := badgeSVG(name, phase)
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// badgePath splits /badges/{namespace}/{template}.svg.
func badgePath(p string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(p, BadgePrefix)
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutSuffix(rest, badgeSuffix)
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, "/")
	if !ok || strings.Contains(name, "/") {
		return "", "", false
	}
	if len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return "", "", false
	}
	return ns, name, true
}

// lastFinished is the phase of the template's run that finished last (of
// ref, when not empty), or "" when none has. Runs are ordered by
// completion time, else creation time, then name.
func lastFinished(runs []v1alpha1.HookRun, template, ref string) v1alpha1.HookRunPhase {
	var last *v1alpha1.HookRun
	for i := range runs {
		run := &runs[i]
		if !run.Status.Phase.IsFinished() || run.Spec.TemplateRef.Name != template {
			continue
		}
		if ref != "" && run.Spec.Delivery.Ref != ref {
			continue
		}
		if last == nil || finishedBefore(last, run) {
			last = run
		}
	}
	if last == nil {
		return ""
	}
	return last.Status.Phase
}

// finishedBefore reports whether a ended before b.
func finishedBefore(a, b *v1alpha1.HookRun) bool {
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if a.Status.CompletionTime != nil {
		ta = a.Status.CompletionTime.Time
	}
	if b.Status.CompletionTime != nil {
		tb = b.Status.CompletionTime.Time
	}
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

// badgeColour is the colour of a phase: green for Succeeded, red for
// Failed, grey for the rest (Cancelled, Skipped, no run yet).
func badgeColour(phase v1alpha1.HookRunPhase) string {
	switch phase {
	case v1alpha1.PhaseSucceeded:
		return colourGreen
	case v1alpha1.PhaseFailed:
		return colourRed
	}
	return colourGrey
}

// textWidth estimates the width of s in 11px Verdana (shields.io's font):
// about 7px a character, plus padding.
func textWidth(s string) int {
	return 7*utf8.RuneCountInString(s) + 10
}

// badgeSVG is a flat two-part badge: the template's name on grey, the
// phase on its colour.
func badgeSVG(template string, phase v1alpha1.HookRunPhase) []byte {
	status := string(phase)
	if status == "" {
		status = noRunText
	}
	lw, rw := textWidth(template), textWidth(status)
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	label, value := esc(template), esc(status)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, lw+rw, label, value)
	fmt.Fprintf(&b, `<title>%s: %s</title>`, label, value)
	fmt.Fprintf(&b, `<rect width="%d" height="20" fill="%s"/>`, lw, colourLabel)
	fmt.Fprintf(&b, `<rect x="%d" width="%d" height="20" fill="%s"/>`, lw, rw, badgeColour(phase))
	fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="%d" y="14">%s</text>`, lw/2, label)
	fmt.Fprintf(&b, `<text x="%d" y="14">%s</text>`, lw+rw/2, value)
	b.WriteString("</g></svg>\n")
	return b.Bytes()
}
