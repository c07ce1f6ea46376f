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
	"slices"

	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// ChangedFilesFetcher asks the git host which files a delivery changed
// (GitHub/Gitea compare, GitLab compare, Bitbucket diffstat) when the
// payload's list may be incomplete. It needs the template's report
// credentials (DESIGN.md, spec.report); until those exist no fetcher is
// configured and such a delivery matches match.paths ("a run too many,
// never a deploy missed").
type ChangedFilesFetcher interface {
	// ChangedFiles returns every file changed between d.Before (or the
	// pull request's base) and d.SHA. ok is false when the host could not
	// say; the delivery then matches as if no fetcher were set.
	ChangedFiles(ctx context.Context, tmpl *v1alpha1.HookTemplate, d v1alpha1.Delivery) (files []string, ok bool, err error)
}

// fillChangedFiles completes the candidates' file lists with the fetcher,
// for templates that filter on paths. A failed fetch leaves the list
// unknown: the delivery matches, it is not refused.
func (s *Server) fillChangedFiles(ctx context.Context, tmpl *v1alpha1.HookTemplate, ev *event) {
	f := s.opts.ChangedFiles
	m := tmpl.Spec.Match
	if f == nil || (len(m.Paths) == 0 && len(m.IgnorePaths) == 0) {
		return
	}
	for i := range ev.candidates {
		c := &ev.candidates[i]
		if c.filesKnown || c.kind == kindDelete || c.kind == kindEcho {
			continue
		}
		files, ok, err := f.ChangedFiles(ctx, tmpl, c.delivery)
		if err != nil {
			logf.FromContext(ctx).Info("could not list changed files; matching paths as if all changed", "error", err.Error())
			continue
		}
		if ok && len(files) <= maxChangedFiles {
			c.files, c.filesKnown = slices.Sorted(slices.Values(files)), true
		}
	}
}
