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
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v88/github"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	ctrlrt "sigs.k8s.io/controller-runtime"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// ReportReconciler shows each run's state on the commit it deploys
// (spec.report). It is a controller of its own, so it runs on the leader
// only and off the run's path: the HookRun reconciler never waits for it,
// and a slow or failing host only delays the report.
//
// What the host accepted is recorded in status.report: a reconcile sends the
// run's current phase whenever it differs from status.report.phase, so a
// restarted or newly elected manager sends exactly what was not accepted
// yet; a phase that ranks below the accepted one is never sent (a late
// pending never replaces success). Retries are requeues with back-off,
// never a blocked worker.
type ReportReconciler struct {
	ctrl.Client
	// APIReader reads the run fresh when a status write conflicts.
	APIReader ctrl.Reader
	Recorder  events.EventRecorder
	// HTTPClient talks to the git hosts (default: a 10s timeout client).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RetryBase and RetryMax bound the exponential back-off between
	// attempts (defaults 2s and 5m); a host's Retry-After wins when longer.
	RetryBase, RetryMax time.Duration
	// HostQPS and HostBurst are the client-side rate limit per host
	// (defaults 5/s, burst 10).
	HostQPS   float64
	HostBurst int
	// MaxConcurrentReconciles (default 2).
	MaxConcurrentReconciles int

	mu       sync.Mutex
	apps     *appClients
	limiters map[string]*rate.Limiter
	attempts map[types.UID]attemptState
	// checkRuns are the check runs this manager created, until the run's
	// status.report shows them in the cache: the next phase updates the
	// check run instead of creating a second one.
	checkRuns map[types.UID]int64
}

// attemptState counts the requests sent for one phase of a run, and
// remembers a phase the host refused (it is not sent again).
type attemptState struct {
	phase    hooksv1alpha1.HookRunPhase
	n        int32
	rejected bool
	// reason and message of the refusal, to show it again if the
	// condition was lost (a merge patch of the run's conditions list from a
	// copy that did not have it).
	reason, message string
}

// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns,verbs=get;list;watch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reports one run's current phase if the host has not accepted it.
func (r *ReportReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	run := &hooksv1alpha1.HookRun{}
	if err := r.Get(ctx, req.NamespacedName, run); err != nil {
		return reconcile.Result{}, ctrl.IgnoreNotFound(err)
	}
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := r.Get(ctx, ctrl.ObjectKey{Namespace: run.Namespace, Name: run.Spec.TemplateRef.Name}, tmpl); err != nil {
		return reconcile.Result{}, ctrl.IgnoreNotFound(err)
	}
	if tmpl.Spec.Report == nil {
		return reconcile.Result{}, nil
	}
	phase := run.Status.Phase
	if phase == "" {
		phase = hooksv1alpha1.PhasePending
	}
	if rep := run.Status.Report; rep != nil && (rep.Phase == phase || phaseRank(phase) < phaseRank(rep.Phase) || rep.Phase.IsFinished()) {
		return reconcile.Result{}, nil
	}
	if phase.IsFinished() {
		// The cache keeps a finished run without its delivery and
		// conditions (stripRun): read the whole run, once per finished
		// run until its report is accepted.
		if err := r.APIReader.Get(ctx, req.NamespacedName, run); err != nil {
			return reconcile.Result{}, ctrl.IgnoreNotFound(err)
		}
		if rep := run.Status.Report; rep != nil && rep.Phase.IsFinished() {
			return reconcile.Result{}, nil
		}
	}
	if sha := run.Spec.Delivery.SHA; sha == "" || strings.Trim(sha, "0") == "" {
		return reconcile.Result{}, r.setReported(ctx, run, nil, metav1.ConditionFalse, hooksv1alpha1.ReasonNoCommit,
			"the run has no commit (no sha, or a deletion): nothing is reported")
	}
	st := r.attemptOf(run.UID, phase)
	if st.rejected {
		// Not sent again; the condition is written again only if it was lost.
		return reconcile.Result{}, r.setReported(ctx, run, nil, metav1.ConditionFalse, st.reason, st.message)
	}
	target, err := resolveTarget(tmpl, run)
	if err != nil {
		return reconcile.Result{}, r.reject(ctx, run, phase, hooksv1alpha1.ReasonReportRejected, err.Error())
	}
	if tmpl.Spec.Report.GitHubApp != nil {
		return r.reportCheckRun(ctx, tmpl, run, target, phase)
	}
	token, reason, err := reportToken(ctx, r.Client, tmpl)
	if err != nil {
		return reconcile.Result{}, err
	}
	if reason != "" {
		// Not remembered as rejected: the Secret may appear; look again later.
		if err := r.setReported(ctx, run, nil, metav1.ConditionFalse, hooksv1alpha1.ReasonCredentialsNotFound, reason); err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{RequeueAfter: r.RetryMax}, nil
	}
	target.token = token

	state := hostState(target.provider, phase)
	if rep := run.Status.Report; rep != nil && target.provider == hooksv1alpha1.ReportGitLab && rep.State == state {
		// GitLab refuses a transition to the state a status already has
		// (pending → pending): record the phase without a request.
		return reconcile.Result{}, r.accept(ctx, run, phase, state, st.n, 0)
	}

	if wait := r.reserve(target.baseURL); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	httpReq, err := statusRequest(ctx, target, phase, describe(run))
	if err != nil {
		return reconcile.Result{}, r.reject(ctx, run, phase, hooksv1alpha1.ReasonReportRejected, err.Error())
	}
	n := r.countAttempt(run.UID, phase)
	resp, err := r.HTTPClient.Do(httpReq)
	if err != nil {
		// A network error: the message names the host, never the token
		// (it is in a header, not the URL).
		return r.retry(ctx, run, n, nil, fmt.Sprintf("%s: request failed, retrying", target.provider))
	}
	// The body is drained, never read into a message: a host may echo
	// what it was sent.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch classify(resp) {
	case verdictAccepted:
		return reconcile.Result{}, r.accept(ctx, run, phase, state, n, 0)
	case verdictRetry:
		return r.retry(ctx, run, n, resp.Header, fmt.Sprintf("%s answered %d, retrying", target.provider, resp.StatusCode))
	}
	return reconcile.Result{}, r.reject(ctx, run, phase, hooksv1alpha1.ReasonReportRejected,
		fmt.Sprintf("%s refused the %s status with HTTP %d: check report credentials, repository and url", target.provider, state, resp.StatusCode))
}

// reportToken reads the report token (spec.report.credentialsRef) through
// reader, the manager's cache. A missing Secret or key is a reason, not an
// error. The reporter and the changed-files fetcher (changes.go) share it.
func reportToken(ctx context.Context, reader ctrl.Reader, tmpl *hooksv1alpha1.HookTemplate) (token, reason string, err error) {
	ref := tmpl.Spec.Report.CredentialsRef
	if ref == nil {
		return "", "report.credentialsRef is not set", nil
	}
	key := ref.Key
	if key == "" {
		key = hooksv1alpha1.DefaultReportKey
	}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, ctrl.ObjectKey{Namespace: tmpl.Namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Sprintf("Secret %s not found", ref.Name), nil
		}
		return "", "", fmt.Errorf("get Secret %s: %w", ref.Name, err)
	}
	value := strings.TrimSpace(string(secret.Data[key]))
	if value == "" {
		return "", fmt.Sprintf("Secret %s has no (or an empty) key %q", ref.Name, key), nil
	}
	return value, "", nil
}

// appPrivateKey reads a GitHub App's private key (spec.report.githubApp)
// through reader. A missing Secret or key is a reason, not an error.
func appPrivateKey(ctx context.Context, reader ctrl.Reader, tmpl *hooksv1alpha1.HookTemplate) (key []byte, reason string, err error) {
	ref := tmpl.Spec.Report.GitHubApp.PrivateKeyRef
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, ctrl.ObjectKey{Namespace: tmpl.Namespace, Name: ref.Name}, secret); err != nil && !apierrors.IsNotFound(err) {
		return nil, "", fmt.Errorf("get Secret %s: %w", ref.Name, err)
	}
	if key = secret.Data[ref.Key]; len(key) == 0 {
		return nil, fmt.Sprintf("Secret %s with key %q (the App's private key) not found", ref.Name, ref.Key), nil
	}
	return key, "", nil
}

// reserve takes a token of the host's client-side rate limit, or says how
// long to wait for one.
func (r *ReportReconciler) reserve(baseURL string) time.Duration {
	host := baseURL
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host, _, _ = strings.Cut(host, "/")
	r.mu.Lock()
	lim, ok := r.limiters[host]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(r.HostQPS), r.HostBurst)
		r.limiters[host] = lim
	}
	r.mu.Unlock()
	res := lim.ReserveN(r.Now(), 1)
	if d := res.DelayFrom(r.Now()); d > 0 {
		res.CancelAt(r.Now())
		return d
	}
	return 0
}

func (r *ReportReconciler) attemptOf(uid types.UID, phase hooksv1alpha1.HookRunPhase) attemptState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.attempts[uid]
	if st.phase != phase {
		return attemptState{phase: phase}
	}
	return st
}

func (r *ReportReconciler) countAttempt(uid types.UID, phase hooksv1alpha1.HookRunPhase) int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.attempts[uid]
	if st.phase != phase {
		st = attemptState{phase: phase}
	}
	st.n++
	r.attempts[uid] = st
	return st.n
}

func (r *ReportReconciler) markRejected(uid types.UID, phase hooksv1alpha1.HookRunPhase, reason, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.attempts[uid]
	if st.phase != phase {
		st = attemptState{phase: phase}
	}
	st.rejected, st.reason, st.message = true, reason, message
	r.attempts[uid] = st
}

// accept records the phase the host accepted.
func (r *ReportReconciler) accept(ctx context.Context, run *hooksv1alpha1.HookRun, phase hooksv1alpha1.HookRunPhase, state string, attempts int32, checkRunID int64) error {
	if phase.IsFinished() {
		// Nothing more is sent for this run.
		r.mu.Lock()
		delete(r.attempts, run.UID)
		r.mu.Unlock()
	}
	now := metav1.NewTime(r.Now())
	report := &hooksv1alpha1.RunReport{Phase: phase, State: state, Time: &now, Attempts: attempts}
	if checkRunID == 0 && run.Status.Report != nil {
		checkRunID = run.Status.Report.CheckRunID
	}
	report.CheckRunID = checkRunID
	return r.setReported(ctx, run, report, metav1.ConditionTrue, hooksv1alpha1.ReasonReported,
		fmt.Sprintf("the git host shows %s for phase %s", state, phase))
}

// retry requeues the run after the back-off (never sleeping in a worker).
func (r *ReportReconciler) retry(ctx context.Context, run *hooksv1alpha1.HookRun, attempt int32, h http.Header, message string) (reconcile.Result, error) {
	logf.FromContext(ctx).V(1).Info("report not accepted, retrying", "attempt", attempt, "detail", message)
	if err := r.setReported(ctx, run, nil, metav1.ConditionFalse, hooksv1alpha1.ReasonReportFailed, message); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: retryDelay(h, int(attempt), r.RetryBase, r.RetryMax, r.Now())}, nil
}

// reject records a refusal that retrying cannot fix, with an Event.
func (r *ReportReconciler) reject(ctx context.Context, run *hooksv1alpha1.HookRun, phase hooksv1alpha1.HookRunPhase, reason, message string) error {
	r.markRejected(run.UID, phase, reason, message)
	r.Recorder.Eventf(run, nil, corev1.EventTypeWarning, hooksv1alpha1.EventReportFailed, "Report", "%s", message)
	return r.setReported(ctx, run, nil, metav1.ConditionFalse, reason, message)
}

// setReported writes status.report (when given) and the Reported condition,
// with an optimistic lock so that a concurrent phase write of the HookRun
// reconciler is never overwritten from a stale copy; on a conflict it
// re-reads the run and writes again (the request is not sent again).
func (r *ReportReconciler) setReported(ctx context.Context, run *hooksv1alpha1.HookRun, report *hooksv1alpha1.RunReport, status metav1.ConditionStatus, reason, message string) error {
	first := true
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			if err := r.APIReader.Get(ctx, ctrl.ObjectKeyFromObject(run), run); err != nil {
				return err
			}
		}
		first = false
		orig := run.DeepCopy()
		if report != nil {
			run.Status.Report = report
		}
		meta.SetStatusCondition(&run.Status.Conditions, metav1.Condition{
			Type: hooksv1alpha1.ConditionReported, Status: status, Reason: reason, Message: message,
			ObservedGeneration: run.Generation,
		})
		if equalReport(orig, run) {
			return nil
		}
		err := r.Status().Patch(ctx, run, ctrl.MergeFromWithOptions(orig, ctrl.MergeFromWithOptimisticLock{}))
		if err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("write report status of HookRun %s: %w", run.Name, err)
		}
		return err
	})
}

func equalReport(a, b *hooksv1alpha1.HookRun) bool {
	ca := meta.FindStatusCondition(a.Status.Conditions, hooksv1alpha1.ConditionReported)
	cb := meta.FindStatusCondition(b.Status.Conditions, hooksv1alpha1.ConditionReported)
	if (ca == nil) != (cb == nil) || (ca != nil && (ca.Status != cb.Status || ca.Reason != cb.Reason || ca.Message != cb.Message)) {
		return false
	}
	if (a.Status.Report == nil) != (b.Status.Report == nil) {
		return false
	}
	return a.Status.Report == nil || *a.Status.Report == *b.Status.Report
}

// SetupWithManager registers the reporter: every HookRun change (its phase
// lives in status, so no generation predicate) and template changes.
func (r *ReportReconciler) SetupWithManager(mgr ctrlrt.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.HTTPClient == nil {
		r.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if r.RetryBase <= 0 {
		r.RetryBase = 2 * time.Second
	}
	if r.RetryMax <= 0 {
		r.RetryMax = 5 * time.Minute
	}
	if r.HostQPS <= 0 {
		r.HostQPS = 5
	}
	if r.HostBurst <= 0 {
		r.HostBurst = 10
	}
	if r.MaxConcurrentReconciles < 1 {
		r.MaxConcurrentReconciles = 2
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	r.limiters = map[string]*rate.Limiter{}
	r.apps = &appClients{base: r.HTTPClient.Transport, byKey: map[string]*ghinstallation.Transport{}}
	r.attempts = map[types.UID]attemptState{}
	r.checkRuns = map[types.UID]int64{}
	return ctrlrt.NewControllerManagedBy(mgr).
		For(&hooksv1alpha1.HookRun{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("hookrun-report").
		Complete(r)
}

// reportCheckRun reports the phase as the run's check run (githubApp):
// created on the first report, updated after (status.report.checkRunID).
func (r *ReportReconciler) reportCheckRun(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, run *hooksv1alpha1.HookRun,
	target reportTarget, phase hooksv1alpha1.HookRunPhase) (reconcile.Result, error) {
	app := tmpl.Spec.Report.GitHubApp
	key, reason, err := appPrivateKey(ctx, r.Client, tmpl)
	if err != nil {
		return reconcile.Result{}, err
	}
	if reason != "" {
		if err := r.setReported(ctx, run, nil, metav1.ConditionFalse, hooksv1alpha1.ReasonCredentialsNotFound, reason); err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{RequeueAfter: r.RetryMax}, nil
	}
	client, err := r.apps.client(target.baseURL, app, key, r.HTTPClient.Timeout)
	if err != nil {
		return reconcile.Result{}, r.reject(ctx, run, phase, hooksv1alpha1.ReasonReportRejected, "report.githubApp: the private key does not parse as an RSA PEM key")
	}
	if wait := r.reserve(target.baseURL); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	red, err := runRedactor(ctx, r.Client, run.Namespace, &BuildJob(tmpl, run).Spec.Template.Spec, tmpl)
	if err != nil {
		return reconcile.Result{}, err
	}
	var id int64
	if run.Status.Report != nil {
		id = run.Status.Report.CheckRunID
	}
	if id == 0 {
		id = r.checkRunOf(ctx, run)
	}
	n := r.countAttempt(run.UID, phase)
	title := describe(run)
	got, resp, err := sendCheckRun(ctx, client, checkRunRequest{
		target: target, runName: run.Name, phase: phase, title: title,
		summary: checkSummary(run, red.redact(run.Status.Message)), checkRunID: id,
	}, r.Now())
	if err == nil {
		r.mu.Lock()
		if phase.IsFinished() {
			delete(r.checkRuns, run.UID)
		} else {
			r.checkRuns[run.UID] = got
		}
		r.mu.Unlock()
		return reconcile.Result{}, r.accept(ctx, run, phase, checkStateName(phase), n, got)
	}
	var abuse *github.AbuseRateLimitError
	switch {
	case resp == nil:
		return r.retry(ctx, run, n, nil, "github: request failed, retrying")
	case errors.As(err, &abuse) || classify(resp) == verdictRetry:
		return r.retry(ctx, run, n, resp.Header, fmt.Sprintf("github answered %d, retrying", resp.StatusCode))
	}
	return reconcile.Result{}, r.reject(ctx, run, phase, hooksv1alpha1.ReasonReportRejected,
		fmt.Sprintf("github refused the check run (%s) with HTTP %d: check the App's installation, permissions (checks: write) and repository", checkStateName(phase), resp.StatusCode))
}

// checkRunOf is the run's check run when its cached status does not show
// one yet: the one this manager created, else what the API server has (the
// cache may lag behind the write that recorded it, after a restart too). 0
// means none exists, so a new one is created.
func (r *ReportReconciler) checkRunOf(ctx context.Context, run *hooksv1alpha1.HookRun) int64 {
	r.mu.Lock()
	id := r.checkRuns[run.UID]
	r.mu.Unlock()
	if id != 0 {
		return id
	}
	fresh := &hooksv1alpha1.HookRun{}
	if err := r.APIReader.Get(ctx, ctrl.ObjectKeyFromObject(run), fresh); err == nil && fresh.Status.Report != nil {
		return fresh.Status.Report.CheckRunID
	}
	return 0
}
