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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

func testTemplate() *hooksv1alpha1.HookTemplate {
	return &hooksv1alpha1.HookTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: "web"},
		Spec: hooksv1alpha1.HookTemplateSpec{
			Source: hooksv1alpha1.SourceSpec{Provider: hooksv1alpha1.ProviderGitHub, SecretRef: hooksv1alpha1.SecretKeyRef{Name: "s", Key: "secret"}},
			Run: hooksv1alpha1.RunSpec{
				Image: "alpine/git:2.47",
				Shell: "echo deploy",
			},
		},
	}
}

func testRun() *hooksv1alpha1.HookRun {
	return &hooksv1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{Name: "site-3f9c2a1b7e", Namespace: "web"},
		Spec: hooksv1alpha1.HookRunSpec{
			TemplateRef: hooksv1alpha1.TemplateRef{Name: "site"},
			Delivery: hooksv1alpha1.Delivery{
				ID: "d-1", Provider: hooksv1alpha1.ProviderGitHub, Event: "push",
				Repository: "acme/site", Ref: "refs/heads/main", SHA: "abc123", Before: "000",
				Sender: "octocat", CloneURL: "https://example.invalid/acme/site.git",
			},
			Params: map[string]string{"PUSHER": "$(HOME) `rm -rf /`", "A": "first"},
		},
	}
}

func envMap(env []corev1.EnvVar) map[string]string {
	out := map[string]string{}
	for _, e := range env {
		out[e.Name] = e.Value
	}
	return out
}

func TestRunEnv(t *testing.T) {
	tests := []struct {
		name   string
		ref    string
		params map[string]string
		extra  []corev1.EnvVar
		want   map[string]string
	}{
		{
			name: "branch push",
			ref:  "refs/heads/main",
			want: map[string]string{"HOOK_REF": "refs/heads/main", "HOOK_BRANCH": "main", "HOOK_TAG": ""},
		},
		{
			name: "tag push",
			ref:  "refs/tags/v1.2.3",
			want: map[string]string{"HOOK_REF": "refs/tags/v1.2.3", "HOOK_BRANCH": "", "HOOK_TAG": "v1.2.3"},
		},
		{
			name: "other ref",
			ref:  "refs/pull/1/head",
			want: map[string]string{"HOOK_BRANCH": "", "HOOK_TAG": ""},
		},
		{
			name:   "request values are escaped against $(VAR) expansion",
			ref:    "refs/heads/$(SECRET)",
			params: map[string]string{"PUSHER": "$(HOME) $$ `id`"},
			want:   map[string]string{"HOOK_BRANCH": "$$(SECRET)", "PUSHER": "$$(HOME) $$$$ `id`"},
		},
		{
			name:  "template env is passed as written and overrides",
			ref:   "refs/heads/main",
			extra: []corev1.EnvVar{{Name: "TARGET", Value: "$(HOOK_BRANCH)"}, {Name: "HOOK_SENDER", Value: "fixed"}},
			want:  map[string]string{"TARGET": "$(HOOK_BRANCH)", "HOOK_SENDER": "fixed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, run := testTemplate(), testRun()
			run.Spec.Delivery.Ref = tt.ref
			run.Spec.Params = tt.params
			tmpl.Spec.Run.Env = tt.extra
			got := envMap(RunEnv(tmpl, run))
			for k, v := range tt.want {
				if gv, ok := got[k]; !ok || gv != v {
					t.Errorf("%s = %q (present %v), want %q", k, gv, ok, v)
				}
			}
		})
	}
}

func TestRunEnvHasEveryHookVariable(t *testing.T) {
	env := RunEnv(testTemplate(), testRun())
	want := []string{"HOOK_RUN", "HOOK_TEMPLATE", "HOOK_PROVIDER", "HOOK_EVENT", "HOOK_DELIVERY", "HOOK_REPOSITORY",
		"HOOK_REF", "HOOK_BRANCH", "HOOK_TAG", "HOOK_SHA", "HOOK_BEFORE", "HOOK_SENDER", "HOOK_CLONE_URL",
		"HOOK_MESSAGE", "HOOK_PR_NUMBER", "HOOK_PR_ACTION", "HOOK_BASE_REF", "HOOK_HEAD_REF", "A", "PUSHER"}
	var got []string
	for _, e := range env {
		got = append(got, e.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env names (-want +got):\n%s", diff)
	}
	m := envMap(env)
	if m["HOOK_RUN"] != "site-3f9c2a1b7e" || m["HOOK_SHA"] != "abc123" || m["HOOK_CLONE_URL"] != "https://example.invalid/acme/site.git" {
		t.Errorf("unexpected values: %v", m)
	}
}

func TestBuildJob(t *testing.T) {
	tmpl, run := testTemplate(), testRun()
	tmpl.Spec.Run.Retries = ptr.To[int32](2)
	tmpl.Spec.Run.TimeoutSeconds = ptr.To[int64](600)
	tmpl.Spec.Run.ServiceAccountName = "deployer"
	job := BuildJob(tmpl, run)

	if job.Name != run.Name || job.Namespace != "web" {
		t.Errorf("job key = %s/%s", job.Namespace, job.Name)
	}
	wantLabels := map[string]string{hooksv1alpha1.LabelTemplate: "site", hooksv1alpha1.LabelRun: run.Name}
	if diff := cmp.Diff(wantLabels, job.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, job.Spec.Template.Labels); diff != "" {
		t.Errorf("pod labels (-want +got):\n%s", diff)
	}
	if got := ptr.Deref(job.Spec.BackoffLimit, -1); got != 2 {
		t.Errorf("backoffLimit = %d, want 2", got)
	}
	if got := ptr.Deref(job.Spec.ActiveDeadlineSeconds, -1); got != 600 {
		t.Errorf("activeDeadlineSeconds = %d, want 600", got)
	}
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever || pod.ServiceAccountName != "deployer" {
		t.Errorf("restartPolicy=%s serviceAccountName=%s", pod.RestartPolicy, pod.ServiceAccountName)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("containers = %d, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if diff := cmp.Diff([]string{"/bin/sh", "-c", "echo deploy"}, c.Command); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	if c.Name != "run" || c.Image != "alpine/git:2.47" || c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError {
		t.Errorf("container = %+v", c)
	}
	for _, e := range c.Env {
		if strings.Contains(c.Command[2], e.Value) && e.Value != "" {
			t.Errorf("request value %q reached the shell script", e.Value)
		}
	}
}

func TestBuildJobDefaults(t *testing.T) {
	job := BuildJob(testTemplate(), testRun())
	if got := ptr.Deref(job.Spec.BackoffLimit, -1); got != 0 {
		t.Errorf("backoffLimit = %d, want 0 when retries is unset", got)
	}
	if job.Spec.ActiveDeadlineSeconds != nil {
		t.Errorf("activeDeadlineSeconds = %d, want unset", *job.Spec.ActiveDeadlineSeconds)
	}
}

func TestBuildJobMergesPodTemplate(t *testing.T) {
	tmpl, run := testTemplate(), testRun()
	tmpl.Spec.Run.Env = []corev1.EnvVar{{Name: "MODE", Value: "prod"}}
	tmpl.Spec.Run.PodTemplate = &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"team": "web", hooksv1alpha1.LabelRun: "spoofed"}},
		Spec: corev1.PodSpec{
			HostNetwork:   true,
			RestartPolicy: corev1.RestartPolicyOnFailure,
			NodeSelector:  map[string]string{"disk": "ssd"},
			Volumes:       []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/www"}}}},
			Containers: []corev1.Container{
				{Name: "sidecar", Image: "busybox"},
				{
					Name: "run", Image: "ignored", Command: []string{"ignored"}, Args: []string{"ignored"},
					Env:          []corev1.EnvVar{{Name: "FROM_POD", Value: "1"}, {Name: "MODE", Value: "dev"}},
					VolumeMounts: []corev1.VolumeMount{{Name: "www", MountPath: "/www"}},
				},
			},
		},
	}
	job := BuildJob(tmpl, run)
	pod := job.Spec.Template
	if pod.Labels["team"] != "web" || pod.Labels[hooksv1alpha1.LabelRun] != run.Name {
		t.Errorf("pod labels = %v", pod.Labels)
	}
	if !pod.Spec.HostNetwork || pod.Spec.NodeSelector["disk"] != "ssd" || len(pod.Spec.Volumes) != 1 {
		t.Errorf("pod template fields were not kept: %+v", pod.Spec)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %s, want Never", pod.Spec.RestartPolicy)
	}
	if len(pod.Spec.Containers) != 2 || pod.Spec.Containers[0].Name != "sidecar" {
		t.Fatalf("containers = %+v", pod.Spec.Containers)
	}
	c := pod.Spec.Containers[1]
	if c.Image != "alpine/git:2.47" || c.Args != nil || c.Command[0] != "/bin/sh" || len(c.VolumeMounts) != 1 {
		t.Errorf("run container not merged: %+v", c)
	}
	env := envMap(c.Env)
	if env["FROM_POD"] != "1" || env["MODE"] != "prod" || env["HOOK_REF"] != "refs/heads/main" {
		t.Errorf("env = %v", env)
	}
	if tmpl.Spec.Run.PodTemplate.Spec.Containers[1].Image != "ignored" {
		t.Error("BuildJob modified the template")
	}
}

func TestBuildJobImageFromPodTemplate(t *testing.T) {
	tmpl := testTemplate()
	tmpl.Spec.Run.Image = ""
	tmpl.Spec.Run.PodTemplate = &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "run", Image: "custom:1"}}}}
	if got := BuildJob(tmpl, testRun()).Spec.Template.Spec.Containers[0].Image; got != "custom:1" {
		t.Errorf("image = %q, want custom:1", got)
	}
}

func TestJobName(t *testing.T) {
	tests := []struct {
		name    string
		runName string
		want    string
	}{
		{name: "short name is kept", runName: "site-3f9c2a1b7e", want: "site-3f9c2a1b7e"},
		{name: "63 characters are kept", runName: strings.Repeat("a", 63), want: strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JobName(&hooksv1alpha1.HookRun{ObjectMeta: metav1.ObjectMeta{Name: tt.runName}}); got != tt.want {
				t.Errorf("JobName = %q, want %q", got, tt.want)
			}
		})
	}
	long := &hooksv1alpha1.HookRun{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("deploy-", 20) + "x"}}
	other := &hooksv1alpha1.HookRun{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("deploy-", 20) + "y"}}
	got := JobName(long)
	if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
		t.Errorf("JobName(long) = %q is not a DNS-1123 label: %v", got, errs)
	}
	if got == JobName(other) {
		t.Errorf("two long names map to the same Job name %q", got)
	}
	if got != JobName(long) {
		t.Error("JobName is not deterministic")
	}
}
