{{/* Labels every object of the chart carries; `component` names the part. */}}
{{- define "shop.labels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: shop
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{- define "shop.selectorLabels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* The image of a service. */}}
{{- define "shop.image" -}}
{{ printf "%s/%s:%s" .root.Values.image.repository .name ((index .root.Values.services .name).imageTag | default .root.Values.image.tag) }}
{{- end }}

{{/* Secret and key holding a service's DATABASE_URL. */}}
{{- define "shop.databaseSecret" -}}
{{- if .Values.postgres.bundled }}shop-database-urls{{ else }}{{ required "postgres.external.existingSecret is required when postgres.bundled is false" .Values.postgres.external.existingSecret }}{{ end }}
{{- end }}

{{/* host:port of Redis. */}}
{{- define "shop.redisHost" -}}
{{- if .Values.redis.bundled }}redis:6379{{ else }}{{ required "redis.external.host is required when redis.bundled is false" .Values.redis.external.host }}{{ end }}
{{- end }}

{{/* Secret holding Redis's password under `password`. */}}
{{/* rediss (TLS) for your own Redis with redis.external.tls, else redis. */}}
{{- define "shop.redisScheme" -}}
{{- if and (not .Values.redis.bundled) .Values.redis.external.tls }}rediss{{ else }}redis{{ end }}
{{- end }}

{{- define "shop.redisSecret" -}}
{{- if .Values.redis.bundled }}shop-redis{{ else }}{{ .Values.redis.external.existingSecret }}{{ end }}
{{- end }}

{{/* Kafka brokers, host:port[,host:port]. */}}
{{- define "shop.kafkaBrokers" -}}
{{- if .Values.kafka.bundled }}kafka:9092{{ else }}{{ required "kafka.external.brokers is required when kafka.bundled is false" .Values.kafka.external.brokers }}{{ end }}
{{- end }}

{{/* host:port pairs a service's init container waits for before migrating. */}}
{{- define "shop.infraAddresses" -}}
{{- $db := "" -}}
{{- if .root.Values.postgres.bundled }}{{ $db = printf "postgres-%s:5432" .name }}{{ end -}}
{{- $list := list (include "shop.redisHost" .root) -}}
{{- if $db }}{{ $list = append $list $db }}{{ end -}}
{{- $list = concat $list (splitList "," (include "shop.kafkaBrokers" .root)) -}}
{{- join " " $list }}
{{- end }}

{{/* Pod and container security settings of the services (non-root, read-only root). */}}
{{- define "shop.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- /* `.writable`: true for Tilt's live update (it syncs files into the container). */ -}}
{{- define "shop.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ ne .writable true }}
capabilities:
  drop: [ALL]
{{- end }}

{{/*
The `data` volume of a bundled StatefulSet (postgres, redis, kafka): a claim
per pod when persistence is on, else an emptyDir. Called with the part's
values as `.p`; "shop.dataVolume" goes under volumes, "shop.dataClaim" under
the StatefulSet's spec.
*/}}
{{- define "shop.dataVolume" -}}
{{- if not .p.persistence.enabled }}
- name: data
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "shop.dataClaim" -}}
{{- if .p.persistence.enabled }}
volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      {{- with .p.persistence.storageClass }}
      storageClassName: {{ . }}
      {{- end }}
      resources:
        requests:
          storage: {{ .p.persistence.size }}
{{- end }}
{{- end }}

{{/* The subscriptions' dead-letter topics (one per topic and consumer), from components/subscriptions.yaml. */}}
{{- define "shop.deadLetterTopics" -}}
{{- $topics := list -}}
{{- range $doc := regexSplit "(?m)^---\\s*$" (.Files.Get "components/subscriptions.yaml") -1 -}}
{{- $topic := dig "spec" "deadLetterTopic" "" (fromYaml $doc) -}}
{{- if $topic }}{{ $topics = append $topics $topic }}{{ end -}}
{{- end -}}
{{- join " " (uniq $topics) }}
{{- end }}

{{/* The Secret (key `token`) whose value every sidecar demands from callers of its API. */}}
{{- define "shop.daprApiTokenSecret" -}}
{{- .Values.dapr.apiTokenSecret | default "shop-dapr-api-token" -}}
{{- end }}

{{/*
The Secret (key `token`) whose value a service's sidecar sends to it, which
answers nothing else: one per service, so that one service's token opens no
other's port. Called with (dict "root" $ "name" "<service>").
*/}}
{{- define "shop.appApiTokenSecret" -}}
{{- index .root.Values.dapr.appTokenSecrets .name | default (printf "shop-%s-app-api-token" .name) -}}
{{- end }}

{{/* The Secret holding the key that signs access tokens (key private-key.pem). */}}
{{- define "shop.signingKeySecret" -}}
{{- .Values.auth.existingSecret | default "shop-jwt-signing-key" -}}
{{- end }}

{{- /*
The headless Service a StatefulSet names as its serviceName (its pods' stable
DNS names); clients connect through the ordinary Service of the same component.
Called with (dict "root" $ "component" "<name>" "port" <port> "portName" "<port name>").
*/ -}}
{{- define "shop.headlessService" -}}
{{- $labels := dict "root" .root "component" .component }}
apiVersion: v1
kind: Service
metadata:
  name: {{ .component }}-headless
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "shop.labels" $labels | nindent 4 }}
spec:
  clusterIP: None
  selector:
    {{- include "shop.selectorLabels" $labels | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .portName }}
{{- end }}

{{- /*
A secret value made at install and kept on upgrade: the value given (a
non-empty `given`), else the one the Secret `secret` already holds under
`key` (lookup: a `helm template` without a cluster finds none), else a new
random one of `length` letters and digits (40 unless given). Called with
(dict "root" $ "secret" "<name>" "key" "<key>" "given" <value> "length" <n>).
*/ -}}
{{- define "shop.keptSecret" -}}
{{- if .given }}{{ .given }}{{ else }}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $existing (index ($existing.data | default dict) .key) }}{{ index $existing.data .key | b64dec }}{{ else }}{{ randAlphaNum (.length | default 40) }}{{ end }}
{{- end }}
{{- end }}
