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

// Package observability tests what hookrun ships for monitoring: the alert
// rules (config/prometheus) with promtool, and that the rules and the Grafana
// dashboard (config/grafana) query only metrics and labels the manager
// really exposes.
package observability

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/hookrun/hookrun/internal/testtools"
)

func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := testtools.Path("promtool")
	if err != nil {
		t.Fatal(err)
	}
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestAlertRulesCheckAndUnitTests runs `promtool check rules` (syntax, and
// its lint of the rule file) and the unit tests of config/prometheus/tests.
func TestAlertRulesCheckAndUnitTests(t *testing.T) {
	out := promtool(t, "check", "rules", "--lint-fatal", "config/prometheus/alerts.yaml")
	if !strings.Contains(out, "SUCCESS: 6 rules found") {
		t.Errorf("promtool check rules: %s", out)
	}
	out = promtool(t, "test", "rules", "config/prometheus/tests/alerts_test.yaml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules: %s", out)
	}
}

// alertRule is one rule of config/prometheus/alerts.yaml.
type alertRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// alertRules reads the alerts of config/prometheus/alerts.yaml.
func alertRules(t *testing.T) []alertRule {
	t.Helper()
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string      `json:"name"`
			Rules []alertRule `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(data, &file); err != nil {
		t.Fatal(err)
	}
	var rules []alertRule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// TestEveryAlertHasAWindowARunbookAndATest: a `for:` window (no page on a
// single scrape), runbook text, and a promtool unit test that expects it
// to fire.
func TestEveryAlertHasAWindowARunbookAndATest(t *testing.T) {
	root, err := testtools.Root()
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "tests", "alerts_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rules := alertRules(t)
	if len(rules) < 6 {
		t.Fatalf("%d alerts, want at least 6", len(rules))
	}
	for _, r := range rules {
		if r.For == "" {
			t.Errorf("%s: no for: window", r.Alert)
		}
		if len(r.Annotations["runbook"]) < 80 || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: summary, description and runbook annotations needed: %v", r.Alert, r.Annotations)
		}
		if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n    exp_alerts:\n    - exp_labels") {
			t.Errorf("%s: no promtool unit test expects it to fire", r.Alert)
		}
	}
}
