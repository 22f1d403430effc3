{{/* The release's name for everything the chart creates. */}}
{{- define "psycho-gateway.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "psycho-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "psycho-gateway.labels" -}}
{{ include "psycho-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "psycho-gateway.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/* The gateway's configuration file. */}}
{{- define "psycho-gateway.config" -}}
gateway:
{{- toYaml .Values.gateway | nindent 2 }}
{{- if .Values.tls.enabled }}
  tls:
    cert_file: /etc/psycho/tls/tls.crt
    key_file: /etc/psycho/tls/tls.key
{{- end }}
log:
{{- toYaml .Values.log | nindent 2 }}
{{- if .Values.nats.servers }}
nats:
  servers:
{{- toYaml .Values.nats.servers | nindent 4 }}
{{- if .Values.nats.subjects }}
  subjects:
{{- toYaml .Values.nats.subjects | nindent 4 }}
{{- end }}
{{- if .Values.nats.existingSecret }}
{{- if .Values.nats.tokenKey }}
  token: ${NATS_TOKEN}
{{- else }}
  user: ${NATS_USER}
  password: ${NATS_PASSWORD}
{{- end }}
{{- end }}
{{- if .Values.nats.tls.enabled }}
  tls:
    ca_file: /etc/psycho/nats-tls/ca.crt
{{- end }}
{{- end }}
{{- range $name, $section := .Values.overlays }}
{{- if and (eq $name "multicast") $.Values.multicastKeys.secretName }}
{{- $section = merge (dict "keys" (printf "/etc/psycho/multicast-keys/%s" $.Values.multicastKeys.key)) $section }}
{{- end }}
{{- if eq $name "poldercast" }}
{{- if not (or (hasKey $section "state_dir") (hasKey $section "key_file")) }}
{{- /* Each pod makes its own node key on its first start, kept in the pod's state volume. */}}
{{- $section = merge (dict "state_dir" "/var/lib/psycho/poldercast") $section }}
{{- end }}
{{- if $.Values.poldercastSecret.secretName }}
{{- $admission := merge (dict "secret_file" (printf "/etc/psycho/poldercast-secret/%s" $.Values.poldercastSecret.key)) ($section.admission | default dict) }}
{{- $section = merge (dict "admission" $admission) $section }}
{{- end }}
{{- end }}
{{ $name }}:
{{- toYaml $section | nindent 2 }}
{{- end }}
{{- if and .Values.multicastKeys.secretName (not .Values.overlays.multicast) }}
{{- fail "multicastKeys.secretName needs an overlays.multicast section" }}
{{- end }}
{{- if and .Values.poldercastSecret.secretName (not .Values.overlays.poldercast) }}
{{- fail "poldercastSecret.secretName needs an overlays.poldercast section" }}
{{- end }}
{{- end -}}

{{/*
The gateway as a container, for an application chart that wants it as a sidecar:

  initContainers:
    {{- include "psycho-gateway.sidecar" (dict "Values" .Values.psychoGateway "Chart" .Chart "Release" .Release) | nindent 4 }}

Put it under initContainers (it sets restartPolicy: Always, a native sidecar) or, with
"native" false in its values, under containers. The pod needs a volume named
psycho-gateway-config holding psycho-gateway.yaml (the "psycho-gateway.config" template),
with overlays.poldercast an emptyDir named psycho-gateway-state (the node key lives there), and, with
multicastKeys or poldercastSecret, one named psycho-gateway-multicast-keys or
psycho-gateway-poldercast-secret (the Secret, defaultMode 0440) and fsGroup 10001 in its
securityContext so the gateway can read it.
*/}}
{{- define "psycho-gateway.sidecar" -}}
- name: psycho-gateway
  image: {{ include "psycho-gateway.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if ne (toString .Values.native) "false" }}
  restartPolicy: Always
  {{- end }}
  args: ["--config", "/etc/psycho/config/psycho-gateway.yaml"]
  ports:
    - {name: psycho, containerPort: 4242}
    - {name: admin, containerPort: 9242}
  livenessProbe:
    httpGet: {path: /healthz, port: admin}
    periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
    failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
  readinessProbe:
    httpGet: {path: /readyz, port: admin}
    periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
    failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
  lifecycle:
    preStop:
      exec:
        command: ["sleep", "{{ .Values.preStopSleepSeconds }}"]
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    runAsNonRoot: true
    runAsUser: 10001
    capabilities:
      drop: ["ALL"]
  env:
    # The pod's own address, for an overlay that must tell its peers where to dial it
    # (poldercast.advertise: ${POD_IP}:4250).
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
  {{- if and .Values.nats.existingSecret .Values.nats.servers }}
    {{- if .Values.nats.tokenKey }}
    - name: NATS_TOKEN
      valueFrom: {secretKeyRef: {name: {{ .Values.nats.existingSecret }}, key: {{ .Values.nats.tokenKey }}}}
    {{- else }}
    - name: NATS_USER
      valueFrom: {secretKeyRef: {name: {{ .Values.nats.existingSecret }}, key: {{ .Values.nats.userKey }}}}
    - name: NATS_PASSWORD
      valueFrom: {secretKeyRef: {name: {{ .Values.nats.existingSecret }}, key: {{ .Values.nats.passwordKey }}}}
    {{- end }}
  {{- end }}
  volumeMounts:
    - {name: psycho-gateway-config, mountPath: /etc/psycho/config, readOnly: true}
    {{- if .Values.overlays.poldercast }}
    - {name: psycho-gateway-state, mountPath: /var/lib/psycho}
    {{- end }}
    {{- if .Values.tls.enabled }}
    - {name: psycho-gateway-tls, mountPath: /etc/psycho/tls, readOnly: true}
    {{- end }}
    {{- if .Values.nats.tls.enabled }}
    - {name: psycho-gateway-nats-tls, mountPath: /etc/psycho/nats-tls, readOnly: true}
    {{- end }}
    {{- if .Values.multicastKeys.secretName }}
    - {name: psycho-gateway-multicast-keys, mountPath: /etc/psycho/multicast-keys, readOnly: true}
    {{- end }}
    {{- if .Values.poldercastSecret.secretName }}
    - {name: psycho-gateway-poldercast-secret, mountPath: /etc/psycho/poldercast-secret, readOnly: true}
    {{- end }}
{{- end -}}
