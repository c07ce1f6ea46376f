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
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v88/github"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// GitHub check runs through a GitHub App (spec.report.githubApp), with
// google/go-github for the Checks API and bradleyfalzon/ghinstallation for
// installation tokens: it signs the App's RS256 JWT, exchanges it at
// POST {url}/app/installations/{id}/access_tokens and caches the token
// until a minute before it expires.

// checkState is a phase as a check run's status and conclusion.
func checkState(phase hooksv1alpha1.HookRunPhase) (status, conclusion string) {
	switch phase {
	case hooksv1alpha1.PhaseRunning:
		return "in_progress", ""
	case hooksv1alpha1.PhaseSucceeded:
		return "completed", "success"
	case hooksv1alpha1.PhaseFailed:
		return "completed", "failure"
	case hooksv1alpha1.PhaseCancelled:
		return "completed", "cancelled"
	case hooksv1alpha1.PhaseSkipped:
		return "completed", "skipped"
	}
	return "queued", ""
}

// checkStateName is what status.report.state shows for a check run.
func checkStateName(phase hooksv1alpha1.HookRunPhase) string {
	status, conclusion := checkState(phase)
	if conclusion != "" {
		return status + "/" + conclusion
	}
	return status
}

// checkSummary is a check run's output.summary: exit code, reason, duration
// and the output tail, which the caller has redacted.
func checkSummary(run *hooksv1alpha1.HookRun, tail string) string {
	s := run.Status
	var b strings.Builder
	if s.ExitCode != nil {
		fmt.Fprintf(&b, "Exit code: %d\n", *s.ExitCode)
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, "Reason: %s\n", s.Reason)
	}
	if s.StartTime != nil && s.CompletionTime != nil {
		fmt.Fprintf(&b, "Duration: %s\n", s.CompletionTime.Sub(s.StartTime.Time).Round(time.Second))
	}
	if tail != "" {
		fmt.Fprintf(&b, "\n```\n%s\n```\n", strings.ReplaceAll(tail, "```", "`\u200b``"))
	}
	if b.Len() == 0 {
		return describe(run)
	}
	return b.String()
}

// appClients caches one installation transport (and so its token) per App
// installation, key and host.
type appClients struct {
	mu    sync.Mutex
	base  http.RoundTripper
	byKey map[string]*ghinstallation.Transport
}

// transport is the installation's token-adding transport, made once per
// installation, key and host (so its token is cached across requests).
func (a *appClients) transport(baseURL string, app *hooksv1alpha1.GitHubAppSpec, key []byte) (*ghinstallation.Transport, error) {
	sum := sha256.Sum256(key)
	cacheKey := fmt.Sprintf("%s|%d|%d|%x", baseURL, app.AppID, app.InstallationID, sum)
	a.mu.Lock()
	defer a.mu.Unlock()
	if tr, ok := a.byKey[cacheKey]; ok {
		return tr, nil
	}
	base := a.base
	if base == nil {
		base = http.DefaultTransport
	}
	tr, err := ghinstallation.New(base, app.AppID, app.InstallationID, key)
	if err != nil {
		// The error says the key does not parse; it holds no key material.
		return nil, fmt.Errorf("githubApp private key: %w", err)
	}
	tr.BaseURL = baseURL
	a.byKey[cacheKey] = tr
	return tr, nil
}

func (a *appClients) client(baseURL string, app *hooksv1alpha1.GitHubAppSpec, key []byte, timeout time.Duration) (*github.Client, error) {
	tr, err := a.transport(baseURL, app, key)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(baseURL, "/") + "/"
	client, err := github.NewClient(github.WithHTTPClient(&http.Client{Transport: tr, Timeout: timeout}), github.WithURLs(&base, &base))
	if err != nil {
		return nil, fmt.Errorf("report.url: %w", err)
	}
	return client, nil
}

// checkRunRequest is one create-or-update of a run's check run.
type checkRunRequest struct {
	target     reportTarget
	runName    string
	phase      hooksv1alpha1.HookRunPhase
	title      string
	summary    string
	checkRunID int64 // 0: create
}

// sendCheckRun creates the run's check run (POST …/check-runs) or updates
// it (PATCH …/check-runs/{id}) and returns its id.
func sendCheckRun(ctx context.Context, client *github.Client, req checkRunRequest, now time.Time) (int64, *http.Response, error) {
	owner, name, err := splitRepository(req.target.repository)
	if err != nil {
		return 0, nil, err
	}
	status, conclusion := checkState(req.phase)
	output := &github.CheckRunOutput{Title: github.Ptr(req.title), Summary: github.Ptr(req.summary)}
	var details *string
	if req.target.targetURL != "" {
		details = github.Ptr(req.target.targetURL)
	}
	var concl *string
	var completed *github.Timestamp
	if conclusion != "" {
		concl, completed = github.Ptr(conclusion), &github.Timestamp{Time: now}
	}
	// go-github escapes nothing itself: owner and name are escaped here.
	owner, name = url.PathEscape(owner), url.PathEscape(name)
	if req.checkRunID == 0 {
		cr, resp, err := client.Checks.CreateCheckRun(ctx, owner, name, github.CreateCheckRunOptions{
			Name: req.target.context, HeadSHA: req.target.sha, Status: github.Ptr(status), Conclusion: concl,
			CompletedAt: completed, DetailsURL: details, ExternalID: github.Ptr(req.runName), Output: output,
		})
		if err != nil {
			return 0, httpResponse(resp, err), err
		}
		return cr.GetID(), resp.Response, nil
	}
	cr, resp, err := client.Checks.UpdateCheckRun(ctx, owner, name, req.checkRunID, github.UpdateCheckRunOptions{
		Name: req.target.context, Status: github.Ptr(status), Conclusion: concl, CompletedAt: completed,
		DetailsURL: details, ExternalID: github.Ptr(req.runName), Output: output,
	})
	if err != nil {
		return 0, httpResponse(resp, err), err
	}
	return cr.GetID(), resp.Response, nil
}

// httpResponse finds the host's answer behind a go-github or ghinstallation
// error (nil for a network error).
func httpResponse(resp *github.Response, err error) *http.Response {
	var tokenErr *ghinstallation.HTTPError
	if errors.As(err, &tokenErr) && tokenErr.Response != nil {
		return tokenErr.Response
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) && abuse.Response != nil {
		return abuse.Response
	}
	if resp != nil && resp.Response != nil {
		return resp.Response
	}
	return nil
}
