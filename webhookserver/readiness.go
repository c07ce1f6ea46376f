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
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/schedule"
)

// Readiness is whether a template can take deliveries. It is judged by one
// function, CheckTemplate, for both readers: the HookTemplate reconciler
// shows it as the Ready condition, and the request path fails a delivery
// closed (503) with it, since the template's status may not have been
// written yet.
type Readiness struct {
	// Reason is v1alpha1.ReasonReady, or why the template cannot take
	// deliveries: ReasonSecretNotFound, ReasonSecretKeyMissing,
	// ReasonInvalidParam, ReasonInvalidMatch, ReasonInvalidTemplate.
	Reason string
	// Message says what is wrong; when ready it is empty, or says how a
	// template that takes no webhooks gets its runs. It never holds the
	// secret's value.
	Message string
	// problem is what a refused delivery's answer names: the kind of
	// problem, never the Secret.
	problem string
	// prepared is what the request path needs, when ready.
	prepared *prepared
}

// Ready is true when the template can take deliveries.
func (r Readiness) Ready() bool { return r.Reason == v1alpha1.ReasonReady }

// prepared is a template (or a HookSource) judged able to take deliveries.
type prepared struct {
	provider provider
	// providerName labels the request's metrics.
	providerName v1alpha1.Provider
	keys         [][]byte
	allowSHA1    bool
	params       *CompiledParams
	// tolerance is the template's (or source's) own signature tolerance, or 0.
	tolerance time.Duration
}

// origin is who signs a template's deliveries and how: the template's own
// source fields, or those of the HookSource it names.
type origin struct {
	namespace         string
	provider          v1alpha1.Provider
	secretRef         v1alpha1.SecretKeyRef
	previousSecretKey string
	allowSHA1         bool
	tolerance         *metav1.Duration
}

func originOfTemplate(tmpl *v1alpha1.HookTemplate) origin {
	s := tmpl.Spec.Source
	return origin{namespace: tmpl.Namespace, provider: s.Provider, secretRef: s.SecretRef,
		previousSecretKey: s.PreviousSecretKey, allowSHA1: s.AllowSHA1, tolerance: s.SignatureTolerance}
}

func originOfSource(src *v1alpha1.HookSource) origin {
	s := src.Spec
	return origin{namespace: src.Namespace, provider: s.Provider, secretRef: s.SecretRef,
		previousSecretKey: s.PreviousSecretKey, allowSHA1: s.AllowSHA1, tolerance: s.SignatureTolerance}
}

// compiled is the part of a template's readiness that depends on its spec
// only: its provider, its name, its match patterns and its params.
type compiled struct {
	generation int64
	uid        types.UID
	notReady   *Readiness
	provider   provider
	params     *CompiledParams
	// match is the template's match block, its expression compiled.
	match *matcher
	// scheduleErr is why spec.schedule cannot be read, if it cannot.
	scheduleErr error
}

// compile checks and compiles what a template's spec asks the request path
// to evaluate.
func compile(tmpl *v1alpha1.HookTemplate) *compiled {
	c := &compiled{generation: tmpl.Generation, uid: tmpl.UID}
	notReady := func(reason, problem string, err error) *compiled {
		c.notReady = &Readiness{Reason: reason, Message: err.Error(), problem: problem}
		return c
	}
	// A template with a sourceRef has its provider from its HookSource
	// (checkOrigin).
	p, ok := providers[tmpl.Spec.Source.Provider]
	if !ok && tmpl.Spec.Source.SourceRef == nil {
		return notReady(v1alpha1.ReasonInvalidTemplate, "unknown provider", fmt.Errorf("unknown provider %q", tmpl.Spec.Source.Provider))
	}
	if errs := validation.IsValidLabelValue(tmpl.Name); len(errs) > 0 {
		return notReady(v1alpha1.ReasonInvalidTemplate, "template name is not a valid label value",
			fmt.Errorf("template name is not a valid label value: %s", strings.Join(errs, "; ")))
	}
	mt, err := newMatcher(tmpl.Spec.Match)
	if err != nil {
		return notReady(v1alpha1.ReasonInvalidMatch, "invalid match", err)
	}
	c.match = mt
	params, err := CompileParams(tmpl.Spec.Params)
	if err != nil {
		return notReady(v1alpha1.ReasonInvalidParam, "invalid params", err)
	}
	c.provider, c.params = p, params
	if tmpl.Spec.Schedule != nil {
		// What the API's patterns cannot catch (61 * * * *, an unknown
		// zone); judged here so that Ready shows it.
		_, c.scheduleErr = schedule.Parse(tmpl.Spec.Schedule)
	}
	return c
}

// TakesWebhooks is false for a template with neither source.secretRef nor
// source.sourceRef, which the API only allows with spec.poll or
// spec.schedule: its runs come from polling and its schedule, its
// /hooks/ URL answers 404 and its status.webhookPath is empty.
func TakesWebhooks(tmpl *v1alpha1.HookTemplate) bool {
	return tmpl.Spec.Source.SourceRef != nil || tmpl.Spec.Source.SecretRef.Name != ""
}

// withoutWebhooks is the readiness of a template that takes no webhooks:
// Ready, with nothing the request path could use.
func withoutWebhooks(tmpl *v1alpha1.HookTemplate) Readiness {
	var from []string
	if tmpl.Spec.Poll != nil {
		from = append(from, "spec.poll")
	}
	if tmpl.Spec.Schedule != nil {
		from = append(from, "spec.schedule")
	}
	return Readiness{Reason: v1alpha1.ReasonReady,
		Message: "takes no webhooks (no source.secretRef): runs come from " + strings.Join(from, " and ")}
}

// CheckTemplate judges whether a template can take deliveries: its provider,
// its name (a run's label value), its match patterns, its params, and its
// webhook Secret, read through reader (the manager's cache): the key
// (default "secret") must hold a non-empty value — an empty one would let
// anyone sign. A template with a sourceRef is judged with its HookSource's
// provider and Secret (CheckSource): a missing or unready source makes it
// not ready. An error is a failed read that may pass; a Secret (or source)
// that does not exist is a reason, not an error.
func CheckTemplate(ctx context.Context, reader client.Reader, tmpl *v1alpha1.HookTemplate) (Readiness, error) {
	return checkTemplate(ctx, reader, tmpl, compile(tmpl))
}

func checkTemplate(ctx context.Context, reader client.Reader, tmpl *v1alpha1.HookTemplate, c *compiled) (Readiness, error) {
	if c.notReady != nil {
		return *c.notReady, nil
	}
	var r Readiness
	var err error
	switch ref := tmpl.Spec.Source.SourceRef; {
	case ref != nil:
		r, err = checkSourceOf(ctx, reader, tmpl.Namespace, ref.Name)
	case !TakesWebhooks(tmpl):
		r = withoutWebhooks(tmpl)
	default:
		r, err = checkOrigin(ctx, reader, originOfTemplate(tmpl))
	}
	if err != nil || !r.Ready() {
		return r, err
	}
	if r.prepared != nil {
		r.prepared.params = c.params
	}
	// A schedule that cannot be read makes the template not Ready, but
	// its webhooks still run: a deploy on push is never refused for a
	// typo in the nightly schedule.
	if c.scheduleErr != nil {
		return Readiness{Reason: v1alpha1.ReasonScheduleInvalid, problem: "invalid schedule",
			Message: c.scheduleErr.Error(), prepared: r.prepared}, nil
	}
	// Missing report credentials make the template not Ready (its condition
	// says so), but it still takes deliveries: a deploy is never refused
	// because its status cannot be shown on the commit (the reporter marks
	// each run Reported=False/CredentialsNotFound instead).
	rep, err := checkReportCredentials(ctx, reader, tmpl)
	if err != nil || rep == nil {
		return r, err
	}
	rep.prepared = r.prepared
	return *rep, nil
}

// TakesDeliveries is true when the request path may run the template's
// deliveries: it is Ready, or only its report credentials are missing or
// its schedule is invalid. A template that takes no webhooks
// (TakesWebhooks) never takes deliveries.
func (r Readiness) TakesDeliveries() bool {
	return r.prepared != nil && (r.Ready() || r.Reason == v1alpha1.ReasonReportCredentialsNotFound ||
		r.Reason == v1alpha1.ReasonScheduleInvalid)
}

// checkSourceOf judges the HookSource a template names, as the template's
// readiness: SourceNotFound, or SourceNotReady with the source's reason.
func checkSourceOf(ctx context.Context, reader client.Reader, namespace, name string) (Readiness, error) {
	src := &v1alpha1.HookSource{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return Readiness{Reason: v1alpha1.ReasonSourceNotFound, problem: "source not found",
				Message: fmt.Sprintf("HookSource %s not found: deliveries are refused until it exists", name)}, nil
		}
		return Readiness{}, fmt.Errorf("get HookSource %s: %w", name, err)
	}
	if src.DeletionTimestamp != nil {
		return Readiness{Reason: v1alpha1.ReasonSourceNotFound, problem: "source not found",
			Message: fmt.Sprintf("HookSource %s is being deleted", name)}, nil
	}
	r, _, err := CheckSource(ctx, reader, src)
	if err != nil || r.Ready() {
		return r, err
	}
	return Readiness{Reason: v1alpha1.ReasonSourceNotReady, problem: "source not ready",
		Message: fmt.Sprintf("HookSource %s is not ready (%s): %s", name, r.Reason, r.Message)}, nil
}

// CheckSource judges whether a HookSource can take deliveries, as
// CheckTemplate does for a template's own source: its provider, its
// webhook Secret, and how many templates use it (at most
// v1alpha1.MaxSourceTemplates; the count is returned too). The templates
// are listed through reader with the IndexTemplateSource field index.
func CheckSource(ctx context.Context, reader client.Reader, src *v1alpha1.HookSource) (Readiness, int32, error) {
	tmpls, err := sourceTemplates(ctx, reader, src.Namespace, src.Name)
	if err != nil {
		return Readiness{}, 0, err
	}
	r, err := checkSource(ctx, reader, src, len(tmpls))
	return r, int32(len(tmpls)), err
}

// checkSource judges a HookSource used by n templates.
func checkSource(ctx context.Context, reader client.Reader, src *v1alpha1.HookSource, n int) (Readiness, error) {
	if n > v1alpha1.MaxSourceTemplates {
		return Readiness{Reason: v1alpha1.ReasonTooManyTemplates, problem: "too many templates",
			Message: fmt.Sprintf("%d templates use this source, the limit is %d: a delivery matches and stores the runs of every template within one request", n, v1alpha1.MaxSourceTemplates)}, nil
	}
	return checkOrigin(ctx, reader, originOfSource(src))
}

// sourceTemplates lists the templates of a namespace that name the source,
// leaving out those being deleted, sorted by name.
func sourceTemplates(ctx context.Context, reader client.Reader, namespace, name string) ([]*v1alpha1.HookTemplate, error) {
	list := &v1alpha1.HookTemplateList{}
	if err := reader.List(ctx, list, client.InNamespace(namespace),
		client.MatchingFields{v1alpha1.IndexTemplateSource: name}); err != nil {
		return nil, fmt.Errorf("list HookTemplates of HookSource %s: %w", name, err)
	}
	tmpls := make([]*v1alpha1.HookTemplate, 0, len(list.Items))
	for i := range list.Items {
		if t := &list.Items[i]; t.DeletionTimestamp == nil {
			tmpls = append(tmpls, t)
		}
	}
	slices.SortFunc(tmpls, func(a, b *v1alpha1.HookTemplate) int { return strings.Compare(a.Name, b.Name) })
	return tmpls, nil
}

// TemplateSourceIndex is the IndexTemplateSource field index: the name of
// the HookSource a template uses, if any.
func TemplateSourceIndex(obj client.Object) []string {
	if ref := obj.(*v1alpha1.HookTemplate).Spec.Source.SourceRef; ref != nil {
		return []string{ref.Name}
	}
	return nil
}

// SetupIndexes registers the field index the request path lists a
// source's templates by (also used by the reconcilers).
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &v1alpha1.HookTemplate{}, v1alpha1.IndexTemplateSource, TemplateSourceIndex); err != nil {
		return fmt.Errorf("index HookTemplates by source: %w", err)
	}
	return nil
}

// checkOrigin judges a provider and its Secret: the key (default "secret")
// must hold a non-empty value.
func checkOrigin(ctx context.Context, reader client.Reader, sg origin) (Readiness, error) {
	p, ok := providers[sg.provider]
	if !ok {
		return Readiness{Reason: v1alpha1.ReasonInvalidTemplate, problem: "unknown provider",
			Message: fmt.Sprintf("unknown provider %q", sg.provider)}, nil
	}
	ref := sg.secretRef
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: sg.namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return Readiness{Reason: v1alpha1.ReasonSecretNotFound, problem: "webhook secret unavailable",
				Message: fmt.Sprintf("Secret %s not found: deliveries are refused until it exists", ref.Name)}, nil
		}
		return Readiness{}, fmt.Errorf("get Secret %s: %w", ref.Name, err)
	}
	key := ref.Key
	if key == "" {
		key = v1alpha1.DefaultSecretKey
	}
	current := secret.Data[key]
	if len(current) == 0 {
		return Readiness{Reason: v1alpha1.ReasonSecretKeyMissing, problem: "webhook secret unavailable",
			Message: fmt.Sprintf("Secret %s has no (or an empty) key %q", ref.Name, key)}, nil
	}
	keys := [][]byte{current}
	if prev := sg.previousSecretKey; prev != "" && len(secret.Data[prev]) > 0 {
		keys = append(keys, secret.Data[prev])
	}
	var tolerance time.Duration
	if t := sg.tolerance; t != nil && t.Duration > 0 {
		tolerance = t.Duration
	}
	return Readiness{Reason: v1alpha1.ReasonReady, prepared: &prepared{provider: p, providerName: sg.provider,
		keys: keys, allowSHA1: sg.allowSHA1, tolerance: tolerance}}, nil
}

// compiledTemplates keeps each template's compiled spec, per template and
// generation, so that a delivery does not parse the template's params and
// patterns again. An entry is replaced when its template changes; a deleted
// template's entry stays (a few hundred bytes) until a template of the same
// name replaces it.
type compiledTemplates struct {
	m sync.Map // types.NamespacedName → *compiled
}

func (t *compiledTemplates) get(tmpl *v1alpha1.HookTemplate) *compiled {
	key := types.NamespacedName{Namespace: tmpl.Namespace, Name: tmpl.Name}
	if v, ok := t.m.Load(key); ok {
		if c := v.(*compiled); c.generation == tmpl.Generation && c.uid == tmpl.UID {
			return c
		}
	}
	c := compile(tmpl)
	t.m.Store(key, c)
	return c
}

// prepare judges, at request time, whether the template can take
// deliveries (CheckTemplate). Anything missing fails closed with 503. The
// body names the kind of problem, never the Secret; the log has the details.
func (s *Server) prepare(ctx context.Context, tmpl *v1alpha1.HookTemplate) (*prepared, error) {
	log := logf.FromContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	r, err := checkTemplate(ctx, s.reader, tmpl, s.compiled.get(tmpl))
	if err != nil {
		r = Readiness{problem: "webhook secret unavailable", Message: err.Error()}
	}
	if !r.TakesDeliveries() {
		log.Info("template not ready", "problem", r.problem, "reason", r.Reason, "error", r.Message)
		return nil, refuse(fail(http.StatusServiceUnavailable, "template not ready: "+r.problem))
	}
	p := *r.prepared
	if p.tolerance == 0 {
		p.tolerance = s.opts.SignatureTolerance
	}
	return &p, nil
}
