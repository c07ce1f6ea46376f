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

package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
	"github.com/hookrun/hookrun/webhookserver"
)

// setReadyCondition shows the webhook server's judgement of a template or a
// source (webhookserver.CheckTemplate, CheckSource) as its Ready condition;
// path is where it takes deliveries (empty: it takes no webhooks, and the
// readiness's message says where its runs come from). The secret's value is
// never in it.
func setReadyCondition(conditions *[]metav1.Condition, generation int64, ready webhookserver.Readiness, path string) {
	status, message := metav1.ConditionFalse, ready.Message
	if ready.Ready() {
		status = metav1.ConditionTrue
		if path != "" {
			message = "accepting deliveries at " + path
		}
	}
	meta.SetStatusCondition(conditions, metav1.Condition{
		Type:               hooksv1alpha1.ConditionReady,
		Status:             status,
		Reason:             ready.Reason,
		Message:            message,
		ObservedGeneration: generation,
	})
}

// recordReadyChange records an Event on obj, and logs, when the written
// status changed Ready's status or reason; what names the kind in the log.
func recordReadyChange(ctx context.Context, recorder events.EventRecorder, obj runtime.Object, before, after []metav1.Condition, what string) {
	was := meta.FindStatusCondition(before, hooksv1alpha1.ConditionReady)
	now := meta.FindStatusCondition(after, hooksv1alpha1.ConditionReady)
	if now == nil || (was != nil && was.Status == now.Status && was.Reason == now.Reason) {
		return
	}
	eventType := corev1.EventTypeNormal
	if now.Status != metav1.ConditionTrue {
		eventType = corev1.EventTypeWarning
	}
	recorder.Eventf(obj, nil, eventType, now.Reason, "Ready", "%s", now.Message)
	logf.FromContext(ctx).Info(what+" readiness changed", "ready", now.Status, "reason", now.Reason)
}
