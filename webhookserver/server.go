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

package webhookserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/internal/delivery"
)

// The webhook server reads templates and their secrets through the manager's
// cache and creates HookRuns.
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hooktemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=hooks.hookrun.dev,resources=hookruns,verbs=create
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

// Defaults for Options.
const (
	DefaultBindAddress        = ":8080"
	DefaultMaxBodyBytes int64 = 25 << 20 // GitHub's own cap on a payload
	DefaultTolerance          = 5 * time.Minute
)

// Timeouts of the HTTP server. A git host gives up on a delivery after about
// 10 s (GitHub) to 30 s (Bitbucket); ReadTimeout leaves room for a 25 MiB body
// on a slow link.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 30 * time.Second
	// apiTimeout bounds the cache reads and the HookRun create of one request,
	// so that a hung API server turns into a 503 before the sender times out.
	apiTimeout = 10 * time.Second
)

// Options configure a Server. The zero value of every field means its default.
type Options struct {
	// BindAddress is the address to listen on (default ":8080"); "0" disables
	// the listener (Start then only waits for its context to end).
	BindAddress string
	// CertDir, when set, holds tls.crt and tls.key and the server speaks HTTPS.
	// The files are watched and reloaded when they change.
	CertDir string
	// MaxBodyBytes caps a request body (default 25 MiB); larger bodies get 413.
	MaxBodyBytes int64
	// SignatureTolerance is how far a Standard Webhooks timestamp may be from
	// Now (default 5m); a template's spec.source.signatureTolerance wins.
	SignatureTolerance time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RunEnv computes the environment a run's Job gets, for the dry-run
	// answer (default delivery.Env, which the Job's builder uses too).
	RunEnv func(tmpl *v1alpha1.HookTemplate, run *v1alpha1.HookRun) []corev1.EnvVar
	// ChangedFiles, when set, fills in the changed files of a delivery whose
	// payload's list may be incomplete (changes.go). Nil: such a delivery
	// matches match.paths and the dry run says why.
	ChangedFiles ChangedFilesFetcher
}

func (o Options) withDefaults() Options {
	if o.BindAddress == "" {
		o.BindAddress = DefaultBindAddress
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.SignatureTolerance <= 0 {
		o.SignatureTolerance = DefaultTolerance
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RunEnv == nil {
		o.RunEnv = delivery.Env
	}
	return o
}

// Server receives webhook deliveries on POST /hooks/{namespace}/{template}
// and stores one HookRun per accepted delivery. It is an http.Handler and a
// manager.Runnable that runs on every replica (not leader-elected).
type Server struct {
	reader client.Reader
	writer Creator
	scheme *runtime.Scheme
	opts   Options
	// compiled are the templates' compiled specs (see prepare).
	compiled compiledTemplates

	// addr is the address Start listens on, set once listening.
	mu   sync.Mutex
	addr net.Addr
}

var (
	_ http.Handler                   = (*Server)(nil)
	_ manager.Runnable               = (*Server)(nil)
	_ manager.LeaderElectionRunnable = (*Server)(nil)
)

// New returns a Server that reads HookTemplates and Secrets through reader
// (the manager's cached client) and creates HookRuns through writer (a
// client, or NewCreator's).
func New(reader client.Reader, writer Creator, scheme *runtime.Scheme, opts Options) *Server {
	return &Server{reader: reader, writer: writer, scheme: scheme, opts: opts.withDefaults()}
}

// NeedLeaderElection is false: every replica answers webhooks.
func (s *Server) NeedLeaderElection() bool { return false }

// Addr is the address the server listens on, or nil before Start listens.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Start listens on BindAddress and serves until ctx ends, then shuts down
// gracefully: requests in flight are finished (up to 30 s) before it returns.
func (s *Server) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("webhookserver")
	if s.opts.BindAddress == "0" {
		log.Info("webhook listener disabled")
		<-ctx.Done()
		return nil
	}

	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Requests keep the logger but not the cancellation of ctx: a shutdown
		// lets the requests in flight finish their HookRun create.
		BaseContext: func(net.Listener) context.Context {
			return logf.IntoContext(context.WithoutCancel(ctx), log)
		},
	}

	ln, err := net.Listen("tcp", s.opts.BindAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.BindAddress, err)
	}
	if s.opts.CertDir != "" {
		watcher, err := certwatcher.New(filepath.Join(s.opts.CertDir, "tls.crt"), filepath.Join(s.opts.CertDir, "tls.key"))
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("load webhook certificate from %s: %w", s.opts.CertDir, err)
		}
		go func() {
			if err := watcher.Start(ctx); err != nil {
				log.Error(err, "certificate watcher stopped")
			}
		}()
		srv.TLSConfig = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: watcher.GetCertificate,
		}
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()

	shutdownDone := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		shutdownDone <- srv.Shutdown(sctx)
	}()

	log.Info("serving webhooks", "address", ln.Addr().String(), "tls", s.opts.CertDir != "")
	serve := srv.Serve
	if srv.TLSConfig != nil {
		serve = func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
	}
	if err := serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve webhooks: %w", err)
	}
	if err := <-shutdownDone; err != nil {
		return fmt.Errorf("shut down webhook server: %w", err)
	}
	log.Info("webhook server stopped")
	return nil
}
