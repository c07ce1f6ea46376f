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

package controllers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// The git hosts' commit status APIs, as pure functions: which state a phase
// is, what the description says, and the exact request each host documents.
//
// Every host is spoken to with net/http and the request shapes of DESIGN.md
// rather than the hosts' SDKs: each call is one POST of four or five JSON
// fields, the SDKs (go-github, the GitLab and Gitea clients) would add large
// dependency trees for it, and a hand-written request is exactly what the
// httptest servers of reporter_hosts_test.go check. Bitbucket has no
// maintained Go SDK for its build status API at all.

// maxDescription is the longest description sent (GitHub's limit is 140).
const maxDescription = 140

// hostState is the host's word for a run phase (DESIGN.md's mapping table).
func hostState(p hooksv1alpha1.ReportProvider, phase hooksv1alpha1.HookRunPhase) string {
	type row struct{ status, gitlab, bitbucket, bitbucketServer string }
	rows := map[hooksv1alpha1.HookRunPhase]row{
		hooksv1alpha1.PhasePending:   {"pending", "pending", "INPROGRESS", "INPROGRESS"},
		hooksv1alpha1.PhaseQueued:    {"pending", "pending", "INPROGRESS", "INPROGRESS"},
		hooksv1alpha1.PhaseRunning:   {"pending", "running", "INPROGRESS", "INPROGRESS"},
		hooksv1alpha1.PhaseSucceeded: {"success", "success", "SUCCESSFUL", "SUCCESSFUL"},
		hooksv1alpha1.PhaseFailed:    {"failure", "failed", "FAILED", "FAILED"},
		hooksv1alpha1.PhaseCancelled: {"error", "canceled", "STOPPED", "CANCELLED"},
		hooksv1alpha1.PhaseSkipped:   {"error", "skipped", "STOPPED", "CANCELLED"},
	}
	r := rows[phase]
	switch p {
	case hooksv1alpha1.ReportGitLab:
		return r.gitlab
	case hooksv1alpha1.ReportBitbucket:
		return r.bitbucket
	case hooksv1alpha1.ReportBitbucketServer:
		return r.bitbucketServer
	}
	return r.status
}

// phaseRank orders phases so that a report never goes backwards: a late
// pending never replaces a final state.
func phaseRank(p hooksv1alpha1.HookRunPhase) int {
	switch {
	case p.IsFinished():
		return 2
	case p == hooksv1alpha1.PhaseRunning:
		return 1
	}
	return 0
}

// describe says what happened, in at most maxDescription characters, e.g.
// "Queued (position 2)", "Running (attempt 2)", "Succeeded in 42s",
// "Failed: exit code 3 (BackoffLimitExceeded)". Run output never goes into
// a description.
func describe(run *hooksv1alpha1.HookRun) string {
	s := run.Status
	var d string
	switch s.Phase {
	case hooksv1alpha1.PhaseQueued:
		d = "Queued"
		if s.QueuePosition > 0 {
			d = fmt.Sprintf("Queued (position %d)", s.QueuePosition)
		}
	case hooksv1alpha1.PhaseRunning:
		d = "Running"
		if s.Attempts > 1 {
			d = fmt.Sprintf("Running (attempt %d)", s.Attempts)
		}
	case hooksv1alpha1.PhaseSucceeded:
		d = "Succeeded"
		if s.StartTime != nil && s.CompletionTime != nil {
			d = "Succeeded in " + s.CompletionTime.Sub(s.StartTime.Time).Round(time.Second).String()
		}
	case hooksv1alpha1.PhaseFailed:
		d = "Failed"
		if s.ExitCode != nil {
			d += fmt.Sprintf(": exit code %d", *s.ExitCode)
		}
		if s.Reason != "" {
			d += " (" + s.Reason + ")"
		}
	case hooksv1alpha1.PhaseCancelled, hooksv1alpha1.PhaseSkipped:
		d = string(s.Phase)
		if s.Reason != "" {
			d += " (" + s.Reason + ")"
		}
	default:
		d = "Pending"
	}
	return truncateRunes(d, maxDescription)
}

// truncateRunes cuts s to at most n characters, ending in "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var reportVarPattern = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandTargetURL replaces $(NAME) by the run's HOOK_* variable or param of
// that name (unknown names expand to nothing). Delivery values are
// query-escaped: they are request data and must not reshape the URL.
func expandTargetURL(expr string, run *hooksv1alpha1.HookRun) string {
	if expr == "" {
		return ""
	}
	vars := map[string]string{}
	for _, env := range delivery.Vars(run) {
		vars[env.Name] = env.Value
	}
	return reportVarPattern.ReplaceAllStringFunc(expr, func(m string) string {
		return url.QueryEscape(vars[reportVarPattern.FindStringSubmatch(m)[1]])
	})
}

// reportTarget is everything a status request is built from.
type reportTarget struct {
	provider   hooksv1alpha1.ReportProvider
	baseURL    string
	repository string // owner/name (Bitbucket Server: PROJECT/slug)
	sha        string
	ref        string // full git ref; GitLab gets its short name
	token      string
	context    string
	targetURL  string
}

// reportEndpoint is where a template's report requests (and its
// changed-files questions, changes.go) go: spec.report with its defaults.
type reportEndpoint struct {
	provider   hooksv1alpha1.ReportProvider
	baseURL    string
	repository string // owner/name (Bitbucket Server: PROJECT/slug)
}

// resolveEndpoint applies spec.report's defaults: the provider is the
// source's, the URL the hosted provider's API, the repository the
// delivery's.
func resolveEndpoint(tmpl *hooksv1alpha1.HookTemplate, deliveryRepository string) (reportEndpoint, error) {
	rep := tmpl.Spec.Report
	e := reportEndpoint{provider: rep.Provider, baseURL: rep.URL, repository: rep.Repository}
	if e.provider == "" {
		e.provider = hooksv1alpha1.ReportProvider(tmpl.Spec.Source.Provider)
	}
	if e.baseURL == "" {
		switch e.provider {
		case hooksv1alpha1.ReportGitHub:
			e.baseURL = hooksv1alpha1.DefaultGitHubURL
		case hooksv1alpha1.ReportGitLab:
			e.baseURL = hooksv1alpha1.DefaultGitLabURL
		case hooksv1alpha1.ReportBitbucket:
			e.baseURL = hooksv1alpha1.DefaultBitbucketURL
		}
	}
	e.baseURL = strings.TrimRight(e.baseURL, "/")
	if e.repository == "" {
		e.repository = deliveryRepository
	}
	switch {
	case e.baseURL == "":
		return e, fmt.Errorf("report.url is required for provider %q", e.provider)
	case !slices.Contains([]hooksv1alpha1.ReportProvider{hooksv1alpha1.ReportGitHub, hooksv1alpha1.ReportGitea,
		hooksv1alpha1.ReportGitLab, hooksv1alpha1.ReportBitbucket, hooksv1alpha1.ReportBitbucketServer}, e.provider):
		return e, fmt.Errorf("report.provider %q is not one of github, gitlab, gitea, bitbucket, bitbucket-server", e.provider)
	}
	return e, nil
}

// resolveTarget applies spec.report's defaults for a run.
func resolveTarget(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) (reportTarget, error) {
	e, err := resolveEndpoint(tmpl, run.Spec.Delivery.Repository)
	t := reportTarget{
		provider:   e.provider,
		baseURL:    e.baseURL,
		repository: e.repository,
		sha:        run.Spec.Delivery.SHA,
		ref:        run.Spec.Delivery.Ref,
		context:    tmpl.Spec.Report.Context,
		targetURL:  expandTargetURL(tmpl.Spec.Report.TargetURL, run),
	}
	if t.context == "" {
		t.context = "hookrun/" + tmpl.Namespace + "/" + tmpl.Name
	}
	return t, err
}

// splitRepository splits "owner/name" into its two path segments.
func splitRepository(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q is not owner/name", repo)
	}
	return owner, name, nil
}

// statusKey is Bitbucket's key of a build status: the context, or (Bitbucket
// Cloud keys are at most 40 characters) a stable hash of it.
func statusKey(p hooksv1alpha1.ReportProvider, context string) string {
	if p == hooksv1alpha1.ReportBitbucket && len(context) > 40 {
		return "hookrun-" + delivery.ShortHash(context, 32)
	}
	return context
}

// statusRequest builds the host's documented commit status request. Every
// path segment taken from the delivery or the template is escaped.
func statusRequest(ctx context.Context, t reportTarget, phase hooksv1alpha1.HookRunPhase, description string) (*http.Request, error) {
	state := hostState(t.provider, phase)
	sha := url.PathEscape(t.sha)
	var (
		path string
		body any
	)
	switch t.provider {
	case hooksv1alpha1.ReportGitHub, hooksv1alpha1.ReportGitea:
		owner, name, err := splitRepository(t.repository)
		if err != nil {
			return nil, err
		}
		path = "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/statuses/" + sha
		if t.provider == hooksv1alpha1.ReportGitea {
			path = "/api/v1" + path
		}
		body = struct {
			State       string `json:"state"`
			TargetURL   string `json:"target_url,omitempty"`
			Description string `json:"description"`
			Context     string `json:"context"`
		}{state, t.targetURL, description, t.context}
	case hooksv1alpha1.ReportGitLab:
		branch, tag := delivery.BranchAndTag(t.ref)
		ref := branch
		if tag != "" {
			ref = tag
		}
		path = "/api/v4/projects/" + url.PathEscape(t.repository) + "/statuses/" + sha
		body = struct {
			State       string `json:"state"`
			Name        string `json:"name"`
			TargetURL   string `json:"target_url,omitempty"`
			Description string `json:"description"`
			Ref         string `json:"ref,omitempty"`
		}{state, t.context, t.targetURL, description, ref}
	case hooksv1alpha1.ReportBitbucket, hooksv1alpha1.ReportBitbucketServer:
		owner, name, err := splitRepository(t.repository)
		if err != nil {
			return nil, err
		}
		if t.provider == hooksv1alpha1.ReportBitbucket {
			path = "/2.0/repositories/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/commit/" + sha + "/statuses/build"
		} else {
			path = "/rest/api/latest/projects/" + url.PathEscape(owner) + "/repos/" + url.PathEscape(name) + "/commits/" + sha + "/builds"
		}
		body = struct {
			Key         string `json:"key"`
			State       string `json:"state"`
			Name        string `json:"name"`
			URL         string `json:"url,omitempty"`
			Description string `json:"description"`
		}{statusKey(t.provider, t.context), state, t.context, t.targetURL, description}
	default:
		return nil, fmt.Errorf("report.provider %q has no status API", t.provider)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.baseURL+path, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("build report request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	setAPIHeaders(req.Header, t.provider)
	setAuthorization(req.Header, t.provider, t.token)
	return req, nil
}

// setAPIHeaders sets the headers every request to a host's REST API
// carries: JSON is accepted, hookrun names itself, and GitHub gets its
// media type and the API version the requests were written against.
func setAPIHeaders(h http.Header, p hooksv1alpha1.ReportProvider) {
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "hookrun")
	if p == hooksv1alpha1.ReportGitHub {
		h.Set("Accept", "application/vnd.github+json")
		h.Set("X-GitHub-Api-Version", "2022-11-28")
	}
}

// setAuthorization sets the header each host reads a token from:
// Authorization "Bearer" (GitHub, Bitbucket Data Center, a Bitbucket Cloud
// access token), "token" (Gitea), PRIVATE-TOKEN (GitLab), Basic for a
// Bitbucket Cloud "user:app-password".
func setAuthorization(h http.Header, p hooksv1alpha1.ReportProvider, token string) {
	switch p {
	case hooksv1alpha1.ReportGitHub, hooksv1alpha1.ReportBitbucketServer:
		h.Set("Authorization", "Bearer "+token)
	case hooksv1alpha1.ReportGitea:
		h.Set("Authorization", "token "+token)
	case hooksv1alpha1.ReportGitLab:
		h.Set("PRIVATE-TOKEN", token)
	case hooksv1alpha1.ReportBitbucket:
		if strings.Contains(token, ":") { // user:app-password
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(token)))
		} else {
			h.Set("Authorization", "Bearer "+token)
		}
	}
}

// verdict is what a host's answer means for the report.
type verdict int

const (
	verdictAccepted verdict = iota
	verdictRetry            // 429, 5xx, a secondary rate limit, a network error
	verdictRejected         // 401, 403, 404, 422 and other 4xx: retrying cannot help
)

// classify reads a host's answer.
func classify(resp *http.Response) verdict {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return verdictAccepted
	case code == http.StatusTooManyRequests || code >= 500:
		return verdictRetry
	case code == http.StatusForbidden && (resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-RateLimit-Remaining") == "0"):
		// GitHub's primary and secondary rate limits answer 403.
		return verdictRetry
	}
	return verdictRejected
}

// retryDelay is how long to wait before the next attempt: exponential from
// base (capped at max), or longer when the host says so in Retry-After
// (seconds or an HTTP date) or X-RateLimit-Reset (Unix seconds).
func retryDelay(h http.Header, attempt int, base, maxDelay time.Duration, now time.Time) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	if h == nil {
		return d
	}
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			d = max(d, time.Duration(secs)*time.Second)
		} else if at, err := http.ParseTime(v); err == nil {
			d = max(d, at.Sub(now))
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" && h.Get("X-RateLimit-Remaining") == "0" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			d = max(d, time.Unix(secs, 0).Sub(now))
		}
	}
	return d
}
