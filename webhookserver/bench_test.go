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

// Benchmarks.
//
//   BenchmarkIngestion: signed GitHub push deliveries over real HTTP to the
//   server the manager runs, backed by envtest, at concurrency 1, 8 and 32,
//   against the ceiling: the same client creating an equal HookRun straight
//   on the API server at the same concurrency. Run it once per level:
//
//     KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 go test -run '^$' -bench Ingestion -benchtime=1x ./webhookserver/
//
//   BenchmarkVerifyNormalise: signature check + payload normalisation per
//   provider at 7 KB and 1 MB (no control plane needed):
//
//     go test -short -run '^$' -bench VerifyNormalise -benchmem ./webhookserver/

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

type benchResult struct {
	rate     float64 // per second
	p50, p99 time.Duration
}

// sample is what some runs of one operation took.
type sample struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
}

func (s *sample) add(o sample) {
	s.n += o.n
	s.elapsed += o.elapsed
	s.lat = append(s.lat, o.lat...)
}

func (s *sample) result() benchResult {
	lat := slices.Clone(s.lat)
	slices.Sort(lat)
	return benchResult{
		rate: float64(s.n) / s.elapsed.Seconds(),
		p50:  lat[len(lat)/2],
		p99:  lat[(len(lat)*99)/100],
	}
}

// measure runs n operations on c workers and adds what they took to s.
func measure(s *sample, c, n int, op func(i int) error) error {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	errs := make(chan error, c)
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	s.elapsed += time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	s.n += n
	s.lat = append(s.lat, lat...)
	return nil
}

func BenchmarkIngestion(b *testing.B) {
	requireEnvtest(b)
	ctx := context.Background()
	ns := newNamespace(b, suite.client)
	tmpl := testTemplate(ns, v1alpha1.ProviderGitHub)
	tmpl.Spec.Match = v1alpha1.MatchSpec{Events: []string{"push"}, Repositories: []string{"acme/*"}, Refs: []string{"refs/heads/main"}}
	tmpl.Spec.Params = []v1alpha1.ParamSpec{{Name: "PUSHER", Path: "{.pusher.name}"}}
	createTemplate(b, suite.client, suite.mgr.GetClient(), tmpl, testSecret(ns, map[string]string{"secret": string(testKey)}))
	body := compact(b, fixture(b, "github/push.json"))
	url := suite.baseURL + "/hooks/" + ns + "/site"
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128}}
	run := fmt.Sprint(time.Now().UnixNano())

	// The body is the same for every delivery, so is its signature: the
	// load generator shares the CPUs with the server and should cost little.
	signed := signedHeaders("github", testKey, body, "push", "")
	deliver := func(id string) error {
		h := signed.Clone()
		h.Set("X-GitHub-Delivery", id)
		r := post(b, hc, url, h, body)
		if r.code != http.StatusAccepted {
			return fmt.Errorf("delivery %s: %d %s", id, r.code, r.body)
		}
		return nil
	}
	// The ceiling's object is the very HookRun the server stores.
	if err := deliver("prototype-" + run); err != nil {
		b.Fatal(err)
	}
	var proto v1alpha1.HookRun
	if err := suite.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: RunName("site", "prototype-"+run)}, &proto); err != nil {
		b.Fatal(err)
	}
	createRaw := func(id string) error {
		obj := &v1alpha1.HookRun{
			ObjectMeta: metav1.ObjectMeta{
				Name: RunName("ceiling", id), Namespace: ns,
				Labels: proto.Labels, OwnerReferences: proto.OwnerReferences,
			},
			Spec: *proto.Spec.DeepCopy(),
		}
		obj.Spec.Delivery.ID = id
		return suite.client.Create(ctx, obj)
	}
	// Warm up both paths (connections, caches, the API server's first
	// requests).
	var warm sample
	if err := measure(&warm, 8, 100, func(i int) error { return deliver(fmt.Sprintf("warm-%s-%d", run, i)) }); err != nil {
		b.Fatal(err)
	}
	if err := measure(&warm, 8, 100, func(i int) error { return createRaw(fmt.Sprintf("warm-%s-%d", run, i)) }); err != nil {
		b.Fatal(err)
	}

	type row struct {
		c            int
		srv, ceiling benchResult
		medianRatio  float64
	}
	var rows []row
	for _, c := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) {
			// The two sides take turns in rounds, in alternating order, so
			// that drift (etcd growing, other load on a shared machine)
			// weighs on both alike; a round is several times c operations
			// so that each measures a steady state.
			const rounds = 8
			n := max(40, 8*c) * b.N
			var srv, ceil sample
			var roundRatios []float64
			for round := range rounds {
				var s, k sample
				steps := []func() error{
					func() error {
						return measure(&k, c, n, func(i int) error { return createRaw(fmt.Sprintf("c%d-%s-%d-%d", c, run, round, i)) })
					},
					func() error {
						return measure(&s, c, n, func(i int) error { return deliver(fmt.Sprintf("d%d-%s-%d-%d", c, run, round, i)) })
					},
				}
				if round%2 == 1 {
					slices.Reverse(steps)
				}
				for _, step := range steps {
					if err := step(); err != nil {
						b.Fatal(err)
					}
				}
				roundRatios = append(roundRatios, k.elapsed.Seconds()/s.elapsed.Seconds())
				srv.add(s)
				ceil.add(k)
			}
			slices.Sort(roundRatios)
			r := row{c: c, srv: srv.result(), ceiling: ceil.result(), medianRatio: roundRatios[rounds/2]}
			rows = append(rows, r)
			b.ReportMetric(r.srv.rate, "deliveries/s")
			b.ReportMetric(float64(r.srv.p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(r.srv.p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(r.ceiling.rate, "ceiling-creates/s")
			b.ReportMetric(r.srv.rate/r.ceiling.rate, "ratio")
			b.ReportMetric(r.medianRatio, "median-round-ratio")
		})
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "\n%-11s %13s %9s %9s %17s %11s %11s %6s %12s\n", "concurrency", "deliveries/s", "p50", "p99", "ceiling creates/s", "ceiling p50", "ceiling p99", "ratio", "median round")
	for _, r := range rows {
		fmt.Fprintf(&out, "%-11d %13.0f %9s %9s %17.0f %11s %11s %6.2f %12.2f\n", r.c, r.srv.rate,
			r.srv.p50.Round(10*time.Microsecond), r.srv.p99.Round(10*time.Microsecond), r.ceiling.rate,
			r.ceiling.p50.Round(10*time.Microsecond), r.ceiling.p99.Round(10*time.Microsecond), r.srv.rate/r.ceiling.rate, r.medianRatio)
	}
	fmt.Print(out.String())
}

// padPayload grows a fixture to about size bytes with more commits, the way
// a big push grows a real payload.
func padPayload(b testing.TB, fixtureBody []byte, size int) []byte {
	b.Helper()
	var doc map[string]any
	if err := json.Unmarshal(fixtureBody, &doc); err != nil {
		b.Fatal(err)
	}
	commit := map[string]any{
		"id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "message": "Update the deploy scripts\n\nAnd the docs that go with them.",
		"timestamp": "2026-05-20T10:21:58+02:00", "url": "https://git.example.com/acme/site/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
		"author": map[string]any{"name": "Mona Lisa Octocat", "email": "mona@example.com"},
		"added":  []any{"deploy/new.sh"}, "modified": []any{"README.md", "deploy/run.sh"}, "removed": []any{},
	}
	commits, _ := doc["commits"].([]any)
	for {
		out, err := json.Marshal(doc)
		if err != nil {
			b.Fatal(err)
		}
		if len(out) >= size {
			return out
		}
		grow := max(1, (size-len(out))/450)
		for range grow {
			commits = append(commits, commit)
		}
		doc["commits"] = commits
	}
}

func BenchmarkVerifyNormalise(b *testing.B) {
	cases := []struct {
		provider v1alpha1.Provider
		fixture  string
		event    string
	}{
		{v1alpha1.ProviderGitHub, "github/push.json", "push"},
		{v1alpha1.ProviderGitLab, "gitlab/push.json", "Push Hook"},
		{v1alpha1.ProviderGitea, "gitea/push.json", "push"},
		{v1alpha1.ProviderBitbucket, "bitbucket/cloud-push.json", "repo:push"},
		{v1alpha1.ProviderGeneric, "generic/push.json", "push"},
	}
	for _, tc := range cases {
		for _, size := range []struct {
			name  string
			bytes int
		}{{"7KB", 7 << 10}, {"1MB", 1 << 20}} {
			b.Run(string(tc.provider)+"/"+size.name, func(b *testing.B) {
				body := padPayload(b, fixture(b, tc.fixture), size.bytes)
				h := signedHeaders(string(tc.provider), testKey, body, tc.event, "bench")
				p := providers[tc.provider]
				in := &verifyInput{header: h, body: body, keys: [][]byte{testKey}, now: time.Now(), tolerance: time.Minute}
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if err := p.verify(in); err != nil {
						b.Fatal(err)
					}
					ev, err := p.normalise(h, body)
					if err != nil || len(ev.candidates) == 0 {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
