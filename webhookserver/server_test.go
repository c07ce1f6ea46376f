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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// startServer runs s.Start in the background and waits until it listens.
func startServer(t *testing.T, s *Server) (cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- s.Start(ctx) }()
	eventually(t, 10*time.Second, func() error {
		select {
		case err := <-ch:
			t.Fatalf("Start returned early: %v", err)
		default:
		}
		if s.Addr() == nil {
			return errors.New("not listening yet")
		}
		return nil
	})
	t.Cleanup(cancel)
	return cancel, ch
}

// blockingReader holds the first Get until released, so that a request is
// in flight when the server is told to stop.
type blockingReader struct {
	client.Reader
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (b *blockingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	b.once.Do(func() {
		close(b.entered)
		<-b.release
	})
	return b.Reader.Get(ctx, key, obj, opts...)
}

func TestStartFinishesRequestsInFlight(t *testing.T) {
	env := newFakeEnv(t, Options{}, nil, testTemplate("web", v1alpha1.ProviderGitHub), testSecret("web", map[string]string{"secret": string(testKey)}))
	br := &blockingReader{Reader: env.client, entered: make(chan struct{}), release: make(chan struct{})}
	s := New(br, env.client, newScheme(t), Options{BindAddress: "127.0.0.1:0", Now: testClock})
	cancel, done := startServer(t, s)
	url := "http://" + s.Addr().String() + "/hooks/web/site"

	body := compact(t, fixture(t, "github/push.json"))
	answer := make(chan response, 1)
	go func() {
		answer <- post(t, httpClient, url, signedHeaders("github", testKey, body, "push", "in-flight"), body)
	}()
	<-br.entered // the request is being handled

	cancel()
	// Shutdown has begun once the listener refuses new connections.
	eventually(t, 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", s.Addr().String(), time.Second)
		if err == nil {
			_ = c.Close()
			return errors.New("still accepting connections")
		}
		return nil
	})
	close(br.release)

	r := <-answer
	if r.code != http.StatusAccepted {
		t.Fatalf("request in flight during shutdown: %d %s, want 202", r.code, r.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Start: %v", err)
	}
	if n := len(env.runs(t, "web")); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

func TestStartServesTLSFromCertDir(t *testing.T) {
	dir := t.TempDir()
	pool := writeSelfSignedCert(t, dir)
	env := newFakeEnv(t, Options{}, nil)
	s := New(env.client, env.client, newScheme(t), Options{BindAddress: "127.0.0.1:0", CertDir: dir})
	cancel, done := startServer(t, s)

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+s.Addr().String()+"/hooks/web/site", nil)
	r := doRequest(t, hc, req)
	if r.code != http.StatusMethodNotAllowed {
		t.Fatalf("GET over TLS: %d %s, want 405", r.code, r.body)
	}
	errorMessage(t, r)

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func TestStartWithoutListener(t *testing.T) {
	s := New(nil, nil, newScheme(t), Options{BindAddress: "0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Start: %v", err)
	}
	if s.Addr() != nil || s.NeedLeaderElection() {
		t.Errorf("addr %v, NeedLeaderElection %v", s.Addr(), s.NeedLeaderElection())
	}
}

func TestStartReportsAListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	s := New(nil, nil, newScheme(t), Options{BindAddress: ln.Addr().String()})
	if err := s.Start(context.Background()); err == nil {
		t.Fatal("Start on a busy port: want an error")
	}
}

func TestMetricsAreRegistered(t *testing.T) {
	env := newFakeEnv(t, Options{}, nil, testTemplate("web", v1alpha1.ProviderGitHub), testSecret("web", map[string]string{"secret": "k"}))
	env.do(t, http.MethodPost, "/hooks/web/site", headers("X-GitHub-Event", "push"), []byte("{}"))
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		found[f.GetName()] = true
	}
	for _, name := range []string{"hookrun_webhook_requests_total", "hookrun_webhook_signature_failures_total", "hookrun_webhook_duplicates_total", "hookrun_webhook_request_duration_seconds"} {
		if !found[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
}

// writeSelfSignedCert writes tls.crt and tls.key for 127.0.0.1 into dir.
func writeSelfSignedCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hookrun-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
