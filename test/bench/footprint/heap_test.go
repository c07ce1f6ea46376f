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

package footprint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/controllers"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// BenchmarkCacheHeap is a diagnostic for the footprint: the live Go heap
// of a cache built with controllers.CacheOptions holding n runs and their
// Jobs (the informers the manager starts), per run, and a heap profile in
// $HOOKRUN_BENCH_HEAP_PROFILE (a folder) to see what it is made of. It runs
// only when that variable is set.
func BenchmarkCacheHeap(b *testing.B) {
	dir := os.Getenv("HOOKRUN_BENCH_HEAP_PROFILE")
	if dir == "" || os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Skip("set HOOKRUN_BENCH_HEAP_PROFILE (and KUBEBUILDER_ASSETS) to run")
	}
	n := benchutil.EnvInt("HOOKRUN_BENCH_FOOTPRINT_RUNS", 2000)
	for range b.N {
		env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(repoRoot(b), "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
		cfg, err := env.Start()
		if err != nil {
			b.Fatal(err)
		}
		populate(b, cfg, "busy", n, 0, 0)
		live := func() uint64 {
			runtime.GC()
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before := live()
		opts := controllers.CacheOptions()
		opts.Scheme = scheme
		c, err := cache.New(cfg, opts)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = c.Start(ctx) }()
		for _, obj := range []client.Object{&hooksv1alpha1.HookRun{}, &batchv1.Job{}, &hooksv1alpha1.HookTemplate{}, &corev1.Secret{}} {
			if _, err := c.GetInformer(ctx, obj); err != nil {
				b.Fatal(err)
			}
		}
		c.WaitForCacheSync(ctx)
		time.Sleep(2 * time.Second)
		after := live()
		fmt.Printf("cache with %d runs + Jobs: live heap %.1f MiB, %.0f bytes per run+Job\n",
			n, float64(after-before)/(1<<20), float64(after-before)/float64(n))
		f, err := os.Create(filepath.Join(dir, "cache-heap.pprof"))
		if err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			_ = f.Close()
		}
		cancel()
		_ = env.Stop()
	}
}
