{{/* The chart's name, "hookrun" unless nameOverride says otherwise. */}}
{{- define "hookrun.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: the release name, with the chart's name
added when the release name lacks it. `helm install hookrun` gives the
names of `kubectl apply -k config/default` (hookrun-controller-manager, …).
*/}}
{{- define "hookrun.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hookrun.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "hookrun.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The manager pods' labels (the Services select on them). */}}
{{- define "hookrun.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hookrun.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "hookrun.serviceAccountName" -}}
{{- default (printf "%s-controller-manager" (include "hookrun.fullname" .)) .Values.serviceAccount.name }}
{{- end }}

{{/* host:port for a listener. */}}
{{- define "hookrun.bind" -}}
{{- printf "%s:%v" .root.Values.listenAddress .port }}
{{- end }}
