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
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// svgDoc is the part of a badge the tests read, parsed with encoding/xml.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Label   string   `xml:"aria-label,attr"`
	Title   string   `xml:"title"`
	Rects   []struct {
		Fill string `xml:"fill,attr"`
	} `xml:"rect"`
	Texts []string `xml:"g>text"`
}

func badgeRun(name, template, ref string, phase v1alpha1.HookRunPhase, completed time.Time) *v1alpha1.HookRun {
	run := &v1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "web", Labels: map[string]string{v1alpha1.LabelTemplate: template}},
		Spec: v1alpha1.HookRunSpec{
			TemplateRef: v1alpha1.TemplateRef{Name: template},
			Delivery:    v1alpha1.Delivery{Ref: ref},
		},
		Status: v1alpha1.HookRunStatus{Phase: phase},
	}
	if !completed.IsZero() {
		t := metav1.NewTime(completed)
		run.Status.CompletionTime = &t
	}
	return run
}

func badgeServer(t *testing.T, objs ...client.Object) *Server {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := addSchemes(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	return New(c, c, scheme, Options{})
}

func get(s *Server, method, target string) *http.Response {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec.Result()
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBadge: the badge shows the template and the phase of its last
// finished run (of ?ref= when given) in that phase's colour.
func TestBadge(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	tmpl := func(name string, badge bool) *v1alpha1.HookTemplate {
		return &v1alpha1.HookTemplate{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "web"},
			Spec:       v1alpha1.HookTemplateSpec{Badge: badge},
		}
	}
	tests := []struct {
		name      string
		runs      []*v1alpha1.HookRun
		query     string
		wantPhase string
		wantFill  string
	}{
		{name: "no run yet", wantPhase: "none", wantFill: colourGrey},
		{name: "succeeded", runs: []*v1alpha1.HookRun{badgeRun("a", "site", "refs/heads/main", v1alpha1.PhaseSucceeded, t0)}, wantPhase: "Succeeded", wantFill: colourGreen},
		{name: "failed", runs: []*v1alpha1.HookRun{badgeRun("a", "site", "refs/heads/main", v1alpha1.PhaseFailed, t0)}, wantPhase: "Failed", wantFill: colourRed},
		{name: "cancelled", runs: []*v1alpha1.HookRun{badgeRun("a", "site", "refs/heads/main", v1alpha1.PhaseCancelled, t0)}, wantPhase: "Cancelled", wantFill: colourGrey},
		{name: "skipped", runs: []*v1alpha1.HookRun{badgeRun("a", "site", "refs/heads/main", v1alpha1.PhaseSkipped, time.Time{})}, wantPhase: "Skipped", wantFill: colourGrey},
		{name: "last finished wins, running ignored", runs: []*v1alpha1.HookRun{
			badgeRun("old", "site", "refs/heads/main", v1alpha1.PhaseSucceeded, t0),
			badgeRun("new", "site", "refs/heads/main", v1alpha1.PhaseFailed, t0.Add(time.Minute)),
			badgeRun("live", "site", "refs/heads/main", v1alpha1.PhaseRunning, time.Time{}),
		}, wantPhase: "Failed", wantFill: colourRed},
		{name: "other templates' runs ignored", runs: []*v1alpha1.HookRun{
			badgeRun("mine", "site", "refs/heads/main", v1alpha1.PhaseSucceeded, t0),
			badgeRun("theirs", "docs", "refs/heads/main", v1alpha1.PhaseFailed, t0.Add(time.Minute)),
		}, wantPhase: "Succeeded", wantFill: colourGreen},
		{name: "ref picks the last run of that ref", query: "?ref=refs/heads/main", runs: []*v1alpha1.HookRun{
			badgeRun("main", "site", "refs/heads/main", v1alpha1.PhaseSucceeded, t0),
			badgeRun("dev", "site", "refs/heads/dev", v1alpha1.PhaseFailed, t0.Add(time.Minute)),
		}, wantPhase: "Succeeded", wantFill: colourGreen},
		{name: "ref with no finished run", query: "?ref=refs/tags/v1", runs: []*v1alpha1.HookRun{
			badgeRun("main", "site", "refs/heads/main", v1alpha1.PhaseSucceeded, t0),
		}, wantPhase: "none", wantFill: colourGrey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := []client.Object{tmpl("site", true), tmpl("docs", true)}
			for _, r := range tc.runs {
				objs = append(objs, r)
			}
			resp := get(badgeServer(t, objs...), http.MethodGet, "/badges/web/site.svg"+tc.query)
			body := readAll(t, resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", got)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "image/svg+xml") {
				t.Errorf("Content-Type %q, want image/svg+xml", got)
			}
			var doc svgDoc
			if err := xml.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("badge is not XML: %v\n%s", err, body)
			}
			if diff := cmp.Diff([]string{"site", tc.wantPhase}, doc.Texts); diff != "" {
				t.Errorf("texts (-want +got):\n%s", diff)
			}
			if len(doc.Rects) != 2 || doc.Rects[1].Fill != tc.wantFill {
				t.Errorf("rects %+v: want the status part filled %s", doc.Rects, tc.wantFill)
			}
			if want := "site: " + tc.wantPhase; doc.Title != want || doc.Label != want {
				t.Errorf("title %q aria-label %q, want %q", doc.Title, doc.Label, want)
			}
		})
	}
}

// TestBadgeNotFound: a template that does not opt in, does not exist, or a
// malformed badge path all get the body of any unknown path.
func TestBadgeNotFound(t *testing.T) {
	s := badgeServer(t,
		&v1alpha1.HookTemplate{ObjectMeta: metav1.ObjectMeta{Name: "private", Namespace: "web"}},
		&v1alpha1.HookTemplate{ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: "web"}, Spec: v1alpha1.HookTemplateSpec{Badge: true}},
		badgeRun("a", "private", "refs/heads/main", v1alpha1.PhaseFailed, time.Now()),
	)
	unknown := get(s, http.MethodGet, "/nothing/here")
	wantBody := readAll(t, unknown.Body)
	if unknown.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown path: %d", unknown.StatusCode)
	}
	for _, target := range []string{
		"/badges/web/private.svg",
		"/badges/web/private.svg?ref=refs/heads/main",
		"/badges/web/nope.svg",
		"/badges/elsewhere/site.svg",
		"/badges/web/site",
		"/badges/web/site.png",
		"/badges/web/x/site.svg",
		"/badges/Web/site.svg",
	} {
		t.Run(target, func(t *testing.T) {
			resp := get(s, http.MethodGet, target)
			body := readAll(t, resp.Body)
			if resp.StatusCode != http.StatusNotFound || body != wantBody {
				t.Errorf("%d %q, want 404 %q", resp.StatusCode, body, wantBody)
			}
			if strings.Contains(body, "private") || strings.Contains(body, "Failed") {
				t.Errorf("404 body discloses the template: %q", body)
			}
		})
	}
}

// TestBadgeMethods: HEAD gets the headers, other methods 405.
func TestBadgeMethods(t *testing.T) {
	s := badgeServer(t, &v1alpha1.HookTemplate{ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: "web"}, Spec: v1alpha1.HookTemplateSpec{Badge: true}})
	head := get(s, http.MethodHead, "/badges/web/site.svg")
	if head.StatusCode != http.StatusOK || readAll(t, head.Body) != "" || head.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("HEAD: %d, Cache-Control %q: want 200 with no body", head.StatusCode, head.Header.Get("Cache-Control"))
	}
	post := get(s, http.MethodPost, "/badges/web/site.svg")
	if post.StatusCode != http.StatusMethodNotAllowed || post.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q, want 405 with Allow: GET, HEAD", post.StatusCode, post.Header.Get("Allow"))
	}
}

// TestBadgeEscapes: a name is escaped into the SVG (template names are
// DNS names today; the SVG stays XML whatever they hold).
func TestBadgeEscapes(t *testing.T) {
	var doc svgDoc
	body := badgeSVG(`a<b&"c`, v1alpha1.PhaseSucceeded)
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, body)
	}
	if diff := cmp.Diff([]string{`a<b&"c`, "Succeeded"}, doc.Texts); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
}

// TestIntegrationBadge: over real HTTP, from the manager's cache: the badge
// follows a run to its end, and a template that turns the badge off
// answers 404 again.
func TestIntegrationBadge(t *testing.T) {
	requireEnvtest(t)
	ctx := context.Background()
	ns := newNamespace(t, suite.client)
	tmpl := testTemplate(ns, v1alpha1.ProviderGitHub)
	tmpl.Spec.Badge = true
	tmpl = createTemplate(t, suite.client, suite.mgr.GetClient(), tmpl, testSecret(ns, map[string]string{"secret": string(testKey)}))
	url := suite.baseURL + BadgePrefix + ns + "/" + tmpl.Name + ".svg"
	phaseOf := func() (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := doRequest(t, http.DefaultClient, req)
		if resp.code != http.StatusOK {
			return resp.code, ""
		}
		var doc svgDoc
		if err := xml.Unmarshal(resp.body, &doc); err != nil || len(doc.Texts) != 2 {
			t.Fatalf("badge %q: %v", resp.body, err)
		}
		return resp.code, doc.Texts[1]
	}
	if code, phase := phaseOf(); code != http.StatusOK || phase != noRunText {
		t.Fatalf("before any run: %d %q, want 200 %q", code, phase, noRunText)
	}

	run := badgeRun("site-run", tmpl.Name, "refs/heads/main", "", time.Time{})
	run.Namespace = ns
	if err := suite.client.Create(ctx, run); err != nil {
		t.Fatal(err)
	}
	orig := run.DeepCopy()
	done := metav1.Now()
	run.Status.Phase, run.Status.CompletionTime = v1alpha1.PhaseSucceeded, &done
	if err := suite.client.Status().Patch(ctx, run, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if code, phase := phaseOf(); phase != "Succeeded" {
			return fmt.Errorf("badge %d %q, want Succeeded", code, phase)
		}
		return nil
	})

	before := tmpl.DeepCopy()
	tmpl.Spec.Badge = false
	if err := suite.client.Patch(ctx, tmpl, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if code, _ := phaseOf(); code != http.StatusNotFound {
			return fmt.Errorf("badge answered %d after badge: false, want 404", code)
		}
		return nil
	})
}
