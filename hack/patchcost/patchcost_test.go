//go:build patchcost

// Package patchcost is a throwaway measurement: what does kube-apiserver
// spend its CPU on for a HookRun status patch, and which change to the CRD
// or to the way status is written makes it cheaper?
//
//	KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 go test -tags patchcost ./hack/patchcost -run 'TestPatchCost$' -v -timeout 30m
//	KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.1 go test -tags patchcost ./hack/patchcost -run TestPatchCostSteady -v -timeout 30m
//
// TestPatchCost: each case on n fresh objects (first status write); the
// CRD variants are the `variants` below, loaded side by side under groups
// <variant>.patchcost.dev. TestPatchCostSteady: each case for
// PATCHCOST_SECONDS (4) of patches alternating two statuses on n objects,
// cases interleaved per repetition (less noisy). Results of the runs made
// for the report are in out/ (run*.txt; top-*.txt: the first lines of `go tool pprof -top -cum` of each profile).
//
// Env: PATCHCOST_N (300), PATCHCOST_REPS (3), PATCHCOST_WORKERS (8),
// PATCHCOST_CASES (comma list, default all), PATCHCOST_PROFILE (comma list
// of cases to take a 10 s kube-apiserver CPU profile of, default "gen"),
// PATCHCOST_PROFILE_SECONDS (10). Profiles go to hack/patchcost/out/.
package patchcost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/test/bench/benchutil"
)

// ---------------------------------------------------------------- CRD variants

type crdVariant struct {
	name   string
	desc   string
	mutate func(s *apiextv1.JSONSchemaProps)
}

func walk(s *apiextv1.JSONSchemaProps, fn func(*apiextv1.JSONSchemaProps)) {
	if s == nil {
		return
	}
	fn(s)
	for k, p := range s.Properties {
		walk(&p, fn)
		s.Properties[k] = p
	}
	if s.Items != nil {
		walk(s.Items.Schema, fn)
	}
	if s.AdditionalProperties != nil {
		walk(s.AdditionalProperties.Schema, fn)
	}
}

func prop(s *apiextv1.JSONSchemaProps, path ...string) *apiextv1.JSONSchemaProps {
	for _, p := range path {
		if p == "[]" {
			s = s.Items.Schema
			continue
		}
		v := s.Properties[p]
		s = &v
	}
	return s
}

func setProp(s *apiextv1.JSONSchemaProps, name string, fn func(*apiextv1.JSONSchemaProps)) {
	p := s.Properties[name]
	fn(&p)
	s.Properties[name] = p
}

var preserve = apiextv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}

var variants = []crdVariant{
	{name: "gen", desc: "CRD as generated", mutate: func(*apiextv1.JSONSchemaProps) {}},
	{name: "nocel", desc: "no x-kubernetes-validations (CEL)", mutate: func(s *apiextv1.JSONSchemaProps) {
		walk(s, func(p *apiextv1.JSONSchemaProps) { p.XValidations = nil })
	}},
	{name: "nocondval", desc: "status.conditions items without pattern/enum/maxLength/minLength/minimum", mutate: func(s *apiextv1.JSONSchemaProps) {
		setProp(s, "status", func(st *apiextv1.JSONSchemaProps) {
			setProp(st, "conditions", func(c *apiextv1.JSONSchemaProps) {
				walk(c.Items.Schema, func(p *apiextv1.JSONSchemaProps) {
					p.Pattern, p.Enum, p.MaxLength, p.MinLength, p.Minimum = "", nil, nil, nil, nil
				})
			})
		})
	}},
	{name: "atomiccond", desc: "status.conditions x-kubernetes-list-type atomic (no list-map)", mutate: func(s *apiextv1.JSONSchemaProps) {
		setProp(s, "status", func(st *apiextv1.JSONSchemaProps) {
			setProp(st, "conditions", func(c *apiextv1.JSONSchemaProps) {
				c.XListType, c.XListMapKeys = ptr.To("atomic"), nil
			})
		})
	}},
	{name: "noval", desc: "no value validation anywhere (no CEL, pattern, enum, format, min/max*)", mutate: func(s *apiextv1.JSONSchemaProps) {
		walk(s, func(p *apiextv1.JSONSchemaProps) {
			p.XValidations, p.Pattern, p.Enum, p.Format = nil, "", nil, ""
			p.MaxLength, p.MinLength, p.Minimum, p.Maximum, p.MaxProperties, p.MinProperties = nil, nil, nil, nil, nil, nil
		})
	}},
	{name: "celfield", desc: "spec CEL rules moved onto the fields (self == oldSelf on templateRef, delivery, params)", mutate: func(s *apiextv1.JSONSchemaProps) {
		setProp(s, "spec", func(sp *apiextv1.JSONSchemaProps) {
			sp.XValidations = nil
			for _, f := range []string{"templateRef", "delivery", "params"} {
				setProp(sp, f, func(p *apiextv1.JSONSchemaProps) {
					p.XValidations = apiextv1.ValidationRules{{Rule: "self == oldSelf", Message: "spec." + f + " is immutable"}}
				})
			}
			setProp(sp, "cancel", func(p *apiextv1.JSONSchemaProps) {
				p.XValidations = apiextv1.ValidationRules{{Rule: "!oldSelf || self", Message: "spec.cancel cannot be undone"}}
			})
		})
	}},
	{name: "celmin", desc: "only the templateRef and cancel CEL rules (no delivery/params equality)", mutate: func(s *apiextv1.JSONSchemaProps) {
		setProp(s, "spec", func(sp *apiextv1.JSONSchemaProps) {
			sp.XValidations = apiextv1.ValidationRules{sp.XValidations[0], sp.XValidations[3]}
		})
	}},
	{name: "vap", desc: "no CEL in the CRD; the same 4 rules in a ValidatingAdmissionPolicy on UPDATE of hookruns (not hookruns/status)", mutate: func(s *apiextv1.JSONSchemaProps) {
		walk(s, func(p *apiextv1.JSONSchemaProps) { p.XValidations = nil })
	}},
	{name: "celleaf", desc: "spec CEL rules as self == oldSelf on each leaf field (delivery.*, templateRef.name) and on params", mutate: func(s *apiextv1.JSONSchemaProps) {
		setProp(s, "spec", func(sp *apiextv1.JSONSchemaProps) {
			sp.XValidations = nil
			rule := func(p *apiextv1.JSONSchemaProps) {
				p.XValidations = apiextv1.ValidationRules{{Rule: "self == oldSelf", Message: "is immutable"}}
			}
			setProp(sp, "templateRef", func(p *apiextv1.JSONSchemaProps) { setProp(p, "name", rule) })
			setProp(sp, "delivery", func(p *apiextv1.JSONSchemaProps) {
				for k := range p.Properties {
					setProp(p, k, rule)
				}
			})
			setProp(sp, "params", rule)
			setProp(sp, "cancel", func(p *apiextv1.JSONSchemaProps) {
				p.XValidations = apiextv1.ValidationRules{{Rule: "!oldSelf || self", Message: "spec.cancel cannot be undone"}}
			})
		})
	}},
	{name: "statuspreserve", desc: "status: x-kubernetes-preserve-unknown-fields, no schema", mutate: func(s *apiextv1.JSONSchemaProps) {
		s.Properties["status"] = preserve
	}},
	{name: "preserveall", desc: "spec and status: x-kubernetes-preserve-unknown-fields (no CEL)", mutate: func(s *apiextv1.JSONSchemaProps) {
		s.Properties["status"] = preserve
		s.Properties["spec"] = preserve
	}},
}

func loadCRDs(t *testing.T) ([]*apiextv1.CustomResourceDefinition, map[string]schema.GroupVersionResource) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "hooks.hookrun.dev_hookruns.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crds []*apiextv1.CustomResourceDefinition
	gvrs := map[string]schema.GroupVersionResource{}
	for _, v := range variants {
		crd := &apiextv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			t.Fatal(err)
		}
		group := v.name + ".patchcost.dev"
		crd.Spec.Group = group
		crd.Name = crd.Spec.Names.Plural + "." + group
		crd.Spec.Names.ShortNames, crd.Spec.Names.Categories = nil, nil
		v.mutate(crd.Spec.Versions[0].Schema.OpenAPIV3Schema)
		if os.Getenv("PATCHCOST_DUMP") != "" {
			out, _ := yaml.Marshal(crd)
			_ = os.MkdirAll("out", 0o755)
			_ = os.WriteFile(filepath.Join("out", "crd-"+v.name+".yaml"), out, 0o644)
		}
		crds = append(crds, crd)
		gvrs[v.name] = schema.GroupVersionResource{Group: group, Version: "v1alpha1", Resource: "hookruns"}
	}
	return crds, gvrs
}

// ---------------------------------------------------------------- objects

const templateUID = "6b5f0e4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

func runObject(gvr schema.GroupVersionResource, ns string, i int) *unstructured.Unstructured {
	received := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	run := &hooksv1alpha1.HookRun{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("site00-%06d", i), Namespace: ns,
			Labels: map[string]string{hooksv1alpha1.LabelTemplate: "site00"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "hooks.hookrun.dev/v1alpha1", Kind: "HookTemplate", Name: "site00",
				UID: templateUID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: hooksv1alpha1.HookRunSpec{
			TemplateRef: hooksv1alpha1.TemplateRef{Name: "site00"},
			Delivery: hooksv1alpha1.Delivery{
				ID: fmt.Sprintf("72d3162e-cc78-11e3-81ab-%012d", i), Provider: hooksv1alpha1.ProviderGitHub, Event: "push",
				Repository: "acme/site", Ref: "refs/heads/main",
				SHA: "0123456789abcdef0123456789abcdef01234567", Before: "76543210fedcba9876543210fedcba9876543210",
				Sender: "octocat", CloneURL: "https://github.com/acme/site.git", ReceivedAt: &received,
			},
			Params: map[string]string{"PUSHER": "octocat"},
		},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(run)
	if err != nil {
		panic(err)
	}
	delete(m, "status")
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(gvr.GroupVersion().String())
	u.SetKind("HookRun")
	return u
}

func firstStatus(jobName string) hooksv1alpha1.HookRunStatus {
	return hooksv1alpha1.HookRunStatus{
		ObservedGeneration: 1, Phase: hooksv1alpha1.PhasePending, Reason: hooksv1alpha1.ReasonJobCreated,
		JobName: jobName, ShortSHA: "0123456",
		Conditions: []metav1.Condition{{Type: hooksv1alpha1.ConditionSucceeded, Status: metav1.ConditionUnknown,
			Reason: hooksv1alpha1.ReasonJobCreated, Message: "run is Pending", ObservedGeneration: 1, LastTransitionTime: metav1.Now()}},
	}
}

func secondStatus(jobName string) hooksv1alpha1.HookRunStatus {
	now := metav1.Now()
	return hooksv1alpha1.HookRunStatus{
		ObservedGeneration: 1, Phase: hooksv1alpha1.PhaseRunning, Reason: hooksv1alpha1.ReasonRunning,
		JobName: jobName, ShortSHA: "0123456", Attempts: 1, StartTime: &now,
		Conditions: []metav1.Condition{{Type: hooksv1alpha1.ConditionSucceeded, Status: metav1.ConditionUnknown,
			Reason: hooksv1alpha1.ReasonRunning, Message: "run is Running", ObservedGeneration: 1, LastTransitionTime: now}},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// mergeBody is what controller-runtime's MergeFromWithOptimisticLock sends
// for a first status write (status was empty): the whole status plus the
// resourceVersion.
func mergeBody(st hooksv1alpha1.HookRunStatus, rv string) []byte {
	body := map[string]any{"status": st}
	if rv != "" {
		body["metadata"] = map[string]any{"resourceVersion": rv}
	}
	return mustJSON(body)
}

func jobObject(ns string, i int) *batchv1.Job {
	name := fmt.Sprintf("site00-%06d", i)
	env := []corev1.EnvVar{}
	for _, kv := range [][2]string{{"HOOK_RUN", name}, {"HOOK_TEMPLATE", "site00"}, {"HOOK_PROVIDER", "github"}, {"HOOK_EVENT", "push"},
		{"HOOK_DELIVERY", fmt.Sprintf("72d3162e-cc78-11e3-81ab-%012d", i)}, {"HOOK_REPOSITORY", "acme/site"}, {"HOOK_REF", "refs/heads/main"},
		{"HOOK_BRANCH", "main"}, {"HOOK_TAG", ""}, {"HOOK_SHA", "0123456789abcdef0123456789abcdef01234567"},
		{"HOOK_BEFORE", "76543210fedcba9876543210fedcba9876543210"}, {"HOOK_SENDER", "octocat"},
		{"HOOK_CLONE_URL", "https://github.com/acme/site.git"}, {"PUSHER", "octocat"}} {
		env = append(env, corev1.EnvVar{Name: kv[0], Value: kv[1]})
	}
	labels := map[string]string{hooksv1alpha1.LabelTemplate: "site00", hooksv1alpha1.LabelRun: name, hooksv1alpha1.LabelGroup: "x"}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "hooks.hookrun.dev/v1alpha1", Kind: "HookRun", Name: name,
				UID: types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i)), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{hooksv1alpha1.LabelTemplate: "site00", hooksv1alpha1.LabelRun: name}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
					Name: "run", Image: "alpine/git:latest",
					Command:                  []string{"/bin/sh", "-c", "git clone --depth 1 --branch \"$HOOK_BRANCH\" \"$HOOK_CLONE_URL\" /src && /src/deploy.sh"},
					Env:                      env,
					TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				}}},
			},
		},
	}
}

// ---------------------------------------------------------------- harness

type env struct {
	cfg     *rest.Config
	dyn     dynamic.Interface
	kube    *kubernetes.Clientset
	gvrs    map[string]schema.GroupVersionResource
	apiPID  int
	etcdPID int
	n       int
	workers int
}

type sample struct {
	CreateMS, OpMS, EtcdMS, ClientMS, Wall float64
}

type meter struct {
	pids  []int
	start []time.Duration
	t0    time.Time
}

func newMeter(pids ...int) *meter {
	m := &meter{pids: pids}
	m.start = m.read()
	m.t0 = time.Now()
	return m
}

func (m *meter) read() []time.Duration {
	var out []time.Duration
	for _, pid := range m.pids {
		st, err := benchutil.ReadProc(pid)
		if err != nil {
			panic(err)
		}
		out = append(out, st.CPU)
	}
	return out
}

// stop returns ms of CPU per process since start, and wall seconds.
func (m *meter) stop() ([]float64, float64) {
	now := m.read()
	var out []float64
	for i := range now {
		out = append(out, float64(now[i]-m.start[i])/float64(time.Millisecond))
	}
	return out, time.Since(m.t0).Seconds()
}

func (e *env) parallel(ctx context.Context, fn func(ctx context.Context, i int) error) error {
	return benchutil.Parallel(ctx, e.n, e.workers, func(ctx context.Context, i int) error {
		return benchutil.Retry(ctx, func() error { return fn(ctx, i) })
	})
}

// measured runs fn for i in [0,n) and returns apiserver ms/request, etcd
// ms/request, client ms/request and wall seconds.
func (e *env) measured(ctx context.Context, fn func(ctx context.Context, i int) error) (api, etcd, self, wall float64, err error) {
	m := newMeter(e.apiPID, e.etcdPID, os.Getpid())
	err = e.parallel(ctx, fn)
	cpu, wall := m.stop()
	n := float64(e.n)
	return cpu[0] / n, cpu[1] / n, cpu[2] / n, wall, err
}

type caseDef struct {
	name, desc string
	// setup creates the objects (measured as create cost) and may do
	// unmeasured preparation; it returns the per-object state op needs.
	run func(ctx context.Context, e *env, ns string) (sample, error)
}

// crdCase: create n HookRuns of variant v, prepare (unmeasured), then op.
func crdCase(name, desc, variant string, prepare func(ctx context.Context, e *env, ri dynamic.ResourceInterface, objs []*unstructured.Unstructured) error,
	op func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error), watch bool) caseDef {
	return caseDef{name: name, desc: desc, run: func(ctx context.Context, e *env, ns string) (sample, error) {
		var s sample
		gvr := e.gvrs[variant]
		ri := e.dyn.Resource(gvr).Namespace(ns)
		objs := make([]*unstructured.Unstructured, e.n)
		var err error
		s.CreateMS, _, _, _, err = e.measured(ctx, func(ctx context.Context, i int) error {
			o, err := ri.Create(ctx, runObject(gvr, ns, i), metav1.CreateOptions{})
			if err == nil {
				objs[i] = o
			}
			return err
		})
		if err != nil {
			return s, fmt.Errorf("create: %w", err)
		}
		if prepare != nil {
			if err := prepare(ctx, e, ri, objs); err != nil {
				return s, fmt.Errorf("prepare: %w", err)
			}
		}
		var stopWatch func()
		if watch {
			w, err := ri.Watch(ctx, metav1.ListOptions{ResourceVersion: objs[e.n-1].GetResourceVersion()})
			if err != nil {
				return s, fmt.Errorf("watch: %w", err)
			}
			var events atomic.Int64
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range w.ResultChan() {
					events.Add(1)
				}
			}()
			stopWatch = func() {
				// Let the last events arrive before we stop.
				deadline := time.Now().Add(5 * time.Second)
				for events.Load() < int64(e.n) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				w.Stop()
				<-done
			}
		}
		s.OpMS, s.EtcdMS, s.ClientMS, s.Wall, err = e.measured(ctx, func(ctx context.Context, i int) error {
			o, err := op(ctx, ri, objs[i])
			if err == nil && o != nil {
				objs[i] = o
			}
			return err
		})
		if stopWatch != nil {
			stopWatch()
		}
		if err != nil {
			return s, fmt.Errorf("op: %w", err)
		}
		return s, ri.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	}}
}

func mergeStatus(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return ri.Patch(ctx, obj.GetName(), types.MergePatchType, mergeBody(firstStatus(obj.GetName()), obj.GetResourceVersion()), metav1.PatchOptions{}, "status")
}

func cases() []caseDef {
	var cs []caseDef
	for _, v := range variants {
		cs = append(cs, crdCase(v.name, "merge patch /status +RV (first write); "+v.desc, v.name, nil, mergeStatus, false))
	}
	cs = append(cs,
		crdCase("gen/merge-noRV", "merge patch /status without resourceVersion", "gen", nil,
			func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return ri.Patch(ctx, obj.GetName(), types.MergePatchType, mergeBody(firstStatus(obj.GetName()), ""), metav1.PatchOptions{}, "status")
			}, false),
		crdCase("gen/merge-nocond", "merge patch /status +RV, status without conditions", "gen", nil,
			func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				st := firstStatus(obj.GetName())
				st.Conditions = nil
				return ri.Patch(ctx, obj.GetName(), types.MergePatchType, mergeBody(st, obj.GetResourceVersion()), metav1.PatchOptions{}, "status")
			}, false),
		crdCase("gen/update", "full PUT of /status (UpdateStatus)", "gen", nil,
			func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				o := obj.DeepCopy()
				st, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(ptr.To(firstStatus(obj.GetName())))
				o.Object["status"] = st
				return ri.UpdateStatus(ctx, o, metav1.UpdateOptions{})
			}, false),
		crdCase("gen/apply", "server-side apply of /status (force, own field manager)", "gen", nil,
			func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				body := mustJSON(map[string]any{"apiVersion": obj.GetAPIVersion(), "kind": "HookRun",
					"metadata": map[string]any{"name": obj.GetName(), "namespace": obj.GetNamespace()}, "status": firstStatus(obj.GetName())})
				return ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "hookrun-status", Force: ptr.To(true)}, "status")
			}, false),
		crdCase("gen/second", "second merge patch /status +RV (Pending→Running), object already has status", "gen",
			func(ctx context.Context, e *env, ri dynamic.ResourceInterface, objs []*unstructured.Unstructured) error {
				return e.parallel(ctx, func(ctx context.Context, i int) error {
					o, err := mergeStatus(ctx, ri, objs[i])
					if err == nil {
						objs[i] = o
					}
					return err
				})
			},
			func(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				return ri.Patch(ctx, obj.GetName(), types.MergePatchType, mergeBody(secondStatus(obj.GetName()), obj.GetResourceVersion()), metav1.PatchOptions{}, "status")
			}, false),
		crdCase("gen/managers", "merge patch /status +RV on an object with 5 managedFields entries", "gen",
			func(ctx context.Context, e *env, ri dynamic.ResourceInterface, objs []*unstructured.Unstructured) error {
				for k := range 4 {
					err := e.parallel(ctx, func(ctx context.Context, i int) error {
						body := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/a%d":"value-%d"}}}`, k, k)
						o, err := ri.Patch(ctx, objs[i].GetName(), types.MergePatchType, []byte(body), metav1.PatchOptions{FieldManager: fmt.Sprintf("manager-%d", k)})
						if err == nil {
							objs[i] = o
						}
						return err
					})
					if err != nil {
						return err
					}
				}
				return nil
			}, mergeStatus, false),
		crdCase("gen/watched", "merge patch /status +RV with one watcher on the namespace", "gen", nil, mergeStatus, true),
		jobCreateCase(), jobStatusCase(), cmUpdateCase(), cmPatchCase(),
	)
	return cs
}

func jobCreateCase() caseDef {
	return caseDef{name: "job-create", desc: "create batch/v1 Job (control)", run: func(ctx context.Context, e *env, ns string) (sample, error) {
		var s sample
		var err error
		s.OpMS, s.EtcdMS, s.ClientMS, s.Wall, err = e.measured(ctx, func(ctx context.Context, i int) error {
			_, err := e.kube.BatchV1().Jobs(ns).Create(ctx, jobObject(ns, i), metav1.CreateOptions{})
			return err
		})
		s.CreateMS = s.OpMS
		if err != nil {
			return s, err
		}
		return s, e.kube.BatchV1().Jobs(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	}}
}

func jobStatusCase() caseDef {
	return caseDef{name: "job-status-merge", desc: "merge patch batch/v1 Job /status (started, 1 active; control)", run: func(ctx context.Context, e *env, ns string) (sample, error) {
		var s sample
		var err error
		s.CreateMS, _, _, _, err = e.measured(ctx, func(ctx context.Context, i int) error {
			_, err := e.kube.BatchV1().Jobs(ns).Create(ctx, jobObject(ns, i), metav1.CreateOptions{})
			return err
		})
		if err != nil {
			return s, err
		}
		s.OpMS, s.EtcdMS, s.ClientMS, s.Wall, err = e.measured(ctx, func(ctx context.Context, i int) error {
			var st batchv1.JobStatus
			benchutil.SetJobStarted(&st, metav1.Now())
			_, err := e.kube.BatchV1().Jobs(ns).Patch(ctx, fmt.Sprintf("site00-%06d", i), types.MergePatchType, mustJSON(map[string]any{"status": st}), metav1.PatchOptions{}, "status")
			return err
		})
		if err != nil {
			return s, err
		}
		return s, e.kube.BatchV1().Jobs(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	}}
}

func cm(ns string, i int) *corev1.ConfigMap {
	data := map[string]string{}
	for k := range 10 {
		data[fmt.Sprintf("key-%d", k)] = strings.Repeat("v", 40)
	}
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%06d", i), Namespace: ns,
		Labels: map[string]string{hooksv1alpha1.LabelTemplate: "site00"}}, Data: data}
}

func cmUpdateCase() caseDef {
	return caseDef{name: "cm-update", desc: "PUT of a ConfigMap (data change; control)", run: func(ctx context.Context, e *env, ns string) (sample, error) {
		var s sample
		objs := make([]*corev1.ConfigMap, e.n)
		var err error
		s.CreateMS, _, _, _, err = e.measured(ctx, func(ctx context.Context, i int) error {
			o, err := e.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm(ns, i), metav1.CreateOptions{})
			objs[i] = o
			return err
		})
		if err != nil {
			return s, err
		}
		s.OpMS, s.EtcdMS, s.ClientMS, s.Wall, err = e.measured(ctx, func(ctx context.Context, i int) error {
			o := objs[i].DeepCopy()
			o.Data["phase"] = "Running"
			_, err := e.kube.CoreV1().ConfigMaps(ns).Update(ctx, o, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return s, err
		}
		return s, e.kube.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	}}
}

func cmPatchCase() caseDef {
	return caseDef{name: "cm-merge", desc: "merge patch of a ConfigMap +RV (control)", run: func(ctx context.Context, e *env, ns string) (sample, error) {
		var s sample
		objs := make([]*corev1.ConfigMap, e.n)
		var err error
		s.CreateMS, _, _, _, err = e.measured(ctx, func(ctx context.Context, i int) error {
			o, err := e.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm(ns, i), metav1.CreateOptions{})
			objs[i] = o
			return err
		})
		if err != nil {
			return s, err
		}
		s.OpMS, s.EtcdMS, s.ClientMS, s.Wall, err = e.measured(ctx, func(ctx context.Context, i int) error {
			body := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"data":{"phase":"Running"}}`, objs[i].ResourceVersion)
			_, err := e.kube.CoreV1().ConfigMaps(ns).Patch(ctx, objs[i].Name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
			return err
		})
		if err != nil {
			return s, err
		}
		return s, e.kube.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	}}
}

// ---------------------------------------------------------------- profile

// profileVariant keeps patching the status of n HookRuns of the variant
// (alternating two statuses, with the resourceVersion) while it takes a
// CPU profile of kube-apiserver.
func profileVariant(ctx context.Context, t *testing.T, e *env, variant string, seconds int) {
	ns := strings.ToLower("prof-" + strings.ReplaceAll(variant, "/", "-"))
	if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var patches int64
	var m *meter
	var prof []byte
	var perr error
	profile := func(ctx context.Context) {
		hc, err := rest.HTTPClientFor(e.cfg)
		if err != nil {
			perr = err
			return
		}
		m = newMeter(e.apiPID)
		resp, err := hc.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimSuffix(e.cfg.Host, "/"), seconds))
		if err != nil {
			perr = err
			return
		}
		defer resp.Body.Close()
		prof, perr = io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			perr = fmt.Errorf("profile: %s: %s", resp.Status, prof)
		}
	}
	if variant == "job-create" {
		var next atomic.Int64
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for range e.workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					i := int(next.Add(1))
					if _, err := e.kube.BatchV1().Jobs(ns).Create(ctx, jobObject(ns, i), metav1.CreateOptions{}); err == nil {
						mu.Lock()
						patches++
						mu.Unlock()
					}
				}
			})
		}
		profile(ctx)
		cancel()
		wg.Wait()
	} else {
		gvr := e.gvrs[variant]
		ri := e.dyn.Resource(gvr).Namespace(ns)
		objs := make([]*unstructured.Unstructured, e.n)
		if err := e.parallel(ctx, func(ctx context.Context, i int) error {
			o, err := ri.Create(ctx, runObject(gvr, ns, i), metav1.CreateOptions{})
			objs[i] = o
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := range e.workers {
			wg.Go(func() {
				for k := 0; ctx.Err() == nil; k++ {
					for i := w; i < e.n && ctx.Err() == nil; i += e.workers {
						st := firstStatus(objs[i].GetName())
						if k%2 == 1 {
							st = secondStatus(objs[i].GetName())
						}
						o, err := ri.Patch(ctx, objs[i].GetName(), types.MergePatchType, mergeBody(st, objs[i].GetResourceVersion()), metav1.PatchOptions{}, "status")
						if err == nil {
							objs[i] = o
							mu.Lock()
							patches++
							mu.Unlock()
						}
					}
				}
			})
		}
		profile(ctx)
		cancel()
		wg.Wait()
	}
	if perr != nil {
		t.Fatalf("profile %s: %v", variant, perr)
	}
	cpu, wall := m.stop()
	_ = os.MkdirAll("out", 0o755)
	path := filepath.Join("out", "apiserver-"+strings.ReplaceAll(variant, "/", "-")+".pprof")
	if err := os.WriteFile(path, prof, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("profile %-16s %s: %d requests in %.1fs, apiserver %.2f ms/request\n", variant, path, patches, wall, cpu[0]/float64(patches))
}

// ---------------------------------------------------------------- test

func envList(name, def string) []string {
	v := benchutil.EnvString(name, def)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// startEnv starts envtest with every CRD variant loaded and returns the
// measuring environment; the control plane stops when the test ends.
func startEnv(t *testing.T) *env {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS not set")
	}
	crds, gvrs := loadCRDs(t)
	testEnv := &envtest.Environment{CRDs: crds}
	cfg, err := testEnv.Start()
	if err != nil {
		_ = testEnv.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testEnv.Stop() })
	cfg = benchutil.Unthrottled(cfg)
	children := benchutil.Children()
	e := &env{cfg: cfg, gvrs: gvrs, apiPID: children["kube-apiserver"], etcdPID: children["etcd"],
		n: benchutil.EnvInt("PATCHCOST_N", 300), workers: benchutil.EnvInt("PATCHCOST_WORKERS", 8)}
	if e.apiPID == 0 || e.etcdPID == 0 {
		t.Fatalf("children: %v", children)
	}
	e.dyn = dynamic.NewForConfigOrDie(cfg)
	e.kube = kubernetes.NewForConfigOrDie(cfg)
	return e
}

func TestPatchCost(t *testing.T) {
	e := startEnv(t)
	ctx := context.Background()

	all := cases()
	if want := envList("PATCHCOST_CASES", ""); len(want) > 0 {
		all = slices.DeleteFunc(all, func(c caseDef) bool { return !slices.Contains(want, c.name) })
	}
	reps := benchutil.EnvInt("PATCHCOST_REPS", 3)
	results := map[string][]sample{}
	// Warm-up: one round of the generated variant, not recorded.
	if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "warmup"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cases()[0].run(ctx, e, "warmup"); err != nil {
		t.Fatalf("warmup: %v", err)
	}
	var idle []float64
	for rep := range reps {
		m := newMeter(e.apiPID)
		time.Sleep(2 * time.Second)
		cpu, wall := m.stop()
		idle = append(idle, cpu[0]/wall)
		for k := range all {
			c := all[(k+rep)%len(all)]
			ns := strings.ToLower(fmt.Sprintf("r%d-%s", rep, strings.ReplaceAll(c.name, "/", "-")))
			if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			s, err := c.run(ctx, e, ns)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			results[c.name] = append(results[c.name], s)
			fmt.Printf("rep %d  %-18s apiserver %.2f ms/req (create %.2f)  etcd %.2f  client %.2f  wall %.2fs\n",
				rep+1, c.name, s.OpMS, s.CreateMS, s.EtcdMS, s.ClientMS, s.Wall)
		}
	}
	fmt.Printf("\nidle kube-apiserver CPU: %v ms/s\n\n", idle)
	fmt.Printf("| case | what | apiserver ms/req median (range) | etcd ms/req | client ms/req | create ms/obj (same kind) | wall s |\n|---|---|---|---|---|---|---|\n")
	for _, c := range all {
		ss := results[c.name]
		get := func(f func(sample) float64) []float64 {
			var v []float64
			for _, s := range ss {
				v = append(v, f(s))
			}
			sort.Float64s(v)
			return v
		}
		op := get(func(s sample) float64 { return s.OpMS })
		lo, hi := benchutil.MinMax(op)
		fmt.Printf("| %s | %s | %.2f (%.2f–%.2f) | %.2f | %.2f | %.2f | %.2f |\n", c.name, c.desc, benchutil.Median(op), lo, hi,
			benchutil.Median(get(func(s sample) float64 { return s.EtcdMS })), benchutil.Median(get(func(s sample) float64 { return s.ClientMS })),
			benchutil.Median(get(func(s sample) float64 { return s.CreateMS })), benchutil.Median(get(func(s sample) float64 { return s.Wall })))
	}
	raw, _ := json.MarshalIndent(results, "", "  ")
	_ = os.MkdirAll("out", 0o755)
	_ = os.WriteFile(filepath.Join("out", "results.json"), raw, 0o644)

	for _, v := range envList("PATCHCOST_PROFILE", "gen") {
		profileVariant(ctx, t, e, v, benchutil.EnvInt("PATCHCOST_PROFILE_SECONDS", 10))
	}
}
