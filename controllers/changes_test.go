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
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

const (
	changesToken  = "glpat-very-secret-compare-token"
	changesBefore = "ae73cb07c9eeaf35924a10f713b364d32b2dd34f"
	changesAfter  = "0b4bc9a49b562e85de7cc9e834518ea6828729b9"
)

// hostCall is one request as a fake host saw it: method, the request URI
// as sent (escaped path and query) and the auth header.
type hostCall struct{ Method, URI, Auth string }

// fakeHost answers fixed request URIs with fixed bodies and records what
// it was asked; any other request is a test failure.
type fakeHost struct {
	t          *testing.T
	authHeader string
	answers    map[string]string // request URI → JSON body ("" status only)
	status     int               // answer status (default 200)
	mu         sync.Mutex
	calls      []hostCall
}

func (f *fakeHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, hostCall{r.Method, r.RequestURI, r.Header.Get(f.authHeader)})
	f.mu.Unlock()
	body, ok := f.answers[r.RequestURI]
	if !ok {
		f.t.Errorf("unexpected %s %s", r.Method, r.RequestURI)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	_, _ = w.Write([]byte(strings.ReplaceAll(body, "{{HOST}}", "http://"+r.Host)))
}

func (f *fakeHost) recorded() []hostCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// The hosts' documented example answers (shortened to the fields the
// fetcher reads and their neighbours).
const (
	// docs.github.com, "Compare two commits": an ahead comparison with a
	// renamed file.
	githubCompareAhead = `{"status":"ahead","ahead_by":1,"behind_by":0,"total_commits":1,"commits":[{"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e"}],
"files":[{"sha":"bbcd538c8e72b8c175046e27cc8f907076331401","filename":"file1.txt","status":"added","additions":103,"deletions":21,"changes":124},
{"sha":"bbcd538c8e72b8c175046e27cc8f907076331402","filename":"docs/new.md","previous_filename":"deploy/old.md","status":"renamed","additions":0,"deletions":0,"changes":0}]}`
	// A force push: head dropped two commits of before.
	githubCompareBehind  = `{"status":"diverged","ahead_by":1,"behind_by":2,"total_commits":1,"files":[{"filename":"docs/a.md","status":"modified"}]}`
	githubCompareDropped = `{"status":"ahead","ahead_by":2,"behind_by":1,"total_commits":2,"files":[{"filename":"deploy/values.yaml","status":"modified"}]}`
	// docs.gitlab.com, "Compare branches, tags or commits".
	gitlabCompareAnswer = `{"commit":{"id":"12d65c8dd2b2676fa3ac47d955accc085a37a9c1","short_id":"12d65c8dd2b","title":"JS fix"},
"commits":[{"id":"12d65c8dd2b2676fa3ac47d955accc085a37a9c1","short_id":"12d65c8dd2b","title":"JS fix"}],
"diffs":[{"old_path":"files/js/application.js","new_path":"files/js/application.js","a_mode":null,"b_mode":"100644",
"diff":"@@ -24,8 +24,39 @@\n","new_file":false,"renamed_file":false,"deleted_file":false},
{"old_path":"deploy/old.yaml","new_path":"deploy/new.yaml","a_mode":"100644","b_mode":"100644","diff":"","new_file":false,"renamed_file":true,"deleted_file":false}],
"compare_timeout":false,"compare_same_ref":false,"web_url":"https://gitlab.example.com/janedoe/gitlab-foss/-/compare/ae73cb07...0b4bc9a4"}`
	// developer.atlassian.com, Bitbucket Cloud "Compare two commit diff
	// stats": two pages, a modification, then a removal.
	bitbucketDiffstatPage1 = `{"pagelen":500,"values":[{"type":"diffstat","status":"modified","lines_removed":1,"lines_added":2,
"old":{"path":"setup.py","escaped_path":"setup.py","type":"commit_file"},"new":{"path":"setup.py","escaped_path":"setup.py","type":"commit_file"}}],
"page":1,"size":2,"next":"{{HOST}}/2.0/repositories/acme/site/diffstat/` + changesAfter + `..` + changesBefore + `?pagelen=500&topic=false&page=2"}`
	bitbucketDiffstatPage2 = `{"pagelen":500,"values":[{"type":"diffstat","status":"removed","lines_removed":3,"lines_added":0,
"old":{"path":"deploy/app.yaml","escaped_path":"deploy/app.yaml","type":"commit_file"},"new":null}],"page":2,"size":2}`
	// developer.atlassian.com, Bitbucket Data Center "Get changes made in
	// commit": a move, then (second page) an addition.
	bitbucketServerChangesPage1 = `{"size":1,"limit":500,"isLastPage":false,"values":[{"contentId":"abcdef0123abcdef4567abcdef8987abcdef6543",
"fromContentId":"bcdef0123abcdef4567abcdef8987abcdef6543a","path":{"components":["path","to","file.txt"],"parent":"path/to","name":"file.txt",
"extension":"txt","toString":"path/to/file.txt"},"executable":false,"percentUnchanged":98,"type":"MOVE","nodeType":"FILE",
"srcPath":{"components":["path","from","file.txt"],"parent":"path/from","name":"file.txt","extension":"txt","toString":"path/from/file.txt"},
"srcExecutable":false,"links":{"self":[{"href":"http://link/to/restchange"}]}}],"start":0,"filter":null,"nextPageStart":1}`
	bitbucketServerChangesPage2 = `{"size":1,"limit":500,"isLastPage":true,"values":[{"contentId":"abcdef0123abcdef4567abcdef8987abcdef6544",
"path":{"components":["deploy","x.yaml"],"parent":"deploy","name":"x.yaml","extension":"yaml","toString":"deploy/x.yaml"},"type":"ADD","nodeType":"FILE"}],
"start":1,"filter":null,"nextPageStart":null}`
	// The Gitea 1.26 compare answer (modules/structs.Compare): files per
	// commit.
	giteaCompareAnswer = `{"total_commits":2,"commits":[{"sha":"` + changesAfter + `","files":[{"filename":"deploy/a.yaml","status":"modified"}]},
{"sha":"1111111111111111111111111111111111111111","files":[{"filename":"README.md","status":"added"},{"filename":"old.txt","status":"removed"}]}]}`
	giteaCompareAnswerEmpty = `{"total_commits":0,"commits":[]}`
)

// changesTemplate is a template whose report goes to url.
func changesTemplate(p hooksv1alpha1.Provider, rp hooksv1alpha1.ReportProvider, url, repo string) *hooksv1alpha1.HookTemplate {
	tmpl := newTemplate("web", "site")
	tmpl.Spec.Source.Provider = p
	tmpl.Spec.Report = &hooksv1alpha1.ReportSpec{Provider: rp, URL: url, Repository: repo,
		CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: "site-git"}}
	return tmpl
}

func changesReader(data map[string][]byte) *HostChangedFiles {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-git", Namespace: "web"}, Data: data}
	return &HostChangedFiles{Reader: fake.NewClientBuilder().WithObjects(secret).Build()}
}

func push(repo string) hooksv1alpha1.Delivery {
	return hooksv1alpha1.Delivery{ID: "d1", Event: "push", Repository: repo, Ref: "refs/heads/main", Before: changesBefore, SHA: changesAfter}
}

func pullRequest(repo string, number int64) hooksv1alpha1.Delivery {
	d := push(repo)
	d.Event, d.Before, d.Ref = "pull_request", "", fmt.Sprintf("refs/pull/%d/head", number)
	d.PullRequest = &hooksv1alpha1.PullRequestDelivery{Number: number, Action: hooksv1alpha1.PullRequestSynchronize,
		BaseRef: "refs/heads/release/v1", HeadRef: "refs/heads/feature"}
	return d
}

// TestChangedFilesRequestShapes asks each host's fake for a push and a pull
// request and checks the requests exactly (method, escaped path, query,
// auth header) and the files read from the documented answers.
func TestChangedFilesRequestShapes(t *testing.T) {
	tests := []struct {
		name       string
		provider   hooksv1alpha1.Provider
		report     hooksv1alpha1.ReportProvider
		repo       string
		token      string
		delivery   hooksv1alpha1.Delivery
		authHeader string
		wantAuth   string
		answers    map[string]string
		wantCalls  []string // request URIs in order
		wantFiles  []string
		wantSource string
	}{
		{
			name: "github push", provider: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportGitHub, repo: "acme/my site",
			delivery: push("acme/my site"), authHeader: "Authorization", wantAuth: "Bearer " + changesToken,
			answers:   map[string]string{"/repos/acme/my%20site/compare/" + changesBefore + "..." + changesAfter: githubCompareAhead},
			wantCalls: []string{"/repos/acme/my%20site/compare/" + changesBefore + "..." + changesAfter},
			wantFiles: []string{"deploy/old.md", "docs/new.md", "file1.txt"}, wantSource: "the github compare API",
		},
		{
			name: "github force push also reads the dropped commits", provider: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportGitHub,
			repo: "acme/site", delivery: push("acme/site"), authHeader: "Authorization", wantAuth: "Bearer " + changesToken,
			answers: map[string]string{
				"/repos/acme/site/compare/" + changesBefore + "..." + changesAfter: githubCompareBehind,
				"/repos/acme/site/compare/" + changesAfter + "..." + changesBefore: githubCompareDropped,
			},
			wantCalls: []string{"/repos/acme/site/compare/" + changesBefore + "..." + changesAfter, "/repos/acme/site/compare/" + changesAfter + "..." + changesBefore},
			wantFiles: []string{"deploy/values.yaml", "docs/a.md"}, wantSource: "the github compare API",
		},
		{
			name: "github pull request compares its base branch", provider: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportGitHub,
			repo: "acme/site", delivery: pullRequest("acme/site", 7), authHeader: "Authorization", wantAuth: "Bearer " + changesToken,
			answers:   map[string]string{"/repos/acme/site/compare/release%2Fv1..." + changesAfter: githubCompareBehind},
			wantCalls: []string{"/repos/acme/site/compare/release%2Fv1..." + changesAfter},
			wantFiles: []string{"docs/a.md"}, wantSource: "the github compare API",
		},
		{
			name: "gitea push: both directions, files of every commit", provider: hooksv1alpha1.ProviderGitea, report: hooksv1alpha1.ReportGitea,
			repo: "acme/site", delivery: push("acme/site"), authHeader: "Authorization", wantAuth: "token " + changesToken,
			answers: map[string]string{
				"/api/v1/repos/acme/site/compare/" + changesBefore + "..." + changesAfter + "?verification=false": giteaCompareAnswer,
				"/api/v1/repos/acme/site/compare/" + changesAfter + "..." + changesBefore + "?verification=false": giteaCompareAnswerEmpty,
			},
			wantCalls: []string{
				"/api/v1/repos/acme/site/compare/" + changesBefore + "..." + changesAfter + "?verification=false",
				"/api/v1/repos/acme/site/compare/" + changesAfter + "..." + changesBefore + "?verification=false",
			},
			wantFiles: []string{"README.md", "deploy/a.yaml", "old.txt"}, wantSource: "the gitea compare API",
		},
		{
			name: "gitlab push: straight comparison, project path escaped", provider: hooksv1alpha1.ProviderGitLab, report: hooksv1alpha1.ReportGitLab,
			repo: "acme/web/site", delivery: push("acme/web/site"), authHeader: "PRIVATE-TOKEN", wantAuth: changesToken,
			answers:   map[string]string{"/api/v4/projects/acme%2Fweb%2Fsite/repository/compare?from=" + changesBefore + "&straight=true&to=" + changesAfter: gitlabCompareAnswer},
			wantCalls: []string{"/api/v4/projects/acme%2Fweb%2Fsite/repository/compare?from=" + changesBefore + "&straight=true&to=" + changesAfter},
			wantFiles: []string{"deploy/new.yaml", "deploy/old.yaml", "files/js/application.js"}, wantSource: "the gitlab compare API",
		},
		{
			name: "gitlab merge request: from the merge base", provider: hooksv1alpha1.ProviderGitLab, report: hooksv1alpha1.ReportGitLab,
			repo: "acme/site", delivery: pullRequest("acme/site", 3), authHeader: "PRIVATE-TOKEN", wantAuth: changesToken,
			answers:   map[string]string{"/api/v4/projects/acme%2Fsite/repository/compare?from=release%2Fv1&straight=false&to=" + changesAfter: gitlabCompareAnswer},
			wantCalls: []string{"/api/v4/projects/acme%2Fsite/repository/compare?from=release%2Fv1&straight=false&to=" + changesAfter},
			wantFiles: []string{"deploy/new.yaml", "deploy/old.yaml", "files/js/application.js"}, wantSource: "the gitlab compare API",
		},
		{
			name: "bitbucket cloud push: diffstat head..base, two pages, app password", provider: hooksv1alpha1.ProviderBitbucket,
			report: hooksv1alpha1.ReportBitbucket, repo: "acme/site", token: "bot:app-pass", delivery: push("acme/site"),
			authHeader: "Authorization", wantAuth: "Basic Ym90OmFwcC1wYXNz",
			answers: map[string]string{
				"/2.0/repositories/acme/site/diffstat/" + changesAfter + ".." + changesBefore + "?pagelen=500&topic=false":        bitbucketDiffstatPage1,
				"/2.0/repositories/acme/site/diffstat/" + changesAfter + ".." + changesBefore + "?pagelen=500&topic=false&page=2": bitbucketDiffstatPage2,
			},
			wantCalls: []string{
				"/2.0/repositories/acme/site/diffstat/" + changesAfter + ".." + changesBefore + "?pagelen=500&topic=false",
				"/2.0/repositories/acme/site/diffstat/" + changesAfter + ".." + changesBefore + "?pagelen=500&topic=false&page=2",
			},
			wantFiles: []string{"deploy/app.yaml", "setup.py"}, wantSource: "the bitbucket diffstat API",
		},
		{
			name: "bitbucket cloud pull request diffstat", provider: hooksv1alpha1.ProviderBitbucket, report: hooksv1alpha1.ReportBitbucket,
			repo: "acme/site", delivery: pullRequest("acme/site", 12), authHeader: "Authorization", wantAuth: "Bearer " + changesToken,
			answers:   map[string]string{"/2.0/repositories/acme/site/pullrequests/12/diffstat?pagelen=500": bitbucketDiffstatPage2},
			wantCalls: []string{"/2.0/repositories/acme/site/pullrequests/12/diffstat?pagelen=500"},
			wantFiles: []string{"deploy/app.yaml"}, wantSource: "the bitbucket pull request diffstat API",
		},
		{
			name: "bitbucket data center push: changes since..until, two pages", provider: hooksv1alpha1.ProviderBitbucket,
			report: hooksv1alpha1.ReportBitbucketServer, repo: "PRJ/site", delivery: push("PRJ/site"),
			authHeader: "Authorization", wantAuth: "Bearer " + changesToken,
			answers: map[string]string{
				"/rest/api/1.0/projects/PRJ/repos/site/changes?limit=500&since=" + changesBefore + "&until=" + changesAfter:         bitbucketServerChangesPage1,
				"/rest/api/1.0/projects/PRJ/repos/site/changes?limit=500&since=" + changesBefore + "&start=1&until=" + changesAfter: bitbucketServerChangesPage2,
			},
			wantCalls: []string{
				"/rest/api/1.0/projects/PRJ/repos/site/changes?limit=500&since=" + changesBefore + "&until=" + changesAfter,
				"/rest/api/1.0/projects/PRJ/repos/site/changes?limit=500&since=" + changesBefore + "&start=1&until=" + changesAfter,
			},
			wantFiles: []string{"deploy/x.yaml", "path/from/file.txt", "path/to/file.txt"}, wantSource: "the bitbucket-server changes API",
		},
		{
			name: "bitbucket data center pull request changes", provider: hooksv1alpha1.ProviderBitbucket, report: hooksv1alpha1.ReportBitbucketServer,
			repo: "PRJ/site", delivery: pullRequest("PRJ/site", 5), authHeader: "Authorization", wantAuth: "Bearer " + changesToken,
			answers:   map[string]string{"/rest/api/1.0/projects/PRJ/repos/site/pull-requests/5/changes?limit=500": bitbucketServerChangesPage2},
			wantCalls: []string{"/rest/api/1.0/projects/PRJ/repos/site/pull-requests/5/changes?limit=500"},
			wantFiles: []string{"deploy/x.yaml"}, wantSource: "the bitbucket-server pull request changes API",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := &fakeHost{t: t, authHeader: tt.authHeader, answers: tt.answers}
			srv := httptest.NewServer(host)
			defer srv.Close()
			token := tt.token
			if token == "" {
				token = changesToken
			}
			h := changesReader(map[string][]byte{"token": []byte(token)})
			files, source, err := h.ChangedFiles(context.Background(), changesTemplate(tt.provider, tt.report, srv.URL, tt.repo), tt.delivery)
			if err != nil {
				t.Fatalf("ChangedFiles: %v", err)
			}
			slices.Sort(files)
			if diff := cmp.Diff(tt.wantFiles, files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if source != tt.wantSource {
				t.Errorf("source = %q, want %q", source, tt.wantSource)
			}
			var want []hostCall
			for _, uri := range tt.wantCalls {
				want = append(want, hostCall{http.MethodGet, uri, tt.wantAuth})
			}
			if diff := cmp.Diff(want, host.recorded()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChangedFilesGitHubApp: with report.githubApp the compare request
// carries the installation token ghinstallation fetched with the App's
// JWT.
func TestChangedFilesGitHubApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	app := &fakeGitHubApp{t: t, pub: &key.PublicKey}
	compare := &fakeHost{t: t, authHeader: "Authorization",
		answers: map[string]string{"/repos/acme/site/compare/" + changesBefore + "..." + changesAfter: githubCompareAhead}}
	mux := http.NewServeMux()
	mux.Handle("/app/", app)
	mux.Handle("/repos/", compare)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tmpl := changesTemplate(hooksv1alpha1.ProviderGitHub, "", srv.URL, "")
	tmpl.Spec.Report.CredentialsRef = nil
	tmpl.Spec.Report.GitHubApp = &hooksv1alpha1.GitHubAppSpec{AppID: 123, InstallationID: 456,
		PrivateKeyRef: hooksv1alpha1.PrivateKeyRef{Name: "site-git", Key: "private-key.pem"}}
	h := changesReader(map[string][]byte{"private-key.pem": pemKey})
	for range 2 {
		files, _, err := h.ChangedFiles(context.Background(), tmpl, push("acme/site"))
		if err != nil {
			t.Fatalf("ChangedFiles: %v", err)
		}
		if len(files) != 3 {
			t.Errorf("files = %v, want the 3 of the answer", files)
		}
	}
	calls := compare.recorded()
	if len(calls) != 2 || calls[0].Auth != "token ghs_installation" {
		t.Errorf("compare requests = %+v, want 2 with the installation token", calls)
	}
	if app.tokenCalls != 1 {
		t.Errorf("%d installation token requests, want 1 (cached)", app.tokenCalls)
	}
}

// TestChangedFilesFailures: every way the host cannot tell is an error that
// names the API and never the token, and costs at most the requests shown.
func TestChangedFilesFailures(t *testing.T) {
	compareURI := "/repos/acme/site/compare/" + changesBefore + "..." + changesAfter
	many := make([]string, gitHubCompareMaxFiles)
	for i := range many {
		many[i] = fmt.Sprintf(`{"filename":"f%d"}`, i)
	}
	capped := `{"status":"ahead","files":[` + strings.Join(many, ",") + `]}`
	tests := []struct {
		name      string
		tmpl      func(url string) *hooksv1alpha1.HookTemplate
		secret    map[string][]byte
		delivery  hooksv1alpha1.Delivery
		answers   map[string]string
		status    int
		handler   http.Handler
		maxBytes  int64
		wantErr   string
		wantCalls int
	}{
		{name: "no spec.report", tmpl: func(string) *hooksv1alpha1.HookTemplate { return newTemplate("web", "site") },
			delivery: push("acme/site"), wantErr: "the template has no spec.report credentials to ask the host with"},
		{name: "Secret without the key", secret: map[string][]byte{"other": []byte("x")}, delivery: push("acme/site"),
			wantErr: `Secret site-git has no (or an empty) key "token"`},
		{name: "new branch", delivery: func() hooksv1alpha1.Delivery { d := push("acme/site"); d.Before = zeroSHA40; return d }(),
			wantErr: "a new branch or tag has no earlier commit to compare with"},
		{name: "HTTP 404", delivery: push("acme/site"), answers: map[string]string{compareURI: `{"message":"Not Found"}`}, status: http.StatusNotFound,
			wantErr: "the github compare API answered HTTP 404", wantCalls: 1},
		{name: "HTTP 502", delivery: push("acme/site"), answers: map[string]string{compareURI: ``}, status: http.StatusBadGateway,
			wantErr: "the github compare API answered HTTP 502", wantCalls: 1},
		{name: "300 files may be cut", delivery: push("acme/site"), answers: map[string]string{compareURI: capped},
			wantErr: "the github compare API lists at most 300 files", wantCalls: 1},
		{name: "answer too large", delivery: push("acme/site"), answers: map[string]string{compareURI: githubCompareAhead}, maxBytes: 64,
			wantErr: "the github compare API answered more than 64 bytes", wantCalls: 1},
		{name: "not JSON", delivery: push("acme/site"), answers: map[string]string{compareURI: `<html>`},
			wantErr: "the github compare API answered something that is not its JSON", wantCalls: 1},
		{name: "a page outside report.url is not fetched", delivery: pullRequest("acme/site", 1),
			tmpl: func(url string) *hooksv1alpha1.HookTemplate {
				return changesTemplate(hooksv1alpha1.ProviderBitbucket, hooksv1alpha1.ReportBitbucket, url, "acme/site")
			},
			answers: map[string]string{"/2.0/repositories/acme/site/pullrequests/1/diffstat?pagelen=500": `{"values":[],"next":"http://elsewhere.invalid/2.0/x"}`},
			wantErr: "the bitbucket pull request diffstat API pointed to a page outside report.url", wantCalls: 1},
		{name: "timeout", delivery: push("acme/site"), handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}), wantErr: "the github compare API did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := &fakeHost{t: t, authHeader: "Authorization", answers: tt.answers, status: tt.status}
			var handler http.Handler = host
			if tt.handler != nil {
				handler = tt.handler
			}
			srv := httptest.NewServer(handler)
			defer srv.Close()
			secret := tt.secret
			if secret == nil {
				secret = map[string][]byte{"token": []byte(changesToken)}
			}
			h := changesReader(secret)
			h.MaxBytes, h.Timeout = tt.maxBytes, 300*time.Millisecond
			tmpl := changesTemplate(hooksv1alpha1.ProviderGitHub, "", srv.URL, "")
			if tt.tmpl != nil {
				tmpl = tt.tmpl(srv.URL)
			}
			files, _, err := h.ChangedFiles(context.Background(), tmpl, tt.delivery)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v (files %v), want %q", err, files, tt.wantErr)
			}
			if strings.Contains(err.Error(), changesToken) {
				t.Errorf("the error holds the token: %v", err)
			}
			if n := len(host.recorded()); tt.handler == nil && n != tt.wantCalls {
				t.Errorf("%d requests, want %d", n, tt.wantCalls)
			}
		})
	}
}

const zeroSHA40 = "0000000000000000000000000000000000000000"

// TestChangedFilesRedirectKeepsTheTokenHome: a host that redirects the
// compare request to another server (a real one, that would answer) is
// not followed: that server receives no request, so never the token the
// transport puts on every request, and the host cannot tell.
func TestChangedFilesRedirectKeepsTheTokenHome(t *testing.T) {
	var mu sync.Mutex
	var stolen []hostCall
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stolen = append(stolen, hostCall{r.Method, r.RequestURI, r.Header.Get("Authorization")})
		mu.Unlock()
		_, _ = w.Write([]byte(githubCompareAhead))
	}))
	defer elsewhere.Close()
	home := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/steal", http.StatusFound))
	defer home.Close()

	h := changesReader(map[string][]byte{"token": []byte(changesToken)})
	files, _, err := h.ChangedFiles(context.Background(), changesTemplate(hooksv1alpha1.ProviderGitHub, "", home.URL, ""), push("acme/site"))
	if want := "the github compare API could not be reached"; err == nil || err.Error() != want {
		t.Errorf("err = %v (files %v), want %q", err, files, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stolen) != 0 {
		t.Errorf("the server redirected to received %+v, want no request", stolen)
	}
}

// deliverPush POSTs a signed GitHub push of n commits that each touched
// docs/readme.md (a list GitHub may have cut at 20) to srv.
func deliverPush(t *testing.T, srv http.Handler, tmpl *hooksv1alpha1.HookTemplate, id string, n int, dryRun bool) *httptest.ResponseRecorder {
	t.Helper()
	return deliverPushTo(t, srv, "/hooks/"+tmpl.Namespace+"/"+tmpl.Name, id, n, dryRun)
}

// deliverPushTo is deliverPush to a webhook path (a HookSource's).
func deliverPushTo(t *testing.T, srv http.Handler, path, id string, n int, dryRun bool) *httptest.ResponseRecorder {
	t.Helper()
	var commits []string
	for i := range n {
		commits = append(commits, fmt.Sprintf(`{"id":"%040d","message":"docs","added":[],"removed":[],"modified":["docs/readme.md"]}`, i))
	}
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":%q,"after":%q,"created":false,"deleted":false,"forced":false,
"repository":{"name":"site","full_name":"acme/site","clone_url":"https://example.invalid/acme/site.git","owner":{"login":"acme"}},
"pusher":{"name":"dev"},"sender":{"login":"dev"},"commits":[%s],"head_commit":{"id":%q,"message":"docs"}}`,
		changesBefore, changesAfter, strings.Join(commits, ","), changesAfter))
	mac := hmac.New(sha256.New, []byte(pollTestKey))
	mac.Write(body)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	if dryRun {
		req.Header.Set(webhookserver.HeaderDryRun, "true")
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w
}

// TestIncompletePushAsksTheHost: through the webhook handler against the
// real API server, a template with match.paths and report credentials, a
// GitHub push of 20 commits (the payload's list may be cut): the fake
// compare API says only docs changed → 204 with the reason; the compare
// API failing → the delivery runs (202) and the dry run says why.
func TestIncompletePushAsksTheHost(t *testing.T) {
	needEnvtest(t)
	ns := newNamespace(t)
	compareURI := "/repos/acme/site/compare/" + changesBefore + "..." + changesAfter
	host := &fakeHost{t: t, authHeader: "Authorization", answers: map[string]string{
		compareURI: `{"status":"ahead","ahead_by":25,"behind_by":0,"total_commits":25,"files":[{"filename":"docs/readme.md","status":"modified"},{"filename":"docs/guide.md","status":"added"}]}`,
	}}
	gh := httptest.NewServer(host)
	defer gh.Close()

	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "site-webhook", Namespace: ns}, Data: map[string][]byte{hooksv1alpha1.DefaultSecretKey: []byte(pollTestKey)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "site-git", Namespace: ns}, Data: map[string][]byte{"token": []byte(changesToken)}},
	} {
		create(t, s)
	}
	tmpl := newTemplate(ns, "site")
	tmpl.Spec.Match.Refs = []string{"refs/heads/main"}
	tmpl.Spec.Match.Paths = []string{"deploy/**"}
	tmpl.Spec.Report = &hooksv1alpha1.ReportSpec{URL: gh.URL, CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: "site-git"}}
	create(t, tmpl)
	srv := webhookserver.New(k8sClient, k8sClient, k8sClient.Scheme(), webhookserver.Options{
		ChangedFiles: &HostChangedFiles{Reader: k8sClient},
	})

	// Only docs changed, says the host: ignored.
	w := deliverPush(t, srv, tmpl, "gh-docs", 20, false)
	if w.Code != http.StatusNoContent || w.Header().Get(webhookserver.HeaderReason) != "no changed file matches a pattern of match.paths" {
		t.Fatalf("docs-only push answered %d %q, want 204 with the paths reason", w.Code, w.Header().Get(webhookserver.HeaderReason))
	}
	if calls := host.recorded(); len(calls) != 1 || calls[0] != (hostCall{http.MethodGet, compareURI, "Bearer " + changesToken}) {
		t.Errorf("compare requests = %+v, want one GET %s with the report token", calls, compareURI)
	}
	var dry webhookserver.DryRunAnswer
	w = deliverPush(t, srv, tmpl, "gh-docs", 20, true)
	if err := json.Unmarshal(w.Body.Bytes(), &dry); err != nil || w.Code != http.StatusOK {
		t.Fatalf("dry run answered %d %s", w.Code, w.Body)
	}
	if dry.WouldRun || dry.Match.Paths.Value != "2 changed files (from the github compare API)" ||
		!cmp.Equal(dry.Match.Paths.Files, []string{"docs/guide.md", "docs/readme.md"}) {
		t.Errorf("dry run paths = %+v (wouldRun %v), want the compare's 2 files", dry.Match.Paths, dry.WouldRun)
	}
	if runs := runsOf(t, ns); len(runs) != 0 {
		t.Fatalf("a docs-only push made runs %v", runNames(runs))
	}

	// A short list is the payload's own: the host is not asked.
	before := len(host.recorded())
	if w := deliverPush(t, srv, tmpl, "gh-short", 2, false); w.Code != http.StatusNoContent {
		t.Errorf("a 2-commit docs push answered %d, want 204", w.Code)
	}
	if n := len(host.recorded()); n != before {
		t.Errorf("a complete payload list made %d compare requests, want none", n-before)
	}

	// The host fails: the delivery runs, and the dry run says why.
	host.mu.Lock()
	host.status = http.StatusInternalServerError
	host.mu.Unlock()
	w = deliverPush(t, srv, tmpl, "gh-fail", 20, true)
	if err := json.Unmarshal(w.Body.Bytes(), &dry); err != nil || w.Code != http.StatusOK {
		t.Fatalf("dry run answered %d %s", w.Code, w.Body)
	}
	wantNote := "the payload's list of changed files is missing or may be incomplete and the host could not complete it " +
		"(the github compare API answered HTTP 500): matched, so that no deploy is missed"
	if !dry.WouldRun || !dry.Match.Paths.Matched || dry.Match.Paths.Note != wantNote {
		t.Errorf("dry run with a failing host: wouldRun %v, paths %+v; want a match with note %q", dry.WouldRun, dry.Match.Paths, wantNote)
	}
	if strings.Contains(w.Body.String(), changesToken) {
		t.Errorf("the dry-run answer holds the report token")
	}
	if w := deliverPush(t, srv, tmpl, "gh-fail", 20, false); w.Code != http.StatusAccepted {
		t.Fatalf("a push the host cannot list answered %d %s, want 202", w.Code, w.Body)
	}
	if runs := runsOf(t, ns); len(runs) != 1 || runs[0].Spec.Delivery.ID != "gh-fail" {
		t.Errorf("runs = %v, want the one of gh-fail", runNames(runs))
	}
}

// sourceChangesSetup makes the HookSource "acme" (GitHub, pollTestKey) in
// a new namespace with the report token Secrets "site-git" (changesToken)
// and "docs-git" (changesToken+"-docs") and the templates, and returns a
// webhook server reading through a manager's cache (the source's templates
// are listed with a field index) and asking hosts with h.
func sourceChangesSetup(t *testing.T, h *HostChangedFiles, tmpls ...*hooksv1alpha1.HookTemplate) (ns string, srv http.Handler) {
	t.Helper()
	ns = newNamespace(t)
	var mgr ctrl.Manager
	startManager(t, ns, func(m ctrl.Manager) error { mgr = m; return nil })
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-webhook", Namespace: ns},
		Data: map[string][]byte{hooksv1alpha1.DefaultSecretKey: []byte(pollTestKey)}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-git", Namespace: ns},
		Data: map[string][]byte{"token": []byte(changesToken)}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "docs-git", Namespace: ns},
		Data: map[string][]byte{"token": []byte(changesToken + "-docs")}})
	create(t, newSource(ns, "acme"))
	for _, tmpl := range tmpls {
		tmpl.Namespace = ns
		create(t, tmpl)
	}
	cached := mgr.GetClient()
	g := NewWithT(t)
	g.Eventually(func(g Gomega) {
		list := &hooksv1alpha1.HookTemplateList{}
		g.Expect(cached.List(context.Background(), list, client.InNamespace(ns),
			client.MatchingFields{hooksv1alpha1.IndexTemplateSource: "acme"})).To(Succeed())
		g.Expect(list.Items).To(HaveLen(len(tmpls)))
		g.Expect(cached.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "acme-webhook"}, &corev1.Secret{})).To(Succeed())
		g.Expect(cached.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "acme"}, &hooksv1alpha1.HookSource{})).To(Succeed())
	}, timeout, poll).Should(Succeed())
	h.Reader = k8sClient
	return ns, webhookserver.New(cached, k8sClient, k8sClient.Scheme(), webhookserver.Options{ChangedFiles: h})
}

// pathsTemplate is a template of the source "acme" that runs for pushes
// changing deploy/ and reports to url (repository: the delivery's when
// empty) with the token of the Secret creds.
func pathsTemplate(name, url, repository, creds string) *hooksv1alpha1.HookTemplate {
	tmpl := sourcedTemplate("", name, "acme")
	tmpl.Spec.Match.Paths = []string{"deploy/**"}
	tmpl.Spec.Report = &hooksv1alpha1.ReportSpec{Provider: hooksv1alpha1.ReportGitHub, URL: url, Repository: repository,
		CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: creds}}
	return tmpl
}

// TestSourceFanOutAsksAHangingHostOnce: a HookSource delivery whose
// templates ask a host that never answers spends one time limit on it in
// all, not one per template: the host is asked once, a template with
// another question is not asked once the limit is spent, and every
// template asking that host runs (202, the runs stored). Another host's
// answer is not used for templates asking the hanging one.
func TestSourceFanOutAsksAHangingHostOnce(t *testing.T) {
	needEnvtest(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var hung []string
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hung = append(hung, r.RequestURI)
		mu.Unlock()
		select { // until the client gives up or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hanging.Close()
	defer close(release) // before Close, which waits for the handlers
	docsOnly := `{"status":"ahead","ahead_by":25,"behind_by":0,"total_commits":25,"files":[{"filename":"docs/readme.md","status":"modified"}]}`
	quick := &fakeHost{t: t, authHeader: "Authorization", answers: map[string]string{
		"/repos/acme/site/compare/" + changesBefore + "..." + changesAfter: docsOnly,
	}}
	quickSrv := httptest.NewServer(quick)
	defer quickSrv.Close()

	ns, srv := sourceChangesSetup(t, &HostChangedFiles{Timeout: 300 * time.Millisecond},
		pathsTemplate("a-quick", quickSrv.URL, "", "site-git"),
		pathsTemplate("b-hang", hanging.URL, "", "site-git"),
		pathsTemplate("c-hang", hanging.URL, "", "site-git"),
		pathsTemplate("d-hang", hanging.URL, "", "site-git"),
		pathsTemplate("e-hang", hanging.URL, "", "site-git"),
		pathsTemplate("f-hang-other", hanging.URL, "acme/other", "site-git"),
	)

	const id = "gh-hang"
	w := deliverPushTo(t, srv, webhookserver.SourcePath(ns, "acme"), id, 20, false)
	if w.Code != http.StatusAccepted {
		t.Fatalf("delivery answered %d %s, want 202", w.Code, w.Body)
	}
	mu.Lock()
	asked := slices.Clone(hung)
	mu.Unlock()
	if want := []string{"/repos/acme/site/compare/" + changesBefore + "..." + changesAfter}; !cmp.Equal(asked, want) {
		t.Errorf("the hanging host was asked %q, want once: %q", asked, want)
	}
	if calls := quick.recorded(); len(calls) != 1 {
		t.Errorf("the answering host was asked %+v, want once", calls)
	}
	var want []string
	for _, name := range []string{"b-hang", "c-hang", "d-hang", "e-hang", "f-hang-other"} {
		want = append(want, webhookserver.RunName(name, id))
	}
	if got := runNames(runsOf(t, ns)); !cmp.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("runs = %v, want %v (a-quick's host listed only docs; the others could not tell)", got, want)
	}

	// The dry run says why each template that could not be told matches.
	w = deliverPushTo(t, srv, webhookserver.SourcePath(ns, "acme"), id, 20, true)
	var dry webhookserver.SourceDryRunAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &dry); err != nil || w.Code != http.StatusOK || len(dry.Templates) != 6 {
		t.Fatalf("dry run answered %d %s", w.Code, w.Body)
	}
	const prefix = "the payload's list of changed files is missing or may be incomplete and the host could not complete it ("
	notes := map[string]string{}
	for _, tt := range dry.Templates {
		notes[tt.Template] = strings.TrimSuffix(strings.TrimPrefix(tt.Match.Paths.Note, prefix), "): matched, so that no deploy is missed")
	}
	wantNotes := map[string]string{
		"a-quick":      "no changed file matches a pattern of match.paths",
		"b-hang":       "the github compare API did not answer in time",
		"c-hang":       "the github compare API did not answer in time",
		"d-hang":       "the github compare API did not answer in time",
		"e-hang":       "the github compare API did not answer in time",
		"f-hang-other": "the time to ask the host about this delivery ran out",
	}
	if !cmp.Equal(notes, wantNotes) {
		t.Errorf("dry-run paths notes = %v, want %v", notes, wantNotes)
	}
}

// TestSourceFanOutSharesHostAnswersOnlyForTheSameQuestion: templates of one
// HookSource share a host's list only when they ask the same host about
// the same repository with the same credentials.
func TestSourceFanOutSharesHostAnswersOnlyForTheSameQuestion(t *testing.T) {
	needEnvtest(t)
	siteURI := "/repos/acme/site/compare/" + changesBefore + "..." + changesAfter
	otherURI := "/repos/acme/other/compare/" + changesBefore + "..." + changesAfter
	host := &fakeHost{t: t, authHeader: "Authorization", answers: map[string]string{
		siteURI:  `{"status":"ahead","ahead_by":25,"behind_by":0,"total_commits":25,"files":[{"filename":"docs/readme.md","status":"modified"}]}`,
		otherURI: `{"status":"ahead","ahead_by":25,"behind_by":0,"total_commits":25,"files":[{"filename":"deploy/app.yaml","status":"modified"}]}`,
	}}
	gh := httptest.NewServer(host)
	defer gh.Close()
	ns, srv := sourceChangesSetup(t, &HostChangedFiles{},
		pathsTemplate("a-site", gh.URL, "", "site-git"),
		pathsTemplate("b-site", gh.URL, "", "site-git"),
		pathsTemplate("c-other", gh.URL, "acme/other", "site-git"),
		pathsTemplate("d-docs-token", gh.URL, "", "docs-git"),
	)

	const id = "gh-share"
	w := deliverPushTo(t, srv, webhookserver.SourcePath(ns, "acme"), id, 20, false)
	if w.Code != http.StatusAccepted {
		t.Fatalf("delivery answered %d %s, want 202", w.Code, w.Body)
	}
	want := []hostCall{
		{http.MethodGet, siteURI, "Bearer " + changesToken},
		{http.MethodGet, otherURI, "Bearer " + changesToken},
		{http.MethodGet, siteURI, "Bearer " + changesToken + "-docs"},
	}
	if calls := host.recorded(); !cmp.Equal(calls, want) {
		t.Errorf("compare requests = %+v, want %+v (b-site shares a-site's)", calls, want)
	}
	if got, want := runNames(runsOf(t, ns)), []string{webhookserver.RunName("c-other", id)}; !cmp.Equal(got, want) {
		t.Errorf("runs = %v, want %v (only acme/other changed deploy/)", got, want)
	}

	// The host fails: each question is asked once (b-site is told a-site's
	// failure), and every template runs.
	host.mu.Lock()
	host.status, host.calls = http.StatusInternalServerError, nil
	host.mu.Unlock()
	const failID = "gh-share-fail"
	if w := deliverPushTo(t, srv, webhookserver.SourcePath(ns, "acme"), failID, 20, false); w.Code != http.StatusAccepted {
		t.Fatalf("delivery to a failing host answered %d %s, want 202", w.Code, w.Body)
	}
	if calls := host.recorded(); !cmp.Equal(calls, want) {
		t.Errorf("compare requests to a failing host = %+v, want %+v", calls, want)
	}
	var failed []string
	for _, r := range runsOf(t, ns) {
		if r.Spec.Delivery.ID == failID {
			failed = append(failed, r.Spec.TemplateRef.Name)
		}
	}
	if want := []string{"a-site", "b-site", "c-other", "d-docs-token"}; !cmp.Equal(slices.Sorted(slices.Values(failed)), want) {
		t.Errorf("templates run for a failing host = %v, want %v", failed, want)
	}
}
