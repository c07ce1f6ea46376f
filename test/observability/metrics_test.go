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

package observability

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/testtools"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// targetLabels are added by Prometheus when it scrapes through the
// ServiceMonitor (job, instance, and the target's pod and namespace: with
// honorLabels, a metric's own namespace label, the HookTemplate's, wins),
// not exposed by the manager.
var targetLabels = []string{"job", "instance", "pod", "namespace"}

// exposed is what /metrics serves: series name → label names. Histograms
// appear as their _bucket (with le), _sum and _count series.
type exposed map[string]map[string]bool

func parseExposition(text string) (exposed, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	out := exposed{}
	add := func(name string, labels []*dto.LabelPair, extra ...string) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for _, l := range labels {
			out[name][l.GetName()] = true
		}
		for _, l := range extra {
			out[name][l] = true
		}
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", m.GetLabel(), "le")
				add(name+"_sum", m.GetLabel())
				add(name+"_count", m.GetLabel())
			case dto.MetricType_SUMMARY:
				add(name, m.GetLabel(), "quantile")
				add(name+"_sum", m.GetLabel())
				add(name+"_count", m.GetLabel())
			default:
				add(name, m.GetLabel())
			}
		}
	}
	return out, nil
}

// check lists what q uses that the exposition lacks: unknown metrics,
// matchers on labels the metric does not have, grouping labels none of the
// query's metrics has.
func (e exposed) check(q query) []string {
	var problems []string
	for _, s := range q.Selectors {
		labels, ok := e[s.Metric]
		if !ok {
			problems = append(problems, "metric "+s.Metric+" is not exposed")
			continue
		}
		for _, l := range s.Labels {
			if !labels[l] && !slices.Contains(targetLabels, l) {
				problems = append(problems, fmt.Sprintf("%s has no label %q", s.Metric, l))
			}
		}
	}
	for _, g := range q.Grouping {
		found := slices.Contains(targetLabels, g)
		for _, s := range q.Selectors {
			found = found || e[s.Metric][g]
		}
		if !found {
			problems = append(problems, fmt.Sprintf("grouping label %q is on none of its metrics", g))
		}
	}
	return problems
}

// dashboardQueries lists every PromQL expression of the Grafana dashboard:
// the panels' targets and the variables' label_values queries.
func dashboardQueries(t *testing.T, root string) map[string]query {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "config", "grafana", "hookrun.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("config/grafana/hookrun.json: %v", err)
	}
	out := map[string]query{}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for i, target := range p.Targets {
			q, err := parseQuery(target.Expr)
			if err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
				continue
			}
			out[fmt.Sprintf("panel %q query %d", p.Title, i+1)] = q
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, err := parseLabelValues(v.Definition)
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		out["variable "+v.Name] = q
	}
	return out
}

// TestDashboardAndAlertsQueryExposedMetrics runs the manager binary against
// envtest, sends deliveries (accepted, duplicate, badly signed), lets runs
// queue and succeed, scrapes /metrics, and checks that every metric and
// label the alert rules and the dashboard query is there.
func TestDashboardAndAlertsQueryExposedMetrics(t *testing.T) {
	g := NewWithT(t)
	root, err := testtools.Root()
	g.Expect(err).NotTo(HaveOccurred())

	// Every query first, so that a syntax problem shows without envtest.
	queries := dashboardQueries(t, root)
	for _, r := range alertRules(t) {
		q, err := parseQuery(r.Expr)
		if err != nil {
			t.Errorf("alert %s: %v", r.Alert, err)
			continue
		}
		queries["alert "+r.Alert] = q
	}
	if t.Failed() {
		t.FailNow()
	}
	if testing.Short() {
		t.Skip("the queries parse; checking them against /metrics needs envtest and the built manager")
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hooksv1alpha1.AddToScheme(scheme))
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred(), "start envtest (KUBEBUILDER_ASSETS=bin/k8s/<version>)")
	t.Cleanup(func() { _ = env.Stop() })

	dir := t.TempDir()
	bin, kubeconfig := filepath.Join(dir, "hookrun"), filepath.Join(dir, "kubeconfig")
	g.Expect(benchutil.BuildManager(root, bin, nil)).To(Succeed())
	g.Expect(benchutil.WriteKubeconfig(cfg, kubeconfig)).To(Succeed())
	ports := make([]int, 3)
	for i := range ports {
		ports[i], err = benchutil.FreePort()
		g.Expect(err).NotTo(HaveOccurred())
	}
	webhookURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1])
	healthURL := fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[2])
	proc, err := benchutil.StartProcess(bin, []string{
		"--leader-elect", "--leader-election-namespace=default",
		fmt.Sprintf("--webhook-bind-address=127.0.0.1:%d", ports[0]),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", ports[1]),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", ports[2]),
	}, filepath.Join(dir, "manager.log"), "KUBECONFIG="+kubeconfig)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() {
		proc.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "manager.log"))
			t.Logf("manager log (tail):\n%s", tail(string(out), 4000))
		}
	})
	g.Eventually(func() (int, error) {
		resp, err := http.Get(healthURL)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}, 60*time.Second, 200*time.Millisecond).Should(Equal(http.StatusOK))

	ctx := context.Background()
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	const ns, secret = "metrics", "0123456789abcdef0123456789abcdef"
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook", Namespace: ns},
		StringData: map[string]string{"secret": secret},
	})).To(Succeed())
	// The stand-in job controller completes every Job at once.
	obs, err := benchutil.StartObserver(ctx, cfg, scheme, benchutil.ObserverOptions{
		Namespace: ns, Jobs: benchutil.JobsComplete, RunPhase: hooksv1alpha1.PhaseSucceeded, WantJobs: 2, WantRuns: 2,
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(obs.Stop)
	tmpl := &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: ns},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGeneric, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "webhook"}},
			Run:    hooksv1alpha1.RunSpec{Image: "busybox", Shell: "true"},
		},
	}
	g.Expect(k8s.Create(ctx, tmpl)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &hooksv1alpha1.HookTemplate{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(tmpl), got)).To(Succeed())
		g.Expect(got.Status.Conditions).To(ContainElement(And(
			HaveField("Type", hooksv1alpha1.ConditionReady), HaveField("Status", metav1.ConditionTrue))))
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())

	body := []byte(`{"ref":"refs/heads/main","repository":"acme/site","sha":"abc123"}`)
	for _, d := range []struct {
		id, secret string
		want       int
	}{
		{"one", secret, http.StatusAccepted},
		{"two", secret, http.StatusAccepted},
		{"one", secret, http.StatusOK},              // a redelivery
		{"three", "wrong", http.StatusUnauthorized}, // a bad signature
	} {
		g.Expect(deliver(webhookURL, ns, "site", d.secret, d.id, body)).To(Equal(d.want), "delivery %s", d.id)
	}
	_, err = obs.Wait(ctx, 60*time.Second)
	g.Expect(err).NotTo(HaveOccurred())

	// Metrics of the finished runs and of the leader election are there
	// once the reconcilers have seen the Jobs complete.
	var scraped exposed
	g.Eventually(func(g Gomega) {
		text, err := get(metricsURL)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(text).To(ContainSubstring(`hookrun_runs_total{namespace="metrics",phase="Succeeded",template="site"} 2`))
		g.Expect(text).To(ContainSubstring(`leader_election_master_status{name="hookrun.hooks.hookrun.dev"} 1`))
		scraped, err = parseExposition(text)
		g.Expect(err).NotTo(HaveOccurred())
	}, 30*time.Second, 200*time.Millisecond).Should(Succeed())

	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, p := range scraped.check(queries[name]) {
			t.Errorf("%s: %s", name, p)
		}
	}
	t.Logf("%d queries checked against %d exposed series names", len(names), len(scraped))
}

// deliver POSTs a generic delivery signed as X-Hub-Signature-256 and
// returns the answer's status code.
func deliver(baseURL, ns, template, secret, id string, body []byte) (int, error) {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/hooks/%s/%s", baseURL, ns, template), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hook-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return b.String(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestExposedCheck(t *testing.T) {
	e := exposed{
		"a_total":                {"code": true, "provider": true},
		"b_seconds_bucket":       {"le": true, "verb": true},
		"leader_election_status": {"name": true},
	}
	cases := []struct {
		name string
		expr string
		want []string
	}{
		{"all there", `sum by (provider) (rate(a_total{job="hookrun", code="500"}[5m]))`, nil},
		{"target labels", `max by (pod, namespace) (leader_election_status{job="x", instance="y"})`, nil},
		{"histogram", `histogram_quantile(0.9, sum by (le, verb) (rate(b_seconds_bucket[5m])))`, nil},
		{"unknown metric", `rate(c_total[5m])`, []string{"metric c_total is not exposed"}},
		{"unknown matcher label", `a_total{path_kind="hooks"}`, []string{`a_total has no label "path_kind"`}},
		{"unknown grouping label", `sum by (template) (a_total)`, []string{`grouping label "template" is on none of its metrics`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := parseQuery(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.check(q); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
