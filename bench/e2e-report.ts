/** The end-to-end suite's printed summary: a row per format and path, the scale rows, then every run. */
import { E2E_TARGETS, type Comparison, type E2eResult, type RowResult, type ScaleResult } from './e2e.js';
import type { RunResult } from './e2e-runs.js';
import { mib, rate, table } from './report.js';

const cores = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));
const pct = (x: number): string => `${Math.round(x * 100)}%`;
const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');

/** The columns issue 24 asks for, per row: recrypt's rate, against the pipe and the libraries of the same rounds, its RSS and p99. */
function comparisonCells(c: Comparison): string[] {
  return [
    rate(c.recrypt.steadyRate),
    `${pct(c.vsPipe)} ${mark(c.vsPipe >= E2E_TARGETS.recryptVsPipe)}`,
    c.vsBaseline === undefined ? '-' : `${c.vsBaseline.toFixed(1)}x ${mark(c.vsBaseline >= E2E_TARGETS.recryptVsBaseline)}`,
    `${mib(c.recrypt.peakRss)} ${mark(c.recrypt.peakRss <= E2E_TARGETS.peakRssBytes)}`,
    `${Math.round(c.recrypt.p99BatchMs)}`,
    rate(c.pipe.steadyRate),
    c.baseline ? rate(c.baseline.steadyRate) : '-',
    cores(c.recrypt.cpu?.process), cores(c.recrypt.cpu?.mainThread), cores(c.recrypt.cpu?.broker), cores(c.recrypt.cpu?.other),
  ];
}

const HEADER = [
  'rec/s', `% of pipe (>=${pct(E2E_TARGETS.recryptVsPipe)})`, `x Confluent (>=${E2E_TARGETS.recryptVsBaseline}x)`, `peak RSS (<=${mib(E2E_TARGETS.peakRssBytes)})`,
  'p99 batch ms', 'pipe rec/s', 'Confluent rec/s', 'CPU proc', 'main thr', 'broker', 'other',
];

function rowLine(r: RowResult): string[] {
  return [`${r.format} ${r.path}`, `${r.source.bytesPerRecord.toFixed(0)} B`, ...comparisonCells(r)];
}

function scaleLine(r: ScaleResult): string[] {
  return [`avro encrypt, ${r.label}`, `${rate(r.source.records)} x ${r.source.bytesPerRecord.toFixed(0)} B, ${r.source.partitions} part.`,
    `${r.recrypt.steadyMBps.toFixed(1)} MB/s`, ...comparisonCells(r)];
}

function runLine(label: string, r: RunResult): string {
  const cpu = r.cpuSteady;
  return `  ${label} ${r.contender} #${r.run}: ${rate(r.records)} records, ${rate(r.steadyRate)} rec/s steady (${r.steadySeconds.toFixed(1)} s), `
    + `${rate(r.wallRate)} rec/s wall (${r.wallSeconds.toFixed(1)} s), batches ${r.batches}, p50/p99/max ${r.p50BatchMs}/${r.p99BatchMs}/${r.maxBatchMs} ms, `
    + `in batches ${Math.round(r.inBatchShare * 100)}%${r.commitShare === undefined ? '' : ` (transaction ${Math.round(r.commitShare * 100)}% of it)`}, `
    + `${r.cpuRate === undefined ? '' : `${rate(r.cpuRate)} rec/CPU-s, `}RSS ${mib(r.peakRss)} (${r.rssTimeline.map((b) => Math.round(b / 2 ** 20)).join('/')} MiB at 20..100%)`
    + `${cpu ? `, cores: process ${cores(cpu.process)} (main ${cores(cpu.mainThread)}), broker ${cores(cpu.broker)}, other ${cores(cpu.other)}` : ''}`;
}

const perRound = (c: Comparison): string => c.perRound
  .map((p) => `#${p.run} ${pct(p.vsPipe)}${p.vsBaseline === undefined ? '' : ` ${p.vsBaseline.toFixed(1)}x`}`).join(', ');

export function e2eSummary(r: E2eResult): string {
  const o = r.options;
  const lines = [
    `End to end on the local stack: Customer records (name + email tagged PII), ${rate(o.records)} per source topic, ${o.partitions} partitions, exactly once, `
      + `batchSize ${o.batchSize}, ${o.repetitions} round${o.repetitions === 1 ? '' : 's'}`,
    `(CLI ${r.build.compiled ? 'compiled with tsc' : 'run through tsx'}; load average ${r.load.start.join(' ')} at start, ${r.load.end.join(' ')} at end)`,
    '',
  ];
  if (r.rows.length) {
    lines.push(
      'encrypt = plaintext -> AES256_GCM; decrypt = AES256_GCM -> plaintext; reencrypt = AES256_GCM -> AES256_SIV (decrypt and reencrypt read a',
      'GCM-encrypted copy of the topic, written by recrypt before the rounds); the pipe copies the row\'s own source topic.',
      '',
      table([['format, path', 'record', ...HEADER], ...r.rows.map(rowLine)]),
      '',
    );
  }
  if (r.scale.length) {
    lines.push(
      'Scale: Avro encrypt with more partitions and larger records (an untagged notes string pads the record; same rounds):',
      '',
      table([['row', 'topic', 'recrypt MB/s', ...HEADER], ...r.scale.map(scaleLine)]),
      '',
    );
  }
  lines.push(
    'rec/s = records over the steady window (first batch start to last commit), median over rounds. % of pipe and x Confluent are medians',
    'of the per-round ratios (recrypt #k / pipe #k, recrypt #k / Confluent #k). peak RSS = highest VmHWM of recrypt\'s process over the rounds.',
    'p99 batch = median over rounds of the 99th percentile of recrypt\'s per-batch latency (processing start to commit), from its',
    '"batch committed" debug log lines. CPU columns: cores busy over the steady window (1.00 = one core): recrypt\'s process, its main',
    '(JavaScript) thread, the Kafka broker, everything else on the machine.',
    '',
    'per round (% of pipe, x Confluent):',
    ...r.rows.map((x) => `  ${x.format} ${x.path}: ${perRound(x)}`),
    ...r.scale.map((x) => `  ${x.label}: ${perRound(x)}`),
    '',
    'runs:',
    ...r.rows.flatMap((x) => x.runs.map((run) => runLine(`${x.format} ${x.path}`, run))),
    ...r.scale.flatMap((x) => x.runs.map((run) => runLine(x.label, run))),
    o.baselineSeconds > 0
      ? `Confluent's libraries ran ${o.baselineSeconds} s at most per run (cap ${rate(o.baselineMaxRecords)} records); share of their batch time in the serdes: ${
        r.rows.map((x) => (x.baseline?.serdeShare === undefined ? undefined : `${x.format} ${x.path} ${pct(x.baseline.serdeShare)}`)).filter(Boolean).join(', ')}.`
      : 'Confluent\'s libraries skipped (BENCH_E2E_BASELINE_SECONDS=0).',
    `cleanup: ${r.cleanup.join(', ') || 'nothing'}`,
  );
  return lines.join('\n');
}
