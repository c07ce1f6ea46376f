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

// One URL for many templates: a delivery POSTed to a HookSource is verified
// once with the source's secret, normalised once, then matched against every
// template of the namespace that names the source; each matching template
// gets its own HookRun, named as a delivery to the template itself would
// name it, so a redelivery fills gaps and never runs a template twice.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// SourcePathPrefix is where deliveries for a HookSource are POSTed:
// SourcePathPrefix + "{namespace}/{source}".
const SourcePathPrefix = "/sources/"

// SourcePath is the webhook path of a HookSource.
func SourcePath(namespace, name string) string { return SourcePathPrefix + namespace + "/" + name }

// createParallelism bounds the creates of one fanned-out delivery in flight.
const createParallelism = 8

// SourceRunsAnswer is the body of 202 (some run is new) and 200 (every run
// existed: a redelivery) for a HookSource; Runs names every matching
// template's run, new or not, in template name order.
type SourceRunsAnswer struct {
	Runs      []string `json:"runs"`
	Duplicate bool     `json:"duplicate,omitempty"`
}

// SourceFailure is the body of a 503 after some creates failed: the error,
// and the runs that are stored (a redelivery creates the others).
type SourceFailure struct {
	Error string   `json:"error"`
	Runs  []string `json:"runs"`
}

// SourceDryRunAnswer is the body of a dry run to a HookSource: what each
// template naming the source would have done.
type SourceDryRunAnswer struct {
	DryRun    bool                   `json:"dryRun"`
	Templates []SourceDryRunTemplate `json:"templates"`
}

// SourceDryRunTemplate is one template's part of a SourceDryRunAnswer.
type SourceDryRunTemplate struct {
	Template  string      `json:"template"`
	WouldRun  bool        `json:"wouldRun"`
	Suspended bool        `json:"suspended,omitempty"`
	Match     MatchResult `json:"match"`
	// Run is the name the run would get (empty when the template cannot
	// take deliveries: Match.Reason says why).
	Run string `json:"run"`
}

// handleSource answers a delivery to a HookSource. Order: path → method →
// source (404) → templates, readiness (503) → body (413) → signature (401)
// → payload (400) → ping → match each template (204 when none) → create
// (202/200/503).
func (s *Server) handleSource(w http.ResponseWriter, r *http.Request) (string, answer) {
	ns, name, err := routeUnder(r, SourcePathPrefix)
	if err != nil {
		return noProvider, answerOf(err)
	}
	log := logf.FromContext(r.Context()).WithValues("namespace", ns, "source", name)
	ctx := logf.IntoContext(r.Context(), log)
	now := s.opts.Now()
	src, err := s.source(ctx, ns, name)
	if err != nil {
		return noProvider, answerOf(err)
	}
	label := noProvider
	if _, known := providers[src.Spec.Provider]; known {
		label = string(src.Spec.Provider)
	}
	tmpls, prep, err := s.prepareSource(ctx, src)
	if err != nil {
		return label, answerOf(err)
	}
	ev, err := s.receive(ctx, w, r, prep, now)
	if err != nil {
		return label, answerOf(err)
	}
	if ev.ping {
		log.Info("ping answered")
		return label, answer{status: http.StatusOK, body: map[string]string{"ping": "ok"}}
	}
	return label, s.fanOut(ctx, r, tmpls, prep, ev, now)
}

// source reads the HookSource from the cache.
func (s *Server) source(ctx context.Context, ns, name string) (*v1alpha1.HookSource, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	src := &v1alpha1.HookSource{}
	if err := s.reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			logf.FromContext(ctx).V(1).Info("no such source")
			return nil, refuse(notFound())
		}
		logf.FromContext(ctx).Error(err, "read HookSource")
		return nil, refuse(fail(http.StatusServiceUnavailable, "source unavailable; try again later"))
	}
	if src.DeletionTimestamp != nil {
		logf.FromContext(ctx).V(1).Info("source is being deleted")
		return nil, refuse(notFound())
	}
	return src, nil
}

// prepareSource lists the source's templates and judges, as CheckSource
// does, whether it can take deliveries; anything missing fails closed with
// 503, naming the kind of problem only.
func (s *Server) prepareSource(ctx context.Context, src *v1alpha1.HookSource) ([]*v1alpha1.HookTemplate, *prepared, error) {
	log := logf.FromContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	tmpls, err := sourceTemplates(ctx, s.reader, src.Namespace, src.Name)
	if err != nil {
		log.Error(err, "list templates of source")
		return nil, nil, refuse(fail(http.StatusServiceUnavailable, "source unavailable; try again later"))
	}
	r, err := checkSource(ctx, s.reader, src, len(tmpls))
	if err != nil {
		r = Readiness{problem: "webhook secret unavailable", Message: err.Error()}
	}
	if !r.Ready() {
		log.Info("source not ready", "problem", r.problem, "reason", r.Reason, "error", r.Message)
		return nil, nil, refuse(fail(http.StatusServiceUnavailable, "source not ready: "+r.problem))
	}
	p := *r.prepared
	if p.tolerance == 0 {
		p.tolerance = s.opts.SignatureTolerance
	}
	return tmpls, &p, nil
}

// target is one template's part of a fanned-out delivery.
type target struct {
	tmpl   *v1alpha1.HookTemplate
	result MatchResult
	run    string
	// created is the run to store (matching templates, not in a dry run).
	created *createdRun
}

type createdRun struct {
	run    *v1alpha1.HookRun
	stored bool
	err    error
}

// fanOut matches the delivery against each template and stores one run per
// matching template (or, in a dry run, tells what each would do). Every run
// is built before any is stored, so a payload one template's params cannot
// read is a 400 with nothing stored.
func (s *Server) fanOut(ctx context.Context, r *http.Request, tmpls []*v1alpha1.HookTemplate, prep *prepared, ev *event, now time.Time) answer {
	log := logf.FromContext(ctx)
	dryRun := isDryRun(r.Header)
	targets := make([]target, 0, len(tmpls))
	var pending []*createdRun
	fillCtx, cancel := s.fillContext(ctx)
	defer cancel()
	for _, tmpl := range tmpls {
		t := target{tmpl: tmpl}
		c := s.compiled.get(tmpl)
		if c.notReady != nil {
			// A template that cannot evaluate deliveries takes none; the
			// others are not held back by it.
			log.Info("template not ready", "template", tmpl.Name, "problem", c.notReady.problem, "reason", c.notReady.Reason, "error", c.notReady.Message)
			t.result = MatchResult{Reason: "template not ready: " + c.notReady.problem}
			targets = append(targets, t)
			continue
		}
		tev := s.fillChangedFiles(fillCtx, c.match, tmpl, ev)
		chosen, result := pick(c.match, tev)
		t.result = result
		if result.Matched || dryRun {
			tp := *prep
			tp.params = c.params
			run, err := s.newRun(ctx, tmpl, &tp, tev, chosen.delivery, now)
			if err != nil {
				return answerOf(err)
			}
			t.run = run.Name
			if result.Matched && !dryRun {
				t.created = &createdRun{run: run}
				pending = append(pending, t.created)
			}
		}
		targets = append(targets, t)
	}
	if dryRun {
		return dryRunAnswer(targets)
	}
	if len(pending) == 0 {
		reason := ignoredReason(targets)
		log.V(1).Info("delivery ignored", "reason", reason)
		return answer{status: http.StatusNoContent, reason: reason}
	}
	s.storeAll(ctx, pending) // the request's context: the fill's limit may be spent
	return runsAnswer(pending)
}

// storeAll creates the runs concurrently, within the request's deadline.
func (s *Server) storeAll(ctx context.Context, runs []*createdRun) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, createParallelism)
	for _, c := range runs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.stored, c.err = s.store(ctx, c.run, pathSources)
		})
	}
	wg.Wait()
}

// runsAnswer is 503 when a create failed, 202 when a run is new, else 200
// (all existed: a redelivery).
func runsAnswer(runs []*createdRun) answer {
	names := make([]string, 0, len(runs))
	var stored []string
	failed, fresh := 0, false
	for _, c := range runs {
		names = append(names, c.run.Name)
		if c.err != nil {
			failed++
			continue
		}
		stored = append(stored, c.run.Name)
		fresh = fresh || c.stored
	}
	switch {
	case failed > 0:
		if stored == nil {
			stored = []string{}
		}
		return answer{status: http.StatusServiceUnavailable, body: SourceFailure{
			Error: fmt.Sprintf("could not store %d of %d runs; try again later", failed, len(runs)),
			Runs:  stored,
		}}
	case fresh:
		return answer{status: http.StatusAccepted, body: SourceRunsAnswer{Runs: names}}
	default:
		return answer{status: http.StatusOK, body: SourceRunsAnswer{Runs: names, Duplicate: true}}
	}
}

func dryRunAnswer(targets []target) answer {
	out := SourceDryRunAnswer{DryRun: true, Templates: make([]SourceDryRunTemplate, 0, len(targets))}
	for _, t := range targets {
		out.Templates = append(out.Templates, SourceDryRunTemplate{
			Template:  t.tmpl.Name,
			WouldRun:  t.result.Matched,
			Suspended: t.tmpl.Spec.Suspend,
			Match:     t.result,
			Run:       t.run,
		})
	}
	return answer{status: http.StatusOK, body: out}
}

// ignoredReason says why no template matched: each template's reason.
func ignoredReason(targets []target) string {
	if len(targets) == 0 {
		return "no template uses this source"
	}
	parts := make([]string, 0, len(targets))
	for _, t := range targets {
		parts = append(parts, t.tmpl.Name+": "+t.result.Reason)
	}
	return "no template matched (" + strings.Join(parts, "; ") + ")"
}
