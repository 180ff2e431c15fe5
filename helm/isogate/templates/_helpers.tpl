{{/* Names and labels. */}}
{{- define "isogate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "isogate.fullname" -}}
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

{{- define "isogate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "isogate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "isogate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "isogate.labels" -}}
helm.sh/chart: {{ include "isogate.chart" . }}
{{ include "isogate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "isogate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "isogate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "isogate.secretName" -}}
{{- default (include "isogate.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "isogate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* API versions the cluster serves (.Capabilities.APIVersions: discovery on install,
     Helm's defaults offline): the GA one where it exists, else the beta of older clusters
     (autoscaling/v2 from 1.23, policy/v1 PodDisruptionBudget from 1.21). The v2beta2 HPA
     has the same fields the chart uses (metrics, behavior). */}}
{{- define "isogate.hpaApiVersion" -}}
{{- if .Capabilities.APIVersions.Has "autoscaling/v2" -}}autoscaling/v2{{- else -}}autoscaling/v2beta2{{- end -}}
{{- end -}}

{{- define "isogate.pdbApiVersion" -}}
{{- if .Capabilities.APIVersions.Has "policy/v1" -}}policy/v1{{- else -}}policy/v1beta1{{- end -}}
{{- end -}}

{{/* Can more than one pod run at once (replicas, HPA or KEDA)? "true" or "". */}}
{{- define "isogate.multiPod" -}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled .Values.keda.enabled -}}true{{- end -}}
{{- end -}}

{{/* Graceful shutdown, sized to the longest function run.
     Hypercorn waits shutdown_timeout_seconds for in-flight requests after SIGTERM; the
     longest one lasts runtime.max_timeout_ms plus runtime_grace_seconds. */}}
{{- define "isogate.maxRunSeconds" -}}
{{- $ms := dig "runtime" "max_timeout_ms" 30000 .Values.config | int64 -}}
{{- $grace := dig "runtime_grace_seconds" 5 .Values.config | float64 | ceil | int64 -}}
{{- add (div (add $ms 999) 1000) $grace -}}
{{- end -}}

{{- define "isogate.shutdownTimeoutSeconds" -}}
{{- add (include "isogate.maxRunSeconds" . | int64) .Values.gracefulShutdown.drainSeconds -}}
{{- end -}}

{{- define "isogate.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.gracefulShutdown.terminationGracePeriodSeconds -}}
{{- add .Values.gracefulShutdown.preStopSleepSeconds (include "isogate.shutdownTimeoutSeconds" . | int64) .Values.gracefulShutdown.closeSeconds -}}
{{- else -}}
{{- .Values.gracefulShutdown.terminationGracePeriodSeconds | int64 -}}
{{- end -}}
{{- end -}}

{{/* The settings file: values.config plus the settings the chart manages. Scalars first,
     then one [table] per nested map (runtime, default_rate_limit). JSON scalars are valid
     TOML scalars (and toJson keeps 31536000 from turning into 3.1536e+07). */}}
{{- define "isogate.toml" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $_ := set $cfg "shutdown_timeout_seconds" (include "isogate.shutdownTimeoutSeconds" . | int64) -}}
{{- if .Values.s3.enabled -}}
{{- $_ := set $cfg "s3_endpoint" .Values.s3.endpoint -}}
{{- $_ := set $cfg "s3_bucket" .Values.s3.bucket -}}
{{- if .Values.s3.region }}{{ $_ := set $cfg "s3_region" .Values.s3.region }}{{ end -}}
{{- if .Values.s3.prefix }}{{ $_ := set $cfg "s3_prefix" .Values.s3.prefix }}{{ end -}}
{{- end -}}
# isogate settings, rendered by the chart; read by `isogate serve --config`.
# Secrets and backend URLs come from ISOGATE_* environment variables (Secret).
{{- range $k, $v := $cfg }}
{{- if not (or (kindIs "map" $v) (kindIs "invalid" $v)) }}
{{ $k }} = {{ $v | toJson }}
{{- end }}
{{- end }}
{{- range $k, $v := $cfg }}
{{- if kindIs "map" $v }}

[{{ $k }}]
{{- range $k2, $v2 := $v }}
{{- if not (kindIs "invalid" $v2) }}
{{ $k2 }} = {{ $v2 | toJson }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Refuse configurations that would misbehave; called from the Deployment. */}}
{{- define "isogate.validate" -}}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled -}}
{{- fail "autoscaling.enabled and keda.enabled are mutually exclusive (KEDA creates its own HPA)" -}}
{{- end -}}
{{- if and (include "isogate.multiPod" .) (not (and .Values.database.enabled .Values.redis.enabled .Values.s3.enabled)) -}}
{{- fail "more than one pod (replicaCount > 1, autoscaling or keda) needs database.enabled, redis.enabled and s3.enabled: the embedded SQLite file, code folder and in-process quotas are per pod and would not be shared" -}}
{{- end -}}
{{- if .Values.secrets.existingSecret -}}
{{- if or .Values.secrets.jwtSecret .Values.secrets.adminToken .Values.secrets.secretsMasterKey .Values.database.url .Values.redis.url .Values.s3.accessKey .Values.s3.secretKey -}}
{{- fail "with secrets.existingSecret, put the JWT key, admin token, URLs and S3 keys into that Secret, not into values" -}}
{{- end -}}
{{- else -}}
{{- if and .Values.database.enabled (not .Values.database.url) -}}
{{- fail "database.enabled needs database.url (or secrets.existingSecret with the database URL)" -}}
{{- end -}}
{{- if and .Values.redis.enabled (not .Values.redis.url) -}}
{{- fail "redis.enabled needs redis.url (or secrets.existingSecret with the Redis URL)" -}}
{{- end -}}
{{- if and .Values.secrets.jwtSecret (lt (len .Values.secrets.jwtSecret) 32) -}}
{{- fail "secrets.jwtSecret must be at least 32 bytes" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.s3.enabled (not (and .Values.s3.endpoint .Values.s3.bucket)) -}}
{{- fail "s3.enabled needs s3.endpoint and s3.bucket" -}}
{{- end -}}
{{- end -}}

{{/* A secret value: the one given, else the one already in the cluster (upgrades keep
     generated keys), else a random one. Base64-encoded. */}}
{{- define "isogate.secretValue" -}}
{{- $ctx := index . 0 -}}{{- $key := index . 1 -}}{{- $given := index . 2 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" $ctx.Release.Namespace (include "isogate.fullname" $ctx) -}}
{{- if and $existing $existing.data (hasKey $existing.data $key) -}}
{{- index $existing.data $key -}}
{{- else -}}
{{- randAlphaNum 64 | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The secrets master keyring: the one given, else the one already in the cluster, else
     a new ID:BASE64 entry of 32 random bytes. Base64-encoded. */}}
{{- define "isogate.masterKeyValue" -}}
{{- $ctx := index . 0 -}}{{- $key := index . 1 -}}{{- $given := index . 2 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" $ctx.Release.Namespace (include "isogate.fullname" $ctx) -}}
{{- if and $existing $existing.data (hasKey $existing.data $key) -}}
{{- index $existing.data $key -}}
{{- else -}}
{{- printf "helm%s:%s" (randNumeric 8) (randBytes 32) | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}
