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
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// Normalised event names a template may list in match.events besides the
// provider's own names.
const (
	EventPush   = "push"   // a branch or tag push, on any provider
	EventTag    = "tag"    // a tag push
	EventDelete = "delete" // a branch or tag deletion
	// EventPullRequest is a pull or merge request, on any provider.
	EventPullRequest = "pull_request"
)

// ValidateMatch reports malformed globs and empty entries in a template's
// match lists, and a match.expression that does not compile. It has no side
// effects; CheckTemplate calls it (InvalidMatch).
func ValidateMatch(m v1alpha1.MatchSpec) error {
	_, err := newMatcher(m)
	return err
}

// matchLists are a template's glob lists, by field name.
func matchLists(m v1alpha1.MatchSpec) []struct {
	field    string
	patterns []string
} {
	lists := []struct {
		field    string
		patterns []string
	}{
		{"match.repositories", m.Repositories}, {"match.refs", m.Refs}, {"match.paths", m.Paths},
		{"match.ignorePaths", m.IgnorePaths}, {"match.senders", m.Senders},
	}
	if m.PullRequest != nil {
		lists = append(lists, struct {
			field    string
			patterns []string
		}{"match.pullRequest.baseRefs", m.PullRequest.BaseRefs})
	}
	return lists
}

// validatePatterns checks the glob lists and pull request actions.
func validatePatterns(m v1alpha1.MatchSpec) error {
	var errs []error
	for i, e := range m.Events {
		if strings.TrimSpace(e) == "" {
			errs = append(errs, fmt.Errorf("match.events[%d]: empty event name", i))
		}
	}
	for _, list := range matchLists(m) {
		for i, p := range list.patterns {
			glob := strings.TrimPrefix(p, "!")
			if glob == "" {
				errs = append(errs, fmt.Errorf("%s[%d]: empty pattern", list.field, i))
				continue
			}
			if !doublestar.ValidatePattern(glob) {
				errs = append(errs, fmt.Errorf("%s[%d]: %q: syntax error in pattern", list.field, i, p))
			}
		}
	}
	if m.PullRequest != nil {
		for i, a := range m.PullRequest.Actions {
			if !slices.Contains(pullRequestActions, a) {
				errs = append(errs, fmt.Errorf("match.pullRequest.actions[%d]: %q is not one of %v", i, a, pullRequestActions))
			}
		}
	}
	return errors.Join(errs...)
}

var pullRequestActions = []v1alpha1.PullRequestAction{
	v1alpha1.PullRequestOpened, v1alpha1.PullRequestSynchronize, v1alpha1.PullRequestReopened,
	v1alpha1.PullRequestClosed, v1alpha1.PullRequestMerged, v1alpha1.PullRequestEdited, v1alpha1.PullRequestOther,
}

// FieldMatch is how one match field judged a delivery (dry-run answer).
type FieldMatch struct {
	// Value is what the delivery has for the field (paths: how many files
	// changed; pullRequest: the action; expression: the result).
	Value string `json:"value"`
	// Names are the event names the delivery answers to (events only).
	Names []string `json:"names,omitempty"`
	// Patterns are the template's list; empty matches anything.
	Patterns []string `json:"patterns"`
	// IgnorePatterns are match.ignorePaths (paths only).
	IgnorePatterns []string `json:"ignorePatterns,omitempty"`
	// Files are the changed files the payload lists (paths only).
	Files []string `json:"files,omitempty"`
	// Note explains a verdict that the value and patterns alone do not.
	Note string `json:"note,omitempty"`
	// Matched is the verdict.
	Matched bool `json:"matched"`
}

// MatchResult is how a template's match block judged a delivery.
type MatchResult struct {
	Matched      bool       `json:"matched"`
	Reason       string     `json:"reason,omitempty"`
	Events       FieldMatch `json:"events"`
	Repositories FieldMatch `json:"repositories"`
	Refs         FieldMatch `json:"refs"`
	Paths        FieldMatch `json:"paths"`
	Senders      FieldMatch `json:"senders"`
	PullRequest  FieldMatch `json:"pullRequest"`
	Expression   FieldMatch `json:"expression"`
}

// ReasonFork is why a pull request from a fork is ignored.
const ReasonFork = "pull request from a fork"

// eventNames are the names a delivery answers to in match.events: its own
// provider name and the normalised ones. A deletion answers only to
// "delete", so that no push pattern ever deploys a deleted branch.
func eventNames(c candidate) []string {
	own := c.delivery.Event
	switch c.kind {
	case kindEcho:
		return nil
	case kindDelete:
		return []string{EventDelete}
	case kindTag:
		return dedupe(own, EventPush, EventTag)
	case kindPush:
		return dedupe(own, EventPush)
	case kindPullRequest:
		return dedupe(own, EventPullRequest)
	default:
		return dedupe(own)
	}
}

func dedupe(names ...string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		dup := n == ""
		for _, o := range out {
			dup = dup || strings.EqualFold(o, n)
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

// matcher is a template's match block, checked and compiled once per
// template generation (readiness.go caches it).
type matcher struct {
	spec v1alpha1.MatchSpec
	expr *expression // nil without match.expression
}

// newMatcher checks a match block and compiles its expression. It always
// returns a matcher (one with an invalid expression never matches) so that
// tests and fuzzing can use it whatever the error.
func newMatcher(m v1alpha1.MatchSpec) (*matcher, error) {
	mt := &matcher{spec: m}
	err := validatePatterns(m)
	if m.Expression != "" {
		e, cerr := compileExpression(m.Expression)
		if cerr != nil {
			err = errors.Join(err, fmt.Errorf("match.expression: %w", cerr))
			e = &expression{source: m.Expression, compileErr: cerr}
		}
		mt.expr = e
	}
	return mt, err
}

// matchDelivery applies a match block to one delivery without a request's
// body and headers (tests).
func matchDelivery(m v1alpha1.MatchSpec, c candidate) MatchResult {
	mt, _ := newMatcher(m)
	return mt.match(c, nil)
}

// match applies the match block to one delivery. Every non-empty list must
// match; event names compare case-insensitively, repositories and senders
// are case-insensitive globs (git hosts treat owner/name and logins so),
// refs, paths and base refs are case-sensitive globs. Globs are doublestar
// patterns: `*` stays within one segment, `**` crosses `/`, and a leading
// `!` excludes what it matches. in is the request (nil: the expression sees
// an empty body and no headers).
func (mt *matcher) match(c candidate, in *exprInput) MatchResult {
	m := mt.spec
	d := c.delivery
	names := eventNames(c)
	r := MatchResult{
		Events:       FieldMatch{Value: d.Event, Names: names, Patterns: nonNil(m.Events)},
		Repositories: FieldMatch{Value: d.Repository, Patterns: nonNil(m.Repositories)},
		Refs:         FieldMatch{Value: d.Ref, Patterns: nonNil(m.Refs)},
		Senders:      FieldMatch{Value: d.Sender, Patterns: nonNil(m.Senders)},
	}

	if len(m.Events) == 0 {
		r.Events.Matched = c.kind != kindDelete && c.kind != kindCreate && c.kind != kindEcho
	} else {
		for _, want := range m.Events {
			for _, n := range names {
				if strings.EqualFold(strings.TrimSpace(want), n) {
					r.Events.Matched = true
				}
			}
		}
	}
	r.Repositories.Matched = globAny(m.Repositories, d.Repository, true)
	r.Refs.Matched = globAny(m.Refs, d.Ref, false)
	r.Paths = matchPaths(m, c)
	r.Senders.Matched = globAny(m.Senders, d.Sender, true)
	r.PullRequest = matchPullRequest(m.PullRequest, d)
	r.Expression = mt.evaluate(d, in)

	switch {
	case c.kind == kindEcho:
		r.Reason = c.echo
	case !r.Events.Matched && c.kind == kindCreate && len(m.Events) == 0:
		r.Reason = fmt.Sprintf("%s was created: the push delivery of the same ref runs; list %q in match.events to run on creation too", d.Ref, d.Event)
	case !r.Events.Matched && c.kind == kindDelete:
		r.Reason = fmt.Sprintf("%s was deleted; list %q in match.events to run on deletions", d.Ref, EventDelete)
	case !r.Events.Matched:
		r.Reason = fmt.Sprintf("event %q is not in match.events", d.Event)
	case !r.Repositories.Matched:
		r.Reason = fmt.Sprintf("repository %q matches no pattern of match.repositories", d.Repository)
	case !r.Refs.Matched:
		r.Reason = fmt.Sprintf("ref %q matches no pattern of match.refs", d.Ref)
	case !r.Paths.Matched:
		r.Reason = r.Paths.Note
	case !r.Senders.Matched:
		r.Reason = fmt.Sprintf("sender %q matches no pattern of match.senders", d.Sender)
	case !r.PullRequest.Matched:
		r.Reason = r.PullRequest.Note
	case !r.Expression.Matched:
		r.Reason = r.Expression.Note
	default:
		r.Matched = true
	}
	return r
}

// matchPaths judges the changed files: at least one must match
// match.paths (when given) and not all may match match.ignorePaths. A list
// that may be incomplete matches, and the note says so.
func matchPaths(m v1alpha1.MatchSpec, c candidate) FieldMatch {
	fm := FieldMatch{Patterns: nonNil(m.Paths), IgnorePatterns: m.IgnorePaths, Files: c.files, Matched: true}
	if c.filesKnown {
		fm.Value = fmt.Sprintf("%d changed files", len(c.files))
		if c.filesSource != "" {
			fm.Value += " (from " + c.filesSource + ")"
		}
	}
	if len(m.Paths) == 0 && len(m.IgnorePaths) == 0 {
		return fm
	}
	if !c.filesKnown {
		fm.Note = "the payload's list of changed files is missing or may be incomplete"
		if c.filesNote != "" {
			fm.Note += " and the host could not complete it (" + c.filesNote + ")"
		}
		fm.Note += ": matched, so that no deploy is missed"
		return fm
	}
	hit := len(m.Paths) == 0
	ignored := len(m.IgnorePaths) > 0
	for _, f := range c.files {
		hit = hit || globAny(m.Paths, f, false)
		ignored = ignored && globAny(m.IgnorePaths, f, false)
	}
	switch {
	case !hit:
		fm.Matched = false
		fm.Note = "no changed file matches a pattern of match.paths"
	case ignored:
		fm.Matched = false
		fm.Note = "every changed file matches match.ignorePaths"
	}
	return fm
}

// matchPullRequest judges a pull request's action, base ref and origin.
// Deliveries that are not pull requests pass. A request from a fork is
// ignored unless match.pullRequest.allowForks, even without a pullRequest
// block: it runs code the repository's owners have not reviewed.
func matchPullRequest(pm *v1alpha1.PullRequestMatch, d v1alpha1.Delivery) FieldMatch {
	fm := FieldMatch{Patterns: []string{}, Matched: true}
	if pm != nil {
		for _, a := range pm.Actions {
			fm.Patterns = append(fm.Patterns, string(a))
		}
	}
	pr := d.PullRequest
	if pr == nil {
		return fm
	}
	fm.Value = string(pr.Action)
	switch {
	case pr.FromFork && (pm == nil || !pm.AllowForks):
		fm.Matched, fm.Note = false, ReasonFork
	case pm != nil && len(pm.Actions) > 0 && !slices.Contains(pm.Actions, pr.Action):
		fm.Matched = false
		fm.Note = fmt.Sprintf("pull request action %q is not in match.pullRequest.actions", pr.Action)
	case pm != nil && !globAny(pm.BaseRefs, pr.BaseRef, false):
		fm.Matched = false
		fm.Note = fmt.Sprintf("pull request base ref %q matches no pattern of match.pullRequest.baseRefs", pr.BaseRef)
	}
	return fm
}

// globAny reports whether value matches the list: an empty list matches
// anything; otherwise value must match one pattern without a leading `!`
// (when there is any) and none with one.
func globAny(patterns []string, value string, foldCase bool) bool {
	if len(patterns) == 0 {
		return true
	}
	if value == "" {
		return false
	}
	if foldCase {
		value = strings.ToLower(value)
	}
	included, includes := false, false
	for _, p := range patterns {
		glob, exclude := strings.CutPrefix(p, "!")
		if foldCase {
			glob = strings.ToLower(glob)
		}
		ok, err := doublestar.Match(glob, value)
		ok = ok && err == nil
		if exclude {
			if ok {
				return false
			}
			continue
		}
		includes = true
		included = included || ok
	}
	return included || !includes
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
