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

package benchutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// Unthrottled returns a copy of cfg without a client-side rate limit: the
// benchmark's own clients (the stand-in webhook server and job controller,
// the baselines) must never be the limit.
func Unthrottled(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst, c.RateLimiter = -1, 0, nil
	return c
}

// Throttled returns a copy of cfg with the given client-side rate limit
// (qps < 0: none).
func Throttled(cfg *rest.Config, qps float32, burst int) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst, c.RateLimiter = qps, burst, nil
	return c
}

// Parallel calls fn(i) for i in [0, n) from workers goroutines and returns
// the first error.
func Parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// JobMode is what the stand-in job controller does to a new Job.
type JobMode int

const (
	// JobsUntouched leaves Jobs as they are created.
	JobsUntouched JobMode = iota
	// JobsStart marks a Job started with one active pod.
	JobsStart
	// JobsComplete marks a Job started and completed in one status write.
	JobsComplete
)

// ObserverOptions configure an Observer.
type ObserverOptions struct {
	Namespace string
	// Jobs is what the stand-in job controller does; Workers bounds its
	// parallel status writes (default 8).
	Jobs    JobMode
	Workers int
	// RunPhase is the phase runs are counted in once they reach it.
	RunPhase hooksv1alpha1.HookRunPhase
	// WantJobs and WantRuns make Done fire: that many Jobs seen and that
	// many runs in RunPhase.
	WantJobs, WantRuns int
}

// Observer watches one namespace through an informer of its own: it plays
// the job controller (writes Job status the way the job controller would,
// which envtest lacks) and records when the wanted number of Jobs exist and
// runs reached a phase.
type Observer struct {
	opts   ObserverOptions
	client client.Client
	cache  cache.Cache
	cancel context.CancelFunc
	done   chan struct{}
	queue  chan *batchv1.Job
	wg     sync.WaitGroup

	mu          sync.Mutex
	jobs        map[string]bool
	reached     map[string]bool
	reachedAt   []time.Time
	doneAt      time.Time
	closed      bool
	jobUpdates  atomic.Int64
	jobConflict atomic.Int64
	errs        []error
	unexpected  map[hooksv1alpha1.HookRunPhase]int
}

// StartObserver starts the informers and the job controller's workers. It
// returns once the informers have synced.
func StartObserver(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, opts ObserverOptions) (*Observer, error) {
	cfg = Unthrottled(cfg)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	ca, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{opts.Namespace: {}}})
	if err != nil {
		return nil, err
	}
	if opts.Workers < 1 {
		opts.Workers = 8
	}
	o := &Observer{
		opts: opts, client: c, cache: ca, done: make(chan struct{}),
		queue: make(chan *batchv1.Job, 1<<16), jobs: map[string]bool{}, reached: map[string]bool{},
		unexpected: map[hooksv1alpha1.HookRunPhase]int{},
	}
	jobInf, err := ca.GetInformer(ctx, &batchv1.Job{})
	if err != nil {
		return nil, err
	}
	if _, err := jobInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: o.onJob}); err != nil {
		return nil, err
	}
	runInf, err := ca.GetInformer(ctx, &hooksv1alpha1.HookRun{})
	if err != nil {
		return nil, err
	}
	if _, err := runInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    o.onRun,
		UpdateFunc: func(_, obj any) { o.onRun(obj) },
	}); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	o.wg.Go(func() { _ = ca.Start(runCtx) })
	if !ca.WaitForCacheSync(ctx) {
		o.Stop()
		return nil, errors.New("observer cache did not sync")
	}
	for range opts.Workers {
		o.wg.Go(func() { o.work(runCtx) })
	}
	o.check()
	return o, nil
}

func (o *Observer) onJob(obj any) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	o.mu.Lock()
	o.jobs[job.Name] = true
	o.mu.Unlock()
	if o.opts.Jobs != JobsUntouched && job.Status.StartTime == nil {
		o.queue <- job
	}
	o.check()
}

func (o *Observer) onRun(obj any) {
	run, ok := obj.(*hooksv1alpha1.HookRun)
	if !ok {
		return
	}
	o.mu.Lock()
	switch phase := run.Status.Phase; {
	case phase == o.opts.RunPhase:
		if !o.reached[run.Name] {
			o.reached[run.Name] = true
			o.reachedAt = append(o.reachedAt, time.Now())
		}
	case phase.IsFinished():
		o.unexpected[phase]++
	}
	o.mu.Unlock()
	o.check()
}

// check closes Done once the wanted Jobs and runs are there.
func (o *Observer) check() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || len(o.jobs) < o.opts.WantJobs || len(o.reached) < o.opts.WantRuns {
		return
	}
	o.closed, o.doneAt = true, time.Now()
	close(o.done)
}

// work writes Job status the way the job controller would.
func (o *Observer) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-o.queue:
			if err := o.advance(ctx, job.DeepCopy()); err != nil && ctx.Err() == nil {
				o.mu.Lock()
				o.errs = append(o.errs, err)
				o.mu.Unlock()
			}
		}
	}
}

func (o *Observer) advance(ctx context.Context, job *batchv1.Job) error {
	for attempt := 0; ; attempt++ {
		now := metav1.Now()
		SetJobStarted(&job.Status, now)
		if o.opts.Jobs == JobsComplete {
			SetJobCompleted(&job.Status, now)
		}
		err := o.client.Status().Update(ctx, job)
		switch {
		case err == nil:
			o.jobUpdates.Add(1)
			return nil
		case apierrors.IsNotFound(err):
			return nil
		case Transient(err) && attempt < 10:
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		case apierrors.IsConflict(err) && attempt < 10:
			o.jobConflict.Add(1)
			fresh := &batchv1.Job{}
			if err := o.client.Get(ctx, client.ObjectKeyFromObject(job), fresh); err != nil {
				return err
			}
			job = fresh
		default:
			return fmt.Errorf("update status of Job %s: %w", job.Name, err)
		}
	}
}

// SetJobStarted is the job controller's first status write: one pod active.
func SetJobStarted(s *batchv1.JobStatus, now metav1.Time) {
	s.StartTime = &now
	s.Active = 1
	s.Ready = ptr.To[int32](0)
	s.Terminating = ptr.To[int32](0)
}

// SetJobCompleted is the job controller's write once the pod succeeded:
// SuccessCriteriaMet before Complete, with completionTime, as recent API
// servers require.
func SetJobCompleted(s *batchv1.JobStatus, now metav1.Time) {
	s.Active, s.Succeeded = 0, 1
	s.CompletionTime = &now
	s.Conditions = append(s.Conditions,
		batchv1.JobCondition{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached, LastTransitionTime: now, LastProbeTime: now},
		batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached, LastTransitionTime: now, LastProbeTime: now},
	)
}

// Wait blocks until the wanted Jobs and runs are there and returns when
// that was, or fails at the deadline with what was reached.
func (o *Observer) Wait(ctx context.Context, timeout time.Duration) (time.Time, error) {
	select {
	case <-o.done:
		o.mu.Lock()
		defer o.mu.Unlock()
		if len(o.errs) > 0 {
			return o.doneAt, errors.Join(o.errs...)
		}
		return o.doneAt, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-time.After(timeout):
		o.mu.Lock()
		defer o.mu.Unlock()
		return time.Time{}, fmt.Errorf("after %s: %d/%d Jobs, %d/%d runs %s, unexpected final phases %v, errors %v",
			timeout, len(o.jobs), o.opts.WantJobs, len(o.reached), o.opts.WantRuns, o.opts.RunPhase, o.unexpected, errors.Join(o.errs...))
	}
}

// Unexpected counts runs seen in a final phase other than RunPhase.
func (o *Observer) Unexpected() map[hooksv1alpha1.HookRunPhase]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[hooksv1alpha1.HookRunPhase]int{}
	for k, v := range o.unexpected {
		out[k] = v
	}
	return out
}

// Reached returns, in order, how long after t0 each run reached RunPhase.
func (o *Observer) Reached(t0 time.Time) []float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]float64, len(o.reachedAt))
	for i, t := range o.reachedAt {
		out[i] = t.Sub(t0).Seconds()
	}
	return out
}

// JobStatusWrites is how many Job status writes the job controller made.
func (o *Observer) JobStatusWrites() int64 { return o.jobUpdates.Load() }

// Stop stops the informers and workers.
func (o *Observer) Stop() {
	if o.cancel != nil {
		o.cancel()
	}
	o.wg.Wait()
}

// Transient is true for the errors of an overloaded API server or etcd,
// worth another try: on a shared 2-core machine etcd does time out now and
// then under a burst.
func Transient(err error) bool {
	return err != nil && (apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || strings.Contains(err.Error(), "request timed out"))
}

// Retry calls fn until it succeeds or fails for good, retrying transient
// errors (10 times at most, with a growing pause).
func Retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if !Transient(err) || attempt > 10 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}

// Create creates obj, retrying transient errors. AlreadyExists after a
// retry counts as success: the attempt that timed out went through.
func Create(ctx context.Context, c client.Client, obj client.Object) error {
	retried := false
	return Retry(ctx, func() error {
		err := c.Create(ctx, obj)
		if retried && apierrors.IsAlreadyExists(err) {
			return nil
		}
		retried = true
		return err
	})
}
