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
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// Unit tests of the pure parts: which nodes, which outcome, which Job.

func TestEligibleNodes(t *testing.T) {
	ready := corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}
	notReady := corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}}
	node := func(name string, status corev1.NodeStatus, spec corev1.NodeSpec) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec, Status: status}
	}
	noSchedule := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	labelled := func(n corev1.Node, labels map[string]string) corev1.Node {
		n.Labels = labels
		return n
	}
	ssd := map[string]string{"disk": "ssd"}
	requireSSD := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpIn, Values: []string{"ssd"}}}}},
	}}}
	preferSSD := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
		Weight: 1, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpIn, Values: []string{"ssd"}}}},
	}}}}
	tests := []struct {
		name        string
		nodes       []corev1.Node
		tolerations []corev1.Toleration
		pod         *corev1.PodSpec
		noPod       bool
		want        []string
	}{
		{name: "no pod template: every ready node", nodes: []corev1.Node{node("a", ready, corev1.NodeSpec{})}, noPod: true, want: []string{"a"}},
		{name: "the pod's nodeSelector leaves a node out", nodes: []corev1.Node{labelled(node("a", ready, corev1.NodeSpec{}), ssd), node("b", ready, corev1.NodeSpec{})},
			pod: &corev1.PodSpec{NodeSelector: ssd}, want: []string{"a"}},
		{name: "the pod's required node affinity leaves a node out", nodes: []corev1.Node{labelled(node("a", ready, corev1.NodeSpec{}), ssd), node("b", ready, corev1.NodeSpec{})},
			pod: &corev1.PodSpec{Affinity: requireSSD}, want: []string{"a"}},
		{name: "a preferred node affinity leaves no node out", nodes: []corev1.Node{labelled(node("a", ready, corev1.NodeSpec{}), ssd), node("b", ready, corev1.NodeSpec{})},
			pod: &corev1.PodSpec{Affinity: preferSSD}, want: []string{"a", "b"}},
		{name: "ready nodes, sorted by name", nodes: []corev1.Node{node("b", ready, corev1.NodeSpec{}), node("a", ready, corev1.NodeSpec{})}, want: []string{"a", "b"}},
		{name: "a NotReady node is left out", nodes: []corev1.Node{node("a", ready, corev1.NodeSpec{}), node("b", notReady, corev1.NodeSpec{})}, want: []string{"a"}},
		{name: "a node without a Ready condition is left out", nodes: []corev1.Node{node("a", corev1.NodeStatus{}, corev1.NodeSpec{})}},
		{name: "a cordoned node is left out", nodes: []corev1.Node{node("a", ready, corev1.NodeSpec{Unschedulable: true}), node("b", ready, corev1.NodeSpec{})}, want: []string{"b"}},
		{name: "a tainted node is left out unless tolerated", nodes: []corev1.Node{node("a", ready, corev1.NodeSpec{Taints: []corev1.Taint{noSchedule}}), node("b", ready, corev1.NodeSpec{})}, want: []string{"b"}},
		{name: "a tolerated taint keeps the node", nodes: []corev1.Node{node("a", ready, corev1.NodeSpec{Taints: []corev1.Taint{noSchedule}})},
			tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}}, want: []string{"a"}},
		{name: "PreferNoSchedule keeps the node", nodes: []corev1.Node{node("a", ready, corev1.NodeSpec{Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectPreferNoSchedule}}})}, want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := tt.pod
			if pod == nil && !tt.noPod {
				pod = &corev1.PodSpec{Tolerations: tt.tolerations}
			}
			if diff := cmp.Diff(tt.want, eligibleNodes(tt.nodes, pod)); diff != "" {
				t.Errorf("eligibleNodes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutcomeOfNodes(t *testing.T) {
	entry := func(name string, phase hooksv1alpha1.HookRunPhase, job string) hooksv1alpha1.NodeRunStatus {
		return hooksv1alpha1.NodeRunStatus{Name: name, Phase: phase, JobName: job}
	}
	failedOn := func(name string, exit int32, output string) hooksv1alpha1.NodeRunStatus {
		return hooksv1alpha1.NodeRunStatus{Name: name, Phase: hooksv1alpha1.PhaseFailed, JobName: "j-" + name, ExitCode: ptr.To(exit), Reason: "BackoffLimitExceeded", Message: output}
	}
	tests := []struct {
		name        string
		entries     []hooksv1alpha1.NodeRunStatus
		phase       hooksv1alpha1.HookRunPhase
		reason      string
		summary     string
		jobName     string
		messageHas  []string
		exitCode    *int32
		messageNone bool
	}{
		{name: "Jobs created, none running", entries: []hooksv1alpha1.NodeRunStatus{entry("a", hooksv1alpha1.PhasePending, "j-a"), entry("b", hooksv1alpha1.PhasePending, "")},
			phase: hooksv1alpha1.PhasePending, reason: hooksv1alpha1.ReasonJobCreated, summary: "0/2", jobName: "j-a", messageNone: true},
		{name: "one running", entries: []hooksv1alpha1.NodeRunStatus{entry("a", hooksv1alpha1.PhaseRunning, "j-a"), entry("b", hooksv1alpha1.PhasePending, "")},
			phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, summary: "0/2", jobName: "j-a", messageNone: true},
		{name: "one succeeded, the next not started yet: still Running", entries: []hooksv1alpha1.NodeRunStatus{entry("a", hooksv1alpha1.PhaseSucceeded, "j-a"), entry("b", hooksv1alpha1.PhasePending, "j-b")},
			phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, summary: "1/2", jobName: "j-a", messageNone: true},
		{name: "one failed, another still running: Running", entries: []hooksv1alpha1.NodeRunStatus{failedOn("a", 2, "boom"), entry("b", hooksv1alpha1.PhaseRunning, "j-b")},
			phase: hooksv1alpha1.PhaseRunning, reason: hooksv1alpha1.ReasonRunning, summary: "0/2", jobName: "j-a", messageNone: true},
		{name: "all succeeded", entries: []hooksv1alpha1.NodeRunStatus{entry("a", hooksv1alpha1.PhaseSucceeded, "j-a"), entry("b", hooksv1alpha1.PhaseSucceeded, "j-b")},
			phase: hooksv1alpha1.PhaseSucceeded, reason: hooksv1alpha1.ReasonCompleted, summary: "2/2", jobName: "j-a", exitCode: ptr.To[int32](0), messageNone: true},
		{name: "all ended, two failed", entries: []hooksv1alpha1.NodeRunStatus{entry("a", hooksv1alpha1.PhaseSucceeded, "j-a"), failedOn("b", 3, "fatal: boom"),
			{Name: "c", Phase: hooksv1alpha1.PhaseFailed, Reason: hooksv1alpha1.ReasonNodeGone, Message: "node c was deleted"}},
			phase: hooksv1alpha1.PhaseFailed, reason: hooksv1alpha1.ReasonNodesFailed, summary: "1/3", jobName: "j-a", exitCode: ptr.To[int32](3),
			messageHas: []string{"2 of 3 nodes failed: b, c", "\nb (exit code 3): fatal: boom", "\nc (NodeGone): node c was deleted"}},
		{name: "the names survive a long output", entries: []hooksv1alpha1.NodeRunStatus{failedOn("a", 1, strings.Repeat("x", 3*maxMessageBytes)), failedOn("b", 1, "y")},
			phase: hooksv1alpha1.PhaseFailed, reason: hooksv1alpha1.ReasonNodesFailed, summary: "0/2", jobName: "j-a", exitCode: ptr.To[int32](1),
			messageHas: []string{"2 of 2 nodes failed: a, b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeOfNodes(tt.entries)
			if got.phase != tt.phase || got.reason != tt.reason || got.summary != tt.summary || got.jobName != tt.jobName {
				t.Errorf("got %s/%s %s job %q, want %s/%s %s job %q", got.phase, got.reason, got.summary, got.jobName, tt.phase, tt.reason, tt.summary, tt.jobName)
			}
			if diff := cmp.Diff(tt.exitCode, got.exitCode); diff != "" {
				t.Errorf("exit code (-want +got):\n%s", diff)
			}
			if tt.messageNone && got.message != "" {
				t.Errorf("message %q, want none", got.message)
			}
			for _, s := range tt.messageHas {
				if !strings.Contains(got.message, s) {
					t.Errorf("message %q lacks %q", got.message, s)
				}
			}
			if len(got.message) > maxMessageBytes {
				t.Errorf("message is %d bytes, more than %d", len(got.message), maxMessageBytes)
			}
		})
	}
}

func TestBuildNodeJob(t *testing.T) {
	pinned := corev1.NodeSelectorRequirement{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"web-1"}}
	zone := corev1.NodeSelectorRequirement{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}
	tests := []struct {
		name      string
		pod       *corev1.PodTemplateSpec
		wantTerms []corev1.NodeSelectorTerm
	}{
		{name: "no podTemplate: one term", wantTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{pinned}}}},
		{name: "the template's own terms each get the pin", pod: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
				{MatchExpressions: []corev1.NodeSelectorRequirement{zone}}, {MatchExpressions: []corev1.NodeSelectorRequirement{zone}},
			}}}}}},
			wantTerms: []corev1.NodeSelectorTerm{
				{MatchExpressions: []corev1.NodeSelectorRequirement{zone}, MatchFields: []corev1.NodeSelectorRequirement{pinned}},
				{MatchExpressions: []corev1.NodeSelectorRequirement{zone}, MatchFields: []corev1.NodeSelectorRequirement{pinned}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := newTemplate("web", "site")
			tmpl.Spec.Run.PodTemplate = tt.pod
			tmpl.Spec.Run.Env = []corev1.EnvVar{{Name: "HOOK_NODE", Value: "overridden?"}}
			run := newRun("web", "site", "site-3f9c2a1b7e")
			job := BuildNodeJob(tmpl, run, "web-1")
			if want := "site-3f9c2a1b7e-" + delivery.ShortHash("web-1", 10); job.Name != want {
				t.Errorf("name %q, want %q", job.Name, want)
			}
			if job.Annotations[hooksv1alpha1.AnnotationNode] != "web-1" {
				t.Errorf("annotations %v lack the node", job.Annotations)
			}
			pod := job.Spec.Template.Spec
			if diff := cmp.Diff(tt.wantTerms, pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms); diff != "" {
				t.Errorf("node affinity (-want +got):\n%s", diff)
			}
			if len(pod.Tolerations) != 0 {
				t.Errorf("tolerations %v added", pod.Tolerations)
			}
			env := pod.Containers[0].Env
			i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == hooksv1alpha1.EnvNode })
			if i < 0 || env[i].Value != "web-1" || slices.ContainsFunc(env[i+1:], func(e corev1.EnvVar) bool { return e.Name == hooksv1alpha1.EnvNode }) {
				t.Errorf("env %v: want HOOK_NODE=web-1 once", env)
			}
			if tt.pod != nil && tt.pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields != nil {
				t.Errorf("the template's podTemplate was modified")
			}
		})
	}
}

// The envtest tests: Node objects made by the test, Jobs driven by the test.

// testNode is a Node a test creates: Ready and schedulable unless it says
// otherwise, in the test's pool (labelled for its selector) unless outside.
type testNode struct {
	name                        string
	notReady, cordoned, outside bool
}

// poolLabel is the label the tests' node selectors match; its value is the
// test's namespace, so that parallel tests never share a node.
const poolLabel = "hookrun.test/pool"

// createNodes creates the nodes (named <ns>-<name>) and deletes them when
// the test ends; it returns their names.
func createNodes(t *testing.T, ns string, nodes ...testNode) []string {
	t.Helper()
	var names []string
	for _, n := range nodes {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + n.name, Labels: map[string]string{poolLabel: ns}}}
		if n.outside {
			node.Labels[poolLabel] = "other"
		}
		node.Spec.Unschedulable = n.cordoned
		create(t, node)
		t.Cleanup(func() { _ = client.IgnoreNotFound(k8sClient.Delete(context.Background(), node)) })
		status := corev1.ConditionTrue
		if n.notReady {
			status = corev1.ConditionFalse
		}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		if err := k8sClient.Status().Update(context.Background(), node); err != nil {
			t.Fatalf("update node status: %v", err)
		}
		if !n.notReady {
			// The API server taints every new node not-ready; the node
			// lifecycle controller (absent here) lifts it once Ready.
			node.Spec.Taints = slices.DeleteFunc(node.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeNotReady })
			if err := k8sClient.Update(context.Background(), node); err != nil {
				t.Fatalf("untaint node: %v", err)
			}
		}
		names = append(names, node.Name)
	}
	return names
}

// nodesTemplate is the template "site" run on every node of the test's pool.
func nodesTemplate(ns string, maxParallel int32) *hooksv1alpha1.HookTemplate {
	tmpl := newTemplate(ns, "site")
	tmpl.Spec.Run.Nodes = &hooksv1alpha1.NodesSpec{
		Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{poolLabel: ns}},
		MaxParallel: ptr.To(maxParallel),
	}
	return tmpl
}

// nodeJob is the name of a run's Job on a node.
func nodeJob(run, node string) string { return delivery.NodeJobName(run, node) }

// entryNames are the node names a run recorded.
func entryNames(run *hooksv1alpha1.HookRun) []string {
	var names []string
	for _, e := range run.Status.Nodes {
		names = append(names, e.Name)
	}
	return names
}

// entryOf is a run's entry for a node.
func entryOf(g Gomega, ns, run, node string) hooksv1alpha1.NodeRunStatus {
	got := getRun(g, ns, run)
	i := slices.IndexFunc(got.Status.Nodes, func(e hooksv1alpha1.NodeRunStatus) bool { return e.Name == node })
	g.Expect(i).NotTo(BeNumerically("<", 0), "no entry for node %s in %v", node, entryNames(got))
	return got.Status.Nodes[i]
}

// completeJob starts and completes a Job as the job controller would.
func completeJob(t *testing.T, ns, name string) {
	t.Helper()
	waitForJob(t, ns, name)
	updateJobStatus(t, ns, name, jobStarted)
	updateJobStatus(t, ns, name, jobCompleted)
}

// jobStopped is true when the Job is gone or being deleted.
func jobStopped(ns, name string) func() bool {
	return func() bool {
		job := &batchv1.Job{}
		err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, job)
		return isNotFound(err) || job.DeletionTimestamp != nil
	}
}

// printedColumn is what `kubectl get` shows in a column for a HookRun: the
// API server's Table rendering of the CRD's printer columns.
func printedColumn(g Gomega, ns, name, column string) string {
	cs, err := kubernetes.NewForConfig(testCfg)
	g.Expect(err).NotTo(HaveOccurred())
	raw, err := cs.RESTClient().Get().AbsPath("/apis/hooks.hookrun.dev/v1alpha1/namespaces", ns, "hookruns", name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	var table metav1.Table
	g.Expect(json.Unmarshal(raw, &table)).To(Succeed())
	i := slices.IndexFunc(table.ColumnDefinitions, func(c metav1.TableColumnDefinition) bool { return c.Name == column })
	g.Expect(i).NotTo(BeNumerically("<", 0), "no column %s", column)
	g.Expect(table.Rows).To(HaveLen(1))
	cell, _ := table.Rows[0].Cells[i].(string)
	return cell
}

func TestRunOnEveryNode(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"}, testNode{name: "web-3"},
		testNode{name: "web-4", notReady: true}, testNode{name: "web-5", cordoned: true}, testNode{name: "db-1", outside: true})
	startManager(t, ns, setupRunReconciler)
	create(t, nodesTemplate(ns, 0))
	run := newRun(ns, "site", "site-every")
	create(t, run)

	want := nodes[:3]
	g.Eventually(func(g Gomega) {
		g.Expect(entryNames(getRun(g, ns, run.Name))).To(Equal(want))
	}, timeout, poll).Should(Succeed())
	for _, node := range want {
		job := waitForJob(t, ns, nodeJob(run.Name, node))
		g.Expect(metav1.IsControlledBy(job, getRun(g, ns, run.Name))).To(BeTrue(), "Job %s is controlled by the run", job.Name)
		g.Expect(job.Annotations[hooksv1alpha1.AnnotationNode]).To(Equal(node))
		g.Expect(job.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms).To(Equal([]corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
		}}))
		g.Expect(job.Spec.Template.Spec.Containers[0].Env).To(ContainElement(corev1.EnvVar{Name: hooksv1alpha1.EnvNode, Value: node}))
		updateJobStatus(t, ns, job.Name, jobStarted)
	}
	g.Expect(jobNames(g, ns)).To(ConsistOf(nodeJob(run.Name, want[0]), nodeJob(run.Name, want[1]), nodeJob(run.Name, want[2])),
		"no Job for the NotReady, the cordoned and the unselected node")
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseRunning)
	g.Expect(got.Status.NodeSummary).To(Equal("0/3"))

	for _, node := range want {
		updateJobStatus(t, ns, nodeJob(run.Name, node), jobCompleted)
	}
	got = waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseSucceeded)
	g.Expect(got.Status.NodeSummary).To(Equal("3/3"))
	g.Expect(got.Status.ExitCode).To(Equal(ptr.To[int32](0)))
	for _, e := range got.Status.Nodes {
		g.Expect(e.Phase).To(Equal(hooksv1alpha1.PhaseSucceeded), "node %s", e.Name)
		g.Expect(e.ExitCode).To(Equal(ptr.To[int32](0)), "node %s", e.Name)
		g.Expect(e.JobName).To(Equal(nodeJob(run.Name, e.Name)))
	}
	g.Expect(printedColumn(g, ns, run.Name, "Nodes")).To(Equal("3/3"))
	g.Expect(eventReasons(g, ns, run.Name)).To(ContainElements(hooksv1alpha1.EventJobCreated, hooksv1alpha1.EventRunSucceeded))
}

func TestRunOnEveryNodeFailsOnlyAfterAllEnded(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"}, testNode{name: "web-3"})
	const token = "tok-3f9c2a1b7e5d"
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "deploy", Namespace: ns}, StringData: map[string]string{"token": token}})
	startManager(t, ns, setupRunReconciler)
	tmpl := nodesTemplate(ns, 0)
	tmpl.Spec.Run.Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "deploy"}, Key: "token"}}}}
	create(t, tmpl)
	run := newRun(ns, "site", "site-fail")
	create(t, run)
	for _, node := range nodes {
		waitForJob(t, ns, nodeJob(run.Name, node))
		updateJobStatus(t, ns, nodeJob(run.Name, node), jobStarted)
	}

	bad := nodes[1]
	badJob := nodeJob(run.Name, bad)
	createTerminatedPodLabelled(t, ns, map[string]string{hooksv1alpha1.LabelRun: run.Name, batchv1.JobNameLabel: badJob},
		badJob+"-x1", time.Now(), 3, "git pull https://"+token+"@git.example/site\nfatal: unable to access")
	// Another node's pod that failed earlier must not be taken for this node's.
	createTerminatedPodLabelled(t, ns, map[string]string{hooksv1alpha1.LabelRun: run.Name, batchv1.JobNameLabel: nodeJob(run.Name, nodes[0])},
		nodeJob(run.Name, nodes[0])+"-x1", time.Now().Add(time.Minute), 9, "other node")
	updateJobStatus(t, ns, badJob, jobFailed("BackoffLimitExceeded", "Job has reached the specified backoff limit"))
	g.Eventually(func(g Gomega) {
		e := entryOf(g, ns, run.Name, bad)
		g.Expect(e.Phase).To(Equal(hooksv1alpha1.PhaseFailed))
		g.Expect(e.ExitCode).To(Equal(ptr.To[int32](3)))
	}, timeout, poll).Should(Succeed())
	g.Expect(getRun(g, ns, run.Name).Status.Phase).To(Equal(hooksv1alpha1.PhaseRunning), "the others still run")

	updateJobStatus(t, ns, nodeJob(run.Name, nodes[0]), jobCompleted)
	g.Eventually(func(g Gomega) {
		g.Expect(entryOf(g, ns, run.Name, nodes[0]).Phase).To(Equal(hooksv1alpha1.PhaseSucceeded))
	}, timeout, poll).Should(Succeed())
	g.Expect(getRun(g, ns, run.Name).Status.Phase).To(Equal(hooksv1alpha1.PhaseRunning), "one node still runs")

	updateJobStatus(t, ns, nodeJob(run.Name, nodes[2]), jobCompleted)
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonNodesFailed))
	g.Expect(got.Status.NodeSummary).To(Equal("2/3"))
	g.Expect(got.Status.ExitCode).To(Equal(ptr.To[int32](3)))
	g.Expect(got.Status.Message).To(ContainSubstring("1 of 3 nodes failed: " + bad))
	g.Expect(got.Status.Message).To(ContainSubstring(bad + " (exit code 3): git pull https://[redacted]@git.example/site\nfatal: unable to access"))
	g.Expect(got.Status.Message).NotTo(ContainSubstring(token))
	g.Expect(got.Status.Message).NotTo(ContainSubstring("other node"))
}

func TestRunOnEveryNodeMaxParallelRollsThroughInOrder(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-3"}, testNode{name: "web-1"}, testNode{name: "web-2"})
	slices.Sort(nodes)
	jobs := watchJobs(t, ns)
	startManager(t, ns, setupRunReconciler)
	create(t, nodesTemplate(ns, 1))
	run := newRun(ns, "site", "site-roll")
	create(t, run)
	var want []string
	for _, node := range nodes {
		name := nodeJob(run.Name, node)
		want = append(want, name)
		completeJob(t, ns, name)
		g.Eventually(func(g Gomega) {
			g.Expect(entryOf(g, ns, run.Name, node).Phase).To(Equal(hooksv1alpha1.PhaseSucceeded))
		}, timeout, poll).Should(Succeed())
	}
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseSucceeded)
	g.Expect(got.Status.NodeSummary).To(Equal("3/3"))
	g.Expect(jobs.max()).To(Equal(1), "never two node Jobs at once")
	g.Expect(jobs.order()).To(Equal(want), "the nodes in name order")
}

func TestRunOnEveryNodeSurvivesManagerRestart(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"}, testNode{name: "web-3"})
	jobs := watchJobs(t, ns)
	first := startManager(t, ns, setupRunReconciler)
	create(t, nodesTemplate(ns, 2))
	run := newRun(ns, "site", "site-restart")
	create(t, run)
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(entryNames(got)).To(Equal(nodes))
		g.Expect(got.Status.Nodes[1].JobName).To(Equal(nodeJob(run.Name, nodes[1])))
	}, timeout, poll).Should(Succeed())
	firstJob := waitForJob(t, ns, nodeJob(run.Name, nodes[0]))
	first.stop()

	// While no manager runs: the first node finishes, a new node joins.
	completeJob(t, ns, firstJob.Name)
	createNodes(t, ns, testNode{name: "web-0"})

	startManager(t, ns, setupRunReconciler)
	completeJob(t, ns, nodeJob(run.Name, nodes[1]))
	completeJob(t, ns, nodeJob(run.Name, nodes[2]))
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseSucceeded)
	g.Expect(entryNames(got)).To(Equal(nodes), "the node set taken at the start")
	g.Expect(got.Status.NodeSummary).To(Equal("3/3"))
	g.Expect(jobNames(g, ns)).To(ConsistOf(nodeJob(run.Name, nodes[0]), nodeJob(run.Name, nodes[1]), nodeJob(run.Name, nodes[2])))
	g.Expect(jobs.order()).To(HaveLen(3), "no Job created twice")
	again := waitForJob(t, ns, firstJob.Name)
	g.Expect(again.UID).To(Equal(firstJob.UID))
	g.Expect(jobs.max()).To(BeNumerically("<=", 2))
}

func TestRunOnEveryNodeNodeGone(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"})
	startManager(t, ns, setupRunReconciler)
	create(t, nodesTemplate(ns, 0))
	run := newRun(ns, "site", "site-gone")
	create(t, run)
	for _, node := range nodes {
		waitForJob(t, ns, nodeJob(run.Name, node))
		updateJobStatus(t, ns, nodeJob(run.Name, node), jobStarted)
	}
	waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseRunning)

	g.Expect(k8sClient.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodes[1]}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		e := entryOf(g, ns, run.Name, nodes[1])
		g.Expect(e.Phase).To(Equal(hooksv1alpha1.PhaseFailed))
		g.Expect(e.Reason).To(Equal(hooksv1alpha1.ReasonNodeGone))
	}, timeout, poll).Should(Succeed())
	g.Eventually(jobStopped(ns, nodeJob(run.Name, nodes[1])), timeout, poll).Should(BeTrue(), "the gone node's Job is deleted")

	updateJobStatus(t, ns, nodeJob(run.Name, nodes[0]), jobCompleted)
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonNodesFailed))
	g.Expect(got.Status.Message).To(ContainSubstring(nodes[1] + " (NodeGone)"))
	g.Expect(got.Status.NodeSummary).To(Equal("1/2"))
}

func TestCancelStopsEveryNodeJob(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"}, testNode{name: "web-3"})
	startManager(t, ns, setupRunReconciler)
	create(t, nodesTemplate(ns, 0))
	run := newRun(ns, "site", "site-cancel")
	create(t, run)
	for _, node := range nodes {
		waitForJob(t, ns, nodeJob(run.Name, node))
	}
	g.Eventually(func(g Gomega) {
		g.Expect(getRun(g, ns, run.Name).Status.Nodes).To(HaveLen(3))
	}, timeout, poll).Should(Succeed())

	cancelRun(t, ns, run.Name)
	expectCancelledWithEveryNodeJobStopped(t, ns, run.Name, nodes)
}

func TestReplaceStopsEveryNodeJobOfTheOldRun(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"})
	startManager(t, ns, setupRunReconciler)
	tmpl := nodesTemplate(ns, 0)
	tmpl.Spec.Concurrency.Policy = hooksv1alpha1.ConcurrencyReplace
	create(t, tmpl)
	create(t, newRun(ns, "site", "site-old"))
	for _, node := range nodes {
		waitForJob(t, ns, nodeJob("site-old", node))
	}
	create(t, newRun(ns, "site", "site-new"))
	got := waitForPhase(t, ns, "site-old", hooksv1alpha1.PhaseCancelled)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonSuperseded))
	g.Expect(got.Status.Nodes).To(HaveLen(len(nodes)))
	for _, e := range got.Status.Nodes {
		g.Expect(e.Phase).To(Equal(hooksv1alpha1.PhaseCancelled), "entry of %s", e.Name)
		g.Expect(e.Reason).To(Equal(hooksv1alpha1.ReasonSuperseded), "entry of %s", e.Name)
	}
	g.Expect(got.Status.NodeSummary).To(Equal("0/2"))
	for _, node := range nodes {
		g.Eventually(jobStopped(ns, nodeJob("site-old", node)), timeout, poll).Should(BeTrue(), "old Job of %s", node)
		completeJob(t, ns, nodeJob("site-new", node))
	}
	waitForPhase(t, ns, "site-new", hooksv1alpha1.PhaseSucceeded)
}

func TestQueueHoldsTheNextRunUntilEveryNodeEnded(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"})
	jobs := watchJobs(t, ns)
	startManager(t, ns, setupAll)
	create(t, nodesTemplate(ns, 1)) // Queue is the default policy
	runs := createRuns(t, ns, 2)
	first, second := runs[0], runs[1]

	completeJob(t, ns, nodeJob(first, nodes[0]))
	g.Eventually(func(g Gomega) {
		g.Expect(entryOf(g, ns, first, nodes[0]).Phase).To(Equal(hooksv1alpha1.PhaseSucceeded))
	}, timeout, poll).Should(Succeed())
	// Between its two nodes the first run still holds the queue's slot.
	waitForJob(t, ns, nodeJob(first, nodes[1]))
	g.Expect(getRun(g, ns, second).Status.Phase).To(Equal(hooksv1alpha1.PhaseQueued))
	g.Expect(jobNames(g, ns)).NotTo(ContainElements(nodeJob(second, nodes[0]), nodeJob(second, nodes[1])))

	completeJob(t, ns, nodeJob(first, nodes[1]))
	waitForPhase(t, ns, first, hooksv1alpha1.PhaseSucceeded)
	for _, node := range nodes {
		completeJob(t, ns, nodeJob(second, node))
	}
	waitForPhase(t, ns, second, hooksv1alpha1.PhaseSucceeded)
	g.Expect(jobs.max()).To(Equal(1), "one Job at a time across both runs")
	g.Expect(jobs.order()).To(Equal([]string{nodeJob(first, nodes[0]), nodeJob(first, nodes[1]), nodeJob(second, nodes[0]), nodeJob(second, nodes[1])}))
}

func TestRunOnEveryNodeWithNoMatchingNode(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	createNodes(t, ns, testNode{name: "web-1", notReady: true}, testNode{name: "db-1", outside: true})
	startManager(t, ns, setupRunReconciler)
	create(t, nodesTemplate(ns, 0))
	create(t, newRun(ns, "site", "site-none"))
	got := waitForPhase(t, ns, "site-none", hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonNoMatchingNodes))
	g.Expect(got.Status.Message).To(ContainSubstring(poolLabel + "=" + ns))
	g.Expect(jobNames(g, ns)).To(BeEmpty())
}

func TestGroupFromJobsCountsARunOnEveryNodeOnce(t *testing.T) {
	tmpl := nodesTemplate("web", 1)
	job := func(run string, finished bool) batchv1.Job {
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: run + "-" + delivery.ShortHash(run, 4), Labels: map[string]string{hooksv1alpha1.LabelRun: run}}}
		jobStarted(&j.Status)
		if finished {
			jobCompleted(&j.Status)
		}
		return j
	}
	nodeRun := func(name string, phase hooksv1alpha1.HookRunPhase, nodes int) hooksv1alpha1.HookRun {
		run := newRun("web", "site", name)
		run.Status.Phase, run.Status.JobName = phase, name+"-job"
		for i := range nodes {
			run.Status.Nodes = append(run.Status.Nodes, hooksv1alpha1.NodeRunStatus{Name: string(rune('a' + i))})
		}
		return *run
	}
	self := newRun("web", "site", "site-self")
	tests := []struct {
		name   string
		jobs   []batchv1.Job
		runs   []hooksv1alpha1.HookRun
		active []string
	}{
		{name: "two running node Jobs of one run: one active run",
			jobs: []batchv1.Job{job("site-a", false), job("site-a", false)}, runs: []hooksv1alpha1.HookRun{nodeRun("site-a", hooksv1alpha1.PhaseRunning, 2)}, active: []string{"site-a"}},
		{name: "between two nodes (its Job ended, the next not created yet) the run still holds its slot",
			jobs: []batchv1.Job{job("site-a", true)}, runs: []hooksv1alpha1.HookRun{nodeRun("site-a", hooksv1alpha1.PhaseRunning, 2)}, active: []string{"site-a"}},
		{name: "a finished run on every node holds nothing",
			jobs: []batchv1.Job{job("site-a", true), job("site-a", true)}, runs: []hooksv1alpha1.HookRun{nodeRun("site-a", hooksv1alpha1.PhaseSucceeded, 2)}},
		{name: "an ordinary run whose Job ended holds nothing",
			jobs: []batchv1.Job{job("site-b", true)}, runs: []hooksv1alpha1.HookRun{nodeRun("site-b", hooksv1alpha1.PhaseRunning, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := groupFromJobs(tmpl, self, "", tt.jobs, tt.runs)
			if diff := cmp.Diff(tt.active, state.active); diff != "" {
				t.Errorf("active (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunOnEveryNodeRecordsJobsMadeBeforeAStop: a manager that stopped after
// creating a run's node Jobs and before writing its status left Jobs that
// status.nodes does not show. The next manager records them, also the one
// of a node that no longer matches, and creates no second Job for any node.
func TestRunOnEveryNodeRecordsJobsMadeBeforeAStop(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"}, testNode{name: "left-1", outside: true})
	tmpl := nodesTemplate(ns, 0)
	create(t, tmpl)
	run := newRun(ns, "site", "site-stopped")
	create(t, run)
	createNodeJobs(t, tmpl, run, nodes[0], nodes[2])
	before := waitForJob(t, ns, nodeJob(run.Name, nodes[2]))

	startManager(t, ns, setupRunReconciler)
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		want := []string{nodes[2], nodes[0], nodes[1]}
		slices.Sort(want)
		g.Expect(entryNames(got)).To(Equal(want))
	}, timeout, poll).Should(Succeed())
	for _, node := range nodes {
		completeJob(t, ns, nodeJob(run.Name, node))
	}
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseSucceeded)
	g.Expect(got.Status.NodeSummary).To(Equal("3/3"))
	g.Expect(jobNames(g, ns)).To(HaveLen(3))
	g.Expect(waitForJob(t, ns, before.Name).UID).To(Equal(before.UID))
}

func TestRunNodesIndex(t *testing.T) {
	run := func(phase hooksv1alpha1.HookRunPhase, entries ...hooksv1alpha1.NodeRunStatus) *hooksv1alpha1.HookRun {
		r := newRun("web", "site", "site-1")
		r.Status.Phase, r.Status.Nodes = phase, entries
		return r
	}
	tests := []struct {
		name string
		run  *hooksv1alpha1.HookRun
		want []string
	}{
		{name: "an ordinary run is not indexed", run: run(hooksv1alpha1.PhaseRunning)},
		{name: "the nodes a running run waits for", run: run(hooksv1alpha1.PhaseRunning,
			hooksv1alpha1.NodeRunStatus{Name: "a", Phase: hooksv1alpha1.PhaseSucceeded}, hooksv1alpha1.NodeRunStatus{Name: "b", Phase: hooksv1alpha1.PhaseRunning},
			hooksv1alpha1.NodeRunStatus{Name: "c", Phase: hooksv1alpha1.PhasePending}), want: []string{"b", "c"}},
		{name: "a finished run is not indexed", run: run(hooksv1alpha1.PhaseCancelled, hooksv1alpha1.NodeRunStatus{Name: "a", Phase: hooksv1alpha1.PhaseRunning})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, runNodesIndex(tt.run)); diff != "" {
				t.Errorf("index (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunOnEveryNodeNodeGoneBeforeItsTurn(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"})
	startManager(t, ns, setupRunReconciler)
	create(t, nodesTemplate(ns, 1))
	run := newRun(ns, "site", "site-turn")
	create(t, run)
	waitForJob(t, ns, nodeJob(run.Name, nodes[0]))
	g.Expect(k8sClient.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodes[1]}})).To(Succeed())
	completeJob(t, ns, nodeJob(run.Name, nodes[0]))

	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseFailed)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonNodesFailed))
	g.Expect(got.Status.Nodes[1].Reason).To(Equal(hooksv1alpha1.ReasonNodeGone))
	g.Expect(got.Status.Nodes[1].JobName).To(BeEmpty())
	g.Expect(jobNames(g, ns)).To(Equal([]string{nodeJob(run.Name, nodes[0])}), "no Job for the gone node")
}

// expectCancelledWithEveryNodeJobStopped waits for the run to end
// Cancelled by its user and for the Job of every node to be stopped.
func expectCancelledWithEveryNodeJobStopped(t *testing.T, ns, run string, nodes []string) {
	t.Helper()
	g := NewWithT(t)
	got := waitForPhase(t, ns, run, hooksv1alpha1.PhaseCancelled)
	g.Expect(got.Status.Reason).To(Equal(hooksv1alpha1.ReasonCancelledByUser))
	for _, node := range nodes {
		g.Eventually(jobStopped(ns, nodeJob(run, node)), timeout, poll).Should(BeTrue(), "Job of %s", node)
	}
}

// createNodeJobs creates the run's Jobs on the nodes as a manager that
// stopped before writing the run's status would have left them.
func createNodeJobs(t *testing.T, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun, nodes ...string) {
	t.Helper()
	for _, node := range nodes {
		job := BuildNodeJob(tmpl, run, node)
		job.Labels[hooksv1alpha1.LabelGroup] = groupLabel(groupKey(tmpl, run))
		if err := controllerutil.SetControllerReference(run, job, testScheme); err != nil {
			t.Fatal(err)
		}
		create(t, job)
	}
}

// TestCancelStopsNodeJobsMadeBeforeAStop: a run cancelled after its node
// Jobs were created and before its status recorded them (the status write
// failed, or the manager stopped) still has every Job stopped.
func TestCancelStopsNodeJobsMadeBeforeAStop(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"})
	tmpl := nodesTemplate(ns, 0)
	create(t, tmpl)
	run := newRun(ns, "site", "site-gap")
	create(t, run)
	createNodeJobs(t, tmpl, run, nodes...)
	cancelRun(t, ns, run.Name)

	startManager(t, ns, setupRunReconciler)
	expectCancelledWithEveryNodeJobStopped(t, ns, run.Name, nodes)
}

// TestRunOnEveryNodeCountsJobsMadeBeforeAStopAgainstMaxParallel: the Jobs
// a run already has when its status is first written are recorded with
// their names, so they count against maxParallel.
func TestRunOnEveryNodeCountsJobsMadeBeforeAStopAgainstMaxParallel(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"}, testNode{name: "web-3"})
	tmpl := nodesTemplate(ns, 1)
	create(t, tmpl)
	run := newRun(ns, "site", "site-retry")
	create(t, run)
	// A manager with maxParallel 2 then (the template was edited since).
	createNodeJobs(t, tmpl, run, nodes[0], nodes[2])

	startManager(t, ns, setupRunReconciler)
	g.Eventually(func(g Gomega) {
		got := getRun(g, ns, run.Name)
		g.Expect(entryNames(got)).To(Equal(nodes))
		g.Expect(got.Status.Nodes[0].JobName).To(Equal(nodeJob(run.Name, nodes[0])))
		g.Expect(got.Status.Nodes[2].JobName).To(Equal(nodeJob(run.Name, nodes[2])))
	}, timeout, poll).Should(Succeed())

	completeJob(t, ns, nodeJob(run.Name, nodes[0]))
	g.Eventually(func(g Gomega) {
		g.Expect(entryOf(g, ns, run.Name, nodes[0]).Phase).To(Equal(hooksv1alpha1.PhaseSucceeded))
	}, timeout, poll).Should(Succeed())
	// The reconcile that recorded the success would have created the next
	// Job before writing it.
	g.Expect(jobNames(g, ns)).NotTo(ContainElement(nodeJob(run.Name, nodes[1])), "the Job of %s still runs: no third node yet", nodes[2])

	completeJob(t, ns, nodeJob(run.Name, nodes[2]))
	completeJob(t, ns, nodeJob(run.Name, nodes[1]))
	got := waitForPhase(t, ns, run.Name, hooksv1alpha1.PhaseSucceeded)
	g.Expect(got.Status.NodeSummary).To(Equal("3/3"))
}

// TestRunOnEveryNodeEndedElsewhereStartsNoNodeJob: a Replace ends a run and
// deletes its Jobs while the run's own reconcile still works from a copy
// that shows it Running. Under the template's lock the API server's copy
// decides: a run ended there creates no further node Job and writes
// nothing; the same step on a run still Running creates it.
func TestRunOnEveryNodeEndedElsewhereStartsNoNodeJob(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"})
	tmpl := nodesTemplate(ns, 1) // Queue: admission, and so the lock
	create(t, tmpl)
	run := newRun(ns, "site", "site-stale")
	create(t, run)
	r := &HookRunReconciler{Client: k8sClient, APIReader: k8sClient, Scheme: testScheme, Now: time.Now}
	ctx := context.Background()

	setPhaseAtServer := func(phase hooksv1alpha1.HookRunPhase) {
		t.Helper()
		current := &hooksv1alpha1.HookRun{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(run), current)).To(Succeed())
		current.Status.Phase, current.Status.Reason = phase, hooksv1alpha1.ReasonSuperseded
		g.Expect(k8sClient.Status().Update(ctx, current)).To(Succeed())
	}
	// The cached copy: the first node done, the second one's turn.
	stale := func() *hooksv1alpha1.HookRun {
		s := run.DeepCopy()
		s.Status.Phase = hooksv1alpha1.PhaseRunning
		s.Status.Nodes = []hooksv1alpha1.NodeRunStatus{
			{Name: nodes[0], Phase: hooksv1alpha1.PhaseSucceeded, JobName: nodeJob(run.Name, nodes[0])},
			{Name: nodes[1], Phase: hooksv1alpha1.PhasePending},
		}
		return s
	}

	setPhaseAtServer(hooksv1alpha1.PhaseCancelled)
	orig, cached := stale(), stale()
	g.Expect(r.stepNodes(ctx, orig, cached)).To(Succeed())
	g.Expect(jobNames(g, ns)).To(BeEmpty(), "no node Job for a run the API server shows ended")
	g.Expect(cached.Status).To(Equal(orig.Status), "nothing to write")

	setPhaseAtServer(hooksv1alpha1.PhaseRunning)
	orig, cached = stale(), stale()
	g.Expect(r.stepNodes(ctx, orig, cached)).To(Succeed())
	g.Expect(jobNames(g, ns)).To(Equal([]string{nodeJob(run.Name, nodes[1])}), "the same step on a running run starts the next node")
	g.Expect(cached.Status.Nodes[1].JobName).To(Equal(nodeJob(run.Name, nodes[1])))
}

// listCounter counts the List calls that reach the API server.
type listCounter struct {
	client.Reader
	lists int
}

func (c *listCounter) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.lists++
	return c.Reader.List(ctx, list, opts...)
}

// TestListEligibleNodesPages: the nodes are read page by page, only the
// eligible names kept, and the listing stops once more than the limit are
// eligible.
func TestListEligibleNodesPages(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	nodes := createNodes(t, ns, testNode{name: "web-1"}, testNode{name: "web-2"}, testNode{name: "web-3"}, testNode{name: "web-4"},
		testNode{name: "web-5", notReady: true}, testNode{name: "db-1", outside: true})
	selector, err := metav1.LabelSelectorAsSelector(nodesTemplate(ns, 0).Spec.Run.Nodes.Selector)
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()

	reader := &listCounter{Reader: k8sClient}
	r := &HookRunReconciler{APIReader: reader}
	got, err := r.listEligibleNodes(ctx, selector, nil, 10, 2)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(nodes[:4]), "every page read, the NotReady and the unselected node left out")
	g.Expect(reader.lists).To(Equal(3), "5 selected nodes in pages of 2")

	reader.lists = 0
	got, err = r.listEligibleNodes(ctx, selector, nil, 1, 2)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(nodes[:2]), "the first page already holds more than the limit")
	g.Expect(reader.lists).To(Equal(1), "no further page read")
}

// TestRunOnEveryNodeStaleEntriesDoNotOverwrite: a status write of a run on
// every node from a copy older than the API server's (a Replace ended the
// run and its entries meanwhile) conflicts instead of putting the old
// entries back; the reconcile retries from the newer copy.
func TestRunOnEveryNodeStaleEntriesDoNotOverwrite(t *testing.T) {
	needEnvtest(t)
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	run := newRun(ns, "site", "site-overwrite")
	create(t, run)
	ctx := context.Background()
	r := &HookRunReconciler{Client: k8sClient, APIReader: k8sClient, Scheme: testScheme, Now: time.Now, Recorder: events.NewFakeRecorder(10)}

	stale := run.DeepCopy()
	stale.Status.Phase = hooksv1alpha1.PhaseRunning
	stale.Status.Nodes = []hooksv1alpha1.NodeRunStatus{
		{Name: "web-1", Phase: hooksv1alpha1.PhaseRunning, JobName: "site-overwrite-1"},
		{Name: "web-2", Phase: hooksv1alpha1.PhasePending, JobName: "site-overwrite-2"},
	}
	g.Expect(k8sClient.Status().Update(ctx, stale)).To(Succeed())
	superseded := stale.DeepCopy()
	superseded.Status.Phase, superseded.Status.Reason = hooksv1alpha1.PhaseCancelled, hooksv1alpha1.ReasonSuperseded
	for i := range superseded.Status.Nodes {
		superseded.Status.Nodes[i].Phase, superseded.Status.Nodes[i].Reason = hooksv1alpha1.PhaseCancelled, hooksv1alpha1.ReasonSuperseded
	}
	g.Expect(k8sClient.Status().Update(ctx, superseded)).To(Succeed())

	// The run's own reconcile, from the copy before the Replace: the
	// second node's Job started, the run stays Running.
	orig, next := stale.DeepCopy(), stale.DeepCopy()
	next.Status.Nodes[1].Phase = hooksv1alpha1.PhaseRunning
	err := r.writeStatus(ctx, orig.ResourceVersion, orig, next)
	g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "a conflict, got %v", err)
	got := getRun(g, ns, run.Name)
	g.Expect(got.Status.Phase).To(Equal(hooksv1alpha1.PhaseCancelled))
	for _, e := range got.Status.Nodes {
		g.Expect(e.Phase).To(Equal(hooksv1alpha1.PhaseCancelled), "the entry of %s that the Replace ended", e.Name)
	}
}
