{{- define "offboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "offboard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "offboard.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "offboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "offboard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "offboard.labels" -}}
{{ include "offboard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "offboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "offboard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The migration Job's: a hook of its own when the chart creates accounts (the release's
does not exist yet before install), else the one named. */}}
{{- define "offboard.migrateServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- printf "%s-migrate" (include "offboard.serviceAccountName" .) | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "offboard.serviceAccountName" . -}}
{{- end -}}
{{- end -}}

{{- define "offboard.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* "true" when webhooks are on (a webhook secret key is given), else empty. */}}
{{- define "offboard.webhooks" -}}
{{- if .Values.secrets.webhookSecretKey -}}true{{- end -}}
{{- end -}}

{{/* Refuse settings that cannot work, with the reason, at template time. */}}
{{- define "offboard.validate" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- fail "secrets.existingSecret is required: create a Secret with the credentials (see the chart README) and name it here" -}}
{{- end -}}
{{- if not (has .Values.store.type (list "postgresql" "sqlite")) -}}
{{- fail "store.type must be postgresql or sqlite" -}}
{{- end -}}
{{- if and (eq .Values.store.type "sqlite") (gt (int .Values.replicaCount) 1) -}}
{{- fail "store.type=sqlite allows one replica only (a SQLite file cannot be shared between pods): use PostgreSQL for replicaCount > 1" -}}
{{- end -}}
{{- /* The daemon refuses a webhook listener beyond loopback without TLS: say so before it crash-loops. */}}
{{- if and (include "offboard.webhooks" .) (not .Values.webhook.tls.secretName) -}}
{{- fail "webhook.tls.secretName is required while webhooks are on (secrets.webhookSecretKey is set): offboard serves webhooks beyond loopback only over TLS. Name a kubernetes.io/tls Secret with tls.crt and tls.key (e.g. a cert-manager Certificate for <release>-offboard.<namespace>.svc), or set secrets.webhookSecretKey=\"\" to turn webhooks off" -}}
{{- end -}}
{{- if eq (int .Values.service.port) (int .Values.service.webhookPort) -}}
{{- fail "service.webhookPort must differ from service.port (the webhook and operations listeners are separate)" -}}
{{- end -}}
{{- end -}}

{{/* Optional secrets: the values key naming the Secret's key, the file it is mounted as and
the setting that reads it. One table, so the environment and the volume never disagree. */}}
{{- define "offboard.optionalSecretFiles" -}}
consoleClientSecretKey: {file: console-client-secret, env: OFFBOARD_CONSOLE__CLIENT_SECRET_FILE}
consoleSessionSecretKey: {file: console-session-secret, env: OFFBOARD_CONSOLE__SESSION_SECRET_FILE}
smtpPasswordKey: {file: smtp-password, env: OFFBOARD_NOTIFICATIONS__EMAIL__SMTP__PASSWORD_FILE}
licencesSmtpPasswordKey: {file: licences-smtp-password, env: OFFBOARD_LICENCES__SMTP__PASSWORD_FILE}
slackWebhookUrlKey: {file: slack-webhook-url, env: OFFBOARD_NOTIFICATIONS__SLACK__URL_FILE}
notifyWebhookUrlKey: {file: notify-webhook-url, env: OFFBOARD_NOTIFICATIONS__WEBHOOK__URL_FILE}
notifyWebhookSigningKeyKey: {file: notify-webhook-signing-key, env: OFFBOARD_NOTIFICATIONS__WEBHOOK__SIGNING_KEY_FILE}
{{- end -}}

{{/* Environment shared by the daemon and the migration Job: secrets as files, the store URL. */}}
{{- define "offboard.env" -}}
- name: OFFBOARD_CONFIG
  value: /etc/offboard/offboard.toml
- name: OFFBOARD_KEYCLOAK__CLIENT_SECRET_FILE
  value: /etc/offboard/secrets/keycloak-client-secret
- name: OFFBOARD_ATLASSIAN__API_KEY_FILE
  value: /etc/offboard/secrets/atlassian-api-key
{{- if .Values.secrets.webhookSecretKey }}
- name: OFFBOARD_DAEMON__WEBHOOK_SECRET_FILE
  value: /etc/offboard/secrets/webhook-secret
{{- end }}
{{- if .Values.secrets.scimApiKeyKey }}
- name: OFFBOARD_ATLASSIAN__SCIM_API_KEY_FILE
  value: /etc/offboard/secrets/scim-api-key
{{- end }}
{{- range $key, $target := include "offboard.optionalSecretFiles" . | fromYaml }}
{{- if index $.Values.secrets $key }}
- name: {{ $target.env }}
  value: /etc/offboard/secrets/{{ $target.file }}
{{- end }}
{{- end }}
- name: OFFBOARD_STORE__AUTO_MIGRATE
  {{- /* One SQLite pod at a time (Recreate): no old replica can run beside an upgrade. */}}
  value: {{ or .Values.store.autoMigrate (eq .Values.store.type "sqlite") | quote }}
{{- if eq .Values.store.type "postgresql" }}
- name: OFFBOARD_STORE__URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .urlKey | default .Values.store.urlKey }}
{{- else }}
- name: OFFBOARD_STORE__PATH
  value: /var/lib/offboard/offboard.sqlite3
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "offboard.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ .Values.secrets.existingSecret }}
    defaultMode: 0400
    items:
      - key: {{ .Values.secrets.keycloakClientSecretKey }}
        path: keycloak-client-secret
      - key: {{ .Values.secrets.atlassianApiKeyKey }}
        path: atlassian-api-key
      {{- if .Values.secrets.webhookSecretKey }}
      - key: {{ .Values.secrets.webhookSecretKey }}
        path: webhook-secret
      {{- end }}
      {{- if .Values.secrets.scimApiKeyKey }}
      - key: {{ .Values.secrets.scimApiKeyKey }}
        path: scim-api-key
      {{- end }}
      {{- range $key, $target := include "offboard.optionalSecretFiles" . | fromYaml }}
      {{- with index $.Values.secrets $key }}
      - key: {{ . }}
        path: {{ $target.file }}
      {{- end }}
      {{- end }}
{{- end -}}

{{/* The daemon's two listeners: operations on every pod address (probes, Prometheus), and
webhooks over TLS from the mounted kubernetes.io/tls Secret while webhooks are on. */}}
{{- define "offboard.listenerEnv" -}}
- name: OFFBOARD_DAEMON__LISTEN_HOST
  value: "0.0.0.0"
- name: OFFBOARD_DAEMON__LISTEN_PORT
  value: {{ .Values.service.port | quote }}
{{- if include "offboard.webhooks" . }}
- name: OFFBOARD_DAEMON__WEBHOOK_HOST
  value: "0.0.0.0"
- name: OFFBOARD_DAEMON__WEBHOOK_PORT
  value: {{ .Values.service.webhookPort | quote }}
- name: OFFBOARD_DAEMON__TLS_CERT_FILE
  value: /etc/offboard/tls/tls.crt
- name: OFFBOARD_DAEMON__TLS_KEY_FILE
  value: /etc/offboard/tls/tls.key
{{- end }}
{{- end -}}
