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
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// pluginBinary builds kubectl-hookrun once per test binary.
func pluginBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kubectl-hookrun")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/kubectl-hookrun")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kubectl-hookrun: %v\n%s", err, out)
	}
	return bin
}

// runPlugin runs kubectl-hookrun in ns with the cluster's KUBECONFIG.
func runPlugin(t *testing.T, bin, ns string, within time.Duration, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-n", ns}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// TestPluginLogsFollowRetries: a run that fails once and succeeds on its
// retry; `kubectl hookrun logs -f` follows the first attempt, continues
// with the retry's pod and prints the final phase; `logs` afterwards
// prints both attempts in order.
func TestPluginLogsFollowRetries(t *testing.T) {
	g := NewWithT(t)
	ns, _ := namespace(t)
	bin := pluginBinary(t)
	state := t.TempDir()
	g.Expect(os.Chmod(state, 0o777)).To(Succeed())

	run := localRunner(`if [ -f /state/tried ]; then echo "attempt two: deployed $HOOK_REF"; else touch /state/tried; echo "attempt one: failing"; exit 1; fi`)
	run.Retries = ptr.To[int32](1)
	pod := &run.PodTemplate.Spec
	pod.Volumes = []corev1.Volume{{Name: "state", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: state}}}}
	pod.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "state", MountPath: "/state"}}
	createTemplate(t, template(ns, "flaky", hooksv1alpha1.ProviderGeneric, run))

	out, errOut, err := runPlugin(t, bin, ns, time.Minute, "trigger", "flaky", "--ref", "refs/heads/main", "-o", "name")
	g.Expect(err).NotTo(HaveOccurred(), "trigger: %s", errOut)
	name := strings.TrimSpace(out)

	// Follow from the start: the first attempt may not have begun yet.
	out, errOut, err = runPlugin(t, bin, ns, 4*time.Minute, "logs", "-f", name)
	g.Expect(err).NotTo(HaveOccurred(), "logs -f: %s", errOut)
	first, second := strings.Index(out, "attempt one: failing"), strings.Index(out, "attempt two: deployed refs/heads/main")
	g.Expect(first).To(BeNumerically(">=", 0), "logs -f output:\n%s", out)
	g.Expect(second).To(BeNumerically(">", first), "logs -f output:\n%s", out)
	g.Expect(errOut).To(ContainSubstring("run " + name + ": Succeeded"))

	got := waitForFinish(t, ns, name, time.Minute)
	g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded))
	g.Expect(got.Status.Attempts).To(Equal(int32(2)))

	out, errOut, err = runPlugin(t, bin, ns, time.Minute, "logs", name)
	g.Expect(err).NotTo(HaveOccurred(), "logs: %s", errOut)
	g.Expect(strings.Split(strings.TrimSpace(out), "\n")).To(Equal([]string{"attempt one: failing", "attempt two: deployed refs/heads/main"}))
}
