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
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// helmValues put the chart on the local cluster: the locally imported
// image, the host network (no kube-proxy: the API server is on
// 127.0.0.1:6443) on ports of their own, so that a kustomize install left
// over from TestDeployedWithKustomize cannot collide.
const helmValues = `
replicas: 1
image: {tag: local, pullPolicy: Never}
hostNetwork: true
listenAddress: 127.0.0.1
ports: {webhook: 18180, metrics: 18543, health: 18181}
strategy: {type: Recreate}
extraEnv:
- {name: KUBERNETES_SERVICE_HOST, value: 127.0.0.1}
- {name: KUBERNETES_SERVICE_PORT, value: "6443"}
`

func helm(t *testing.T, args ...string) string {
	t.Helper()
	bin := os.Getenv("HOOKRUN_HELM")
	if bin == "" {
		t.Fatal("HOOKRUN_HELM is not set: run make test-e2e (hack/e2e.sh builds helm)")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestInstalledWithHelm installs hookrun with the chart (helm install, the
// locally loaded image), sends a delivery through it, upgrades the release
// (two replicas, another flag), and uninstalls it: nothing the release
// created is left but the CRDs, as Helm does with a chart's crds/.
func TestInstalledWithHelm(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	stopSharedManager()
	if out, err := exec.Command("make", "-C", repoRoot, "image-load").CombinedOutput(); err != nil {
		t.Fatalf("make image-load: %v\n%s", err, tailOf(string(out), 2000))
	}
	const release, relNS = "e2e", "hookrun-helm"
	const deployment = release + "-hookrun-controller-manager"
	const baseURL = "http://127.0.0.1:18180"
	values := filepath.Join(t.TempDir(), "values.yaml")
	g.Expect(os.WriteFile(values, []byte(helmValues), 0o644)).To(Succeed())
	chart := filepath.Join(repoRoot, "charts", "hookrun")

	installed := false
	t.Cleanup(func() {
		if installed {
			_, _ = exec.Command(os.Getenv("HOOKRUN_HELM"), "uninstall", release, "-n", relNS, "--wait").CombinedOutput()
		}
		_, _ = exec.Command("kubectl", "delete", "namespace", relNS, "--wait=true", "--timeout=60s").CombinedOutput()
	})
	notes := helm(t, "install", release, chart, "-n", relNS, "--create-namespace", "-f", values, "--wait", "--timeout", "3m")
	installed = true
	g.Expect(notes).To(ContainSubstring("/hooks/{namespace}/{template}"))
	g.Expect(notes).To(ContainSubstring("/sources/{namespace}/{source}"))

	ns, secret := newNamespace(t, false)
	createTemplate(t, template(ns, "charted", hooksv1alpha1.ProviderGeneric, localRunner(`echo "charted $HOOK_SHA"`)))
	deliverAndSucceed := func(id, sha string) {
		t.Helper()
		answer := send(t, baseURL, ns, "charted", secret, map[string]string{"X-Hook-Delivery": id},
			[]byte(`{"ref":"refs/heads/main","repository":"acme/site","sha":"`+sha+`"}`))
		g.Expect(answer.Status).To(Equal(http.StatusAccepted), "answer %+v", answer)
		run := waitForFinish(t, ns, answer.Run, 2*time.Minute)
		g.Expect(run.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), run.Status.Message)
		g.Expect(kubectl(t, "-n", ns, "logs", "job/"+run.Status.JobName)).To(ContainSubstring("charted " + sha))
	}
	deliverAndSucceed("via-helm-1", "abc123")

	lease := &coordinationv1.Lease{}
	leaseKey := client.ObjectKey{Namespace: relNS, Name: "hookrun.hooks.hookrun.dev"}
	g.Expect(k8s.Get(ctx, leaseKey, lease)).To(Succeed())
	firstHolder := ptrString(lease.Spec.HolderIdentity)
	g.Expect(firstHolder).NotTo(BeEmpty())

	// Upgrade: two replicas and a changed flag. Recreate stops the old pod
	// (which hands the lease over on SIGTERM) before the new ones start.
	// On this one-node cluster the pods use the host's network, so the
	// second replica cannot bind the ports of the first: it stays Pending
	// (FailedScheduling: free ports), which shows that the release asked
	// for two, while one new pod leads.
	helm(t, "upgrade", release, chart, "-n", relNS, "--reuse-values",
		"--set", "replicas=2", "--set", "extraArgs={--max-concurrent-reconciles=8}")
	var leader corev1.Pod
	g.Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: relNS, Name: deployment}, d)).To(Succeed())
		g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
		g.Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--max-concurrent-reconciles=8"))
		g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		pods := &corev1.PodList{}
		g.Expect(k8s.List(ctx, pods, client.InNamespace(relNS), client.MatchingLabels{"app.kubernetes.io/instance": release})).To(Succeed())
		var ready, unschedulable []corev1.Pod
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			g.Expect(p.Spec.Containers[0].Args).To(ContainElement("--max-concurrent-reconciles=8"), "pod %s is from before the upgrade", p.Name)
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					ready = append(ready, p)
				}
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					unschedulable = append(unschedulable, p)
				}
			}
		}
		g.Expect(ready).To(HaveLen(1))
		g.Expect(unschedulable).To(HaveLen(1))
		leader = ready[0]
		g.Expect(k8s.Get(ctx, leaseKey, lease)).To(Succeed())
		g.Expect(ptrString(lease.Spec.HolderIdentity)).NotTo(BeElementOf("", firstHolder))
	}, 3*time.Minute, time.Second).Should(Succeed())
	g.Expect(kubectl(t, "-n", relNS, "logs", leader.Name)).To(MatchRegexp(`(?i)successfully acquired lease.*` + relNS + `/hookrun\.hooks\.hookrun\.dev`))
	deliverAndSucceed("via-helm-2", "def456")
	g.Expect(helm(t, "history", release, "-n", relNS)).To(MatchRegexp(`(?m)^2\s.*deployed\s+hookrun-`))

	// Uninstall: every object of the release goes, the CRDs (and with
	// them the user's templates and runs) stay.
	helm(t, "uninstall", release, "-n", relNS, "--wait", "--timeout", "3m")
	installed = false
	selector := "app.kubernetes.io/instance=" + release
	g.Eventually(func() string {
		out, err := exec.Command("kubectl", "get", "-A", "-l", selector, "--ignore-not-found", "-o", "name",
			"deployments,replicasets,pods,services,serviceaccounts,configmaps,secrets,roles,rolebindings,clusterroles,clusterrolebindings,ingresses").CombinedOutput()
		if err != nil {
			return string(out)
		}
		return strings.TrimSpace(string(out))
	}, 2*time.Minute, time.Second).Should(BeEmpty())
	g.Expect(strings.TrimSpace(kubectl(t, "-n", relNS, "get", "secrets", "-l", "owner=helm,name="+release, "-o", "name"))).To(BeEmpty(), "Helm's release records")
	for _, crd := range []string{"hooktemplates", "hookruns", "hooksources"} {
		kubectl(t, "get", "crd", crd+".hooks.hookrun.dev")
	}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "charted"}, &hooksv1alpha1.HookTemplate{})).To(Succeed())
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
