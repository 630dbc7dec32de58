{{/* The prefix of every object's name: the release name, with the chart's
name appended unless the release name already holds it (ospf-operator gives
config/default's names). */}}
{{- define "ospf-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "ospf-operator.labels" -}}
app.kubernetes.io/name: ospf-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The agent pods' selector, as config/default's. */}}
{{- define "ospf-operator.selectorLabels" -}}
app.kubernetes.io/name: ospf-operator
app.kubernetes.io/component: agent
{{- end -}}

{{- define "ospf-operator.serviceAccountName" -}}
{{ include "ospf-operator.fullname" . }}-controller-manager
{{- end -}}

{{- define "ospf-operator.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
