//go:build patchcost

package patchcost

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// installVAP puts the CRD's spec rules into a ValidatingAdmissionPolicy
// that matches UPDATE of hookruns in the vap group only (a rule for
// "hookruns" does not match the "hookruns/status" subresource), then checks
// that it rejects a spec change and lets a status patch through.
func installVAP(ctx context.Context, e *env) error {
	group := e.gvrs["vap"].Group
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "hookrun-spec-immutable"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1alpha1"}, Resources: []string{"hookruns"}},
				}}}},
			Validations: []admissionregistrationv1.Validation{
				{Expression: "object.spec.templateRef == oldObject.spec.templateRef", Message: "spec.templateRef is immutable"},
				{Expression: "has(object.spec.delivery) == has(oldObject.spec.delivery) && (!has(object.spec.delivery) || object.spec.delivery == oldObject.spec.delivery)", Message: "spec.delivery is immutable"},
				{Expression: "has(object.spec.params) == has(oldObject.spec.params) && (!has(object.spec.params) || object.spec.params == oldObject.spec.params)", Message: "spec.params is immutable"},
				{Expression: "!has(oldObject.spec.cancel) || !oldObject.spec.cancel || (has(object.spec.cancel) && object.spec.cancel)", Message: "spec.cancel cannot be undone"},
			},
		},
	}
	if _, err := e.kube.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		return err
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "hookrun-spec-immutable"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
	}
	if _, err := e.kube.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return err
	}
	// Functional check.
	ns := "vap-check"
	if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	ri := e.dyn.Resource(e.gvrs["vap"]).Namespace(ns)
	obj, err := ri.Create(ctx, runObject(e.gvrs["vap"], ns, 0), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		body := fmt.Sprintf(`{"spec":{"delivery":{"sha":"%040d"}}}`, i)
		_, err := ri.Patch(ctx, obj.GetName(), types.MergePatchType, []byte(body), metav1.PatchOptions{})
		if err != nil {
			fmt.Printf("vap: spec change rejected: %v\n", err)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vap: spec change still accepted after 20s")
		}
		time.Sleep(500 * time.Millisecond)
	}
	o, err := ri.Patch(ctx, obj.GetName(), types.MergePatchType, mergeBody(firstStatus(obj.GetName()), ""), metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("vap: status patch: %w", err)
	}
	raw, _ := json.Marshal(o.Object)
	mf, _ := json.Marshal(o.Object["metadata"].(map[string]any)["managedFields"])
	md, _ := json.Marshal(o.Object["metadata"])
	sp, _ := json.Marshal(o.Object["spec"])
	st, _ := json.Marshal(o.Object["status"])
	fmt.Printf("vap: status patch accepted. HookRun after first status write: %d B JSON (metadata %d B of which managedFields %d B in %d entries, spec %d B, status %d B)\n",
		len(raw), len(md), len(mf), len(o.GetManagedFields()), len(sp), len(st))
	return nil
}
