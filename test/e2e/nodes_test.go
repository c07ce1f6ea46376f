//go:build e2e

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

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	hookdelivery "github.com/hookrun/hookrun/internal/delivery"
)

// readmeEveryNodeTemplate is the HookTemplate of the README's "Every node"
// section.
func readmeEveryNodeTemplate(t *testing.T) *hooksv1alpha1.HookTemplate {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Every node")
	if !ok {
		t.Fatal("README.md has no section \"Every node\"")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatal("README's \"Every node\" has no YAML block")
	}
	block, _, _ = strings.Cut(block, "```")
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := yaml.UnmarshalStrict([]byte(block), tmpl); err != nil {
		t.Fatalf("README's \"Every node\" template: %v\n%s", err, block)
	}
	return tmpl
}

// TestEveryNodePullsTheNewCommit is the README's "Every node" example on
// the local cluster (one node, localhost): a push, a signed delivery, and
// on every Linux node a Job that clones the site into a host folder the
// first time and pulls it after, then notes which node it ran on.
func TestEveryNodePullsTheNewCommit(t *testing.T) {
	g := NewWithT(t)
	ns, secret := namespace(t)
	url, www, work := servedSite(t)

	// The README's template, as a user would apply it, moved onto the
	// local cluster: its one node, the local runner image, this test's
	// host folder and webhook Secret.
	tmpl := readmeEveryNodeTemplate(t)
	tmpl.Namespace = ns
	tmpl.Spec.Source.SecretRef.Name = "webhook"
	g.Expect(tmpl.Spec.Run.Nodes.MaxParallel).To(Equal(ptr.To[int32](1)))
	tmpl.Spec.Run.Nodes.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/os": "linux"}}
	tmpl.Spec.Run.Image = localRunner(tmpl.Spec.Run.Shell).Image
	pod := &tmpl.Spec.Run.PodTemplate.Spec
	pod.HostNetwork, pod.AutomountServiceAccountToken = true, ptr.To(false)
	pod.Containers[0].ImagePullPolicy = corev1.PullNever
	g.Expect(pod.Volumes).To(HaveLen(1))
	pod.Volumes[0].HostPath.Path = www
	createTemplate(t, tmpl)

	deploy := func(before string) *hooksv1alpha1.HookRun {
		after := git(t, work, "rev-parse", "HEAD")
		body := githubPush("acme/site", "refs/heads/main", before, after, url)
		answer := send(t, webhookURL, ns, "site", secret, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "e2e-nodes-" + after[:12]}, body)
		g.Expect(answer.Status).To(Equal(http.StatusAccepted), "answer: %+v", answer)
		got := waitForFinish(t, ns, answer.Run, 2*time.Minute)
		g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), "reason=%s message=%s", got.Status.Reason, got.Status.Message)
		g.Expect(got.Status.NodeSummary).To(Equal("1/1"))
		g.Expect(got.Status.Nodes).To(HaveLen(1))
		g.Expect(got.Status.Nodes[0].Name).To(Equal("localhost"))
		g.Expect(got.Status.Nodes[0].JobName).To(Equal(hookdelivery.NodeJobName(got.Name, "localhost")))
		g.Expect(git(t, filepath.Join(www, "site"), "rev-parse", "HEAD")).To(Equal(after), "the host folder holds the pushed commit")
		logs := kubectl(t, "-n", ns, "logs", "job/"+got.Status.Nodes[0].JobName)
		g.Expect(logs).To(ContainSubstring("deployed " + after + " on localhost"))
		// What `kubectl get hookruns` shows.
		table := kubectl(t, "-n", ns, "get", "hookrun", got.Name)
		g.Expect(strings.Split(table, "\n")[0]).To(MatchRegexp(`\sATTEMPTS\s+NODES\s+AGE$`))
		g.Expect(table).To(MatchRegexp(`(?m)^` + got.Name + `\s.*\sSucceeded\s+1\s+1/1\s`))
		return got
	}

	deploy("0000000000000000000000000000000000000000") // the first push clones
	node, err := os.ReadFile(filepath.Join(www, "site.node"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.TrimSpace(string(node))).To(Equal("localhost"))

	before := git(t, work, "rev-parse", "HEAD")
	g.Expect(os.WriteFile(filepath.Join(work, "index.html"), []byte("v2\n"), 0o644)).To(Succeed())
	git(t, work, "commit", "-am", "v2")
	git(t, work, "push", "origin", "main")
	got := deploy(before) // the second pulls
	logs := kubectl(t, "-n", ns, "logs", "job/"+got.Status.Nodes[0].JobName)
	g.Expect(logs).To(ContainSubstring("Fast-forward"))
	html, err := os.ReadFile(filepath.Join(www, "site", "index.html"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(html)).To(Equal("v2\n"))
}
