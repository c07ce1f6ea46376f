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
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// A podTemplate that only sets pod-level fields is a complete template: the
// API server accepts it (the generated schema does not require containers
// there) and the Job gets the run container plus those fields.
func TestPodTemplateWithOnlyPodFields(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	tests := []struct {
		name  string
		spec  corev1.PodSpec
		check func(g Gomega, pod corev1.PodSpec)
	}{
		{
			name:  "hostNetwork",
			spec:  corev1.PodSpec{HostNetwork: true},
			check: func(g Gomega, pod corev1.PodSpec) { g.Expect(pod.HostNetwork).To(BeTrue()) },
		},
		{
			name: "nodeSelector and tolerations",
			spec: corev1.PodSpec{
				NodeSelector: map[string]string{"deploy": "yes"},
				Tolerations:  []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
			},
			check: func(g Gomega, pod corev1.PodSpec) {
				g.Expect(pod.NodeSelector).To(Equal(map[string]string{"deploy": "yes"}))
				g.Expect(pod.Tolerations).To(ContainElement(HaveField("Key", "dedicated")))
			},
		},
		{
			name: "volumes",
			spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}},
			check: func(g Gomega, pod corev1.PodSpec) {
				g.Expect(pod.Volumes).To(ContainElement(HaveField("Name", "cache")))
			},
		},
		{
			name:  "an empty containers list",
			spec:  corev1.PodSpec{Containers: []corev1.Container{}, HostNetwork: true},
			check: func(g Gomega, pod corev1.PodSpec) { g.Expect(pod.HostNetwork).To(BeTrue()) },
		},
	}
	ns := newNamespace(t)
	startManager(t, ns, setupRunReconciler)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			name := "pod-only-" + string(rune('a'+i))
			tmpl := newTemplate(ns, name)
			tmpl.Spec.Run.PodTemplate = &corev1.PodTemplateSpec{Spec: tt.spec}
			create(t, tmpl)
			create(t, newRun(ns, name, name+"-1"))

			pod := waitForJob(t, ns, name+"-1").Spec.Template.Spec
			g.Expect(pod.Containers).To(HaveLen(1))
			g.Expect(pod.Containers[0].Name).To(Equal(hooksv1alpha1.RunContainerName))
			g.Expect(pod.Containers[0].Image).To(Equal(tmpl.Spec.Run.Image))
			g.Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
			tt.check(g, pod)
		})
	}
}

// `kubectl get ht -o wide` reads activeRuns and queuedRuns straight from the
// stored object: both must be there (as 0) as soon as the template has a
// status, not only after they were first non-zero.
func TestTemplateStatusShowsZeroCounts(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	startManager(t, ns, setupAll)
	tmpl := newTemplate(ns, "counts")
	create(t, tmpl)

	g.Eventually(func(g Gomega) {
		raw := &unstructured.Unstructured{}
		raw.SetGroupVersionKind(hooksv1alpha1.GroupVersion.WithKind("HookTemplate"))
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(tmpl), raw)).To(Succeed())
		_, hasConditions, _ := unstructured.NestedSlice(raw.Object, "status", "conditions")
		g.Expect(hasConditions).To(BeTrue(), "the template has no status yet")
		for _, field := range []string{"activeRuns", "queuedRuns"} {
			n, found, err := unstructured.NestedInt64(raw.Object, "status", field)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(found).To(BeTrue(), "status.%s is missing: the column would be blank", field)
			g.Expect(n).To(BeZero())
		}
	}, timeout, poll).Should(Succeed())
}
