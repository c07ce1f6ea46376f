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

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/hookrun/hookrun/internal/testtools"
)

// objects is a rendered set of manifests, by "Kind/name".
type objects map[string]*unstructured.Unstructured

func decode(t *testing.T, data []byte) objects {
	t.Helper()
	out := objects{}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decode rendered manifests: %v", err)
		}
		// apimachinery's JSON: whole numbers as int64, as in typed objects.
		var obj map[string]any
		if err := utiljson.Unmarshal(raw, &obj); err != nil {
			t.Fatalf("decode rendered manifests: %v", err)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		out[u.GetKind()+"/"+u.GetName()] = u
	}
}

func (o objects) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range o {
		if u.GetKind() == kind {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out
}

func (o objects) one(t *testing.T, kind string) *unstructured.Unstructured {
	t.Helper()
	all := o.ofKind(kind)
	if len(all) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(all), kind)
	}
	return all[0]
}

// helmTemplate renders charts/hookrun as `helm template hookrun` in
// namespace hookrun-system, with values (YAML) on top of the defaults.
func helmTemplate(t *testing.T, values string) ([]byte, error) {
	t.Helper()
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	helm, err := testtools.Path("helm")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"template", "hookrun", filepath.Join(root, "charts", "hookrun"), "--namespace", "hookrun-system"}
	if values != "" {
		// Not t.TempDir(): it carries the subtest's name, and helm splits
		// --values at commas.
		f, err := os.CreateTemp("", "hookrun-values-*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove(f.Name()) })
		if _, err := f.WriteString(values); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--values", f.Name())
	}
	var stderr bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func kustomizeBuild(t *testing.T, dir string) objects {
	t.Helper()
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(root, dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	data, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, data)
}

// podSpec is the Deployment's pod spec without what may differ between the
// two: labels (the chart's are Helm's) and the image (kustomize's default
// tag is "local", the chart's its appVersion).
func podSpec(t *testing.T, d *unstructured.Unstructured) map[string]any {
	t.Helper()
	spec, ok, err := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	if !ok || err != nil {
		t.Fatalf("%s: no pod spec (%v)", d.GetName(), err)
	}
	containers, _, _ := unstructured.NestedSlice(spec, "containers")
	for _, c := range containers {
		delete(c.(map[string]any), "image")
	}
	spec["containers"] = containers
	return spec
}

// TestChartRendersLikeKustomize: with default values the chart installs
// what config/default does (its Namespace aside: Helm installs into a
// namespace, `--create-namespace` makes it), with the same RBAC rules and
// the same manager Deployment (args, ports, probes, env, resources,
// security contexts).
func TestChartRendersLikeKustomize(t *testing.T) {
	out, err := helmTemplate(t, "")
	if err != nil {
		t.Fatal(err)
	}
	chart := decode(t, out)
	kust := kustomizeBuild(t, "config/default")

	var chartKinds, kustKinds []string
	for key := range chart {
		chartKinds = append(chartKinds, key)
	}
	for key, u := range kust {
		if u.GetKind() != "Namespace" && u.GetKind() != "CustomResourceDefinition" {
			kustKinds = append(kustKinds, key)
		}
	}
	slices.Sort(chartKinds)
	slices.Sort(kustKinds)
	if diff := cmp.Diff(kustKinds, chartKinds); diff != "" {
		t.Errorf("objects (-kustomize +chart):\n%s", diff)
	}

	for _, kind := range []string{"ClusterRole", "Role"} {
		want, _, _ := unstructured.NestedSlice(kust.one(t, kind).Object, "rules")
		got, _, _ := unstructured.NestedSlice(chart.one(t, kind).Object, "rules")
		if len(want) == 0 {
			t.Errorf("kustomize %s has no rules", kind)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s rules (-kustomize +chart):\n%s", kind, diff)
		}
	}
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, field := range []string{"roleRef", "subjects"} {
			want, _, _ := unstructured.NestedFieldNoCopy(kust.one(t, kind).Object, field)
			got, _, _ := unstructured.NestedFieldNoCopy(chart.one(t, kind).Object, field)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s (-kustomize +chart):\n%s", kind, field, diff)
			}
		}
	}

	wantD, gotD := kust.one(t, "Deployment"), chart.one(t, "Deployment")
	if diff := cmp.Diff(podSpec(t, wantD), podSpec(t, gotD)); diff != "" {
		t.Errorf("Deployment pod spec (-kustomize +chart):\n%s", diff)
	}
	wantR, _, _ := unstructured.NestedInt64(wantD.Object, "spec", "replicas")
	gotR, _, _ := unstructured.NestedInt64(gotD.Object, "spec", "replicas")
	if wantR != gotR || gotR == 0 {
		t.Errorf("replicas: kustomize %d, chart %d", wantR, gotR)
	}
	// The Services reach the pods: their selectors are the pod labels.
	podLabels, _, _ := unstructured.NestedStringMap(gotD.Object, "spec", "template", "metadata", "labels")
	for _, svc := range chart.ofKind("Service") {
		sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("Service %s selects %s=%s, the pods have %q", svc.GetName(), k, v, podLabels[k])
			}
		}
		want := kust["Service/"+svc.GetName()]
		if want == nil {
			continue
		}
		wantPorts, _, _ := unstructured.NestedSlice(want.Object, "spec", "ports")
		gotPorts, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
		if diff := cmp.Diff(wantPorts, gotPorts); diff != "" {
			t.Errorf("Service %s ports (-kustomize +chart):\n%s", svc.GetName(), diff)
		}
	}
}

// TestChartCRDsAndFilesAreTheGeneratedOnes: charts/hookrun/crds, the
// chart's roles and files are what chartgen writes from config/ (`make
// manifests` regenerates them, `make verify` fails when they are stale;
// this says which file and why when run on its own).
func TestChartCRDsAndFilesAreTheGeneratedOnes(t *testing.T) {
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	files, err := outputs(root)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Errorf("%s: %v (run make manifests)", path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make manifests", path)
		}
	}
	crds, _ := filepath.Glob(filepath.Join(root, chartDir, "crds", "*.yaml"))
	bases, _ := filepath.Glob(filepath.Join(root, crdSources, "*.yaml"))
	if len(crds) != len(bases) {
		t.Errorf("%d CRDs in the chart, %d in %s", len(crds), len(bases), crdSources)
	}
}

// TestPrometheusRuleIsTheAlertFile: the generated PrometheusRule (kustomize
// and chart) carries exactly the groups of config/prometheus/alerts.yaml.
// alertNames lists the alerts of every group of a rule file's spec.
func alertNames(t *testing.T, spec map[string]any) []string {
	t.Helper()
	var names []string
	groups, _ := spec["groups"].([]any)
	for _, g := range groups {
		rules, _ := g.(map[string]any)["rules"].([]any)
		for _, r := range rules {
			if name, ok := r.(map[string]any)["alert"].(string); ok {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		t.Fatalf("no alerts in %v", spec)
	}
	return names
}

func TestPrometheusRuleIsTheAlertFile(t *testing.T) {
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := yaml.Unmarshal(alerts, &want); err != nil {
		t.Fatal(err)
	}
	kust := kustomizeBuild(t, "config/prometheus")
	out, err := helmTemplate(t, "metrics: {prometheusRule: {enabled: true}}")
	if err != nil {
		t.Fatal(err)
	}
	chart := decode(t, out)
	for name, objs := range map[string]objects{"kustomize": kust, "chart": chart} {
		got, _, _ := unstructured.NestedMap(objs.one(t, "PrometheusRule").Object, "spec")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s PrometheusRule spec (-alerts.yaml +rendered):\n%s", name, diff)
		}
	}
	// Without leader election the chart leaves out HookRunNoLeader (no
	// replica would ever report leading) and keeps every other rule.
	out, err = helmTemplate(t, "metrics: {prometheusRule: {enabled: true}}\nleaderElection: {enabled: false}\nreplicas: 1")
	if err != nil {
		t.Fatal(err)
	}
	wantAlerts := alertNames(t, want)
	gotAlerts := alertNames(t, decode(t, out).one(t, "PrometheusRule").Object["spec"].(map[string]any))
	if !slices.Contains(wantAlerts, "HookRunNoLeader") || slices.Contains(gotAlerts, "HookRunNoLeader") || len(gotAlerts) != len(wantAlerts)-1 {
		t.Errorf("without leader election: alerts %v, want %v without HookRunNoLeader", gotAlerts, wantAlerts)
	}
	// The ServiceMonitor of config/prometheus selects the metrics Service
	// of config/default.
	def := kustomizeBuild(t, "config/default")
	sel, _, _ := unstructured.NestedStringMap(kust.one(t, "ServiceMonitor").Object, "spec", "selector", "matchLabels")
	var selected []string
	for _, svc := range def.ofKind("Service") {
		labels := svc.GetLabels()
		match := true
		for k, v := range sel {
			match = match && labels[k] == v
		}
		if match {
			selected = append(selected, svc.GetName())
		}
	}
	if !slices.Equal(selected, []string{"hookrun-metrics"}) {
		t.Errorf("config/prometheus ServiceMonitor selects %v, want [hookrun-metrics]", selected)
	}
}

func TestChartValues(t *testing.T) {
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	dashboard, err := os.ReadFile(filepath.Join(root, "config", "grafana", "hookrun.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		values  string
		wantErr string
		check   func(t *testing.T, o objects)
	}{{
		name: "ingress with TLS",
		values: `webhook: {ingress: {enabled: true, className: nginx, host: hooks.acme.dev,
  annotations: {cert-manager.io/cluster-issuer: letsencrypt}, tls: {enabled: true, secretName: hooks-tls}}}`,
		check: func(t *testing.T, o objects) {
			ing := o.one(t, "Ingress")
			tls, _, _ := unstructured.NestedSlice(ing.Object, "spec", "tls")
			rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
			want := []any{map[string]any{"hosts": []any{"hooks.acme.dev"}, "secretName": "hooks-tls"}}
			if diff := cmp.Diff(want, tls); diff != "" {
				t.Errorf("tls (-want +got):\n%s", diff)
			}
			paths, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "http", "paths")
			var got []string
			for _, p := range paths {
				pm := p.(map[string]any)
				svc, _, _ := unstructured.NestedString(pm, "backend", "service", "name")
				got = append(got, pm["path"].(string)+"→"+svc)
			}
			if diff := cmp.Diff([]string{"/hooks→hookrun-webhook", "/sources→hookrun-webhook", "/badges→hookrun-webhook"}, got); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
			if ing.GetAnnotations()["cert-manager.io/cluster-issuer"] != "letsencrypt" {
				t.Errorf("annotations %v", ing.GetAnnotations())
			}
		},
	}, {
		name:   "monitoring toggles",
		values: `{metrics: {serviceMonitor: {enabled: true, labels: {release: prom}}, prometheusRule: {enabled: true}}, grafanaDashboard: {enabled: true}}`,
		check: func(t *testing.T, o objects) {
			sm := o.one(t, "ServiceMonitor")
			if sm.GetLabels()["release"] != "prom" {
				t.Errorf("ServiceMonitor labels %v", sm.GetLabels())
			}
			sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
			metrics := o["Service/hookrun-metrics"]
			for k, v := range sel {
				if metrics.GetLabels()[k] != v {
					t.Errorf("ServiceMonitor selects %s=%s, the metrics Service has %q", k, v, metrics.GetLabels()[k])
				}
			}
			if o["Service/hookrun-webhook"].GetLabels()["app.kubernetes.io/component"] == sel["app.kubernetes.io/component"] {
				t.Error("the ServiceMonitor selects the webhook Service too")
			}
			o.one(t, "PrometheusRule")
			data, _, _ := unstructured.NestedString(o.one(t, "ConfigMap").Object, "data", "hookrun.json")
			if data != strings.TrimSuffix(string(dashboard), "\n") {
				t.Error("the dashboard ConfigMap is not config/grafana/hookrun.json")
			}
			if !json.Valid([]byte(data)) {
				t.Error("the dashboard is not JSON")
			}
		},
	}, {
		name: "local cluster: host network, loopback, image imported by hand",
		values: `{replicas: 1, hostNetwork: true, listenAddress: 127.0.0.1, ports: {webhook: 18080, metrics: 18443, health: 18081},
image: {tag: local, pullPolicy: Never}, extraArgs: [--max-concurrent-reconciles=4],
extraEnv: [{name: KUBERNETES_SERVICE_HOST, value: 127.0.0.1}],
nodeSelector: {kubernetes.io/os: linux}, tolerations: [{key: dedicated, operator: Exists}],
affinity: {nodeAffinity: {}}, podSecurityContext: {runAsNonRoot: true, fsGroup: 65532}}`,
		check: func(t *testing.T, o objects) {
			d := o.one(t, "Deployment")
			spec := d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
			c := spec["containers"].([]any)[0].(map[string]any)
			got := map[string]any{
				"hostNetwork": spec["hostNetwork"], "dnsPolicy": spec["dnsPolicy"], "image": c["image"],
				"pullPolicy": c["imagePullPolicy"], "args": c["args"], "env": c["env"],
				"probeHost":    c["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["host"],
				"nodeSelector": spec["nodeSelector"], "tolerations": spec["tolerations"], "affinity": spec["affinity"],
				"podSecurityContext": spec["securityContext"],
			}
			want := map[string]any{
				"hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet", "image": "hookrun/hookrun:local", "pullPolicy": "Never",
				"args": []any{"--leader-elect", "--health-probe-bind-address=127.0.0.1:18081", "--metrics-bind-address=127.0.0.1:18443",
					"--webhook-bind-address=127.0.0.1:18080", "--max-concurrent-reconciles=4"},
				"env": []any{
					map[string]any{"name": "GOMEMLIMIT", "valueFrom": map[string]any{"resourceFieldRef": map[string]any{"resource": "requests.memory"}}},
					map[string]any{"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
				},
				"probeHost":    "127.0.0.1",
				"nodeSelector": map[string]any{"kubernetes.io/os": "linux"},
				"tolerations":  []any{map[string]any{"key": "dedicated", "operator": "Exists"}},
				"affinity":     map[string]any{"nodeAffinity": map[string]any{}},
				// Helm merges a map value into the default one.
				"podSecurityContext": map[string]any{"runAsNonRoot": true, "fsGroup": int64(65532), "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		},
	}, {
		name:   "webhook TLS served by the manager",
		values: `webhook: {tlsSecretName: hooks-tls}`,
		check: func(t *testing.T, o objects) {
			out, _ := yaml.Marshal(o.one(t, "Deployment").Object)
			for _, want := range []string{"--webhook-cert-dir=/etc/hookrun/webhook-tls", "mountPath: /etc/hookrun/webhook-tls", "secretName: hooks-tls"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("Deployment lacks %q", want)
				}
			}
		},
	}, {
		name:    "two replicas without leader election",
		values:  `leaderElection: {enabled: false}`,
		wantErr: "replicas > 1 needs leaderElection.enabled",
	}, {
		name:    "schema: a misspelt value",
		values:  `replica: 3`,
		wantErr: "additional properties 'replica' not allowed",
	}, {
		name:    "schema: a port out of range",
		values:  `ports: {webhook: 80800}`,
		wantErr: "/ports/webhook",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := helmTemplate(t, tc.values)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, decode(t, out))
		})
	}
}

// TestChartLints: `helm lint --strict` with the defaults and with every
// optional object on.
func TestChartLints(t *testing.T) {
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	helm, err := testtools.Path("helm")
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"", "webhook.ingress.enabled=true,webhook.ingress.tls.enabled=true,metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,grafanaDashboard.enabled=true"} {
		args := []string{"lint", "--strict", filepath.Join(root, "charts", "hookrun")}
		if set != "" {
			args = append(args, "--set", set)
		}
		if out, err := exec.Command(helm, args...).CombinedOutput(); err != nil {
			t.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
