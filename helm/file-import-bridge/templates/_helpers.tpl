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

{{/*
NODE_OPTIONS of the container: .Values.nodeOptions when set, else V8 heap flags derived from
resources.limits.memory (Mi or Gi): old space at half the limit, young generation semi-spaces at 1/32
of it, at most 16 MB (V8's default of up to 32-64 MB each is sized for throughput, not for a
container). With the image's --heap-growing-percent=100 the bench's 1M backlog peaked at 256 MB with
these flags at 512Mi, 436 MB with V8's default sizing. Nothing when NODE_OPTIONS is already in config
or extraEnv, or when there is no memory limit (the image's own NODE_OPTIONS, the 512Mi ones, apply then).
*/}}
{{- define "fib.nodeOptions" -}}
{{- $own := hasKey .Values.config "NODE_OPTIONS" -}}
{{- range .Values.extraEnv }}{{ if eq (toString .name) "NODE_OPTIONS" }}{{ $own = true }}{{ end }}{{ end -}}
{{- if not $own -}}
{{- if .Values.nodeOptions -}}
{{- .Values.nodeOptions -}}
{{- else -}}
{{- $mem := toString (dig "limits" "memory" "" (.Values.resources | default dict)) -}}
{{- $mi := 0 -}}
{{- if regexMatch "^[0-9]+Mi$" $mem -}}{{- $mi = atoi (trimSuffix "Mi" $mem) -}}
{{- else if regexMatch "^[0-9]+Gi$" $mem -}}{{- $mi = mul (atoi (trimSuffix "Gi" $mem)) 1024 -}}
{{- end -}}
{{- if gt (int $mi) 0 -}}
--max-old-space-size={{ div $mi 2 }} --max-semi-space-size={{ max 1 (min 16 (div $mi 32)) }}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* The ConfigMap holding the mapping file: the chart's own (mapping.content) or mapping.existingConfigMap; empty without a mapping. */}}
{{- define "fib.mappingConfigMap" -}}
{{- if and .Values.mapping.content .Values.mapping.existingConfigMap }}
{{- fail "mapping.content and mapping.existingConfigMap exclude each other: give the mapping one way" }}
{{- end }}
{{- if .Values.mapping.content }}
{{- printf "%s-mapping" (include "fib.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- .Values.mapping.existingConfigMap }}
{{- end }}
{{- end }}
