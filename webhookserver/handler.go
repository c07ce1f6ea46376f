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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// HTTP headers of the contract.
const (
	// HeaderReason carries the reason of a 204 (ignored delivery).
	HeaderReason = "X-Hookrun-Reason"
	// HeaderDryRun: "true" makes an authenticated request create nothing and
	// answer 200 with what would have happened.
	HeaderDryRun = "X-Hookrun-Dry-Run"
)

// PathPrefix is where deliveries are POSTed: PathPrefix + "{namespace}/{template}".
const PathPrefix = "/hooks/"

// maxReasonBytes caps the X-Hookrun-Reason header.
const maxReasonBytes = 512

// answer is what one request gets.
type answer struct {
	status int
	body   any    // JSON; nil for 204
	reason string // X-Hookrun-Reason of a 204
	allow  string // Allow of a 405
}

type errorBody struct {
	Error string `json:"error"`
}

// RunAnswer is the body of 202 (new run) and 200 (duplicate).
type RunAnswer struct {
	Run       string `json:"run"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// DryRunAnswer is the body of a dry run: what the delivery would have done.
type DryRunAnswer struct {
	DryRun bool `json:"dryRun"`
	// WouldRun is true when the delivery matches and a HookRun would be
	// created (and started unless the template is suspended).
	WouldRun  bool              `json:"wouldRun"`
	Suspended bool              `json:"suspended,omitempty"`
	Match     MatchResult       `json:"match"`
	Run       string            `json:"run"`
	Delivery  v1alpha1.Delivery `json:"delivery"`
	Params    map[string]string `json:"params,omitempty"`
	Env       []corev1.EnvVar   `json:"env"`
}

func fail(status int, msg string) answer {
	return answer{status: status, body: errorBody{Error: msg}}
}

// notFound is the one answer for an unknown path, namespace or template. It
// tells a caller nothing beyond the status code: the body is the same
// whichever part is missing (see docs/webhooks.md, "Unknown templates").
func notFound() answer { return fail(http.StatusNotFound, "not found") }

// refusal ends a request before its delivery is stored: a step that
// refuses the request returns one as its error, with the answer it gets.
type refusal struct{ answer answer }

func (r *refusal) Error() string {
	if e, ok := r.answer.body.(errorBody); ok {
		return fmt.Sprintf("%d: %s", r.answer.status, e.Error)
	}
	return strconv.Itoa(r.answer.status)
}

func refuse(a answer) error { return &refusal{answer: a} }

// answerOf is the answer for a step's error: the refusal's own answer.
func answerOf(err error) answer {
	var r *refusal
	if errors.As(err, &r) {
		return r.answer
	}
	return fail(http.StatusInternalServerError, "internal error")
}

// ServeHTTP answers one delivery (or a status badge: badge.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, BadgePrefix) {
		s.serveBadge(w, r)
		return
	}
	start := time.Now()
	kind := pathKindOf(r.URL.Path)
	handle := s.handle
	if kind == pathSources {
		handle = s.handleSource // sources.go
	}
	label, a := handle(w, r)
	writeAnswer(w, a)
	requestsTotal.WithLabelValues(label, strconv.Itoa(a.status), string(kind)).Inc()
	requestDuration.WithLabelValues(label, string(kind)).Observe(time.Since(start).Seconds())
}

// handle finds the template a request is for and answers it. It returns
// the metrics label too: the template's provider, or noProvider when the
// request was answered before a template was found.
// Order: path → method → template (404) → readiness (503) → body (413) →
// signature (401) → payload (400) → ping → match (204) → create (202/200/503).
func (s *Server) handle(w http.ResponseWriter, r *http.Request) (string, answer) {
	ns, name, err := route(r)
	if err != nil {
		return noProvider, answerOf(err)
	}
	log := logf.FromContext(r.Context()).WithValues("namespace", ns, "template", name)
	ctx := logf.IntoContext(r.Context(), log)
	now := s.opts.Now()
	tmpl, err := s.template(ctx, ns, name)
	if err != nil {
		return noProvider, answerOf(err)
	}
	if tmpl.Spec.Source.SourceRef != nil || !TakesWebhooks(tmpl) {
		// Its deliveries go to its HookSource's URL (status.webhookPath),
		// or it takes none: its runs come from spec.poll and spec.schedule.
		log.V(1).Info("template takes no deliveries at its own URL")
		return noProvider, notFound()
	}
	return providerLabel(tmpl), s.deliver(ctx, w, r, tmpl, now)
}

// providerLabel is the metrics label of a template's requests.
func providerLabel(tmpl *v1alpha1.HookTemplate) string {
	if _, known := providers[tmpl.Spec.Source.Provider]; known {
		return string(tmpl.Spec.Source.Provider)
	}
	return noProvider
}

// route reads the template's namespace and name from the path of a POST.
func route(r *http.Request) (ns, name string, err error) {
	return routeUnder(r, PathPrefix)
}

// routeUnder reads namespace and name from a POST to prefix{ns}/{name}.
func routeUnder(r *http.Request, prefix string) (ns, name string, err error) {
	ns, name, ok := objectPath(r.URL.Path, prefix)
	if !ok {
		return "", "", refuse(notFound())
	}
	if r.Method != http.MethodPost {
		a := fail(http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: deliveries are POSTed", r.Method))
		a.allow = http.MethodPost
		return "", "", refuse(a)
	}
	return ns, name, nil
}

// deliver answers a delivery to a template that exists: it takes the
// delivery in, matches it and stores its run (or, in a dry run, tells what
// would have happened).
func (s *Server) deliver(ctx context.Context, w http.ResponseWriter, r *http.Request, tmpl *v1alpha1.HookTemplate, now time.Time) answer {
	prep, err := s.prepare(ctx, tmpl)
	if err != nil {
		return answerOf(err)
	}
	ev, err := s.receive(ctx, w, r, prep, now)
	if err != nil {
		return answerOf(err)
	}
	log := logf.FromContext(ctx)
	if ev.ping {
		log.Info("ping answered")
		return answer{status: http.StatusOK, body: map[string]string{"ping": "ok"}}
	}

	mt := s.compiled.get(tmpl).match
	fillCtx, cancel := s.fillContext(ctx)
	ev = s.fillChangedFiles(fillCtx, mt, tmpl, ev)
	cancel()
	chosen, result := pick(mt, ev)
	dryRun := isDryRun(r.Header)
	if !result.Matched && !dryRun {
		log.V(1).Info("delivery ignored", "reason", result.Reason, "delivery", chosen.delivery.ID)
		return answer{status: http.StatusNoContent, reason: result.Reason}
	}
	run, err := s.newRun(ctx, tmpl, prep, ev, chosen.delivery, now)
	if err != nil {
		return answerOf(err)
	}
	if dryRun {
		return answer{status: http.StatusOK, body: DryRunAnswer{
			DryRun:    true,
			WouldRun:  result.Matched,
			Suspended: tmpl.Spec.Suspend,
			Match:     result,
			Run:       run.Name,
			Delivery:  run.Spec.Delivery,
			Params:    run.Spec.Params,
			Env:       s.opts.RunEnv(tmpl, run),
		}}
	}
	return s.create(ctx, run, pathHooks)
}

// receive reads the body, verifies the sender and normalises the payload.
func (s *Server) receive(ctx context.Context, w http.ResponseWriter, r *http.Request, prep *prepared, now time.Time) (*event, error) {
	body, err := readBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, refuse(fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.opts.MaxBodyBytes)))
		}
		return nil, refuse(fail(http.StatusBadRequest, "could not read body"))
	}
	in := &verifyInput{
		header:    r.Header,
		body:      body,
		keys:      prep.keys,
		allowSHA1: prep.allowSHA1,
		now:       now,
		tolerance: prep.tolerance,
	}
	if err := prep.provider.verify(in); err != nil {
		signatureFailuresTotal.WithLabelValues(string(prep.providerName), string(pathKindOf(r.URL.Path))).Inc()
		logf.FromContext(ctx).Info("delivery rejected", "reason", err.Error())
		return nil, refuse(fail(http.StatusUnauthorized, err.Error()))
	}
	ev, err := prep.provider.normalise(r.Header, body)
	if err != nil {
		return nil, refuse(fail(http.StatusBadRequest, "malformed payload: "+err.Error()))
	}
	ev.header = r.Header
	return ev, nil
}

// newRun is the HookRun of a delivery: its params evaluated, its fields
// within the CRD's limits, owned by the template.
func (s *Server) newRun(ctx context.Context, tmpl *v1alpha1.HookTemplate, prep *prepared, ev *event, d v1alpha1.Delivery, now time.Time) (*v1alpha1.HookRun, error) {
	var params map[string]string
	if prep.params.Len() > 0 {
		doc, err := prep.params.decodeValid(ev.document)
		if err != nil {
			return nil, refuse(fail(http.StatusBadRequest, "malformed payload: "+err.Error()))
		}
		params = prep.params.evaluate(doc)
	}
	received := metav1.NewTime(now.UTC().Truncate(time.Second))
	d.ReceivedAt = &received
	if err := checkLimits(d, params); err != nil {
		return nil, refuse(fail(http.StatusBadRequest, err.Error()))
	}
	run := &v1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{
			Name:      runName(tmpl, ev, d),
			Namespace: tmpl.Namespace,
			Labels:    map[string]string{v1alpha1.LabelTemplate: tmpl.Name},
		},
		Spec: v1alpha1.HookRunSpec{
			TemplateRef: v1alpha1.TemplateRef{Name: tmpl.Name},
			Delivery:    d,
			Params:      params,
		},
	}
	if err := controllerutil.SetControllerReference(tmpl, run, s.scheme); err != nil {
		logf.FromContext(ctx).Error(err, "set owner of HookRun")
		return nil, refuse(fail(http.StatusInternalServerError, "internal error"))
	}
	return run, nil
}

// template reads the HookTemplate from the cache.
func (s *Server) template(ctx context.Context, ns, name string) (*v1alpha1.HookTemplate, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	tmpl := &v1alpha1.HookTemplate{}
	if err := s.reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, tmpl); err != nil {
		if apierrors.IsNotFound(err) {
			logf.FromContext(ctx).V(1).Info("no such template")
			return nil, refuse(notFound())
		}
		logf.FromContext(ctx).Error(err, "read HookTemplate")
		return nil, refuse(fail(http.StatusServiceUnavailable, "template unavailable; try again later"))
	}
	if tmpl.DeletionTimestamp != nil {
		// Its runs are about to be garbage-collected with it.
		logf.FromContext(ctx).V(1).Info("template is being deleted")
		return nil, refuse(notFound())
	}
	return tmpl, nil
}

// create stores the run. The API server's answer is the truth the sender
// gets: AlreadyExists is a redelivery (200), any other error is 503 so that
// the sender retries; 2xx only with the HookRun stored.
func (s *Server) create(ctx context.Context, run *v1alpha1.HookRun, kind pathKind) answer {
	switch stored, err := s.store(ctx, run, kind); {
	case err != nil:
		return fail(http.StatusServiceUnavailable, "could not store the run; try again later")
	case !stored:
		return answer{status: http.StatusOK, body: RunAnswer{Run: run.Name, Duplicate: true}}
	default:
		return answer{status: http.StatusAccepted, body: RunAnswer{Run: run.Name}}
	}
}

// store creates the run: stored is false for a redelivery (the run exists
// already); an error is any other failure, logged here. kind labels the
// duplicates metric.
func (s *Server) store(ctx context.Context, run *v1alpha1.HookRun, kind pathKind) (stored bool, err error) {
	log := logf.FromContext(ctx)
	d := run.Spec.Delivery
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := s.writer.Create(cctx, run); err != nil {
		if apierrors.IsAlreadyExists(err) {
			duplicatesTotal.WithLabelValues(string(kind)).Inc()
			log.Info("duplicate delivery", "run", run.Name, "delivery", d.ID)
			return false, nil
		}
		log.Error(err, "create HookRun", "run", run.Name, "delivery", d.ID)
		return false, err
	}
	// Debug level: the HookRun is the record of every accepted delivery, and
	// hookrun_webhook_requests_total counts them; at info level a line per
	// delivery was sampled away under load anyway (zap's production sampler).
	log.V(1).Info("run created", "run", run.Name, "delivery", d.ID, "event", d.Event, "repository", d.Repository, "ref", d.Ref)
	return true, nil
}

// pick returns the first candidate the template matches, or the first
// candidate and why it does not match.
func pick(mt *matcher, ev *event) (candidate, MatchResult) {
	var first candidate
	var firstResult MatchResult
	for i, c := range ev.candidates {
		r := mt.match(c, ev.exprInput())
		if r.Matched {
			return c, r
		}
		if i == 0 {
			first, firstResult = c, r
		}
	}
	return first, firstResult
}

// hookPath splits /hooks/{namespace}/{template}; names that cannot exist in
// Kubernetes are refused before any lookup.
func hookPath(p string) (ns, name string, ok bool) { return objectPath(p, PathPrefix) }

// objectPath splits prefix{namespace}/{name} (see hookPath).
func objectPath(p, prefix string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(p, prefix)
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

func isDryRun(h http.Header) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(h.Get(HeaderDryRun)))
	return err == nil && v
}

// readBody reads at most limit bytes; more is an *http.MaxBytesError.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	size := int64(512)
	if r.ContentLength > 0 {
		size = r.ContentLength + 1 // +1: room to see EOF without growing
	}
	buf := make([]byte, 0, size)
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// Field limits of the HookRun CRD. Checked here so that an oversized value
// is the sender's 400, not an API server rejection answered as 503.
var deliveryLimits = []struct {
	field string
	max   int
	value func(d *v1alpha1.Delivery) string
}{
	{"delivery id", 256, func(d *v1alpha1.Delivery) string { return d.ID }},
	{"event", 128, func(d *v1alpha1.Delivery) string { return d.Event }},
	{"repository", 512, func(d *v1alpha1.Delivery) string { return d.Repository }},
	{"ref", 1024, func(d *v1alpha1.Delivery) string { return d.Ref }},
	{"sha", 128, func(d *v1alpha1.Delivery) string { return d.SHA }},
	{"before", 128, func(d *v1alpha1.Delivery) string { return d.Before }},
	{"sender", 256, func(d *v1alpha1.Delivery) string { return d.Sender }},
	{"clone URL", 2048, func(d *v1alpha1.Delivery) string { return d.CloneURL }},
	{"pull request base ref", 1024, func(d *v1alpha1.Delivery) string { return prRefs(d)[0] }},
	{"pull request head ref", 1024, func(d *v1alpha1.Delivery) string { return prRefs(d)[1] }},
}

// prRefs are the base and head refs of the delivery's pull request (empty
// for other deliveries).
func prRefs(d *v1alpha1.Delivery) [2]string {
	if d.PullRequest == nil {
		return [2]string{}
	}
	return [2]string{d.PullRequest.BaseRef, d.PullRequest.HeadRef}
}

func checkLimits(d v1alpha1.Delivery, params map[string]string) error {
	for _, l := range deliveryLimits {
		if n := utf8.RuneCountInString(l.value(&d)); n > l.max {
			return fmt.Errorf("%s is %d characters long, the limit is %d", l.field, n, l.max)
		}
	}
	for name, v := range params {
		if len(v) > MaxParamValueBytes {
			return fmt.Errorf("param %s is %d bytes long, the limit is %d", name, len(v), MaxParamValueBytes)
		}
	}
	return nil
}

func writeAnswer(w http.ResponseWriter, a answer) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if a.allow != "" {
		h.Set("Allow", a.allow)
	}
	if a.body == nil {
		if a.reason != "" {
			h.Set(HeaderReason, headerSafe(a.reason))
		}
		w.WriteHeader(a.status)
		return
	}
	b, err := json.Marshal(a.body)
	if err != nil {
		a.status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(a.status)
	_, _ = w.Write(append(b, '\n'))
}

// headerSafe keeps a header value to printable ASCII (request data ends up
// in reasons) and caps its length.
func headerSafe(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < maxReasonBytes; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b = append(b, c)
	}
	return string(b)
}
