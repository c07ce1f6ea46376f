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
	"errors"
	"fmt"
	"slices"
	"time"

	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// ChangedFilesFetcher asks the git host which files a delivery changed
// (GitHub/Gitea compare, GitLab compare, Bitbucket diffstat and changes)
// when the payload's list may be incomplete. The shipped one
// (controllers.HostChangedFiles) uses the template's report credentials
// (spec.report); without them, or when the host cannot say, the delivery
// matches match.paths ("a run too many, never a deploy missed").
type ChangedFilesFetcher interface {
	// ChangedFiles returns every file changed between d.Before (or the
	// pull request's base) and d.SHA, and names where the list came from
	// ("the github compare API"). An error says why the host could not
	// tell (no report credentials, a new branch, HTTP 404, a capped
	// answer); the dry run shows its message, so it never holds a
	// credential. The delivery then matches.
	ChangedFiles(ctx context.Context, tmpl *v1alpha1.HookTemplate, d v1alpha1.Delivery) (files []string, source string, err error)
	// Question names what ChangedFiles would ask about d for tmpl: the
	// host's API, the repository, the credentials and the commits
	// compared. Within one delivery, templates with the same question
	// share its answer, or its failure; "" when the host would not be
	// asked at all (ChangedFiles says why at once).
	Question(tmpl *v1alpha1.HookTemplate, d v1alpha1.Delivery) string
	// TimeLimit bounds all the questions of one delivery together: git
	// hosts give up on a delivery after about 10s, so a host that does not
	// answer must cost one limit, not one per template, and leave time to
	// store the runs.
	TimeLimit() time.Duration
}

// hostAnswer is what the host said to one question of a delivery.
type hostAnswer struct {
	files  []string // sorted
	source string
	err    error
}

// errFillTimeUp answers the questions left once a delivery's time limit
// for asking hosts is spent.
var errFillTimeUp = errors.New("the time to ask the host about this delivery ran out")

// fillContext bounds the fill phase of one delivery (every template's
// questions) with the fetcher's time limit. The runs are stored with the
// request's own context, not this one.
func (s *Server) fillContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.ChangedFiles == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opts.ChangedFiles.TimeLimit())
}

// fillChangedFiles completes the candidates' file lists with the fetcher,
// for a template that filters on paths, and returns the event as this
// template sees it (ev itself when nothing was asked: lists a host gave go
// to a copy, since another template may ask another host or repository
// with other credentials). Candidates are judged in the order pick takes
// them, and only one that matches with its list unknown is asked about:
// one another field already refuses is ignored whatever its files (and
// costs the host no request), and the first candidate that matches is the
// one that runs. A failed fetch leaves the list unknown: the delivery
// matches, it is not refused, and the dry run's paths note says why.
// Answers and failures are remembered in ev per question, so the
// templates of a HookSource asking the same question ask once; ctx (from
// fillContext) bounds all of them.
func (s *Server) fillChangedFiles(ctx context.Context, mt *matcher, tmpl *v1alpha1.HookTemplate, ev *event) *event {
	f := s.opts.ChangedFiles
	m := tmpl.Spec.Match
	if f == nil || (len(m.Paths) == 0 && len(m.IgnorePaths) == 0) {
		return ev
	}
	in := ev.exprInput() // before any copy, so that copies share it
	var own []candidate
	for i := range ev.candidates {
		c := ev.candidates[i]
		if !mt.match(c, in).Matched {
			continue
		}
		if c.filesKnown || c.kind == kindDelete || c.kind == kindEcho {
			break // this one runs
		}
		a := s.ask(ctx, tmpl, ev, c.delivery)
		switch {
		case a.err != nil:
			c.filesNote = a.err.Error()
		case len(a.files) > maxChangedFiles:
			c.filesNote = fmt.Sprintf("%s lists more than %d files", a.source, maxChangedFiles)
		default:
			c.files, c.filesKnown, c.filesSource, c.filesNote = a.files, true, a.source, ""
		}
		if own == nil {
			own = slices.Clone(ev.candidates)
		}
		own[i] = c
		if !c.filesKnown || mt.match(c, in).Matched {
			break // it matches, with its list or without: this one runs
		}
	}
	if own == nil {
		return ev
	}
	out := *ev
	out.candidates = own
	return &out
}

// ask puts one question to the host, or answers it from what an earlier
// template of the delivery was told.
func (s *Server) ask(ctx context.Context, tmpl *v1alpha1.HookTemplate, ev *event, d v1alpha1.Delivery) hostAnswer {
	f := s.opts.ChangedFiles
	q := f.Question(tmpl, d)
	if a, ok := ev.answers[q]; ok && q != "" {
		return a
	}
	var a hostAnswer
	if q != "" && ctx.Err() != nil {
		a.err = errFillTimeUp
	} else {
		a.files, a.source, a.err = f.ChangedFiles(ctx, tmpl, d)
		a.files = slices.Sorted(slices.Values(a.files))
	}
	if a.err != nil {
		logf.FromContext(ctx).V(1).Info("could not list changed files; matching paths as if all changed", "delivery", d.ID, "reason", a.err.Error())
	}
	if q != "" {
		if ev.answers == nil {
			ev.answers = map[string]hostAnswer{}
		}
		ev.answers[q] = a
	}
	return a
}
