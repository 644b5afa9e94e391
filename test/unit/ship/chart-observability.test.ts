/**
 * The chart's Grafana dashboard (helm/recrypt/dashboards/recrypt.json, shipped in a ConfigMap) and its
 * PrometheusRule alerts: the dashboard is valid JSON with a query on every panel, every metric a
 * dashboard query or an alert names is one recrypt exports (the series of the metrics registry that
 * `GET /metrics` serves, src/service/metrics.ts, not a copy of its names), the PrometheusRule validates
 * against the Prometheus Operator CRD schema, and every runbook_url points at a section of
 * docs/operations.md. Both are off by default (the PrometheusRule needs the operator's CRDs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { JobMetrics } from '../../../src/service/metrics.js';
import { ROOT, findTool, run, serviceMonitorModule, titled } from './tools.js';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string> }; // eslint-disable-line @typescript-eslint/no-explicit-any
type Rule = { alert: string; expr: string; for: string; labels: Record<string, string>; annotations: Record<string, string> };
type Panel = { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; targets?: { expr: string; refId: string }[] };

const CHART = join(ROOT, 'helm/recrypt');
const HERE = join(ROOT, 'test/unit/ship');
const DASHBOARD_FILE = join(CHART, 'dashboards/recrypt.json');
const helm = findTool('helm');
const operatorModels = serviceMonitorModule();

function helmTemplate(valueFiles: readonly string[], extra: readonly string[] = []): Manifest[] {
  const out = run(helm.path!, ['template', 'recrypt', CHART, '--namespace', 'data', ...valueFiles.flatMap((f) => ['-f', f]), ...extra]);
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return YAML.parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest | null).filter((d): d is Manifest => d !== null);
}

/** Every series name recrypt's /metrics can serve: counters and gauges as named, histograms' _bucket/_sum/_count. */
async function exportedSeries(): Promise<Set<string>> {
  const metrics = await new JobMetrics().registry.getMetricsAsJSON();
  const names = new Set<string>();
  for (const m of metrics) {
    const type = String(m.type); // prom-client's MetricType values: 'counter', 'gauge', 'histogram', 'summary'
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m.name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(`${m.name}${suffix}`);
    else names.add(m.name);
  }
  return names;
}

/** The PromQL functions and aggregations the dashboard and alerts may call. */
const FUNCTIONS = new Set(['sum', 'max', 'min', 'avg', 'count', 'topk', 'rate', 'increase', 'deriv', 'histogram_quantile', 'vector', 'label_values']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges and grouping clauses
 * are dropped first; an identifier followed by `(` must be a known function, every other one is a
 * metric name. Throws on an unknown function or unbalanced brackets, so a typo cannot hide a name.
 */
function metricNames(expr: string): string[] {
  const depth = { '(': 0, '[': 0, '{': 0 };
  const closing: Record<string, keyof typeof depth> = { ')': '(', ']': '[', '}': '{' };
  for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if (c in depth) depth[c as keyof typeof depth] += 1;
    if (c in closing && --depth[closing[c]!] < 0) throw new Error(`unbalanced ${c} in ${expr}`);
  }
  if (Object.values(depth).some((n) => n !== 0)) throw new Error(`unbalanced brackets in ${expr}`);
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const token = m[0];
    const next = bare.slice(m.index + token.length).trimStart()[0];
    if (next === '(') {
      if (!FUNCTIONS.has(token)) throw new Error(`unknown function ${token} in ${expr}`);
    } else if (!KEYWORDS.has(token.toLowerCase())) {
      names.push(token);
    }
  }
  return names;
}

/** GitHub's anchor of a Markdown heading. */
const anchorOf = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
const docAnchors = new Set(
  readFileSync(join(ROOT, 'docs/operations.md'), 'utf8').split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => anchorOf(l.replace(/^#+ /, ''))),
);

let exported: Set<string>;
beforeAll(async () => {
  exported = await exportedSeries();
});

describe('PromQL metric names (the checker itself)', () => {
  it('finds the selected metrics, not functions, labels, ranges or Grafana variables', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, job) (rate(recrypt_batch_seconds_bucket{namespace=~"$namespace", job=~"a|b"}[$__rate_interval])))'))
      .toEqual(['recrypt_batch_seconds_bucket']);
    expect(metricNames('deriv((sum by (namespace, job) (recrypt_consumer_lag))[30m:1m]) > 0 and sum(recrypt_consumer_lag) > 1000'))
      .toEqual(['recrypt_consumer_lag', 'recrypt_consumer_lag']);
    expect(metricNames('sum(x_total) by (job) / on (job) group_left y or vector(0)')).toEqual(['x_total', 'y']);
  });

  it('refuses unknown functions and unbalanced brackets', () => {
    expect(() => metricNames('rat(recrypt_records_in_total[5m])')).toThrow(/unknown function rat/);
    expect(() => metricNames('sum(rate(recrypt_records_in_total[5m])')).toThrow(/unbalanced/);
  });

  it('the registry is the one /metrics serves: recrypt\'s metrics and the process metrics, histograms by series', () => {
    expect(exported).toContain('recrypt_records_in_total');
    expect(exported).toContain('recrypt_kms_call_seconds_bucket');
    expect(exported).toContain('recrypt_process_process_resident_memory_bytes');
    expect(exported).not.toContain('recrypt_kms_call_seconds');
  });
});

describe('Grafana dashboard (helm/recrypt/dashboards/recrypt.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
    uid: string; title: string; schemaVersion: number; panels: Panel[];
    templating: { list: { name: string; type: string; query?: { query: string } | string }[] };
  };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('is a dashboard with a Prometheus data source variable and a query on every panel', () => {
    expect(dashboard).toMatchObject({ uid: 'recrypt', title: 'recrypt' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'job']);
    expect(panels.length).toBeGreaterThan(10);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (const t of p.targets!) expect(t.expr.trim(), p.title).not.toBe('');
    }
  });

  it('every metric a query or a variable names is exported by recrypt', () => {
    // Query variables are label_values(<series selector>, <label>): the selector's metrics count.
    const variableQueries = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query!.query;
      const selector = /^label_values\((.+),\s*[a-zA-Z_]\w*\)$/.exec(query.trim())?.[1];
      expect(selector, `${v.name}: ${query}`).toBeDefined();
      return selector!;
    });
    expect(variableQueries).toHaveLength(2);
    const used = [...exprs, ...variableQueries.map((expr) => ({ panel: 'variables', expr }))]
      .flatMap(({ panel, expr }) => metricNames(expr).map((name) => ({ panel, name })));
    expect(used.length).toBeGreaterThan(30);
    expect(used.filter((u) => !exported.has(u.name))).toEqual([]);
  });

  it('covers throughput, lag, halted partitions, KMS errors and latency, the DLQ, transaction aborts and batch latency', () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricNames(expr)));
    for (const metric of [
      'recrypt_records_in_total', 'recrypt_records_total', 'recrypt_consumer_lag', 'recrypt_halted_partitions',
      'recrypt_kms_calls_total', 'recrypt_kms_call_seconds_bucket', 'recrypt_dlq_records_total',
      'recrypt_transaction_aborts_total', 'recrypt_batch_seconds_bucket', 'recrypt_transaction_commit_seconds_bucket',
    ]) expect(used, metric).toContain(metric);
    expect(exprs.some(({ expr }) => /recrypt_kms_calls_total\{[^}]*outcome!="ok"/.test(expr))).toBe(true);
    expect(exprs.some(({ expr }) => /recrypt_records_total\{[^}]*outcome="dlq"/.test(expr))).toBe(true);
  });
});

describe(titled('helm chart: dashboard ConfigMap and PrometheusRule', helm), () => {
  it.skipIf(helm.missing)('neither is rendered by default', () => {
    for (const values of [[], [join(HERE, 'values-minimal.yaml')]]) {
      const docs = helmTemplate(values);
      expect(docs.filter((d) => d.kind === 'PrometheusRule' || d.metadata.name.endsWith('-dashboard'))).toEqual([]);
    }
  });

  it.skipIf(helm.missing)('the dashboard ConfigMap carries the dashboard file unchanged, with the sidecar label', () => {
    const docs = helmTemplate([join(HERE, 'values-full.yaml')]);
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'recrypt-dashboard')!;
    expect(cm.metadata.namespace).toBe('monitoring');
    expect(cm.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(cm.metadata.annotations).toEqual({ grafana_folder: 'recrypt' });
    expect(Object.keys(cm.data!)).toEqual(['recrypt.json']);
    expect(JSON.parse(cm.data!['recrypt.json']!)).toEqual(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
    // Without a namespace value it goes to the release namespace.
    const own = helmTemplate([], ['--set', 'metrics.dashboard.enabled=true']).find((d) => d.kind === 'ConfigMap')!;
    expect(own.metadata.namespace).toBe('data');
  });

  it.skipIf(helm.missing)('alerts: halted partition, lag growth, KMS errors, DLQ rate, each with a runbook section of docs/operations.md and only exported metrics', () => {
    const docs = helmTemplate([], ['--set', 'metrics.prometheusRule.enabled=true']);
    const [rule] = docs.filter((d) => d.kind === 'PrometheusRule');
    expect(rule!.metadata.namespace).toBe('data');
    const rules = rule!.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules) as Rule[];
    expect(rules.map((r) => r.alert)).toEqual(['RecryptPartitionHalted', 'RecryptConsumerLagGrowing', 'RecryptKmsErrors', 'RecryptDlqRecords']);
    for (const r of rules) {
      const names = metricNames(r.expr);
      expect(names.length, r.alert).toBeGreaterThan(0);
      expect(names.filter((n) => !exported.has(n)), r.alert).toEqual([]);
      expect(r.labels.severity, r.alert).toMatch(/^(critical|warning)$/);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      const [page, anchor] = r.annotations.runbook_url!.split('#');
      expect(page, r.alert).toBe('docs/operations.md');
      expect(docAnchors, `${r.alert}: #${anchor}`).toContain(anchor);
    }
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get('RecryptPartitionHalted')!.expr).toContain('recrypt_halted_partitions');
    expect(byName.get('RecryptConsumerLagGrowing')!.expr).toMatch(/deriv\(.*recrypt_consumer_lag.*\[30m:1m\]\) > 0[\s\S]*> 1000$/);
    expect(byName.get('RecryptKmsErrors')!.expr).toMatch(/outcome!="ok"[\s\S]*> 0$/);
    expect(byName.get('RecryptDlqRecords')!.expr).toContain('recrypt_records_total{outcome="dlq"}');
  });

  it.skipIf(helm.missing)('the full values set thresholds, durations, labels and the runbook URL, and turn an alert off', () => {
    const docs = helmTemplate([join(HERE, 'values-full.yaml')]);
    const [rule] = docs.filter((d) => d.kind === 'PrometheusRule');
    expect(rule!.metadata).toMatchObject({ namespace: 'monitoring', labels: { release: 'kube-prometheus-stack' } });
    const rules = rule!.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules) as Rule[];
    expect(rules.map((r) => r.alert)).toEqual(['RecryptPartitionHalted', 'RecryptConsumerLagGrowing', 'RecryptKmsErrors']);
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get('RecryptPartitionHalted')).toMatchObject({ for: '2m', labels: { severity: 'critical', team: 'data-platform' } });
    expect(byName.get('RecryptConsumerLagGrowing')!.expr).toMatch(/\[1h:1m\]\) > 0[\s\S]*> 50000$/);
    expect(byName.get('RecryptKmsErrors')).toMatchObject({ for: '10m', labels: { severity: 'critical' } });
    expect(byName.get('RecryptKmsErrors')!.expr).toMatch(/> 0\.05$/);
    for (const r of rules) expect(r.annotations.runbook_url).toMatch(/^https:\/\/git\.example\.com\/data\/recrypt\/blob\/main\/docs\/operations\.md#[a-z-]+$/);
  });

  it.skipIf(helm.missing)('the schema refuses a malformed alert setting', () => {
    for (const bad of ['metrics.prometheusRule.lagGrowth.window=soon', 'metrics.prometheusRule.kmsErrors.ratio=2', 'metrics.prometheusRule.runbookUrl=docs#x']) {
      const out = run(helm.path!, ['template', 'recrypt', CHART, '--set', 'metrics.prometheusRule.enabled=true', '--set', bad]);
      expect(out.status, bad).not.toBe(0);
      expect(out.stderr, bad).toMatch(/prometheusRule/);
    }
  });

  it.skipIf(helm.missing || operatorModels.missing)('the PrometheusRule validates against the Prometheus Operator CRD schema', async () => {
    const { PrometheusRule } = (await import(pathToFileURL(operatorModels.path!).href)) as { PrometheusRule: new (d: unknown) => { validate(): void } };
    const [rule] = helmTemplate([join(HERE, 'values-full.yaml')], ['--set', 'metrics.prometheusRule.dlqRate.enabled=true']).filter((d) => d.kind === 'PrometheusRule');
    expect(rule!.spec.groups[0].rules).toHaveLength(4);
    new PrometheusRule(rule).validate();
    // The model rejects what the CRD rejects.
    const broken = structuredClone(rule!);
    broken.spec.groups[0].rules[0].for = 'a while';
    expect(() => new PrometheusRule(broken).validate()).toThrow(/for/);
  });
});
