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
	"slices"

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
}

// fillChangedFiles completes the candidates' file lists with the fetcher,
// for templates that filter on paths. Candidates are judged in the order
// pick takes them, and only one that matches with its list unknown is
// asked about: one another field already refuses is ignored whatever its
// files (and costs the host no request), and the first candidate that
// matches is the one that runs. A failed fetch leaves the list unknown:
// the delivery matches, it is not refused, and the dry run's paths note
// says why. A HookSource's templates share a list one of them got (the
// candidates are the delivery's).
func (s *Server) fillChangedFiles(ctx context.Context, mt *matcher, tmpl *v1alpha1.HookTemplate, ev *event) {
	f := s.opts.ChangedFiles
	m := tmpl.Spec.Match
	if f == nil || (len(m.Paths) == 0 && len(m.IgnorePaths) == 0) {
		return
	}
	for i := range ev.candidates {
		c := &ev.candidates[i]
		if !mt.match(*c, ev.exprInput()).Matched {
			continue
		}
		if c.filesKnown || c.kind == kindDelete || c.kind == kindEcho {
			return // this one runs
		}
		files, source, err := f.ChangedFiles(ctx, tmpl, c.delivery)
		switch {
		case err != nil:
			c.filesNote = err.Error()
			logf.FromContext(ctx).V(1).Info("could not list changed files; matching paths as if all changed", "delivery", c.delivery.ID, "reason", c.filesNote)
			return // it matches with its list unknown: this one runs
		case len(files) > maxChangedFiles:
			c.filesNote = fmt.Sprintf("%s lists more than %d files", source, maxChangedFiles)
			return
		}
		c.files, c.filesKnown, c.filesSource, c.filesNote = slices.Sorted(slices.Values(files)), true, source, ""
		if mt.match(*c, ev.exprInput()).Matched {
			return
		}
	}
}
