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
	"io"
	"net/http"
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
// only when that variable is set. $HOOKRUN_BENCH_FOOTPRINT_PHASE (Running,
// Succeeded or Failed) is the phase the runs and their Jobs are left in.
func BenchmarkCacheHeap(b *testing.B) {
	dir := os.Getenv("HOOKRUN_BENCH_HEAP_PROFILE")
	if dir == "" || os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Skip("set HOOKRUN_BENCH_HEAP_PROFILE (and KUBEBUILDER_ASSETS) to run")
	}
	n := benchutil.EnvInt("HOOKRUN_BENCH_FOOTPRINT_RUNS", 2000)
	phase := hooksv1alpha1.HookRunPhase(benchutil.EnvString("HOOKRUN_BENCH_FOOTPRINT_PHASE", string(hooksv1alpha1.PhaseRunning)))
	for range b.N {
		env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(repoRoot(b), "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
		cfg, err := env.Start()
		if err != nil {
			b.Fatal(err)
		}
		populateIn(b, cfg, "busy", n, 0, 0, phase)
		live := func() uint64 {
			runtime.GC()
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before := live()
		// Every allocation from here on is sampled, so that the profile's
		// inuse_space adds up to what the cache holds.
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = 512 * 1024 }()
		opts := controllers.CacheOptions()
		opts.Scheme = scheme
		c, err := cache.New(cfg, opts)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		// The manager's field index on runs (controllers.SetupIndexes).
		if err := c.IndexField(ctx, &hooksv1alpha1.HookRun{}, hooksv1alpha1.IndexRunTemplate, func(obj client.Object) []string {
			return []string{obj.(*hooksv1alpha1.HookRun).Spec.TemplateRef.Name}
		}); err != nil {
			b.Fatal(err)
		}
		go func() { _ = c.Start(ctx) }()
		// One kind at a time, so that the growth of the live heap is what
		// that kind's informer holds.
		last := live()
		for _, kind := range []struct {
			name string
			obj  client.Object
		}{{"HookRun", &hooksv1alpha1.HookRun{}}, {"Job", &batchv1.Job{}}, {"HookTemplate", &hooksv1alpha1.HookTemplate{}}, {"Secret", &corev1.Secret{}}} {
			if _, err := c.GetInformer(ctx, kind.obj); err != nil {
				b.Fatal(err)
			}
			c.WaitForCacheSync(ctx)
			now := live()
			fmt.Printf("%-12s informer: live heap +%.2f MiB, %.0f bytes per object of %d\n", kind.name,
				float64(int64(now)-int64(last))/(1<<20), float64(int64(now)-int64(last))/float64(max(n, 1)), n)
			last = now
		}
		after := live()
		fmt.Printf("cache with %d %s runs + Jobs: live heap %.1f MiB, %.0f bytes per run+Job\n",
			n, phase, float64(after-before)/(1<<20), float64(after-before)/float64(n))
		f, err := os.Create(filepath.Join(dir, "cache-heap.pprof"))
		if err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			_ = f.Close()
		}
		cancel()
		_ = env.Stop()
	}
}

// BenchmarkManagerHeap is the other diagnostic: one start of the manager
// process itself (built with testdata/pprof.go.txt added, which serves
// net/http/pprof) against n runs and their Jobs; once it has reconciled
// them and settled it writes the process's heap profile (after a GC) to
// $HOOKRUN_BENCH_HEAP_PROFILE/manager-heap.pprof. The allocations of the
// start are sampled every $HOOKRUN_BENCH_HEAP_RATE bytes (default 4096).
func BenchmarkManagerHeap(b *testing.B) {
	dir := os.Getenv("HOOKRUN_BENCH_HEAP_PROFILE")
	if dir == "" || os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Skip("set HOOKRUN_BENCH_HEAP_PROFILE (and KUBEBUILDER_ASSETS) to run")
	}
	n := benchutil.EnvInt("HOOKRUN_BENCH_FOOTPRINT_RUNS", 10000)
	rate := benchutil.EnvInt("HOOKRUN_BENCH_HEAP_RATE", 4096)
	settle := time.Duration(benchutil.EnvInt("HOOKRUN_BENCH_FOOTPRINT_SETTLE_SECONDS", 10)) * time.Second
	for range b.N {
		tmp := b.TempDir()
		root := repoRoot(b)
		bin := filepath.Join(tmp, "hookrun-pprof")
		buildManager(b, tmp, bin, map[string]string{
			filepath.Join(root, "zz_pprof.go"): filepath.Join(root, "test", "bench", "footprint", "testdata", "pprof.go.txt"),
		})
		env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
		cfg, err := env.Start()
		if err != nil {
			b.Fatal(err)
		}
		kubeconfig := filepath.Join(tmp, "kubeconfig")
		writeKubeconfig(b, cfg, kubeconfig)
		populate(b, cfg, "busy", n, 20, 256)

		pprofAddr := fmt.Sprintf("127.0.0.1:%d", freePort(b))
		m := startManager(b, bin, kubeconfig, filepath.Join(dir, "manager.log"),
			"HOOKRUN_PPROF_ADDR="+pprofAddr, fmt.Sprintf("HOOKRUN_MEMPROFILERATE=%d", rate))
		m.waitReconciled(b, n, 10*time.Minute)
		time.Sleep(settle)
		st, err := benchutil.ReadProc(m.Cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		metrics, err := scrape(m.metrics)
		if err != nil {
			b.Fatal(err)
		}
		// A heap profile after a GC: inuse_space is the live heap.
		if err := download("http://"+pprofAddr+"/debug/pprof/heap?gc=1", filepath.Join(dir, "manager-heap.pprof")); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("manager with %d runs + Jobs: RSS %.1f MiB, peak %.1f MiB, heap in use %.1f MiB, next GC %.1f MiB\n",
			n, benchutil.MiB(st.RSS), benchutil.MiB(st.HWM), sum(metrics, "go_memstats_heap_inuse_bytes")/(1<<20),
			sum(metrics, "go_memstats_next_gc_bytes")/(1<<20))
		m.Stop()
		_ = env.Stop()
	}
}

// download writes what url answers to path.
func download(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
