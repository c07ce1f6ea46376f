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
	"fmt"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// A run on every node (template run.nodes) has one Job per node instead of
// one Job. Its node set is taken once, when admission starts it, and
// recorded in status.nodes, in name order: every later step works from that
// list, so a manager restart or a node that joins later changes nothing.
// Each entry gets its Job when its turn comes (maxParallel), named after
// the run and the node (delivery.NodeJobName), so a repeated create finds
// the Job that is there. For admission the run is one unit: it holds one
// slot from its first Job until it ends (groupState).

// maxNodeMessageBytes bounds each node's output tail in status.nodes: with
// up to maxNodes entries the status stays far below etcd's object limit.
const maxNodeMessageBytes = 512

// maxNodes is how many nodes one run may record (status.nodes MaxItems).
const maxNodes = 1000

// nodeMeta is a Node as the metadata-only informer holds it: hookrun
// caches no whole Nodes, only their names, to learn that one is gone.
func nodeMeta() *metav1.PartialObjectMetadata {
	node := &metav1.PartialObjectMetadata{}
	node.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node"))
	return node
}

// eligibleNodes returns, sorted by name, the nodes a run on every node runs
// on: Ready, not cordoned, with no NoSchedule or NoExecute taint that the
// pod's tolerations leave untolerated, and matching the pod's own
// nodeSelector and required node affinity. On any other node its pod could
// never run: its Job would stay Pending and hold the run's slot forever.
func eligibleNodes(nodes []corev1.Node, pod *corev1.PodSpec) []string {
	var tolerations []corev1.Toleration
	placement := nodeaffinity.NewRequiredNodeAffinity(nil, nil)
	if pod != nil {
		tolerations = pod.Tolerations
		placement = nodeaffinity.NewRequiredNodeAffinity(pod.NodeSelector, pod.Affinity)
	}
	var names []string
	for i := range nodes {
		node := &nodes[i]
		if node.DeletionTimestamp == nil && nodeReady(node) && !node.Spec.Unschedulable && toleratesNode(node, tolerations) && placesOn(placement, node) {
			names = append(names, node.Name)
		}
	}
	slices.Sort(names)
	return names
}

// placesOn is true when the pod's required placement allows the node. An
// affinity that does not parse keeps the node: the API server refuses the
// node's Job then, and its entry fails with the API server's reason.
func placesOn(placement nodeaffinity.RequiredNodeAffinity, node *corev1.Node) bool {
	ok, err := placement.Match(node)
	return ok || err != nil
}

// nodeReady is true when the node's Ready condition is True.
func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// toleratesNode is true when the tolerations tolerate every taint of the
// node that keeps pods off it (PreferNoSchedule does not).
func toleratesNode(node *corev1.Node, tolerations []corev1.Toleration) bool {
	for i := range node.Spec.Taints {
		taint := &node.Spec.Taints[i]
		if taint.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !slices.ContainsFunc(tolerations, func(t corev1.Toleration) bool {
			return t.ToleratesTaint(logr.Discard(), taint, false)
		}) {
			return false
		}
	}
	return true
}

// nodesOutcome is what a run on every node's entries say about the run.
type nodesOutcome struct {
	phase    hooksv1alpha1.HookRunPhase
	reason   string
	message  string
	summary  string
	exitCode *int32
	// jobName is the first node's Job: the run's status.jobName.
	jobName string
}

// outcomeOfNodes maps the entries of status.nodes to the run's phase: Pending
// until a node's Job runs, Running while any node has not ended, Succeeded
// when every node succeeded, Failed (NodesFailed) once every node has ended
// and any failed. The message then names the failed nodes with their exit
// codes (or reasons) and output tails.
func outcomeOfNodes(entries []hooksv1alpha1.NodeRunStatus) nodesOutcome {
	out := nodesOutcome{phase: hooksv1alpha1.PhasePending, reason: hooksv1alpha1.ReasonJobCreated}
	succeeded, ended, started := 0, 0, false
	var failed []*hooksv1alpha1.NodeRunStatus
	for i := range entries {
		e := &entries[i]
		if out.jobName == "" {
			out.jobName = e.JobName
		}
		switch {
		case e.Phase == hooksv1alpha1.PhaseSucceeded:
			succeeded++
		case e.Phase.IsFinished():
			failed = append(failed, e)
		}
		if e.Phase.IsFinished() {
			ended++
		}
		started = started || e.Phase == hooksv1alpha1.PhaseRunning || e.Phase.IsFinished()
	}
	out.summary = fmt.Sprintf("%d/%d", succeeded, len(entries))
	switch {
	case ended < len(entries) && started:
		out.phase, out.reason = hooksv1alpha1.PhaseRunning, hooksv1alpha1.ReasonRunning
	case ended < len(entries):
	case len(failed) == 0:
		out.phase, out.reason, out.exitCode = hooksv1alpha1.PhaseSucceeded, hooksv1alpha1.ReasonCompleted, ptr.To[int32](0)
	default:
		out.phase, out.reason = hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonNodesFailed
		out.exitCode = failed[0].ExitCode
		out.message = nodesFailedMessage(failed, len(entries))
	}
	return out
}

// nodesFailedMessage names the failed nodes first, then each one's exit code
// or reason and output tail, cut to maxMessageBytes from the end: the
// names must survive.
func nodesFailedMessage(failed []*hooksv1alpha1.NodeRunStatus, total int) string {
	names := make([]string, len(failed))
	for i, e := range failed {
		names[i] = e.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d nodes failed: %s", len(failed), total, strings.Join(names, ", "))
	for _, e := range failed {
		how := e.Reason
		if e.ExitCode != nil {
			how = fmt.Sprintf("exit code %d", *e.ExitCode)
		}
		fmt.Fprintf(&b, "\n%s (%s)", e.Name, how)
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	}
	return head(b.String(), maxMessageBytes)
}

// startNodes takes the node set of a run on every node that admission
// started, records it in status.nodes and creates the first Jobs. The
// nodes are listed from the API server (hookrun caches no whole Nodes),
// once per run.
func (r *HookRunReconciler) startNodes(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) (*ending, error) {
	selector := labels.Everything()
	if sel := tmpl.Spec.Run.Nodes.Selector; sel != nil {
		var err error
		if selector, err = metav1.LabelSelectorAsSelector(sel); err != nil {
			return failed(hooksv1alpha1.ReasonInvalidTemplate, "run.nodes.selector: "+err.Error()), nil
		}
	}
	var pod *corev1.PodSpec
	if tmpl.Spec.Run.PodTemplate != nil {
		pod = &tmpl.Spec.Run.PodTemplate.Spec
	}
	eligible, err := r.listEligibleNodes(ctx, selector, pod, maxNodes, nodePageSize)
	if err != nil {
		return nil, fmt.Errorf("list nodes for HookRun %s: %w", run.Name, err)
	}
	jobOf, err := r.nodesOfJobs(ctx, run)
	if err != nil {
		return nil, err
	}
	names := withNodesOfJobs(eligible, jobOf)
	switch {
	case len(names) == 0:
		return failed(hooksv1alpha1.ReasonNoMatchingNodes, fmt.Sprintf("no Ready, schedulable node matches run.nodes.selector %q", selector.String())), nil
	case len(names) > maxNodes:
		return failed(hooksv1alpha1.ReasonTooManyNodes, fmt.Sprintf("more than %d nodes match run.nodes.selector %q: a run records at most %d", maxNodes, selector.String(), maxNodes)), nil
	}
	run.Status.Nodes = make([]hooksv1alpha1.NodeRunStatus, len(names))
	for i, name := range names {
		// A node whose Job exists counts against maxParallel at once.
		run.Status.Nodes[i] = hooksv1alpha1.NodeRunStatus{Name: name, Phase: hooksv1alpha1.PhasePending, JobName: jobOf[name]}
	}
	return nil, r.startNextNodes(ctx, tmpl, run)
}

// nodePageSize is how many Nodes one List page of listEligibleNodes holds.
const nodePageSize = 500

// listEligibleNodes pages through the nodes that match the selector, from
// the API server (hookrun caches no whole Nodes), and keeps only the names
// of the eligible ones, sorted: a large cluster's Nodes are never all in
// memory at once, and this runs under the template's lock. It stops once
// more than limit are eligible: that is too many, whatever the rest.
func (r *HookRunReconciler) listEligibleNodes(ctx context.Context, selector labels.Selector, pod *corev1.PodSpec, limit, pageSize int) ([]string, error) {
	var names []string
	for cont := ""; ; {
		nodes := &corev1.NodeList{}
		if err := r.APIReader.List(ctx, nodes, client.MatchingLabelsSelector{Selector: selector}, client.Limit(int64(pageSize)), client.Continue(cont)); err != nil {
			return nil, err
		}
		names = append(names, eligibleNodes(nodes.Items, pod)...)
		if cont = nodes.Continue; cont == "" || len(names) > limit {
			break
		}
	}
	slices.Sort(names)
	return names, nil
}

// nodesOfJobs maps each node that the run already has a Job on to that
// Job's name: Jobs are created before the status that records them is
// written, so a manager that stopped in between (or a status write that
// failed) left Jobs that status.nodes does not show.
func (r *HookRunReconciler) nodesOfJobs(ctx context.Context, run *hooksv1alpha1.HookRun) (map[string]string, error) {
	jobs, err := r.jobsOfRun(ctx, run)
	if err != nil {
		return nil, err
	}
	jobOf := map[string]string{}
	for i := range jobs {
		if node := jobs[i].Annotations[hooksv1alpha1.AnnotationNode]; node != "" {
			jobOf[node] = jobs[i].Name
		}
	}
	return jobOf, nil
}

// withNodesOfJobs adds to the eligible nodes the nodes the run already has
// Jobs on, matching or not, so that no Job of the run is left unrecorded.
func withNodesOfJobs(names []string, jobOf map[string]string) []string {
	for node := range jobOf {
		if !slices.Contains(names, node) {
			names = append(names, node)
		}
	}
	slices.Sort(names)
	return names
}

// stepNodes carries a run on every node that has started one step further:
// it mirrors each node's Job into its entry, starts the next nodes as
// maxParallel allows, and derives the run's phase from the entries.
func (r *HookRunReconciler) stepNodes(ctx context.Context, orig, run *hooksv1alpha1.HookRun) error {
	if run.Spec.Cancel {
		return r.cancelNodes(ctx, run)
	}
	for i := range run.Status.Nodes {
		if err := r.mirrorNode(ctx, run, &run.Status.Nodes[i]); err != nil {
			return err
		}
	}
	if slices.ContainsFunc(run.Status.Nodes, waitingForTurn) {
		tmpl := &hooksv1alpha1.HookTemplate{}
		err := r.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.TemplateRef.Name}, tmpl)
		switch {
		case apierrors.IsNotFound(err):
			failWaitingNodes(run, hooksv1alpha1.ReasonTemplateNotFound, "HookTemplate "+run.Spec.TemplateRef.Name+" not found")
		case err != nil:
			return fmt.Errorf("get HookTemplate %s: %w", run.Spec.TemplateRef.Name, err)
		default:
			ended, err := r.startNextNodesAdmitted(ctx, tmpl, run)
			if err != nil {
				return err
			}
			if ended {
				// Somebody else ended the run (a Replace): what the
				// API server holds stands, nothing to write.
				run.Status = *orig.Status.DeepCopy()
				return nil
			}
		}
	}
	r.summariseNodes(run)
	return nil
}

// startNextNodesAdmitted is startNextNodes for a run whose template
// admits runs against each other. A Replace (supersede) ends the run and
// deletes its Jobs under the template's lock, while this run's own
// reconcile may still see it Running in the cache: under the same lock,
// the API server's copy decides whether the run may create its next Jobs.
// ended is true when the API server shows the run ended (or gone): it
// then created nothing.
func (r *HookRunReconciler) startNextNodesAdmitted(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) (ended bool, err error) {
	if !needsAdmission(tmpl) || freeNodeSlots(tmpl, run) == 0 {
		return false, r.startNextNodes(ctx, tmpl, run)
	}
	unlock := r.templateLocks.lock(run.Namespace + "/" + tmpl.Name)
	defer unlock()
	current := &hooksv1alpha1.HookRun{}
	err = r.APIReader.Get(ctx, client.ObjectKeyFromObject(run), current)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get HookRun %s from the API server: %w", run.Name, err)
	case current.UID != run.UID || current.Status.Phase.IsFinished():
		return true, nil
	}
	return false, r.startNextNodes(ctx, tmpl, run)
}

// freeNodeSlots is how many more node Jobs maxParallel allows now: all
// for maxParallel 0, else maxParallel less the Jobs that have not ended.
func freeNodeSlots(tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) int {
	limit := len(run.Status.Nodes)
	if spec := tmpl.Spec.Run.Nodes; spec != nil && ptr.Deref(spec.MaxParallel, 0) > 0 {
		limit = int(*spec.MaxParallel)
	}
	for _, e := range run.Status.Nodes {
		if e.JobName != "" && !e.Phase.IsFinished() {
			limit--
		}
	}
	return max(limit, 0)
}

// waitingForTurn is true for a node that has no Job yet.
func waitingForTurn(e hooksv1alpha1.NodeRunStatus) bool {
	return e.JobName == "" && !e.Phase.IsFinished()
}

// failWaitingNodes ends every node that has no Job yet.
func failWaitingNodes(run *hooksv1alpha1.HookRun, reason, message string) {
	for i := range run.Status.Nodes {
		if e := &run.Status.Nodes[i]; waitingForTurn(*e) {
			e.Phase, e.Reason, e.Message = hooksv1alpha1.PhaseFailed, reason, message
		}
	}
}

// startNextNodes creates the Jobs of the nodes whose turn has come, in the
// recorded order: all at once for maxParallel 0, else as many as keep
// maxParallel Jobs unfinished. A node that is gone by its turn fails its
// entry (NodeGone) without a Job. maxParallel is read from the template as
// it is now, as is the Job (a template edited mid-run applies to the
// nodes that have not started).
func (r *HookRunReconciler) startNextNodes(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun) error {
	free := freeNodeSlots(tmpl, run)
	for i := range run.Status.Nodes {
		e := &run.Status.Nodes[i]
		if free == 0 {
			break
		}
		if !waitingForTurn(*e) {
			continue
		}
		gone, err := r.nodeGone(ctx, e.Name)
		if err != nil {
			return err
		}
		if gone {
			nodeGone(e)
			continue
		}
		job, end, err := r.createJob(ctx, tmpl, run, BuildNodeJob(tmpl, run, e.Name))
		if err != nil {
			return err
		}
		if end != nil {
			e.Phase, e.Reason, e.Message = end.phase, end.reason, tail(end.message, maxNodeMessageBytes)
			continue
		}
		e.JobName = job.Name
		free--
		logf.FromContext(ctx).V(1).Info("created node Job", "job", job.Name, "node", e.Name)
	}
	return nil
}

// nodeGone ends a node's entry whose node was deleted.
func nodeGone(e *hooksv1alpha1.NodeRunStatus) {
	e.Phase, e.Reason = hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonNodeGone
	e.Message = "node " + e.Name + " was deleted before its Job finished"
}

// nodeGone is true when the node does not exist. The metadata cache
// answers; a node it does not show (yet) is confirmed with the API server,
// as getJob does for Jobs.
func (r *HookRunReconciler) nodeGone(ctx context.Context, name string) (bool, error) {
	node := nodeMeta()
	err := r.Get(ctx, client.ObjectKey{Name: name}, node)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, client.ObjectKey{Name: name}, node)
	}
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get node %s: %w", name, err)
	}
	return node.GetDeletionTimestamp() != nil, nil
}

// mirrorNode copies a node's Job's outcome into its entry. A Job that is
// gone, or not the run's, or whose node is gone, ends the entry Failed
// (the Job of a node that is gone is deleted: its pod can never run).
func (r *HookRunReconciler) mirrorNode(ctx context.Context, run *hooksv1alpha1.HookRun, e *hooksv1alpha1.NodeRunStatus) error {
	if e.JobName == "" || e.Phase.IsFinished() {
		return nil
	}
	job, state, err := r.getJob(ctx, run, e.JobName, true)
	if err != nil {
		return err
	}
	switch state {
	case jobForeign:
		end := jobConflict(e.JobName)
		e.Phase, e.Reason, e.Message = end.phase, end.reason, end.message
		return nil
	case jobGone:
		e.Phase, e.Reason, e.Message = hooksv1alpha1.PhaseFailed, hooksv1alpha1.ReasonJobDeleted, fmt.Sprintf("Job %s was deleted before it finished", e.JobName)
		return nil
	}
	out := outcomeOf(job)
	if out.attempts > run.Status.Attempts {
		run.Status.Attempts = out.attempts
	}
	if run.Status.StartTime == nil && out.startTime != nil {
		run.Status.StartTime = out.startTime
	}
	e.Phase = out.phase
	switch out.phase {
	case hooksv1alpha1.PhaseSucceeded:
		e.ExitCode, e.Reason = ptr.To[int32](0), out.reason
	case hooksv1alpha1.PhaseFailed:
		result, err := r.lastAttemptResult(ctx, run, job)
		if err != nil {
			return err
		}
		e.ExitCode, e.Reason, e.Message = result.exitCode, out.reason, tail(out.message, maxNodeMessageBytes)
		if result.message != "" {
			e.Message = tail(result.message, maxNodeMessageBytes)
		}
		// A Job whose pods went with their node may fail before the
		// node's deletion reaches this run: say why.
		gone, err := r.nodeGone(ctx, e.Name)
		if err != nil || !gone {
			return err
		}
		nodeGone(e)
	default:
		gone, err := r.nodeGone(ctx, e.Name)
		if err != nil || !gone {
			return err
		}
		nodeGone(e)
		return r.deleteJob(ctx, job)
	}
	return nil
}

// summariseNodes sets the run's phase, NODES summary and jobName from its
// entries.
func (r *HookRunReconciler) summariseNodes(run *hooksv1alpha1.HookRun) {
	out := outcomeOfNodes(run.Status.Nodes)
	run.Status.NodeSummary = out.summary
	run.Status.JobName = out.jobName
	run.Status.QueuePosition = 0
	if !out.phase.IsFinished() {
		setPhase(run, out.phase, out.reason, "")
		return
	}
	run.Status.ExitCode = out.exitCode
	r.finish(run, ending{phase: out.phase, reason: out.reason, message: out.message})
}

// cancelNodes stops every Job of a run on every node: the run and the
// nodes that had not ended end Cancelled.
func (r *HookRunReconciler) cancelNodes(ctx context.Context, run *hooksv1alpha1.HookRun) error {
	end, err := r.cancel(ctx, run)
	if err != nil {
		return err
	}
	cancelEntries(run, hooksv1alpha1.ReasonCancelledByUser)
	r.finish(run, *end)
	return nil
}

// cancelEntries ends Cancelled the entries of the nodes that had not ended.
func cancelEntries(run *hooksv1alpha1.HookRun, reason string) {
	for i := range run.Status.Nodes {
		if e := &run.Status.Nodes[i]; !e.Phase.IsFinished() {
			e.Phase, e.Reason = hooksv1alpha1.PhaseCancelled, reason
		}
	}
	if len(run.Status.Nodes) > 0 {
		run.Status.NodeSummary = outcomeOfNodes(run.Status.Nodes).summary
	}
}

// jobsOfRun lists the Jobs the run controls (by its run label, then by its
// UID: a Job of an earlier run of the same name is not its), straight from
// the API server: the cache may not show a Job created a moment ago, and a
// Job missed here would keep running after a cancel. Also the node Jobs of
// a run on every node that its status does not show yet.
func (r *HookRunReconciler) jobsOfRun(ctx context.Context, run *hooksv1alpha1.HookRun) ([]batchv1.Job, error) {
	jobs := &batchv1.JobList{}
	if err := r.APIReader.List(ctx, jobs, client.InNamespace(run.Namespace), client.MatchingLabels{hooksv1alpha1.LabelRun: run.Name}); err != nil {
		return nil, fmt.Errorf("list Jobs of HookRun %s: %w", run.Name, err)
	}
	return slices.DeleteFunc(jobs.Items, func(job batchv1.Job) bool { return !metav1.IsControlledBy(&job, run) }), nil
}

// deleteJobsOfRun deletes every Job the run controls (jobsOfRun).
func (r *HookRunReconciler) deleteJobsOfRun(ctx context.Context, run *hooksv1alpha1.HookRun) error {
	jobs, err := r.jobsOfRun(ctx, run)
	if err != nil {
		return err
	}
	for i := range jobs {
		if err := r.deleteJob(ctx, &jobs[i]); err != nil {
			return err
		}
	}
	return nil
}
