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
	"path"
	"strings"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// Normalised event names a template may list in match.events besides the
// provider's own names.
const (
	EventPush   = "push"   // a branch or tag push, on any provider
	EventTag    = "tag"    // a tag push
	EventDelete = "delete" // a branch or tag deletion
)

// ValidateMatch reports malformed globs (path.Match syntax) and empty
// entries in a template's match lists. It has no side effects; CheckTemplate
// calls it (InvalidMatch).
func ValidateMatch(m v1alpha1.MatchSpec) error {
	var errs []error
	for i, e := range m.Events {
		if strings.TrimSpace(e) == "" {
			errs = append(errs, fmt.Errorf("match.events[%d]: empty event name", i))
		}
	}
	for _, list := range []struct {
		field    string
		patterns []string
	}{{"match.repositories", m.Repositories}, {"match.refs", m.Refs}} {
		for i, p := range list.patterns {
			if p == "" {
				errs = append(errs, fmt.Errorf("%s[%d]: empty pattern", list.field, i))
				continue
			}
			// path.Match checks the whole pattern, whatever the name.
			if _, err := path.Match(p, ""); err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %q: %w", list.field, i, p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// FieldMatch is how one match list judged a delivery (dry-run answer).
type FieldMatch struct {
	// Value is what the delivery has for the field.
	Value string `json:"value"`
	// Names are the event names the delivery answers to (events only).
	Names []string `json:"names,omitempty"`
	// Patterns are the template's list; empty matches anything.
	Patterns []string `json:"patterns"`
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
}

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

// matchDelivery applies a template's match block to one delivery. Every
// non-empty list must match; event names compare case-insensitively,
// repositories are case-insensitive globs (git hosts treat owner/name so),
// refs are case-sensitive globs on the full ref. Patterns use path.Match:
// `*` does not cross a `/`.
func matchDelivery(m v1alpha1.MatchSpec, c candidate) MatchResult {
	d := c.delivery
	names := eventNames(c)
	r := MatchResult{
		Events:       FieldMatch{Value: d.Event, Names: names, Patterns: nonNil(m.Events)},
		Repositories: FieldMatch{Value: d.Repository, Patterns: nonNil(m.Repositories)},
		Refs:         FieldMatch{Value: d.Ref, Patterns: nonNil(m.Refs)},
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
	default:
		r.Matched = true
	}
	return r
}

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
	for _, p := range patterns {
		if foldCase {
			p = strings.ToLower(p)
		}
		if ok, err := path.Match(p, value); err == nil && ok {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
