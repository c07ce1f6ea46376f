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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func TestRedactorOfPod(t *testing.T) {
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: "ns"}, Data: map[string][]byte{"password": []byte("hunter22"), "unused": []byte("not-in-env")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "bulk", Namespace: "ns"}, Data: map[string][]byte{"a": []byte("bulk-one"), "b": []byte("bulk-two")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "vol", Namespace: "ns"}, Data: map[string][]byte{"id_rsa": []byte("-----KEY-----")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "proj", Namespace: "ns"}, Data: map[string][]byte{"x": []byte("projected-value")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "short", Namespace: "ns"}, Data: map[string][]byte{"k": []byte("abc")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: "ns"}, Data: map[string][]byte{"secret": []byte("webhook-secret"), "old": []byte("old-webhook-secret")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "git", Namespace: "ns"}, Data: map[string][]byte{"token": []byte("ghp_token123")}},
	}
	builder := fake.NewClientBuilder().WithScheme(testScheme)
	for _, s := range secrets {
		builder = builder.WithObjects(s)
	}
	reader := builder.Build()
	pod := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bulk"}}}}}},
		Containers: []corev1.Container{{Name: "run", Env: []corev1.EnvVar{
			{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env"}, Key: "password"}}},
			{Name: "SHORT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "short"}, Key: "k"}}},
			{Name: "GONE", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "k"}}},
		}}},
		Volumes: []corev1.Volume{
			{Name: "ssh", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol"}}},
			{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj"}}}}}}},
		},
	}
	tmpl := newTemplate("ns", "site")
	tmpl.Spec.Source.SecretRef = hooksv1alpha1.SecretKeyRef{Name: "hook"}
	tmpl.Spec.Source.PreviousSecretKey = "old"
	tmpl.Spec.Report = &hooksv1alpha1.ReportSpec{CredentialsRef: &hooksv1alpha1.ReportCredentialsRef{Name: "git"}}

	red, err := runRedactor(context.Background(), reader, "ns", pod, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{name: "env secretKeyRef", in: "password is hunter22\n", want: "password is [redacted]\n"},
		{name: "other key of an env Secret stays", in: "not-in-env", want: "not-in-env"},
		{name: "envFrom every key", in: "bulk-one bulk-two", want: "[redacted] [redacted]"},
		{name: "secret volume", in: "key: -----KEY-----", want: "key: [redacted]"},
		{name: "projected secret volume", in: "projected-value!", want: "[redacted]!"},
		{name: "short values stay", in: "abc abc", want: "abc abc"},
		{name: "value twice", in: "hunter22/hunter22", want: "[redacted]/[redacted]"},
		{name: "webhook secret, previous key too", in: "webhook-secret old-webhook-secret", want: "[redacted] [redacted]"},
		{name: "report credentials", in: "Authorization: token ghp_token123", want: "Authorization: token [redacted]"},
		{name: "leading piece of a value cut by the kubelet", in: "token123 and more", want: "[redacted] and more"},
		{name: "leading piece shorter than 4 bytes stays", in: "123 and more", want: "123 and more"},
		{name: "nothing to redact", in: "deployed", want: "deployed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, red.redact(tt.in)); diff != "" {
				t.Errorf("redact(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestRedactBeforeTail: a value that straddles the tail's cut is redacted
// on the whole output first, so the tail shows (part of) the mark, never
// part of the value.
func TestRedactBeforeTail(t *testing.T) {
	red := newRedactor([]string{"s3cr3t-value"})
	out := strings.Repeat("x", maxMessageBytes-4) + "s3cr3t-value" + "\n"
	pods := []corev1.Pod{{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
		Name:  hooksv1alpha1.RunContainerName,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: out}},
	}}}}}
	redactTerminationMessages(pods, red)
	got := lastRunContainerResult(pods).message
	for _, piece := range []string{"s3cr", "3cr3", "cr3t", "r3t-", "3t-v", "t-va", "-val", "valu", "alue"} {
		if strings.Contains(got, piece) {
			t.Fatalf("tail %q shows %q of the secret", got[len(got)-40:], piece)
		}
	}
	if !strings.HasSuffix(got, "x[redacted]\n") {
		t.Fatalf("tail ends %q, want the mark", got[len(got)-20:])
	}
}

func TestNewRedactorLongestFirst(t *testing.T) {
	red := newRedactor([]string{"abcd", "abcdefgh", "abcd", ""})
	if got, want := red.redact("abcdefgh abcd"), "[redacted] [redacted]"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	var none *redactor
	if got := none.redact("abcd"); got != "abcd" {
		t.Fatalf("nil redactor changed the text: %q", got)
	}
}
