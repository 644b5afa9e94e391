{{/* Names and labels. */}}
{{- define "recrypt.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "recrypt.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: <fullname>-<component>, within 63 characters. */}}
{{- define "recrypt.componentName" -}}
{{- printf "%s-%s" (include "recrypt.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component -}}
{{- end -}}

{{- define "recrypt.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "recrypt.selectorLabels" -}}
app.kubernetes.io/name: {{ include "recrypt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "recrypt.labels" -}}
helm.sh/chart: {{ include "recrypt.chart" . }}
{{ include "recrypt.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: recrypt
{{- end -}}

{{- define "recrypt.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "recrypt.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "recrypt.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Name of the ConfigMap holding the job files, empty when there is none. */}}
{{- define "recrypt.jobsConfigMap" -}}
{{- if .Values.existingJobsConfigMap -}}
{{- .Values.existingJobsConfigMap -}}
{{- else if .Values.jobs -}}
{{- printf "%s-jobs" (include "recrypt.fullname" . | trunc 58 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{/*
The job files: one YAML document per values.jobs entry, keyed <name>.yaml. apiVersion, kind and
metadata.name are filled in from the map key; a metadata.name that differs from the key is an error.
*/}}
{{- define "recrypt.jobFiles" -}}
{{- range $name, $job := .Values.jobs }}
{{- $meta := deepCopy (default (dict) $job.metadata) }}
{{- if and (hasKey $meta "name") (ne (toString $meta.name) $name) }}
{{- fail (printf "jobs.%s: metadata.name %q differs from the key %q" $name (toString $meta.name) $name) }}
{{- end }}
{{- $_ := set $meta "name" $name }}
{{- $doc := dict "apiVersion" (default "recrypt/v1" $job.apiVersion) "kind" (default "Job" $job.kind) "metadata" $meta "spec" $job.spec }}
{{ $name }}.yaml: |
  # Rendered by the recrypt Helm chart from values.jobs.{{ $name }}
{{ toYaml $doc | indent 2 }}
{{- end }}
{{- end -}}

{{/* Mount directory of a secret group. */}}
{{- define "recrypt.secretDir" -}}
/var/run/secrets/recrypt/{{ . }}
{{- end -}}

{{/* Environment shared by every recrypt container. */}}
{{- define "recrypt.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: RECRYPT_HTTP_PORT
  value: {{ .Values.http.port | quote }}
- name: RECRYPT_SHUTDOWN_TIMEOUT_MS
  value: {{ mul (int .Values.shutdown.timeoutSeconds) 1000 | quote }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ .Values.kafka.bootstrapServers | quote }}
{{- range $prop, $value := .Values.kafka.properties }}
- name: KAFKA_PROP_{{ $prop | upper | replace "." "_" | replace "-" "_" }}
  value: {{ toString $value | quote }}
{{- end }}
{{- with .Values.kafka.sasl }}
{{- if .existingSecret }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .usernameKey }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: {{ printf "%s/%s" (include "recrypt.secretDir" "kafka-sasl") .passwordKey | quote }}
{{- end }}
{{- end }}
- name: SCHEMA_REGISTRY_URL
  value: {{ .Values.schemaRegistry.url | quote }}
- name: SCHEMA_REGISTRY_TIMEOUT_MS
  value: {{ .Values.schemaRegistry.timeoutMs | quote }}
{{- with .Values.schemaRegistry.auth }}
{{- if and .existingSecret .basicAuthKey }}
- name: SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO_FILE
  value: {{ printf "%s/%s" (include "recrypt.secretDir" "schema-registry") .basicAuthKey | quote }}
{{- end }}
{{- if and .existingSecret .bearerTokenKey }}
- name: SCHEMA_REGISTRY_BEARER_TOKEN_FILE
  value: {{ printf "%s/%s" (include "recrypt.secretDir" "schema-registry") .bearerTokenKey | quote }}
{{- end }}
{{- end }}
{{- if .Values.redis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.urlKey }}
{{- else }}
- name: REDIS_URL
  value: {{ .Values.redis.url | quote }}
{{- end }}
{{- if .Values.kms.existingSecret }}
{{- range $var, $key := .Values.kms.env }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.kms.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- range $var, $key := .Values.kms.files }}
- name: {{ $var }}
  value: {{ printf "%s/%s" (include "recrypt.secretDir" "kms") $key | quote }}
{{- end }}
{{- end }}
{{- range $var, $value := .Values.env }}
- name: {{ $var }}
  value: {{ toString $value | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Secret-backed volumes (mounted read-only, files readable by the pod's fsGroup). */}}
{{- define "recrypt.secretVolumes" -}}
{{- if .Values.kafka.sasl.existingSecret }}
- name: kafka-sasl
  secret:
    secretName: {{ .Values.kafka.sasl.existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .Values.kafka.sasl.passwordKey }}
        path: {{ .Values.kafka.sasl.passwordKey }}
{{- end }}
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if and .Values.schemaRegistry.auth.existingSecret (or .Values.schemaRegistry.auth.basicAuthKey .Values.schemaRegistry.auth.bearerTokenKey) }}
- name: schema-registry
  secret:
    secretName: {{ .Values.schemaRegistry.auth.existingSecret }}
    defaultMode: 0440
    items:
      {{- with .Values.schemaRegistry.auth.basicAuthKey }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
      {{- with .Values.schemaRegistry.auth.bearerTokenKey }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}
{{- if and .Values.kms.existingSecret .Values.kms.files }}
- name: kms
  secret:
    secretName: {{ .Values.kms.existingSecret }}
    defaultMode: 0440
    items:
      {{- range $key := (values .Values.kms.files | uniq | sortAlpha) }}
      - key: {{ $key }}
        path: {{ $key }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "recrypt.secretVolumeMounts" -}}
{{- if .Values.kafka.sasl.existingSecret }}
- name: kafka-sasl
  mountPath: {{ include "recrypt.secretDir" "kafka-sasl" }}
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: {{ include "recrypt.secretDir" "kafka-tls" }}
  readOnly: true
{{- end }}
{{- if and .Values.schemaRegistry.auth.existingSecret (or .Values.schemaRegistry.auth.basicAuthKey .Values.schemaRegistry.auth.bearerTokenKey) }}
- name: schema-registry
  mountPath: {{ include "recrypt.secretDir" "schema-registry" }}
  readOnly: true
{{- end }}
{{- if and .Values.kms.existingSecret .Values.kms.files }}
- name: kms
  mountPath: {{ include "recrypt.secretDir" "kms" }}
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The pod template of a component. Call with (dict "root" $ "component" "serve" "config" .Values.serve).
*/}}
{{- define "recrypt.podTemplate" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $jobsConfigMap := include "recrypt.jobsConfigMap" $root -}}
metadata:
  labels:
    {{- include "recrypt.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- with $values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- if and $values.jobs (not $values.existingJobsConfigMap) }}
    checksum/jobs: {{ include "recrypt.jobFiles" $root | sha256sum }}
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "recrypt.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $values.serviceAccount.automountServiceAccountToken }}
  {{- with $values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  # SIGTERM lets open transactions finish for RECRYPT_SHUTDOWN_TIMEOUT_MS; the margin covers closing.
  terminationGracePeriodSeconds: {{ add (int $values.shutdown.timeoutSeconds) (int $values.shutdown.graceMarginSeconds) }}
  securityContext:
    {{- toYaml $values.podSecurityContext | nindent 4 }}
  containers:
    - name: recrypt
      image: {{ include "recrypt.image" $root | quote }}
      imagePullPolicy: {{ $values.image.pullPolicy }}
      args:
        {{- toYaml .config.args | nindent 8 }}
      {{- if eq .component "serve" }}
      ports:
        - name: http
          containerPort: {{ $values.http.port }}
          protocol: TCP
      {{- end }}
      env:
        {{- include "recrypt.env" $root | nindent 8 }}
        {{- if and (eq .component "worker") (not (kindIs "invalid" .config.concurrency)) }}
        - name: RECRYPT_BACKFILL_CONCURRENCY
          value: {{ .config.concurrency | quote }}
        {{- end }}
      {{- with $values.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .config.probes.startup }}
      startupProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .config.probes.liveness }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .config.probes.readiness }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      resources:
        {{- toYaml .config.resources | nindent 8 }}
      securityContext:
        {{- toYaml $values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $jobsConfigMap }}
        - name: jobs
          mountPath: /etc/recrypt/jobs
          readOnly: true
        {{- end }}
        {{- with (include "recrypt.secretVolumeMounts" $root | trim) }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      {{- if $values.tmpVolume.sizeLimit }}
      emptyDir:
        sizeLimit: {{ $values.tmpVolume.sizeLimit }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- if $jobsConfigMap }}
    - name: jobs
      configMap:
        name: {{ $jobsConfigMap }}
    {{- end }}
    {{- with (include "recrypt.secretVolumes" $root | trim) }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
