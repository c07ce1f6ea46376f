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

// Command hookrun runs the hookrun manager: the HookRun and HookTemplate
// reconcilers (on the elected leader) and the webhook server (on every
// replica).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/controllers"
	"github.com/hookrun/hookrun/webhookserver"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hooksv1alpha1.AddToScheme(scheme))
	// Latency of the requests to the API server (opt-in in controller-runtime):
	// the dashboard's "Kubernetes API request latency" panel. Labels verb and
	// host only: bounded.
	ctrlmetrics.RegisterRESTClientMetrics(ctrlmetrics.MetricRequestLatency)
}

// options are the manager's command-line flags.
type options struct {
	metricsAddr             string
	probeAddr               string
	leaderElect             bool
	leaderElectionNamespace string
	maxConcurrentReconciles int
	qps                     float64
	burst                   int
	webhookQPS              float64
	webhookBurst            int
	pprofAddr               string
	webhook                 webhookserver.Options
	maxConcurrentPolls      int
	// testPollInterval, when positive, replaces every template's
	// poll.interval (the hidden --test-poll-interval: the API's 1m
	// minimum stays for users).
	testPollInterval time.Duration
}

// testOnlyFlags are left out of --help: they exist for the test suites.
var testOnlyFlags = map[string]bool{"test-poll-interval": true}

func main() {
	var opts options
	bindFlags(flag.CommandLine, &opts)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Usage = usageOf(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(opts); err != nil {
		ctrl.Log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

// bindFlags defines the manager's flags on fs (tests parse them too).
func bindFlags(fs *flag.FlagSet, opts *options) {
	fs.StringVar(&opts.metricsAddr, "metrics-bind-address", ":8443", "Address of the Prometheus metrics endpoint (\"0\" disables it).")
	fs.StringVar(&opts.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	fs.BoolVar(&opts.leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles (the webhook server runs on every replica).")
	fs.StringVar(&opts.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the pod's own namespace; required out of cluster).")
	fs.IntVar(&opts.maxConcurrentReconciles, "max-concurrent-reconciles", 16, "HookRuns reconciled in parallel.")
	fs.Float64Var(&opts.qps, "kube-api-qps", 200, "Client-side rate limit towards the API server (queries per second).")
	fs.IntVar(&opts.burst, "kube-api-burst", 400, "Client-side burst towards the API server.")
	fs.Float64Var(&opts.webhookQPS, "webhook-kube-api-qps", -1, "Client-side rate limit of the webhook server's HookRun creates (queries per second); 0 or negative: none, the API server's priority and fairness protects it.")
	fs.IntVar(&opts.webhookBurst, "webhook-kube-api-burst", 0, "Client-side burst of the webhook server's HookRun creates, with a positive --webhook-kube-api-qps (0: twice the QPS).")
	fs.StringVar(&opts.pprofAddr, "pprof-bind-address", "", "Address of the Go profiler's /debug/pprof endpoints (empty: disabled). For debugging only: it is unauthenticated.")
	fs.StringVar(&opts.webhook.BindAddress, "webhook-bind-address", webhookserver.DefaultBindAddress, "Address of the webhook listener (POST /hooks/{namespace}/{template}).")
	fs.StringVar(&opts.webhook.CertDir, "webhook-cert-dir", "", "Folder with tls.crt and tls.key: serve the webhook over HTTPS (reloaded on change).")
	fs.Int64Var(&opts.webhook.MaxBodyBytes, "webhook-max-body-bytes", webhookserver.DefaultMaxBodyBytes, "Largest accepted delivery body; larger ones get 413.")
	fs.DurationVar(&opts.webhook.SignatureTolerance, "webhook-signature-tolerance", webhookserver.DefaultTolerance, "Default Standard Webhooks timestamp tolerance (a template's own setting wins).")
	fs.IntVar(&opts.maxConcurrentPolls, "max-concurrent-polls", controllers.DefaultMaxConcurrentPolls, "Templates whose remote is listed (or whose schedule is run) in parallel.")
	fs.DurationVar(&opts.testPollInterval, "test-poll-interval", 0, "TEST ONLY: replaces every template's spec.poll.interval (whose API minimum is 1m) so that tests see a listing within seconds. Never set it in production.")
}

// usageOf is fs's usage without the test-only flags.
func usageOf(fs *flag.FlagSet) func() {
	return func() {
		visible := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		visible.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if !testOnlyFlags[f.Name] {
				visible.Var(f.Value, f.Name, f.Usage)
			}
		})
		_, _ = fmt.Fprintf(visible.Output(), "Usage of %s:\n", fs.Name())
		visible.PrintDefaults()
	}
}

func run(opts options) error {
	log := ctrl.Log.WithName("setup")
	ctx := ctrl.SetupSignalHandler()
	mgr, err := newManager(ctx, ctrl.GetConfigOrDie(), opts)
	if err != nil {
		return err
	}
	log.Info("starting manager", "webhook", opts.webhook.BindAddress, "leaderElection", opts.leaderElect)
	return mgr.Start(ctx)
}

// newManager wires the manager: reconcilers, poller, webhook server and
// probes. ctx is the process's lifetime (readiness turns off when it ends).
func newManager(ctx context.Context, cfg *rest.Config, opts options) (ctrl.Manager, error) {
	log := ctrl.Log.WithName("setup")
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(opts.qps), opts.burst

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: opts.metricsAddr},
		HealthProbeBindAddress: opts.probeAddr,
		LeaderElection:         opts.leaderElect,
		LeaderElectionID:       "hookrun.hooks.hookrun.dev",
		// Hand the lease over at once on a clean shutdown instead of making
		// the other replica wait for it to expire; safe because the process
		// exits right after the manager stops.
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionNamespace:       opts.leaderElectionNamespace,
		PprofBindAddress:              opts.pprofAddr,
		Cache:                         controllers.CacheOptions(),
	})
	if err != nil {
		return nil, err
	}
	if err := controllers.SetupIndexes(mgr); err != nil {
		return nil, err
	}
	if err := (&controllers.HookRunReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("hookrun"),
		MaxConcurrentReconciles: opts.maxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	// The reporter shows each run's state on its commit (spec.report): a
	// controller of its own, leader only, off the run's path.
	if err := (&controllers.ReportReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("hookrun"),
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	if err := (&controllers.HookTemplateReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("hookrun"),
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	// The poller lists spec.poll remotes and makes spec.schedule runs; like
	// every reconciler it runs on the leader only.
	if opts.testPollInterval > 0 {
		log.Info("TEST ONLY: every template's poll.interval is replaced", "interval", opts.testPollInterval)
	}
	if err := (&controllers.PollReconciler{
		Client:                  mgr.GetClient(),
		Recorder:                mgr.GetEventRecorder("hookrun"),
		Interval:                opts.testPollInterval,
		MaxConcurrentReconciles: opts.maxConcurrentPolls,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	if err := (&controllers.HookSourceReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("hookrun"),
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	// The webhook server creates HookRuns with a client of its own: its own
	// client-side rate limit (none by default), so that reconcilers working
	// through a burst of runs never make a git host's delivery wait for their
	// tokens, and ingestion is not capped below what the API server absorbs.
	webhookWriter, err := webhookserver.NewCreator(webhookConfig(cfg, opts.webhookQPS, opts.webhookBurst), mgr.GetScheme())
	if err != nil {
		return nil, fmt.Errorf("webhook server client: %w", err)
	}
	// A delivery whose payload may not list every changed file is completed
	// from the git host's compare API with the template's report
	// credentials, read through the manager's cache like the webhook
	// Secrets (the same RBAC: secrets get/list/watch).
	opts.webhook.ChangedFiles = &controllers.HostChangedFiles{Reader: mgr.GetClient()}
	webhook := webhookserver.New(mgr.GetClient(), webhookWriter, mgr.GetScheme(), opts.webhook)
	if err := mgr.Add(webhook); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("cache-synced", cacheSynced(mgr.GetCache())); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("webhook-listening", webhookListening(webhook, opts.webhook.BindAddress)); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("not-stopping", notStopping(ctx)); err != nil {
		return nil, err
	}
	return mgr, nil
}

// webhookConfig is cfg with the webhook server's own client-side rate limit:
// none when qps is not positive, else qps with burst (twice qps when burst
// is not positive).
func webhookConfig(cfg *rest.Config, qps float64, burst int) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.RateLimiter = nil
	c.QPS, c.Burst = float32(qps), burst
	if qps <= 0 {
		c.QPS, c.Burst = -1, 0 // client-go: a negative QPS means no limiter
	} else if burst <= 0 {
		c.Burst = max(1, int(2*qps))
	}
	return c
}

// cacheSynced is ready once the manager's cache has synced: before that the
// webhook server cannot see templates and would answer 404.
func cacheSynced(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("cache has not synced yet")
		}
		return nil
	}
}

// webhookListening is ready once the webhook server listens: it starts
// beside the probes, and a replica marked ready before would refuse the
// deliveries a Service sends it. A disabled listener ("0") is always ready.
func webhookListening(s interface{ Addr() net.Addr }, bindAddress string) healthz.Checker {
	return func(*http.Request) error {
		if bindAddress != "0" && s.Addr() == nil {
			return errors.New("webhook listener not started yet")
		}
		return nil
	}
}

// notStopping turns readiness off as soon as SIGTERM arrives, so that load
// balancers stop sending new deliveries while in-flight ones finish.
func notStopping(ctx context.Context) healthz.Checker {
	return func(*http.Request) error {
		if ctx.Err() != nil {
			return errors.New("shutting down")
		}
		return nil
	}
}
