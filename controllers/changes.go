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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// HostChangedFiles is the webhook server's ChangedFilesFetcher: when a
// delivery's payload may not list every changed file, it asks the git host
// with the template's report credentials (spec.report, resolved as the
// reporter resolves them):
//
//   - GitHub: GET /repos/{owner}/{repo}/compare/{base}...{head}
//   - Gitea/Forgejo: GET /api/v1/repos/{owner}/{repo}/compare/{base}...{head}
//   - GitLab: GET /api/v4/projects/{id}/repository/compare?from=&to=
//   - Bitbucket Cloud: GET /2.0/repositories/{workspace}/{repo}/diffstat/{head}..{base},
//     a pull request's GET …/pullrequests/{id}/diffstat
//   - Bitbucket Data Center: GET /rest/api/1.0/projects/{key}/repos/{slug}/changes?since=&until=,
//     a pull request's GET …/pull-requests/{id}/changes
//
// A push compares its before and after commits; a pull request its base
// branch with its head commit. A new branch or tag (before is empty or all
// zeros) has nothing to compare with: the host is not asked and the
// delivery matches. Every failure (no credentials, network, 4xx/5xx, the
// time limit, an answer the host caps) is an error the dry run shows; the
// delivery then matches. Errors name the host and the HTTP status, never a
// credential (they travel in headers, never in URLs).
//
// Each provider's answer is decoded into fixed structs with encoding/json:
// there is no parser of our own to fuzz.
type HostChangedFiles struct {
	// Reader reads the report Secrets (the manager's cache).
	Reader ctrl.Reader
	// Transport is the base of the HTTP client (default
	// http.DefaultTransport).
	Transport http.RoundTripper
	// Timeout bounds all the requests about one delivery, whatever the
	// number of templates asking (default 5s): git hosts give up on a
	// delivery after about 10s, and the runs must still be stored.
	Timeout time.Duration
	// MaxBytes bounds one answer's body (default 8 MiB); a larger answer
	// is treated as incomplete.
	MaxBytes int64

	once sync.Once
	apps *appClients
}

// Defaults of HostChangedFiles.
const (
	DefaultChangedFilesTimeout        = 5 * time.Second
	DefaultChangedFilesMaxBytes int64 = 8 << 20
)

// Host caps: an answer with at least this many files may have been cut.
const (
	// gitHubCompareMaxFiles is how many files GitHub's compare lists at most.
	gitHubCompareMaxFiles = 300
	// gitLabCompareMaxFiles is GitLab's default diff limit (diff_max_files).
	gitLabCompareMaxFiles = 1000
	// maxFiles bounds the files collected over pages (the webhook server
	// keeps at most 2000 of a delivery).
	maxFiles = 2000
	// maxPages bounds the pages of a paginated answer.
	maxPages = 20
	// bitbucketPageLen is the page size asked of Bitbucket.
	bitbucketPageLen = 500
)

func (h *HostChangedFiles) init() {
	h.once.Do(func() {
		if h.Transport == nil {
			h.Transport = http.DefaultTransport
		}
		if h.Timeout <= 0 {
			h.Timeout = DefaultChangedFilesTimeout
		}
		if h.MaxBytes <= 0 {
			h.MaxBytes = DefaultChangedFilesMaxBytes
		}
		h.apps = &appClients{base: h.Transport, byKey: map[string]*ghinstallation.Transport{}}
	})
}

// comparison is what is asked: base and head commits (or refs), or a pull
// request by number.
type comparison struct {
	base, head string
	pr         int64
	push       bool // a push: before and after; else a pull request
}

// comparisonOf reads what to compare out of a delivery.
func comparisonOf(d hooksv1alpha1.Delivery) (comparison, error) {
	if d.SHA == "" || strings.Trim(d.SHA, "0") == "" {
		return comparison{}, errors.New("the delivery has no commit to compare")
	}
	if pr := d.PullRequest; pr != nil {
		base, _ := delivery.BranchAndTag(pr.BaseRef)
		if base == "" {
			base = pr.BaseRef
		}
		if base == "" {
			return comparison{}, errors.New("the pull request has no base branch to compare with")
		}
		return comparison{base: base, head: d.SHA, pr: pr.Number}, nil
	}
	if d.Before == "" || strings.Trim(d.Before, "0") == "" {
		return comparison{}, errors.New("a new branch or tag has no earlier commit to compare with")
	}
	return comparison{base: d.Before, head: d.SHA, push: true}, nil
}

// apiName is how the dry run names the API asked.
func apiName(p hooksv1alpha1.ReportProvider, c comparison) string {
	switch {
	case p == hooksv1alpha1.ReportBitbucket && c.pr > 0:
		return "the bitbucket pull request diffstat API"
	case p == hooksv1alpha1.ReportBitbucket:
		return "the bitbucket diffstat API"
	case p == hooksv1alpha1.ReportBitbucketServer && c.pr > 0:
		return "the bitbucket-server pull request changes API"
	case p == hooksv1alpha1.ReportBitbucketServer:
		return "the bitbucket-server changes API"
	}
	return "the " + string(p) + " compare API"
}

// ChangedFiles asks the template's git host which files the delivery
// changed (webhookserver.ChangedFilesFetcher).
func (h *HostChangedFiles) ChangedFiles(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, d hooksv1alpha1.Delivery) ([]string, string, error) {
	h.init()
	e, c, err := questionOf(tmpl, d)
	if err != nil {
		return nil, "", err
	}
	api := apiName(e.provider, c)
	client, err := h.client(ctx, tmpl, e)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	q := &hostQuery{client: client, endpoint: e, api: api, maxBytes: h.MaxBytes}
	var files []string
	switch e.provider {
	case hooksv1alpha1.ReportGitHub:
		files, err = q.github(ctx, c)
	case hooksv1alpha1.ReportGitea:
		files, err = q.gitea(ctx, c)
	case hooksv1alpha1.ReportGitLab:
		files, err = q.gitlab(ctx, c)
	case hooksv1alpha1.ReportBitbucket:
		files, err = q.bitbucket(ctx, c)
	case hooksv1alpha1.ReportBitbucketServer:
		files, err = q.bitbucketServer(ctx, c)
	}
	if err != nil {
		return nil, "", err
	}
	return files, api, nil
}

// questionOf is what ChangedFiles asks: which host about which repository,
// and what to compare.
func questionOf(tmpl *hooksv1alpha1.HookTemplate, d hooksv1alpha1.Delivery) (reportEndpoint, comparison, error) {
	if tmpl.Spec.Report == nil {
		return reportEndpoint{}, comparison{}, errors.New("the template has no spec.report credentials to ask the host with")
	}
	e, err := resolveEndpoint(tmpl, d.Repository)
	if err != nil {
		return e, comparison{}, err
	}
	c, err := comparisonOf(d)
	return e, c, err
}

// Question names what ChangedFiles would ask (webhookserver.ChangedFilesFetcher):
// the API's provider and URL, the repository, the credentials (their
// Secret and key, or the GitHub App) and the comparison. It never holds a
// credential's value.
func (h *HostChangedFiles) Question(tmpl *hooksv1alpha1.HookTemplate, d hooksv1alpha1.Delivery) string {
	e, c, err := questionOf(tmpl, d)
	if err != nil {
		return "" // ChangedFiles answers with the error without asking
	}
	rep := tmpl.Spec.Report
	q, err := json.Marshal(struct {
		Provider             hooksv1alpha1.ReportProvider
		URL, Repo, Namespace string
		Credentials          *hooksv1alpha1.ReportCredentialsRef
		App                  *hooksv1alpha1.GitHubAppSpec
		Base, Head           string
		PR                   int64
		Push                 bool
	}{e.provider, e.baseURL, e.repository, tmpl.Namespace, rep.CredentialsRef, rep.GitHubApp, c.base, c.head, c.pr, c.push})
	if err != nil {
		return ""
	}
	return string(q)
}

// TimeLimit bounds all the questions of one delivery together
// (webhookserver.ChangedFilesFetcher): the Timeout.
func (h *HostChangedFiles) TimeLimit() time.Duration {
	h.init()
	return h.Timeout
}

// client is an HTTP client that authenticates as spec.report says (a
// token, or the GitHub App's installation token) and only towards the
// report URL's host: a redirect elsewhere is refused, so credentials never
// leave it.
func (h *HostChangedFiles) client(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, e reportEndpoint) (*http.Client, error) {
	var rt http.RoundTripper
	if app := tmpl.Spec.Report.GitHubApp; app != nil {
		key, reason, err := appPrivateKey(ctx, h.Reader, tmpl)
		if err != nil {
			return nil, errors.New("the report credentials could not be read")
		}
		if reason != "" {
			return nil, errors.New(reason)
		}
		tr, err := h.apps.transport(e.baseURL, app, key)
		if err != nil {
			return nil, errors.New("report.githubApp: the private key does not parse as an RSA PEM key")
		}
		rt = tr
	} else {
		token, reason, err := reportToken(ctx, h.Reader, tmpl)
		if err != nil {
			return nil, errors.New("the report credentials could not be read")
		}
		if reason != "" {
			return nil, errors.New(reason)
		}
		rt = &tokenTransport{base: h.Transport, provider: e.provider, token: token}
	}
	base, err := url.Parse(e.baseURL)
	if err != nil || base.Host == "" {
		return nil, errors.New("report.url is not a URL")
	}
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !sameHost(req.URL, base) || len(via) >= 5 {
				return errors.New("redirected away from report.url")
			}
			return nil
		},
	}, nil
}

// tokenTransport adds the report token to each request.
type tokenTransport struct {
	base     http.RoundTripper
	provider hooksv1alpha1.ReportProvider
	token    string
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	setAuthorization(r.Header, t.provider, t.token)
	return t.base.RoundTrip(r)
}

func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// hostQuery is one question to one host.
type hostQuery struct {
	client   *http.Client
	endpoint reportEndpoint
	api      string
	maxBytes int64
}

// get fetches one JSON answer into v. Errors say what went wrong in words
// the dry run can show.
func (q *hostQuery) get(ctx context.Context, rawURL string, v any) error {
	u, err := url.Parse(rawURL)
	base, _ := url.Parse(q.endpoint.baseURL)
	if err != nil || base == nil || !sameHost(u, base) {
		return fmt.Errorf("%s pointed to a page outside report.url", q.api)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("%s: could not build the request", q.api)
	}
	setAPIHeaders(req.Header, q.endpoint.provider)
	resp, err := q.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s did not answer in time", q.api)
		}
		// Not err's text: it would repeat the URL; the host is enough.
		return fmt.Errorf("%s could not be reached", q.api)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("%s answered HTTP %d", q.api, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, q.maxBytes+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("%s did not answer in time", q.api)
	case err != nil:
		return fmt.Errorf("%s: the answer could not be read", q.api)
	case int64(len(body)) > q.maxBytes:
		return fmt.Errorf("%s answered more than %d bytes", q.api, q.maxBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s answered something that is not its JSON", q.api)
	}
	return nil
}

// repoPath is "/{owner}/{name}" with both segments escaped.
func (q *hostQuery) repoPath() (string, error) {
	owner, name, err := splitRepository(q.endpoint.repository)
	if err != nil {
		return "", err
	}
	return "/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

// fileSet collects changed paths, both sides of a rename.
type fileSet map[string]bool

func (s fileSet) add(paths ...string) {
	for _, p := range paths {
		if p != "" {
			s[p] = true
		}
	}
}

func (s fileSet) list() []string {
	out := make([]string, 0, len(s))
	for p := range s {
		out = append(out, p)
	}
	return out
}

// githubCompare is the part of GitHub's compare answer read here.
type githubCompare struct {
	Status   string `json:"status"`
	BehindBy int    `json:"behind_by"`
	Files    []struct {
		Filename         string `json:"filename"`
		PreviousFilename string `json:"previous_filename"`
	} `json:"files"`
}

// github compares base...head. GitHub's three-dot compare lists what head
// added since the merge base; a push that dropped commits (a force push:
// behind_by > 0) also changed the files of the dropped commits, which the
// reverse comparison lists.
func (q *hostQuery) github(ctx context.Context, c comparison) ([]string, error) {
	repo, err := q.repoPath()
	if err != nil {
		return nil, err
	}
	files := fileSet{}
	compare := func(base, head string) (githubCompare, error) {
		var out githubCompare
		u := q.endpoint.baseURL + "/repos" + repo + "/compare/" + url.PathEscape(base) + "..." + url.PathEscape(head)
		if err := q.get(ctx, u, &out); err != nil {
			return out, err
		}
		if len(out.Files) >= gitHubCompareMaxFiles {
			return out, fmt.Errorf("%s lists at most %d files", q.api, gitHubCompareMaxFiles)
		}
		for _, f := range out.Files {
			files.add(f.Filename, f.PreviousFilename)
		}
		return out, nil
	}
	fwd, err := compare(c.base, c.head)
	if err != nil {
		return nil, err
	}
	if c.push && fwd.BehindBy > 0 {
		if _, err := compare(c.head, c.base); err != nil {
			return nil, err
		}
	}
	return files.list(), nil
}

// giteaCompare is the part of Gitea's compare answer read here: Gitea
// lists the files of each commit (added, modified, removed; a rename is a
// removal and an addition).
type giteaCompare struct {
	TotalCommits int `json:"total_commits"`
	Commits      []struct {
		Files []struct {
			Filename string `json:"filename"`
		} `json:"files"`
	} `json:"commits"`
}

// gitea compares base...head. Gitea lists commits, not a diff: the union
// of their files; for a push also the commits head dropped (a force push),
// from the reverse comparison, which is empty for a fast-forward.
func (q *hostQuery) gitea(ctx context.Context, c comparison) ([]string, error) {
	repo, err := q.repoPath()
	if err != nil {
		return nil, err
	}
	files := fileSet{}
	compare := func(base, head string) error {
		var out giteaCompare
		u := q.endpoint.baseURL + "/api/v1/repos" + repo + "/compare/" + url.PathEscape(base) + "..." + url.PathEscape(head) + "?verification=false"
		if err := q.get(ctx, u, &out); err != nil {
			return err
		}
		if out.TotalCommits != len(out.Commits) {
			return fmt.Errorf("%s listed %d of %d commits", q.api, len(out.Commits), out.TotalCommits)
		}
		for _, cm := range out.Commits {
			for _, f := range cm.Files {
				files.add(f.Filename)
			}
		}
		return nil
	}
	if err := compare(c.base, c.head); err != nil {
		return nil, err
	}
	if c.push {
		if err := compare(c.head, c.base); err != nil {
			return nil, err
		}
	}
	return files.list(), nil
}

// gitlabCompare is the part of GitLab's compare answer read here.
type gitlabCompare struct {
	CompareTimeout bool `json:"compare_timeout"`
	Diffs          []struct {
		OldPath string `json:"old_path"`
		NewPath string `json:"new_path"`
	} `json:"diffs"`
}

// gitlab compares from...to: a push's trees directly (straight=true, so a
// force push's dropped changes count), a merge request from its merge
// base, as GitLab shows it.
func (q *hostQuery) gitlab(ctx context.Context, c comparison) ([]string, error) {
	v := url.Values{"from": {c.base}, "to": {c.head}, "straight": {strconv.FormatBool(c.push)}}
	u := q.endpoint.baseURL + "/api/v4/projects/" + url.PathEscape(q.endpoint.repository) + "/repository/compare?" + v.Encode()
	var out gitlabCompare
	if err := q.get(ctx, u, &out); err != nil {
		return nil, err
	}
	switch {
	case out.CompareTimeout:
		return nil, fmt.Errorf("%s timed out on the host", q.api)
	case len(out.Diffs) >= gitLabCompareMaxFiles:
		return nil, fmt.Errorf("%s lists at most %d files", q.api, gitLabCompareMaxFiles)
	}
	files := fileSet{}
	for _, d := range out.Diffs {
		files.add(d.OldPath, d.NewPath)
	}
	return files.list(), nil
}

// bitbucketDiffstat is one page of Bitbucket Cloud's diffstat.
type bitbucketDiffstat struct {
	Values []struct {
		Old *struct {
			Path string `json:"path"`
		} `json:"old"`
		New *struct {
			Path string `json:"path"`
		} `json:"new"`
	} `json:"values"`
	Next string `json:"next"`
}

// bitbucket reads the diffstat of head..base (Bitbucket names the new
// commit first; topic=false: the trees' direct diff, so a force push's
// dropped changes count), or of a pull request, page by page.
func (q *hostQuery) bitbucket(ctx context.Context, c comparison) ([]string, error) {
	repo, err := q.repoPath()
	if err != nil {
		return nil, err
	}
	u := q.endpoint.baseURL + "/2.0/repositories" + repo
	v := url.Values{"pagelen": {strconv.Itoa(bitbucketPageLen)}}
	if c.pr > 0 {
		u += "/pullrequests/" + strconv.FormatInt(c.pr, 10) + "/diffstat?" + v.Encode()
	} else {
		v.Set("topic", "false")
		u += "/diffstat/" + url.PathEscape(c.head) + ".." + url.PathEscape(c.base) + "?" + v.Encode()
	}
	files := fileSet{}
	for page := 0; u != ""; page++ {
		if page == maxPages || len(files) > maxFiles {
			return nil, fmt.Errorf("%s lists more than %d files", q.api, maxFiles)
		}
		var out bitbucketDiffstat
		if err := q.get(ctx, u, &out); err != nil {
			return nil, err
		}
		for _, d := range out.Values {
			if d.Old != nil {
				files.add(d.Old.Path)
			}
			if d.New != nil {
				files.add(d.New.Path)
			}
		}
		u = out.Next
	}
	return files.list(), nil
}

// bitbucketServerPath is a Bitbucket Data Center path.
type bitbucketServerPath struct {
	ToString string `json:"toString"`
}

// bitbucketServerChanges is one page of Bitbucket Data Center's changes.
type bitbucketServerChanges struct {
	Values []struct {
		Path    *bitbucketServerPath `json:"path"`
		SrcPath *bitbucketServerPath `json:"srcPath"`
	} `json:"values"`
	IsLastPage    bool `json:"isLastPage"`
	NextPageStart *int `json:"nextPageStart"`
}

// bitbucketServer reads the changes since..until (a push) or of a pull
// request, page by page.
func (q *hostQuery) bitbucketServer(ctx context.Context, c comparison) ([]string, error) {
	owner, name, err := splitRepository(q.endpoint.repository)
	if err != nil {
		return nil, err
	}
	u := q.endpoint.baseURL + "/rest/api/1.0/projects/" + url.PathEscape(owner) + "/repos/" + url.PathEscape(name)
	v := url.Values{"limit": {strconv.Itoa(bitbucketPageLen)}}
	if c.pr > 0 {
		u += "/pull-requests/" + strconv.FormatInt(c.pr, 10) + "/changes"
	} else {
		u += "/changes"
		v.Set("since", c.base)
		v.Set("until", c.head)
	}
	files := fileSet{}
	for page := 0; ; page++ {
		if page == maxPages || len(files) > maxFiles {
			return nil, fmt.Errorf("%s lists more than %d files", q.api, maxFiles)
		}
		var out bitbucketServerChanges
		if err := q.get(ctx, u+"?"+v.Encode(), &out); err != nil {
			return nil, err
		}
		for _, ch := range out.Values {
			for _, p := range []*bitbucketServerPath{ch.Path, ch.SrcPath} {
				if p != nil {
					files.add(p.ToString)
				}
			}
		}
		if out.IsLastPage || out.NextPageStart == nil {
			return files.list(), nil
		}
		v.Set("start", strconv.Itoa(*out.NextPageStart))
	}
}
