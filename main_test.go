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

package main

import (
	"bytes"
	"flag"
	"net"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestWebhookConfig(t *testing.T) {
	cases := []struct {
		name      string
		qps       float64
		burst     int
		wantQPS   float32
		wantBurst int
	}{
		{name: "default: no limit", qps: -1, wantQPS: -1},
		{name: "zero: no limit", qps: 0, burst: 50, wantQPS: -1},
		{name: "cap with burst", qps: 500, burst: 800, wantQPS: 500, wantBurst: 800},
		{name: "cap, burst twice qps", qps: 500, wantQPS: 500, wantBurst: 1000},
		{name: "tiny cap", qps: 0.2, wantQPS: 0.2, wantBurst: 1},
	}
	base := &rest.Config{Host: "https://127.0.0.1:6443", QPS: 200, Burst: 400}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := webhookConfig(base, tc.qps, tc.burst)
			if got.QPS != tc.wantQPS || got.Burst != tc.wantBurst || got.RateLimiter != nil {
				t.Errorf("QPS %v, burst %d, limiter %v; want %v, %d, nil", got.QPS, got.Burst, got.RateLimiter, tc.wantQPS, tc.wantBurst)
			}
			if base.QPS != 200 || base.Burst != 400 {
				t.Errorf("the manager's config changed: %v/%d", base.QPS, base.Burst)
			}
		})
	}
}

// addr stands in for the webhook server's Addr.
type addr struct{ a net.Addr }

func (a addr) Addr() net.Addr { return a.a }

func TestWebhookListening(t *testing.T) {
	listening := addr{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}}
	cases := []struct {
		name      string
		server    addr
		bind      string
		wantReady bool
	}{
		{name: "not listening yet", server: addr{}, bind: ":8080", wantReady: false},
		{name: "listening", server: listening, bind: ":8080", wantReady: true},
		{name: "listener disabled", server: addr{}, bind: "0", wantReady: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := webhookListening(tc.server, tc.bind)(nil)
			if (err == nil) != tc.wantReady {
				t.Errorf("ready = %v (%v), want %v", err == nil, err, tc.wantReady)
			}
		})
	}
}

// TestHelpHidesTestOnlyFlags: --help lists the manager's flags but not
// --test-poll-interval, which still parses.
func TestHelpHidesTestOnlyFlags(t *testing.T) {
	var opts options
	fs := flag.NewFlagSet("hookrun", flag.ContinueOnError)
	bindFlags(fs, &opts)
	var out bytes.Buffer
	fs.SetOutput(&out)
	usageOf(fs)()
	help := out.String()
	for _, want := range []string{"-max-concurrent-polls", "-webhook-bind-address", "-leader-elect"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not list %s:\n%s", want, help)
		}
	}
	if strings.Contains(help, "test-poll-interval") {
		t.Errorf("--help lists the test-only flag:\n%s", help)
	}
	if err := fs.Parse([]string{"--test-poll-interval=3s"}); err != nil || opts.testPollInterval.String() != "3s" {
		t.Errorf("--test-poll-interval=3s: %v, %v", err, opts.testPollInterval)
	}
}
