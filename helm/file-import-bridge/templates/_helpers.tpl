{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "fib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already holds the chart name. */}}
{{- define "fib.fullname" -}}
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

{{- define "fib.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "fib.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "fib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "fib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fib.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "fib.secretName" -}}
{{- default (include "fib.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The webhook secret is needed (and mounted) only when the webhook is public. */}}
{{- define "fib.webhookEnabled" -}}
{{- if .Values.config.WEBHOOK_PUBLIC_URL }}true{{ end }}
{{- end }}

{{/* terminationGracePeriodSeconds: the bridge's own grace (rounded up) plus time to commit and leave. */}}
{{- define "fib.terminationGrace" -}}
{{- add (div (add (int .Values.shutdownGraceMs) 999) 1000) (int .Values.terminationGraceExtraSeconds) }}
{{- end }}
