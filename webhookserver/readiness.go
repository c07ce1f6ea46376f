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
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hookrun/hookrun/api/v1alpha1"
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
	// Message says what is wrong (empty when ready). It never holds the
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

// prepared is a template judged able to take deliveries.
type prepared struct {
	provider provider
	keys     [][]byte
	params   *CompiledParams
	// tolerance is the template's own signature tolerance, or 0.
	tolerance time.Duration
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
}

// compile checks and compiles what a template's spec asks the request path
// to evaluate.
func compile(tmpl *v1alpha1.HookTemplate) *compiled {
	c := &compiled{generation: tmpl.Generation, uid: tmpl.UID}
	notReady := func(reason, problem string, err error) *compiled {
		c.notReady = &Readiness{Reason: reason, Message: err.Error(), problem: problem}
		return c
	}
	p, ok := providers[tmpl.Spec.Source.Provider]
	if !ok {
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
	return c
}

// CheckTemplate judges whether a template can take deliveries: its provider,
// its name (a run's label value), its match patterns, its params, and its
// webhook Secret, read through reader (the manager's cache): the key
// (default "secret") must hold a non-empty value — an empty one would let
// anyone sign. An error is a failed read that may pass; a Secret that does
// not exist is a reason, not an error.
func CheckTemplate(ctx context.Context, reader client.Reader, tmpl *v1alpha1.HookTemplate) (Readiness, error) {
	return checkTemplate(ctx, reader, tmpl, compile(tmpl))
}

func checkTemplate(ctx context.Context, reader client.Reader, tmpl *v1alpha1.HookTemplate, c *compiled) (Readiness, error) {
	if c.notReady != nil {
		return *c.notReady, nil
	}
	ref := tmpl.Spec.Source.SecretRef
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: tmpl.Namespace, Name: ref.Name}, secret); err != nil {
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
	if prev := tmpl.Spec.Source.PreviousSecretKey; prev != "" && len(secret.Data[prev]) > 0 {
		keys = append(keys, secret.Data[prev])
	}
	var tolerance time.Duration
	if t := tmpl.Spec.Source.SignatureTolerance; t != nil && t.Duration > 0 {
		tolerance = t.Duration
	}
	return Readiness{Reason: v1alpha1.ReasonReady, prepared: &prepared{provider: c.provider, keys: keys, params: c.params, tolerance: tolerance}}, nil
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
	if !r.Ready() {
		log.Info("template not ready", "problem", r.problem, "reason", r.Reason, "error", r.Message)
		return nil, refuse(fail(http.StatusServiceUnavailable, "template not ready: "+r.problem))
	}
	p := *r.prepared
	if p.tolerance == 0 {
		p.tolerance = s.opts.SignatureTolerance
	}
	return &p, nil
}
