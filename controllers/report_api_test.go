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
	"strings"
	"testing"

	hooksv1alpha1 "github.com/hookrun/hookrun/api/v1alpha1"
)

// TestReportValidation checks spec.report's CEL rules and defaults against
// the API server.
func TestReportValidation(t *testing.T) {
	needEnvtest(t)
	ns := newNamespace(t)
	creds := &hooksv1alpha1.ReportCredentialsRef{Name: "site-git"}
	app := &hooksv1alpha1.GitHubAppSpec{AppID: 1, InstallationID: 2, PrivateKeyRef: hooksv1alpha1.PrivateKeyRef{Name: "app", Key: "private-key.pem"}}
	tests := []struct {
		name    string
		source  hooksv1alpha1.Provider
		report  hooksv1alpha1.ReportSpec
		wantErr string
	}{
		{name: "github default provider", source: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportSpec{CredentialsRef: creds}},
		{name: "github app", source: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportSpec{GitHubApp: app}},
		{name: "app with gitlab", source: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportSpec{Provider: hooksv1alpha1.ReportGitLab, GitHubApp: app}, wantErr: "github only"},
		{name: "app from gitlab source", source: hooksv1alpha1.ProviderGitLab, report: hooksv1alpha1.ReportSpec{GitHubApp: app}, wantErr: "github only"},
		{name: "app and credentials", source: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportSpec{GitHubApp: app, CredentialsRef: creds}, wantErr: "exclusive"},
		{name: "no credentials", source: hooksv1alpha1.ProviderGitHub, report: hooksv1alpha1.ReportSpec{}, wantErr: "needs credentialsRef"},
		{name: "gitea without url", source: hooksv1alpha1.ProviderGitea, report: hooksv1alpha1.ReportSpec{CredentialsRef: creds}, wantErr: "url is required"},
		{name: "gitea explicit without url", source: hooksv1alpha1.ProviderGeneric, report: hooksv1alpha1.ReportSpec{Provider: hooksv1alpha1.ReportGitea, CredentialsRef: creds}, wantErr: "url is required"},
		{name: "gitea with url", source: hooksv1alpha1.ProviderGitea, report: hooksv1alpha1.ReportSpec{URL: "http://gitea:3000", CredentialsRef: creds}},
		{name: "bitbucket-server without url", source: hooksv1alpha1.ProviderBitbucket, report: hooksv1alpha1.ReportSpec{Provider: hooksv1alpha1.ReportBitbucketServer, CredentialsRef: creds}, wantErr: "url is required"},
		{name: "generic without provider", source: hooksv1alpha1.ProviderGeneric, report: hooksv1alpha1.ReportSpec{CredentialsRef: creds}, wantErr: "provider is required"},
		{name: "generic with provider", source: hooksv1alpha1.ProviderGeneric, report: hooksv1alpha1.ReportSpec{Provider: hooksv1alpha1.ReportGitLab, CredentialsRef: creds}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := newTemplate(ns, "report-"+string(rune('a'+i)))
			tmpl.Spec.Source.Provider = tt.source
			report := tt.report
			tmpl.Spec.Report = &report
			err := k8sClient.Create(context.Background(), tmpl)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("create: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("create: got %v, want an error containing %q", err, tt.wantErr)
			case err == nil && report.CredentialsRef != nil && tmpl.Spec.Report.CredentialsRef.Key != hooksv1alpha1.DefaultReportKey:
				t.Fatalf("credentialsRef.key defaulted to %q, want %q", tmpl.Spec.Report.CredentialsRef.Key, hooksv1alpha1.DefaultReportKey)
			}
		})
	}
}
