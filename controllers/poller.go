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
	"hash/fnv"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
	"github.com/hookrun/hookrun/internal/schedule"
	"github.com/hookrun/hookrun/webhookserver"
)

// DefaultListTimeout bounds one listing of a remote's refs.
const DefaultListTimeout = 30 * time.Second

// DefaultMaxConcurrentPolls is how many templates are listed (or
// scheduled) at once when PollReconciler.MaxConcurrentReconciles is unset.
const DefaultMaxConcurrentPolls = 4

// maxBackoff bounds the wait after repeated failed listings: at most ten
// intervals and at most an hour, but never less than one interval.
func maxBackoff(interval time.Duration) time.Duration {
	return max(interval, min(10*interval, time.Hour))
}

// maxPolledRefs is the most refs status.poll.refs holds (its MaxItems).
const maxPolledRefs = 1024

// RefLister lists a git remote's refs: full ref name → sha.
type RefLister func(ctx context.Context, remoteURL string, auth transport.AuthMethod) (map[string]string, error)

// PollReconciler lists the refs of every template with spec.poll each
// interval and creates the push runs no webhook delivered, and makes the
// runs of spec.schedule. It runs on the leader only, requeues itself after
// the next listing or tick is due, and writes status once per reconcile.
//
// The issue sketched one goroutine per template with jitter and a bounded
// worker pool overall. This is that, built from a controller instead of
// hand-made goroutines, on purpose: the work queue holds one timer per
// template (RequeueAfter) and never two, its MaxConcurrentReconciles
// workers are the bounded pool (a slow remote holds one worker for at
// most ListTimeout), and leader election, restarts and a re-list on a spec
// change come with it. The jitter is a fixed per-template share of the
// interval (pollJitter) taken off each wait, so templates created together
// drift apart instead of listing in lockstep.
type PollReconciler struct {
	ctrlclient.Client
	Recorder events.EventRecorder
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ListRefs lists a remote (default: go-git's remote listing).
	ListRefs RefLister
	// ListTimeout bounds one listing (default DefaultListTimeout).
	ListTimeout time.Duration
	// Interval, when positive, replaces every template's poll.interval
	// (tests only, the manager's hidden --test-poll-interval: the API's
	// minimum is 1m).
	Interval time.Duration
	// MaxConcurrentReconciles bounds the templates listed or scheduled at
	// once (default DefaultMaxConcurrentPolls).
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the poller. Its status patches do not change
// the generation, so they do not trigger it again; its timers are
// RequeueAfter.
func (r *PollReconciler) SetupWithManager(mgr ctrl.Manager) error {
	workers := r.MaxConcurrentReconciles
	if workers <= 0 {
		workers = DefaultMaxConcurrentPolls
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("hookpoll").
		For(&hooksv1alpha1.HookTemplate{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

// Reconcile polls and schedules one template.
func (r *PollReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	tmpl := &hooksv1alpha1.HookTemplate{}
	if err := r.Get(ctx, req.NamespacedName, tmpl); err != nil {
		return reconcile.Result{}, ctrlclient.IgnoreNotFound(err)
	}
	if tmpl.Spec.Poll == nil && tmpl.Spec.Schedule == nil {
		return reconcile.Result{}, nil
	}
	orig := tmpl.DeepCopy()
	now := r.now()
	var after []time.Duration
	var errs []error

	var listed map[string]string // the poll listing of this reconcile, if any
	if tmpl.Spec.Poll != nil {
		wait, refs, err := r.poll(ctx, tmpl, now)
		after = append(after, wait)
		listed = refs
		errs = append(errs, err)
	}
	if tmpl.Spec.Schedule != nil {
		wait, err := r.schedule(ctx, tmpl, now, listed)
		if wait > 0 {
			after = append(after, wait)
		}
		errs = append(errs, err)
	}
	if equality.Semantic.DeepEqual(orig.Status, tmpl.Status) {
		// Nothing to write.
	} else if err := r.Status().Patch(ctx, tmpl, ctrlclient.MergeFrom(orig)); err != nil {
		return reconcile.Result{}, fmt.Errorf("patch status of HookTemplate %s: %w", req.NamespacedName, err)
	}
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	if len(after) == 0 {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{RequeueAfter: slices.Min(after)}, nil
}

func (r *PollReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// interval is the time between two listings of tmpl.
func (r *PollReconciler) interval(tmpl *hooksv1alpha1.HookTemplate) time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	if d := tmpl.Spec.Poll.Interval.Duration; d >= time.Minute {
		return d
	}
	return time.Minute
}

// pollDelay is how long after a listing the next one is due: one
// interval after a success; after n failures in a row interval ×
// 2^(n-1), at most maxBackoff; less the template's jitter.
func pollDelay(interval time.Duration, failures int32, uid types.UID) time.Duration {
	d := interval
	for i := int32(1); i < failures && d < maxBackoff(interval); i++ {
		d *= 2
	}
	return min(d, maxBackoff(interval)) - pollJitter(uid, interval)
}

// pollJitter is a template's fixed share of its interval, in [0,
// interval/10): a hash of its UID. Taken off every wait, it spreads the
// listings of templates created (or restarted) together; taken off, not
// added, so that a push is still seen within one interval.
func pollJitter(uid types.UID, interval time.Duration) time.Duration {
	span := uint64(interval / 10)
	if span == 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(uid))
	return time.Duration(h.Sum64() % span)
}

// poll lists the remote when a listing is due (pollDelay after the last
// one, or at once when the spec changed since), creates a push run for each
// allowed ref that moved since the last listing and records the listing in
// status.poll. It returns when the next listing is due and the refs listed
// (nil when none was due or the listing failed).
func (r *PollReconciler) poll(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, now time.Time) (time.Duration, map[string]string, error) {
	interval := r.interval(tmpl)
	st := tmpl.Status.Poll
	if st != nil && st.Time != nil && st.ObservedGeneration == tmpl.Generation {
		if due := st.Time.Add(pollDelay(interval, st.ConsecutiveFailures, tmpl.UID)); now.Before(due) {
			return due.Sub(now), nil, nil
		}
	}
	if st == nil {
		st = &hooksv1alpha1.PollStatus{}
		tmpl.Status.Poll = st
	}
	stamp := metav1.NewTime(now.UTC().Truncate(time.Second))
	st.Time = &stamp
	st.ObservedGeneration = tmpl.Generation
	// failed records a failed listing; no hot loop: the next try backs off.
	failed := func(msg string) (time.Duration, map[string]string, error) {
		st.Error = msg
		st.ConsecutiveFailures++
		wait := pollDelay(interval, st.ConsecutiveFailures, tmpl.UID)
		r.Recorder.Eventf(tmpl, nil, corev1.EventTypeWarning, hooksv1alpha1.ReasonPollFailed, "Poll",
			"%s (failure %d in a row; next try in %s)", msg, st.ConsecutiveFailures, wait.Round(time.Second))
		logf.FromContext(ctx).Info("poll failed", "error", msg, "failures", st.ConsecutiveFailures, "retryAfter", wait)
		return wait, nil, nil
	}
	all, err := r.list(ctx, tmpl)
	if err != nil {
		return failed(err.Error())
	}
	refs := map[string]string{}
	for ref, sha := range all {
		if webhookserver.RefAllowed(tmpl.Spec.Match, ref) {
			refs[ref] = sha
		}
	}
	if len(refs) > maxPolledRefs {
		// status.poll.refs holds at most maxPolledRefs: say so rather than
		// fail every status write.
		return failed(fmt.Sprintf("%d refs of %s match match.refs, more than %d: narrow match.refs", len(refs), redactURL(tmpl.Spec.Poll.URL), maxPolledRefs))
	}
	st.Error = ""
	st.ConsecutiveFailures = 0

	// Never listed successfully: record only. An empty list is a listing
	// that found nothing (status.poll.refs is kept when empty), so a ref
	// that appears later runs as a push from the all-zero sha.
	first := st.Refs == nil
	seen := map[string]string{}
	for _, p := range st.Refs {
		seen[p.Ref] = p.SHA
	}
	keep := map[string]string{}
	var errs []error
	for _, ref := range sortedKeys(refs) {
		sha := refs[ref]
		before, known := seen[ref]
		keep[ref] = sha
		if first || (known && before == sha) {
			continue
		}
		if !known {
			before = hooksv1alpha1.ZeroSHA
		}
		if err := r.createPush(ctx, tmpl, ref, sha, before, now); err != nil {
			errs = append(errs, err)
			// Keep the old sha so that the next listing tries again.
			if known {
				keep[ref] = before
			} else {
				delete(keep, ref)
			}
		}
	}
	st.Refs = make([]hooksv1alpha1.PolledRef, 0, len(keep))
	for _, ref := range sortedKeys(keep) {
		st.Refs = append(st.Refs, hooksv1alpha1.PolledRef{Ref: ref, SHA: keep[ref]})
	}
	return pollDelay(interval, 0, tmpl.UID), all, errors.Join(errs...)
}

// createPush creates the run of a push the poller saw. AlreadyExists means a
// webhook (or an earlier listing) made it already: the push runs once.
func (r *PollReconciler) createPush(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, ref, sha, before string, now time.Time) error {
	d := hooksv1alpha1.Delivery{
		ID:         delivery.PollDeliveryID(ref, sha),
		Provider:   tmpl.Spec.Source.Provider,
		Event:      hooksv1alpha1.EventPush,
		Repository: repositoryOf(tmpl.Spec.Poll.URL),
		Ref:        ref,
		SHA:        sha,
		Before:     before,
		Sender:     hooksv1alpha1.PollSender,
		CloneURL:   tmpl.Spec.Poll.URL,
	}
	created, err := r.createRun(ctx, tmpl, delivery.PushRunName(tmpl.Name, ref, sha), d, now)
	if err != nil {
		return err
	}
	if created {
		logf.FromContext(ctx).Info("push polled", "ref", ref, "sha", sha)
		r.Recorder.Eventf(tmpl, nil, corev1.EventTypeNormal, hooksv1alpha1.ReasonPolled, "Poll", "%s moved to %s", ref, delivery.ShortSHA(sha))
	}
	return nil
}

// createRun creates a run of tmpl; false when it exists already.
func (r *PollReconciler) createRun(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, name string, d hooksv1alpha1.Delivery, now time.Time) (bool, error) {
	received := metav1.NewTime(now.UTC().Truncate(time.Second))
	d.ReceivedAt = &received
	run := &hooksv1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: tmpl.Namespace,
			Labels:    map[string]string{hooksv1alpha1.LabelTemplate: tmpl.Name},
		},
		Spec: hooksv1alpha1.HookRunSpec{
			TemplateRef: hooksv1alpha1.TemplateRef{Name: tmpl.Name},
			Delivery:    d,
		},
	}
	if err := controllerutil.SetControllerReference(tmpl, run, r.Scheme()); err != nil {
		return false, fmt.Errorf("set owner of HookRun %s: %w", name, err)
	}
	if err := r.Create(ctx, run); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		return false, fmt.Errorf("create HookRun %s: %w", name, err)
	}
	return true, nil
}

// schedule creates the run of the latest due tick, if it is not too late,
// and returns when the next tick is due. listed is this reconcile's
// listing of poll.url (nil: list it when the sha is needed).
func (r *PollReconciler) schedule(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate, now time.Time, listed map[string]string) (time.Duration, error) {
	spec := tmpl.Spec.Schedule
	sched, err := schedule.Parse(spec)
	if err != nil {
		r.Recorder.Eventf(tmpl, nil, corev1.EventTypeWarning, hooksv1alpha1.ReasonScheduleInvalid, "Schedule", "%s", err.Error())
		// A configuration error: no retry until the template changes.
		return 0, nil
	}
	last := tmpl.CreationTimestamp.Time
	if tmpl.Status.LastScheduleTime != nil {
		last = tmpl.Status.LastScheduleTime.Time
	}
	dec := decideTick(sched, last, now, startingDeadline(spec))
	if !dec.Missed.IsZero() {
		logf.FromContext(ctx).Info("schedule tick missed its starting deadline", "tick", dec.Missed)
		t := metav1.NewTime(dec.Missed)
		tmpl.Status.LastScheduleTime = &t
	}
	if !dec.Run.IsZero() {
		sha := ""
		if tmpl.Spec.Poll != nil {
			if listed == nil {
				if listed, err = r.list(ctx, tmpl); err != nil {
					return 0, fmt.Errorf("look up %s for the schedule: %w", spec.Ref, err)
				}
			}
			sha = listed[spec.Ref]
		}
		d := hooksv1alpha1.Delivery{
			ID:       delivery.ScheduleDeliveryID(dec.Run),
			Provider: tmpl.Spec.Source.Provider,
			Event:    hooksv1alpha1.EventSchedule,
			Ref:      spec.Ref,
			SHA:      sha,
			Sender:   hooksv1alpha1.ScheduleSender,
		}
		if tmpl.Spec.Poll != nil {
			d.Repository = repositoryOf(tmpl.Spec.Poll.URL)
			d.CloneURL = tmpl.Spec.Poll.URL
		}
		created, err := r.createRun(ctx, tmpl, delivery.ScheduleRunName(tmpl.Name, dec.Run), d, now)
		if err != nil {
			return 0, err
		}
		if created {
			r.Recorder.Eventf(tmpl, nil, corev1.EventTypeNormal, hooksv1alpha1.ReasonScheduled, "Schedule", "tick %s", dec.Run.UTC().Format(time.RFC3339))
		}
		t := metav1.NewTime(dec.Run)
		tmpl.Status.LastScheduleTime = &t
	}
	return dec.Next.Sub(now), nil
}

// list lists poll.url's branches and tags with the template's credentials.
// Its errors never hold the credentials.
func (r *PollReconciler) list(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate) (map[string]string, error) {
	poll := tmpl.Spec.Poll
	auth, secrets, err := r.auth(ctx, tmpl)
	if err != nil {
		return nil, err
	}
	timeout := r.ListTimeout
	if timeout <= 0 {
		timeout = DefaultListTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lister := r.ListRefs
	if lister == nil {
		lister = ListRemoteRefs
	}
	refs, err := lister(ctx, poll.URL, auth)
	if err != nil {
		return nil, fmt.Errorf("list refs of %s: %s", redactURL(poll.URL), redactSecrets(err.Error(), secrets))
	}
	return refs, nil
}

// auth reads poll.credentialsRef from the cache. secrets are the values
// to keep out of any message.
func (r *PollReconciler) auth(ctx context.Context, tmpl *hooksv1alpha1.HookTemplate) (transport.AuthMethod, []string, error) {
	ref := tmpl.Spec.Poll.CredentialsRef
	if ref == nil {
		return nil, nil, nil
	}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: tmpl.Namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("poll.credentialsRef: Secret %q not found", ref.Name)
		}
		return nil, nil, fmt.Errorf("poll.credentialsRef: read Secret %q: %w", ref.Name, err)
	}
	user, pass := string(secret.Data["username"]), string(secret.Data["password"])
	secrets := []string{pass}
	if key := secret.Data["ssh-privatekey"]; len(key) > 0 {
		secrets = append(secrets, string(key))
		if user == "" {
			user = "git"
		}
		auth, err := gitssh.NewPublicKeys(user, key, pass)
		if err != nil {
			return nil, secrets, fmt.Errorf("poll.credentialsRef: Secret %q: key ssh-privatekey is not a usable private key", ref.Name)
		}
		hosts := secret.Data["known_hosts"]
		if len(hosts) == 0 {
			return nil, secrets, fmt.Errorf("poll.credentialsRef: Secret %q has ssh-privatekey but no known_hosts key: the host's key cannot be checked", ref.Name)
		}
		callback, err := knownHostsCallback(hosts)
		if err != nil {
			return nil, secrets, fmt.Errorf("poll.credentialsRef: Secret %q: known_hosts: %w", ref.Name, err)
		}
		auth.HostKeyCallback = callback
		return auth, secrets, nil
	}
	if user == "" && pass == "" {
		return nil, nil, fmt.Errorf("poll.credentialsRef: Secret %q has neither username/password nor ssh-privatekey", ref.Name)
	}
	return &githttp.BasicAuth{Username: user, Password: pass}, secrets, nil
}

// knownHostsCallback checks host keys against a known_hosts file's content.
func knownHostsCallback(content []byte) (ssh.HostKeyCallback, error) {
	// knownhosts reads files only: the content goes through a private
	// temporary file that is removed before returning.
	f, err := os.CreateTemp("", "hookrun-known-hosts-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(content); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return knownhosts.New(f.Name())
}

// ListRemoteRefs lists a remote's branches and tags with git's protocol
// (go-git's remote listing: no clone, no git binary in the image).
func ListRemoteRefs(ctx context.Context, remoteURL string, auth transport.AuthMethod) (map[string]string, error) {
	remote := git.NewRemote(memory.NewStorage(), &gitconfig.RemoteConfig{Name: "origin", URLs: []string{remoteURL}})
	list, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		if errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return map[string]string{}, nil
		}
		return nil, err
	}
	refs := map[string]string{}
	for _, ref := range list {
		name := ref.Name()
		if ref.Type() != plumbing.HashReference || !(name.IsBranch() || name.IsTag()) || strings.HasSuffix(name.String(), "^{}") {
			continue
		}
		refs[name.String()] = ref.Hash().String()
	}
	return refs, nil
}

// repositoryOf derives "owner/name" from a remote URL (empty when it
// cannot): https://host/acme/site.git and git@host:acme/site.git give
// acme/site.
func repositoryOf(remote string) string {
	path := ""
	if u, err := url.Parse(remote); err == nil && u.Scheme != "" && u.Host != "" {
		path = u.Path
	} else if _, after, ok := strings.Cut(remote, ":"); ok && !strings.Contains(remote, "://") {
		path = after
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	path = strings.TrimPrefix(path, "~")
	if path == "" {
		return ""
	}
	return path
}

// redactURL drops a URL's user information.
func redactURL(remote string) string {
	if u, err := url.Parse(remote); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return remote
}

// redactSecrets replaces each non-empty secret in msg.
func redactSecrets(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return msg
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
