//go:build patchcost

package patchcost

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// steadyCase: setup prepares n objects (unmeasured) and returns op, called
// for object i in round k (k alternates the written state).
type steadyCase struct {
	name, desc string
	setup      func(ctx context.Context, e *env, ns string) (func(ctx context.Context, i, k int) error, error)
}

func crdSteady(name, desc, variant string, prepare func(ctx context.Context, e *env, ri dynamic.ResourceInterface, objs []*unstructured.Unstructured) error,
	op func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, k int) (*unstructured.Unstructured, error)) steadyCase {
	return steadyCase{name: name, desc: desc, setup: func(ctx context.Context, e *env, ns string) (func(ctx context.Context, i, k int) error, error) {
		gvr := e.gvrs[variant]
		ri := e.dyn.Resource(gvr).Namespace(ns)
		objs := make([]*unstructured.Unstructured, e.n)
		if err := e.parallel(ctx, func(ctx context.Context, i int) error {
			o, err := ri.Create(ctx, runObject(gvr, ns, i), metav1.CreateOptions{})
			objs[i] = o
			return err
		}); err != nil {
			return nil, err
		}
		if prepare != nil {
			if err := prepare(ctx, e, ri, objs); err != nil {
				return nil, err
			}
		}
		return func(ctx context.Context, i, k int) error {
			o, err := op(ctx, ri, objs[i], k)
			if apierrors.IsConflict(err) { // a request cut off at the end of the last window went through
				if objs[i], err = ri.Get(ctx, objs[i].GetName(), metav1.GetOptions{}); err != nil {
					return err
				}
				o, err = op(ctx, ri, objs[i], k)
			}
			if err == nil && o != nil {
				objs[i] = o
			}
			return err
		}, nil
	}}
}

func statusFor(name string, k int) hooksv1alpha1.HookRunStatus {
	if k%2 == 0 {
		return firstStatus(name)
	}
	return secondStatus(name)
}

func mergeToggle(withRV bool) func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, k int) (*unstructured.Unstructured, error) {
	return func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, k int) (*unstructured.Unstructured, error) {
		rv := ""
		if withRV {
			rv = obj.GetResourceVersion()
		}
		return ri.Patch(ctx, obj.GetName(), types.MergePatchType, mergeBody(statusFor(obj.GetName(), k), rv), metav1.PatchOptions{}, "status")
	}
}

func steadyCases() []steadyCase {
	var cs []steadyCase
	for _, v := range variants {
		cs = append(cs, crdSteady(v.name, "merge patch /status +RV; "+v.desc, v.name, nil, mergeToggle(true)))
	}
	cs = append(cs,
		crdSteady("gen/merge-noRV", "merge patch /status, no resourceVersion", "gen", nil, mergeToggle(false)),
		crdSteady("gen/update", "PUT /status (UpdateStatus) of the whole object", "gen", nil,
			func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, k int) (*unstructured.Unstructured, error) {
				o := obj.DeepCopy()
				st, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(ptr.To(statusFor(obj.GetName(), k)))
				o.Object["status"] = st
				return ri.UpdateStatus(ctx, o, metav1.UpdateOptions{})
			}),
		crdSteady("gen/apply", "server-side apply /status (force)", "gen", nil,
			func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, k int) (*unstructured.Unstructured, error) {
				body := mustJSON(map[string]any{"apiVersion": obj.GetAPIVersion(), "kind": "HookRun",
					"metadata": map[string]any{"name": obj.GetName(), "namespace": obj.GetNamespace()}, "status": statusFor(obj.GetName(), k)})
				return ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "hookrun-status", Force: ptr.To(true)}, "status")
			}),
		crdSteady("gen/managers", "merge patch /status +RV, object with 5 managedFields entries", "gen",
			func(ctx context.Context, e *env, ri dynamic.ResourceInterface, objs []*unstructured.Unstructured) error {
				for k := range 4 {
					if err := e.parallel(ctx, func(ctx context.Context, i int) error {
						body := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/a%d":"value-%d"}}}`, k, k)
						o, err := ri.Patch(ctx, objs[i].GetName(), types.MergePatchType, []byte(body), metav1.PatchOptions{FieldManager: fmt.Sprintf("manager-%d", k)})
						if err == nil {
							objs[i] = o
						}
						return err
					}); err != nil {
						return err
					}
				}
				return nil
			}, mergeToggle(true)),
		steadyCase{name: "job-create", desc: "create batch/v1 Job (control)", setup: func(ctx context.Context, e *env, ns string) (func(ctx context.Context, i, k int) error, error) {
			var next atomic.Int64
			return func(ctx context.Context, i, k int) error {
				_, err := e.kube.BatchV1().Jobs(ns).Create(ctx, jobObject(ns, int(next.Add(1))), metav1.CreateOptions{})
				return err
			}, nil
		}},
		steadyCase{name: "job-status-merge", desc: "merge patch Job /status +RV (control)", setup: func(ctx context.Context, e *env, ns string) (func(ctx context.Context, i, k int) error, error) {
			objs := make([]*batchv1.Job, e.n)
			if err := e.parallel(ctx, func(ctx context.Context, i int) error {
				j, err := e.kube.BatchV1().Jobs(ns).Create(ctx, jobObject(ns, i), metav1.CreateOptions{})
				if err != nil {
					return err
				}
				var st batchv1.JobStatus
				benchutil.SetJobStarted(&st, metav1.Now())
				objs[i], err = e.kube.BatchV1().Jobs(ns).Patch(ctx, j.Name, types.MergePatchType, mustJSON(map[string]any{"status": st}), metav1.PatchOptions{}, "status")
				return err
			}); err != nil {
				return nil, err
			}
			return func(ctx context.Context, i, k int) error {
				body := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"status":{"ready":%d}}`, objs[i].ResourceVersion, k%2)
				j, err := e.kube.BatchV1().Jobs(ns).Patch(ctx, objs[i].Name, types.MergePatchType, []byte(body), metav1.PatchOptions{}, "status")
				if apierrors.IsConflict(err) {
					if objs[i], err = e.kube.BatchV1().Jobs(ns).Get(ctx, objs[i].Name, metav1.GetOptions{}); err != nil {
						return err
					}
					body = fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"status":{"ready":%d}}`, objs[i].ResourceVersion, k%2)
					j, err = e.kube.BatchV1().Jobs(ns).Patch(ctx, objs[i].Name, types.MergePatchType, []byte(body), metav1.PatchOptions{}, "status")
				}
				if err == nil {
					objs[i] = j
				}
				return err
			}, nil
		}},
		steadyCase{name: "cm-merge", desc: "merge patch ConfigMap +RV (control)", setup: func(ctx context.Context, e *env, ns string) (func(ctx context.Context, i, k int) error, error) {
			objs := make([]*corev1.ConfigMap, e.n)
			if err := e.parallel(ctx, func(ctx context.Context, i int) error {
				o, err := e.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm(ns, i), metav1.CreateOptions{})
				objs[i] = o
				return err
			}); err != nil {
				return nil, err
			}
			return func(ctx context.Context, i, k int) error {
				body := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"data":{"phase":"p%d"}}`, objs[i].ResourceVersion, k%2)
				o, err := e.kube.CoreV1().ConfigMaps(ns).Patch(ctx, objs[i].Name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
				if apierrors.IsConflict(err) {
					if objs[i], err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, objs[i].Name, metav1.GetOptions{}); err != nil {
						return err
					}
					body = fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"data":{"phase":"p%d"}}`, objs[i].ResourceVersion, k%2)
					o, err = e.kube.CoreV1().ConfigMaps(ns).Patch(ctx, objs[i].Name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
				}
				if err == nil {
					objs[i] = o
				}
				return err
			}, nil
		}},
	)
	return cs
}

// runSteady drives op from e.workers goroutines (worker w owns objects
// w, w+workers, …) for d and returns apiserver ms/request and requests.
func runSteady(ctx context.Context, e *env, op func(ctx context.Context, i, k int) error, d time.Duration) (float64, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var reqs atomic.Int64
	var firstErr error
	var once sync.Once
	m := newMeter(e.apiPID)
	var wg sync.WaitGroup
	for w := range e.workers {
		wg.Go(func() {
			for k := 0; ctx.Err() == nil; k++ {
				for i := w; i < e.n && ctx.Err() == nil; i += e.workers {
					err := op(ctx, i, k)
					if err == nil {
						reqs.Add(1)
					} else if ctx.Err() == nil && !benchutil.Transient(err) {
						once.Do(func() { firstErr = err })
						cancel()
					}
				}
			}
		})
	}
	wg.Wait()
	cpu, _ := m.stop()
	return cpu[0] / float64(reqs.Load()), reqs.Load(), firstErr
}

func TestPatchCostSteady(t *testing.T) {
	e := startEnv(t)
	ctx := context.Background()
	all := steadyCases()
	if want := envList("PATCHCOST_CASES", ""); len(want) > 0 {
		all = slices.DeleteFunc(all, func(c steadyCase) bool { return !slices.Contains(want, c.name) })
	}
	if slices.ContainsFunc(all, func(c steadyCase) bool { return c.name == "vap" }) {
		if err := installVAP(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ops := map[string]func(ctx context.Context, i, k int) error{}
	for _, c := range all {
		ns := strings.ToLower("s-" + strings.ReplaceAll(c.name, "/", "-"))
		if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		op, err := c.setup(ctx, e, ns)
		if err != nil {
			t.Fatalf("setup %s: %v", c.name, err)
		}
		ops[c.name] = op
	}
	d := time.Duration(benchutil.EnvInt("PATCHCOST_SECONDS", 4)) * time.Second
	// Warm-up, not recorded.
	if _, _, err := runSteady(ctx, e, ops[all[0].name], 2*time.Second); err != nil {
		t.Fatal(err)
	}
	results := map[string][]float64{}
	for rep := range benchutil.EnvInt("PATCHCOST_REPS", 3) {
		for k := range all {
			c := all[(k+rep)%len(all)]
			ms, n, err := runSteady(ctx, e, ops[c.name], d)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			results[c.name] = append(results[c.name], ms)
			fmt.Printf("rep %d  %-18s %5d requests  apiserver %.2f ms/req\n", rep+1, c.name, n, ms)
		}
	}
	fmt.Printf("\n| case | what | apiserver ms/req median (range) | reps |\n|---|---|---|---|\n")
	for _, c := range all {
		v := slices.Clone(results[c.name])
		sort.Float64s(v)
		lo, hi := benchutil.MinMax(v)
		fmt.Printf("| %s | %s | %.2f (%.2f–%.2f) | %v |\n", c.name, c.desc, benchutil.Median(v), lo, hi, fmtList(results[c.name]))
	}
}

func fmtList(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(s, " ")
}
