{{/*
One service: its ServiceAccount, Deployment (app + injected daprd), Service,
PodDisruptionBudget and, when enabled, HorizontalPodAutoscaler. Each file in
templates/services/ calls it with the service's name and what it needs:
  (dict "root" $ "name" "product" "redis" true "fakeGateway" false)
"database" false (the gateway) leaves out the database, its migrations and the
wait for the infrastructure; "signsTokens" true (the user service) gives the
app the key that signs access tokens; "public" true (the gateway) leaves out
the app API token, since its routes are for everyone.

Every sidecar demands the Dapr API token of its callers (the app sends it) and
runs with its service's own Configuration, <service>-config (access control);
every other sidecar sends the app API token to its app, which refuses requests
without it.

Migrations run in an init container of every pod (see README "Kubernetes"):
not a Helm hook, because a pre-install hook runs before the bundled database
exists and a post-install hook deadlocks `helm install --wait`. Concurrent pods
do not race: the migrate command holds a Postgres advisory lock, and a pod
serves only after its database schema is current.
*/}}
{{- define "shop.service" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := index $root.Values.services $name -}}
{{- $labels := dict "root" $root "component" $name -}}
{{- $database := ne .database false -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "shop.labels" $labels | nindent 4 }}
# The identity of the pod (Dapr's Sentry signs its sidecar's certificate for it), with no
# rights in the Kubernetes API and no token for it in the pod: the app never calls the API,
# the kubelet resolves the pod's Secrets and Dapr's operator its components' secretKeyRefs.
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "shop.labels" $labels | nindent 4 }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "shop.selectorLabels" $labels | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "shop.labels" $labels | nindent 8 }}
      annotations:
        dapr.io/enabled: "true"
        dapr.io/app-id: {{ $name | quote }}
        dapr.io/app-port: "3000"
        dapr.io/config: {{ $name }}-config
        dapr.io/log-as-json: "true"
        dapr.io/log-level: {{ $root.Values.dapr.logLevel | quote }}
        dapr.io/enable-metrics: "true"
        dapr.io/metrics-port: "9090"
        dapr.io/sidecar-cpu-request: {{ $root.Values.dapr.sidecar.cpuRequest | quote }}
        dapr.io/sidecar-memory-request: {{ $root.Values.dapr.sidecar.memoryRequest | quote }}
        dapr.io/sidecar-cpu-limit: {{ $root.Values.dapr.sidecar.cpuLimit | quote }}
        dapr.io/sidecar-memory-limit: {{ $root.Values.dapr.sidecar.memoryLimit | quote }}
        dapr.io/graceful-shutdown-seconds: {{ $root.Values.dapr.gracefulShutdownSeconds | quote }}
        dapr.io/api-token-secret: {{ include "shop.daprApiTokenSecret" $root | quote }}
        # Dapr's built-in Kubernetes secret store would read Secrets with the pod's
        # identity; nothing here uses it (see the ServiceAccount above).
        dapr.io/disable-builtin-k8s-secret-store: "true"
        {{- if not .public }}
        dapr.io/app-token-secret: {{ include "shop.appApiTokenSecret" (dict "root" $root "name" $name) | quote }}
        {{- end }}
        # The app's own metrics (a public app's on a port of its own, 9464: its
        # port is open to anyone); the sidecar's are on its `dapr-metrics` port (9090).
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ ternary "9464" "3000" (default false .public) | quote }}
        prometheus.io/path: /metrics
        # daprd reads its components at start: a change of them rolls the pods.
        checksum/dapr-resources: {{ include (print $root.Template.BasePath "/dapr/resources.yaml") $root | sha256sum }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      # A Service named kafka would otherwise put KAFKA_PORT=tcp://... into every pod.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $root.Values.common.terminationGracePeriodSeconds }}
      securityContext:
        {{- include "shop.podSecurityContext" . | nindent 8 }}
      {{- if $database }}
      initContainers:
        # daprd exits when a component cannot reach Kafka or Redis at start, so
        # the pod waits for them before its containers (the sidecar included) start.
        - name: wait-for-infrastructure
          image: {{ include "shop.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [node, services/platform/src/bin/wait-for.ts]
          args:
            - --timeout={{ $root.Values.common.waitForInfraSeconds }}
            {{- range splitList " " (include "shop.infraAddresses" .) }}
            - {{ . | quote }}
            {{- end }}
          resources:
            requests: { cpu: 10m, memory: 32Mi, ephemeral-storage: 16Mi }
            limits: { cpu: 200m, memory: 128Mi, ephemeral-storage: 64Mi }
          securityContext:
            {{- include "shop.containerSecurityContext" . | nindent 12 }}
        - name: migrate
          image: {{ include "shop.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          # What `npm run migrate -w services/{{ $name }}` runs.
          command: [node, services/{{ $name }}/src/migrate.ts]
          env:
            - name: APP_ID
              value: {{ $name | quote }}
            - name: LOG_LEVEL
              value: {{ $root.Values.common.logLevel | quote }}
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef: { name: {{ include "shop.databaseSecret" $root }}, key: {{ $name }} }
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- include "shop.containerSecurityContext" . | nindent 12 }}
      {{- end }}
      containers:
        - name: app
          image: {{ include "shop.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          {{- if $root.Values.dev.liveUpdate }}
          command: [node, --watch, services/{{ $name }}/src/main.ts]
          {{- end }}
          ports:
            - name: http
              containerPort: 3000
            {{- if .public }}
            - name: metrics
              containerPort: 9464
            {{- end }}
          env:
            - name: APP_ID
              value: {{ $name | quote }}
            - name: PORT
              value: "3000"
            {{- if .public }}
            - name: METRICS_PORT
              value: "9464"
            {{- end }}
            - name: LOG_LEVEL
              value: {{ $root.Values.common.logLevel | quote }}
            - name: TRACING_ZIPKIN_URL
              value: {{ $root.Values.observability.tracing.zipkinEndpoint | quote }}
            - name: TRACING_SAMPLING_RATE
              value: {{ $root.Values.observability.tracing.samplingRate | quote }}
            - name: DAPR_API_TOKEN
              valueFrom:
                secretKeyRef: { name: {{ include "shop.daprApiTokenSecret" $root }}, key: token }
            {{- if not .public }}
            - name: APP_API_TOKEN
              valueFrom:
                secretKeyRef: { name: {{ include "shop.appApiTokenSecret" (dict "root" $root "name" $name) }}, key: token }
            {{- end }}
            {{- if $database }}
            - name: SEED_DEMO_DATA
              value: {{ $root.Values.common.seedDemoData | quote }}
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef: { name: {{ include "shop.databaseSecret" $root }}, key: {{ $name }} }
            {{- end }}
            {{- if .signsTokens }}
            - name: JWT_PRIVATE_KEY
              valueFrom:
                secretKeyRef: { name: {{ include "shop.signingKeySecret" $root }}, key: private-key.pem }
            {{- end }}
            {{- if .redis }}
            {{- if include "shop.redisSecret" $root }}
            - name: REDIS_PASSWORD
              valueFrom:
                secretKeyRef: { name: {{ include "shop.redisSecret" $root }}, key: password }
            - name: REDIS_URL
              value: {{ printf "%s://:$(REDIS_PASSWORD)@%s" (include "shop.redisScheme" $root) (include "shop.redisHost" $root) | quote }}
            {{- else }}
            - name: REDIS_URL
              value: {{ printf "%s://%s" (include "shop.redisScheme" $root) (include "shop.redisHost" $root) | quote }}
            {{- end }}
            {{- end }}
            {{- if .fakeGateway }}
            - name: FAKE_GATEWAY_FAULTS
              value: {{ $root.Values.common.fakeGatewayFaults | quote }}
            {{- end }}
            {{- range $key, $value := $svc.env }}
            - name: {{ $key }}
              value: {{ $value | quote }}
            {{- end }}
          startupProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          # 503 until the database and the sidecar answer: a pod whose daprd was
          # not injected never becomes ready.
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- include "shop.containerSecurityContext" (dict "writable" $root.Values.dev.liveUpdate) | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
      volumes:
        - name: tmp
          emptyDir: {}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "shop.labels" $labels | nindent 4 }}
spec:
  type: {{ ternary "NodePort" "ClusterIP" (gt (int $svc.nodePort) 0) }}
  selector:
    {{- include "shop.selectorLabels" $labels | nindent 4 }}
  ports:
    - name: http
      port: 80
      targetPort: http
      {{- if gt (int $svc.nodePort) 0 }}
      nodePort: {{ $svc.nodePort }}
      {{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "shop.labels" $labels | nindent 4 }}
spec:
  maxUnavailable: {{ $svc.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "shop.selectorLabels" $labels | nindent 6 }}
{{- if $svc.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "shop.labels" $labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $svc.autoscaling.minReplicas }}
  maxReplicas: {{ $svc.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $svc.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}
