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
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// received is one request as a host saw it.
type received struct {
	Method, Path, Auth, AuthHeader string
	Body                           map[string]any
}

func receive(t *testing.T, r *http.Request, authHeader string) received {
	t.Helper()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Errorf("body %q is not JSON: %v", data, err)
	}
	return received{Method: r.Method, Path: r.URL.EscapedPath(), Auth: r.Header.Get(authHeader), AuthHeader: authHeader, Body: body}
}

// TestStatusRequestShapes sends each phase to an httptest server per
// provider and checks method, escaped path, auth header and body exactly
// as DESIGN.md (and each host's API documentation) has them.
func TestStatusRequestShapes(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		provider   hooksv1alpha1.ReportProvider
		repository string
		token      string
		authHeader string
		wantAuth   string
		wantPath   string
		wantStates []string
		body       func(state string) map[string]any
	}{
		{
			provider: hooksv1alpha1.ReportGitHub, repository: "acme/site", token: "ghp_x", authHeader: "Authorization", wantAuth: "Bearer ghp_x",
			wantPath:   "/repos/acme/site/statuses/" + sha,
			wantStates: []string{"pending", "pending", "pending", "success", "failure", "error", "error"},
			body: func(s string) map[string]any {
				return map[string]any{"state": s, "target_url": "https://logs.example.com/?run=site-1", "description": "D", "context": "deploy/prod"}
			},
		},
		{
			provider: hooksv1alpha1.ReportGitea, repository: "acme/my site", token: "gt", authHeader: "Authorization", wantAuth: "token gt",
			wantPath:   "/api/v1/repos/acme/my%20site/statuses/" + sha,
			wantStates: []string{"pending", "pending", "pending", "success", "failure", "error", "error"},
			body: func(s string) map[string]any {
				return map[string]any{"state": s, "target_url": "https://logs.example.com/?run=site-1", "description": "D", "context": "deploy/prod"}
			},
		},
		{
			provider: hooksv1alpha1.ReportGitLab, repository: "acme/sub/site", token: "glpat", authHeader: "PRIVATE-TOKEN", wantAuth: "glpat",
			wantPath:   "/api/v4/projects/acme%2Fsub%2Fsite/statuses/" + sha,
			wantStates: []string{"pending", "pending", "running", "success", "failed", "canceled", "skipped"},
			body: func(s string) map[string]any {
				return map[string]any{"state": s, "name": "deploy/prod", "target_url": "https://logs.example.com/?run=site-1", "description": "D", "ref": "main"}
			},
		},
		{
			provider: hooksv1alpha1.ReportBitbucket, repository: "acme/site", token: "user:app-pw", authHeader: "Authorization", wantAuth: "Basic dXNlcjphcHAtcHc=",
			wantPath:   "/2.0/repositories/acme/site/commit/" + sha + "/statuses/build",
			wantStates: []string{"INPROGRESS", "INPROGRESS", "INPROGRESS", "SUCCESSFUL", "FAILED", "STOPPED", "STOPPED"},
			body: func(s string) map[string]any {
				return map[string]any{"key": "deploy/prod", "state": s, "name": "deploy/prod", "url": "https://logs.example.com/?run=site-1", "description": "D"}
			},
		},
		{
			provider: hooksv1alpha1.ReportBitbucketServer, repository: "ACME/site", token: "bbs", authHeader: "Authorization", wantAuth: "Bearer bbs",
			wantPath:   "/rest/api/latest/projects/ACME/repos/site/commits/" + sha + "/builds",
			wantStates: []string{"INPROGRESS", "INPROGRESS", "INPROGRESS", "SUCCESSFUL", "FAILED", "CANCELLED", "CANCELLED"},
			body: func(s string) map[string]any {
				return map[string]any{"key": "deploy/prod", "state": s, "name": "deploy/prod", "url": "https://logs.example.com/?run=site-1", "description": "D"}
			},
		},
	}
	phases := []hooksv1alpha1.HookRunPhase{hooksv1alpha1.PhasePending, hooksv1alpha1.PhaseQueued, hooksv1alpha1.PhaseRunning,
		hooksv1alpha1.PhaseSucceeded, hooksv1alpha1.PhaseFailed, hooksv1alpha1.PhaseCancelled, hooksv1alpha1.PhaseSkipped}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			var got []received
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = append(got, receive(t, r, tt.authHeader))
				w.WriteHeader(http.StatusCreated)
			}))
			defer srv.Close()
			target := reportTarget{provider: tt.provider, baseURL: srv.URL, repository: tt.repository, sha: sha, ref: "refs/heads/main",
				token: tt.token, context: "deploy/prod", targetURL: "https://logs.example.com/?run=site-1"}
			var want []received
			for i, phase := range phases {
				req, err := statusRequest(context.Background(), target, phase, "D")
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				want = append(want, received{Method: http.MethodPost, Path: tt.wantPath, Auth: tt.wantAuth, AuthHeader: tt.authHeader, Body: tt.body(tt.wantStates[i])})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusRequestRefusesBadRepository(t *testing.T) {
	for _, repo := range []string{"", "acme", "acme/site/extra", "/site"} {
		target := reportTarget{provider: hooksv1alpha1.ReportGitHub, baseURL: "https://api.github.com", repository: repo, sha: "abc"}
		if _, err := statusRequest(context.Background(), target, hooksv1alpha1.PhasePending, "D"); err == nil {
			t.Errorf("repository %q: no error", repo)
		}
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	target := reportTarget{provider: hooksv1alpha1.ReportGitea, baseURL: "http://gitea:3000", repository: "acme/..%2F..%2Fadmin", sha: "../../x?y#z"}
	req, err := statusRequest(context.Background(), target, hooksv1alpha1.PhasePending, "D")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.EscapedPath(), "/api/v1/repos/acme/..%252F..%252Fadmin/statuses/..%2F..%2Fx%3Fy%23z"; got != want {
		t.Fatalf("path %q, want %q", got, want)
	}
}

func TestDescribe(t *testing.T) {
	start := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	end := metav1.NewTime(start.Add(42 * time.Second))
	tests := []struct {
		name   string
		status hooksv1alpha1.HookRunStatus
		want   string
	}{
		{name: "pending", status: hooksv1alpha1.HookRunStatus{}, want: "Pending"},
		{name: "queued", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseQueued, QueuePosition: 2}, want: "Queued (position 2)"},
		{name: "running first attempt", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseRunning, Attempts: 1}, want: "Running"},
		{name: "running retry", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseRunning, Attempts: 2}, want: "Running (attempt 2)"},
		{name: "succeeded", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseSucceeded, StartTime: &start, CompletionTime: &end}, want: "Succeeded in 42s"},
		{name: "failed", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseFailed, ExitCode: ptr.To[int32](3), Reason: "BackoffLimitExceeded", Message: "secret output"}, want: "Failed: exit code 3 (BackoffLimitExceeded)"},
		{name: "skipped", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseSkipped, Reason: hooksv1alpha1.ReasonSuperseded}, want: "Skipped (Superseded)"},
		{name: "long reason is cut", status: hooksv1alpha1.HookRunStatus{Phase: hooksv1alpha1.PhaseFailed, Reason: strings.Repeat("R", 200)}, want: "Failed (" + strings.Repeat("R", 131) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(&hooksv1alpha1.HookRun{Status: tt.status})
			if got != tt.want {
				t.Errorf("describe = %q, want %q", got, tt.want)
			}
			if n := len([]rune(got)); n > maxDescription {
				t.Errorf("%d characters", n)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		header  http.Header
		attempt int
		want    time.Duration
	}{
		{name: "first", attempt: 1, want: time.Second},
		{name: "exponential", attempt: 3, want: 4 * time.Second},
		{name: "capped", attempt: 30, want: time.Minute},
		{name: "retry-after seconds", header: http.Header{"Retry-After": {"30"}}, attempt: 1, want: 30 * time.Second},
		{name: "retry-after date", header: http.Header{"Retry-After": {now.Add(10 * time.Second).Format(http.TimeFormat)}}, attempt: 1, want: 10 * time.Second},
		{name: "rate limit reset", header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1767225620"}}, attempt: 1, want: 20 * time.Second},
		{name: "reset ignored while requests remain", header: http.Header{"X-Ratelimit-Remaining": {"10"}, "X-Ratelimit-Reset": {"1767225620"}}, attempt: 1, want: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryDelay(tt.header, tt.attempt, time.Second, time.Minute, now); got != tt.want {
				t.Errorf("retryDelay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		code   int
		header http.Header
		want   verdict
	}{
		{code: 201, want: verdictAccepted},
		{code: 429, want: verdictRetry},
		{code: 502, want: verdictRetry},
		{code: 403, header: http.Header{"Retry-After": {"60"}}, want: verdictRetry},
		{code: 403, header: http.Header{"X-Ratelimit-Remaining": {"0"}}, want: verdictRetry},
		{code: 403, want: verdictRejected},
		{code: 401, want: verdictRejected},
		{code: 404, want: verdictRejected},
		{code: 422, want: verdictRejected},
	}
	for _, tt := range tests {
		if got := classify(&http.Response{StatusCode: tt.code, Header: tt.header}); got != tt.want {
			t.Errorf("classify(%d, %v) = %v, want %v", tt.code, tt.header, got, tt.want)
		}
	}
}

func TestExpandTargetURL(t *testing.T) {
	run := newRun("ns", "site", "site-1")
	run.Spec.Params = map[string]string{"ENV": "prod&x=1"}
	got := expandTargetURL("https://logs.example.com/?run=$(HOOK_RUN)&env=$(ENV)&x=$(NOPE)", run)
	if want := "https://logs.example.com/?run=site-1&env=prod%26x%3D1&x="; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestSetAPIHeaders: the headers the status and the changed-files requests
// share, per host.
func TestSetAPIHeaders(t *testing.T) {
	tests := []struct {
		provider hooksv1alpha1.ReportProvider
		want     http.Header
	}{
		{hooksv1alpha1.ReportGitHub, http.Header{"Accept": {"application/vnd.github+json"}, "User-Agent": {"hookrun"}, "X-Github-Api-Version": {"2022-11-28"}}},
		{hooksv1alpha1.ReportGitea, http.Header{"Accept": {"application/json"}, "User-Agent": {"hookrun"}}},
		{hooksv1alpha1.ReportGitLab, http.Header{"Accept": {"application/json"}, "User-Agent": {"hookrun"}}},
		{hooksv1alpha1.ReportBitbucket, http.Header{"Accept": {"application/json"}, "User-Agent": {"hookrun"}}},
		{hooksv1alpha1.ReportBitbucketServer, http.Header{"Accept": {"application/json"}, "User-Agent": {"hookrun"}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			h := http.Header{}
			setAPIHeaders(h, tt.provider)
			if !cmp.Equal(h, tt.want) {
				t.Errorf("headers = %v, want %v", h, tt.want)
			}
		})
	}
}
