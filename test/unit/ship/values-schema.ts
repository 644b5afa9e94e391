/**
 * The source of helm/recrypt/values.schema.json. The job part is taken from jobs/schema.json (the job
 * format's single source), so `helm install` rejects a malformed job before any pod starts; the
 * chart test keeps the committed file equal to buildValuesSchema() and rewrites it when run with
 * RECRYPT_UPDATE_CHART_SCHEMA=1. Credentials are never values: the credential patterns of the job
 * loader (src/jobs/credential-patterns.ts) apply to every string of the values, and its secret-key rule to
 * the jobs, the librdkafka properties and the plain environment (Secrets are referenced instead).
 */
import { CREDENTIAL_PATTERN, SECRET_KEY_PATTERN } from '../../../src/jobs/credential-patterns.js';

type Schema = Record<string, unknown>;

const ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';
const SECRET_KEY = '^[-._a-zA-Z0-9]+$';
/** Environment variables that name a file or path, not a secret (LOCAL_SECRET_FILE, GOOGLE_APPLICATION_CREDENTIALS). */
const ENV_REFERENCE = '(_FILE|_PATH)$|^GOOGLE_APPLICATION_CREDENTIALS$';
/** librdkafka properties that name a location, not a secret (sasl.oauthbearer.token.endpoint.url). */
const KAFKA_PROP_REFERENCE = '\\.(url|location)$';
const NO_CREDENTIALS = '#/definitions/noCredentials';
const NO_SECRET_KEYS = '#/definitions/noSecretKeys';
/** A name that does not name a credential, unless it names a reference to one. */
const notSecretName = (reference: string): Schema => ({ anyOf: [{ not: { pattern: SECRET_KEY_PATTERN } }, { pattern: reference }] });

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const int = (description: string, minimum: number, maximum?: number): Schema => ({
  type: 'integer', description, minimum, ...(maximum === undefined ? {} : { maximum }),
});
const obj = (description: string, properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object', description, additionalProperties: false, properties, ...extra,
});
/** A Kubernetes object passed through verbatim (the API server validates it). */
const k8s = (description: string): Schema => ({ type: 'object', description });
const k8sList = (description: string): Schema => ({ type: 'array', description, items: { type: 'object' } });
const stringMap = (description: string, keyPattern?: string, valuePattern?: string): Schema => ({
  type: 'object',
  description,
  ...(keyPattern ? { propertyNames: { pattern: keyPattern } } : {}),
  additionalProperties: { type: 'string', ...(valuePattern ? { pattern: valuePattern } : {}) },
});
const resources = (description: string): Schema => obj(description, {
  requests: k8s('Resource requests (cpu, memory).'),
  limits: k8s('Resource limits (memory; a CPU limit throttles the synchronous hot path).'),
  claims: k8sList('Dynamic resource claims.'),
});
const pdb = (description: string): Schema => obj(description, {
  enabled: bool('Create the PodDisruptionBudget.'),
  maxUnavailable: { type: ['integer', 'string'], description: 'Pods that may be down at once (default 1).' },
  minAvailable: { type: ['integer', 'string'], description: 'Pods that must stay up; wins over maxUnavailable when set.' },
  unhealthyPodEvictionPolicy: { type: 'string', enum: ['IfHealthyBudget', 'AlwaysAllow'], description: 'AlwaysAllow: a not-ready (halted) pod never blocks a drain.' },
});
const probe = (description: string): Schema => ({ type: ['object', 'null'], description });
const probes = (description: string): Schema => obj(description, {
  startup: probe('startupProbe; null disables.'),
  liveness: probe('livenessProbe; null disables.'),
  readiness: probe('readinessProbe; null disables.'),
});

const DURATION = '^[0-9]+(ms|s|m|h|d)$';
/** One alert of metrics.prometheusRule: on/off, for, severity, and its own thresholds. */
const alert = (description: string, thresholds: Record<string, Schema>): Schema => obj(description, {
  enabled: bool('Include this alert.'),
  for: str('How long the condition holds before the alert fires.', { pattern: DURATION }),
  severity: str('The severity label.', { minLength: 1 }),
  ...thresholds,
}, { required: ['enabled', 'for', 'severity', ...Object.keys(thresholds)] });

export function buildValuesSchema(jobSchema: Schema): Schema {
  const jobProps = jobSchema['properties'] as Record<string, Schema>;
  const metadata = structuredClone(jobProps['metadata']!);
  delete metadata['required']; // the name comes from the map key
  const job: Schema = {
    type: 'object',
    description: 'A recrypt/v1 job (jobs/schema.json); apiVersion, kind and metadata.name may be left out.',
    additionalProperties: false,
    required: ['spec'],
    properties: {
      apiVersion: jobProps['apiVersion'],
      kind: jobProps['kind'],
      metadata,
      spec: jobProps['spec'],
    },
  };
  const nameSchema = (metadata['properties'] as Record<string, Schema>)['name']!;

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'recrypt Helm chart values',
    type: 'object',
    additionalProperties: false,
    allOf: [{ $ref: NO_CREDENTIALS }],
    definitions: {
      noCredentials: {
        description: 'No string holds a credential (a URL with user:password@, an AWS key, a Vault token, NAME=secret, a private key, a bearer token, a JWT): reference a Kubernetes Secret instead.',
        not: { type: 'string', pattern: CREDENTIAL_PATTERN },
        additionalProperties: { $ref: NO_CREDENTIALS },
        items: { $ref: NO_CREDENTIALS },
      },
      noSecretKeys: {
        description: "As recrypt's job loader: a key that names a credential (password, client.secret, aws.secret.access.key, ...) has no value.",
        patternProperties: { [SECRET_KEY_PATTERN]: { $ref: '#/definitions/noValue' } },
        additionalProperties: { $ref: NO_SECRET_KEYS },
        items: { $ref: NO_SECRET_KEYS },
      },
      // Null, "", {} or [] (a schema error names the place, never the value).
      noValue: { not: { anyOf: [{ type: 'string', minLength: 1 }, { type: ['number', 'boolean'] }, { type: 'object', minProperties: 1 }, { type: 'array', minItems: 1 }] } },
    },
    properties: {
      global: { type: 'object', description: 'Helm global values (unused by this chart).' },
      image: obj('The recrypt image (the repository Dockerfile).', {
        repository: str('Image repository.', { minLength: 1 }),
        tag: str("Image tag; empty: the chart's appVersion."),
        digest: str('Image digest (sha256:...); wins over tag.', { pattern: '^(|sha256:[a-f0-9]{64})$' }),
        pullPolicy: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'], description: 'Pull policy.' },
      }, { required: ['repository'] }),
      imagePullSecrets: k8sList('LocalObjectReferences of image pull secrets.'),
      nameOverride: str('Replaces the chart name in resource names.'),
      fullnameOverride: str('Replaces the full resource name prefix.'),
      jobs: {
        type: 'object',
        description: 'Jobs run by `recrypt serve`: job name -> recrypt/v1 job. Rendered into the jobs ConfigMap.',
        propertyNames: { pattern: nameSchema['pattern'] as string },
        additionalProperties: { ...job, allOf: [{ $ref: NO_SECRET_KEYS }] },
      },
      existingJobsConfigMap: str('A ConfigMap whose *.yaml keys are job files, used instead of jobs.'),
      kafka: obj('Kafka connection (never part of a job).', {
        bootstrapServers: str('KAFKA_BOOTSTRAP_SERVERS.', { minLength: 1 }),
        properties: {
          type: 'object',
          description: 'librdkafka properties, each rendered as KAFKA_PROP_<NAME>. Dots only in names; no secrets (sasl.password, ssl.key.password, sasl.jaas.config, ...: use sasl and tls).',
          propertyNames: { pattern: '^[a-z0-9]+(\\.[a-z0-9]+)*$', ...notSecretName(KAFKA_PROP_REFERENCE) },
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
        sasl: obj('SASL credentials from an existing Secret.', {
          existingSecret: str('Secret name; empty: no SASL credentials.'),
          usernameKey: str('Key of the username (KAFKA_SASL_USERNAME).', { pattern: SECRET_KEY }),
          passwordKey: str('Key of the password (mounted; KAFKA_SASL_PASSWORD_FILE).', { pattern: SECRET_KEY }),
        }),
        tls: obj('TLS material from an existing Secret, mounted at /var/run/secrets/recrypt/kafka-tls.', {
          existingSecret: str('Secret name; empty: nothing mounted.'),
        }),
      }),
      schemaRegistry: obj('Schema Registry and DEK Registry.', {
        url: str('SCHEMA_REGISTRY_URL: one or more comma-separated URLs.', { minLength: 1 }),
        timeoutMs: int('SCHEMA_REGISTRY_TIMEOUT_MS.', 100, 600_000),
        auth: obj('Registry credentials from an existing Secret, mounted as files.', {
          existingSecret: str('Secret name; empty: no credentials.'),
          basicAuthKey: str('Key holding user:password (SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO_FILE).', { pattern: `^$|${SECRET_KEY}` }),
          bearerTokenKey: str('Key holding a bearer token (SCHEMA_REGISTRY_BEARER_TOKEN_FILE).', { pattern: `^$|${SECRET_KEY}` }),
        }),
      }),
      redis: obj('Redis of the backfill queue.', {
        url: str('REDIS_URL.'),
        existingSecret: str('A Secret holding the URL (with its password); wins over url.'),
        urlKey: str('Key of the URL in existingSecret.', { pattern: SECRET_KEY }),
      }),
      kms: obj('KMS credentials from an existing Secret (prefer workload identity).', {
        existingSecret: str('Secret name; empty: env and files are ignored.'),
        env: stringMap('VARIABLE -> Secret key, as secretKeyRef env vars.', ENV_NAME, SECRET_KEY),
        files: stringMap('VARIABLE -> Secret key; the key is mounted under /var/run/secrets/recrypt/kms and VARIABLE set to its path.', ENV_NAME, SECRET_KEY),
      }),
      env: {
        type: 'object',
        description: 'Plain (non-secret) environment variables: VARIABLE -> value. Credentials (AWS_SECRET_ACCESS_KEY, LOCAL_SECRET, VAULT_TOKEN, ...) go in kms.env / kms.files; *_FILE paths are fine.',
        propertyNames: { pattern: ENV_NAME, ...notSecretName(ENV_REFERENCE) },
        additionalProperties: { type: ['string', 'number', 'boolean'] },
      },
      extraEnv: {
        type: 'array',
        description: 'Raw EnvVar entries; a credential variable takes valueFrom (secretKeyRef), never value.',
        items: {
          type: 'object',
          not: { required: ['name', 'value'], properties: { name: { type: 'string', pattern: SECRET_KEY_PATTERN, not: { pattern: ENV_REFERENCE } } } },
        },
      },
      extraEnvFrom: k8sList('Raw EnvFromSource entries.'),
      extraVolumes: k8sList('Extra pod volumes.'),
      extraVolumeMounts: k8sList('Extra container volume mounts.'),
      logLevel: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], description: 'LOG_LEVEL.' },
      http: obj('HTTP endpoints.', { port: int('RECRYPT_HTTP_PORT and the container port.', 1, 65_535) }),
      shutdown: obj('Graceful shutdown.', {
        timeoutSeconds: int('RECRYPT_SHUTDOWN_TIMEOUT_MS / 1000: how long SIGTERM waits for open transactions.', 1, 600),
        graceMarginSeconds: int('Added to timeoutSeconds for terminationGracePeriodSeconds.', 1, 600),
      }),
      serviceAccount: obj('The pods\' ServiceAccount.', {
        create: bool('Create it.'),
        name: str('Name; empty: the full name (create) or "default".'),
        annotations: stringMap('Annotations: IRSA role ARN, GKE Workload Identity, Azure workload identity client id.'),
        automountServiceAccountToken: bool('Mount a Kubernetes API token (recrypt does not need one).'),
      }),
      podAnnotations: stringMap('Pod annotations.'),
      podLabels: stringMap('Pod labels (e.g. azure.workload.identity/use: "true").'),
      podSecurityContext: k8s('PodSecurityContext (restricted by default).'),
      securityContext: k8s('Container SecurityContext (restricted by default).'),
      tmpVolume: obj('emptyDir at /tmp.', { sizeLimit: { type: ['string', 'null'], description: 'emptyDir size limit.' } }),
      nodeSelector: stringMap('Node selector.'),
      tolerations: k8sList('Tolerations.'),
      affinity: k8s('Affinity.'),
      topologySpreadConstraints: k8sList('Topology spread constraints.'),
      priorityClassName: str('Priority class.'),
      serve: obj('`recrypt serve /etc/recrypt/jobs`.', {
        enabled: bool('Create the serve StatefulSet or Deployment (when there are jobs).'),
        workload: {
          type: 'string', enum: ['Deployment', 'StatefulSet'],
          description: 'StatefulSet (default): stable pod names, so stable transactional ids (a replacement aborts its crashed predecessor\'s open transaction at once). Deployment: a replacement pod has new transactional ids, and read_committed readers of the target wait for the crashed pod\'s open transaction to time out.',
        },
        replicas: int('Replicas (consumer group members).', 0),
        args: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Arguments after `recrypt`.' },
        probes: probes('Probes (port name http): /healthz for startup and liveness, /readyz (503 while a job starts, failed, stalled or has a halted partition) for readiness.'),
        strategy: k8s('Deployment strategy (a Deployment only).'),
        resources: resources('Container resources.'),
        podDisruptionBudget: pdb('PodDisruptionBudget of the serve pods.'),
      }),
      worker: obj('`recrypt worker`: backfill tasks from the Redis queue.', {
        enabled: bool('Create the worker Deployment (when there are jobs).'),
        replicas: int('Replicas when autoscaling is off.', 0),
        args: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Arguments after `recrypt`.' },
        concurrency: { type: ['integer', 'null'], minimum: 1, description: "RECRYPT_BACKFILL_CONCURRENCY: tasks per worker process; null: recrypt's default." },
        probes: probes('Probes; the worker serves no HTTP endpoint, so none by default.'),
        resources: resources('Container resources.'),
        autoscaling: obj('HorizontalPodAutoscaler (autoscaling/v2, CPU).', {
          enabled: bool('Create the HPA (the Deployment then has no replicas field).'),
          minReplicas: int('Minimum replicas.', 1),
          maxReplicas: int('Maximum replicas.', 1),
          targetCPUUtilizationPercentage: int('Target average CPU utilization.', 1, 100),
          behavior: k8s('HPA scaling behavior.'),
        }),
        podDisruptionBudget: pdb('PodDisruptionBudget of the worker pods.'),
      }),
      service: obj('Service over the serve pods\' HTTP port (metrics).', {
        enabled: bool('Create the Service.'),
        type: { type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer'], description: 'Service type.' },
        port: int('Service port.', 1, 65_535),
        annotations: stringMap('Service annotations.'),
      }),
      metrics: obj('Prometheus.', {
        serviceMonitor: obj('Prometheus Operator ServiceMonitor.', {
          enabled: bool('Create it (needs the monitoring.coreos.com/v1 CRDs and service.enabled).'),
          namespace: str('Namespace of the ServiceMonitor; empty: the release namespace.'),
          labels: stringMap('Extra labels (to match the Prometheus serviceMonitorSelector).'),
          interval: str('Scrape interval.', { pattern: '^[0-9]+(ms|s|m|h)$' }),
          scrapeTimeout: str('Scrape timeout.', { pattern: '^[0-9]+(ms|s|m|h)$' }),
        }),
        dashboard: obj('Grafana dashboard (dashboards/recrypt.json) in a ConfigMap for the Grafana dashboard sidecar.', {
          enabled: bool('Create the ConfigMap.'),
          namespace: str('Namespace of the ConfigMap; empty: the release namespace.'),
          labels: stringMap('Labels the sidecar selects on (grafana_dashboard: "1").'),
          annotations: stringMap('Annotations (grafana_folder: ...).'),
        }),
        prometheusRule: obj('Prometheus Operator PrometheusRule with the recrypt alerts.', {
          enabled: bool('Create it (needs the monitoring.coreos.com/v1 CRDs).'),
          namespace: str('Namespace of the PrometheusRule; empty: the release namespace.'),
          labels: stringMap('Extra labels (to match the Prometheus ruleSelector).'),
          runbookUrl: str('URL of docs/operations.md; each runbook_url is it plus an anchor. Empty: docs/operations.md.', { pattern: '^(|https?://[^#\\s]+)$' }),
          alertLabels: stringMap('Labels added to every alert (routing, e.g. team).'),
          haltedPartition: alert('A partition is halted (recrypt_halted_partitions > 0).', {}),
          lagGrowth: alert('The job\'s total lag grew over window and is above minLag records.', {
            window: str('Range of the growth (deriv) check.', { pattern: DURATION }),
            minLag: int('Lag, in records, below which growth is not alerted.', 0),
          }),
          kmsErrors: alert('KMS calls fail: failed / all calls, per KMS type and operation, above ratio.', {
            ratio: { type: 'number', minimum: 0, maximum: 1, description: 'Failed share of KMS calls above which the alert fires (0: any failure).' },
          }),
          dlqRate: alert('Committed DLQ records per second, per job, above perSecond.', {
            perSecond: { type: 'number', minimum: 0, description: 'DLQ records per second above which the alert fires (0: any).' },
          }),
        }),
      }),
      networkPolicy: obj('NetworkPolicy of the recrypt pods.', {
        enabled: bool('Create it.'),
        metricsFrom: k8sList('NetworkPolicyPeers allowed to reach the HTTP port; empty: any.'),
        egress: k8sList('Egress rules; empty: egress unrestricted. DNS is added when set.'),
      }),
    },
  };
}
