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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hookrun/hookrun/api/v1alpha1"
)

// checkReportCredentials is the spec.report part of CheckTemplate: the
// Secret key of report.credentialsRef (default key "token") or of
// report.githubApp.privateKeyRef must exist and be non-empty, else the
// template is not ready with ReasonReportCredentialsNotFound. nil when there
// is nothing to judge or all is well.
func checkReportCredentials(ctx context.Context, reader client.Reader, tmpl *v1alpha1.HookTemplate) (*Readiness, error) {
	rep := tmpl.Spec.Report
	if rep == nil {
		return nil, nil
	}
	var name, key string
	switch {
	case rep.CredentialsRef != nil:
		name, key = rep.CredentialsRef.Name, rep.CredentialsRef.Key
		if key == "" {
			key = v1alpha1.DefaultReportKey
		}
	case rep.GitHubApp != nil:
		name, key = rep.GitHubApp.PrivateKeyRef.Name, rep.GitHubApp.PrivateKeyRef.Key
	default:
		return nil, nil
	}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: tmpl.Namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return &Readiness{Reason: v1alpha1.ReasonReportCredentialsNotFound, problem: "report credentials unavailable",
				Message: fmt.Sprintf("report Secret %s not found", name)}, nil
		}
		return nil, fmt.Errorf("get Secret %s: %w", name, err)
	}
	if len(secret.Data[key]) == 0 {
		return &Readiness{Reason: v1alpha1.ReasonReportCredentialsNotFound, problem: "report credentials unavailable",
			Message: fmt.Sprintf("report Secret %s has no (or an empty) key %q", name, key)}, nil
	}
	return nil, nil
}
