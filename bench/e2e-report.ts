/** The end-to-end suite's printed summary. */
import { E2E_TARGETS, type ContenderSummary, type E2eResult, type RunResult } from './e2e.js';
import { mib, rate, table } from './report.js';

const cores = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));
const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');

function row(label: string, s: ContenderSummary, records: string): string[] {
  return [
    label, records, rate(s.steadyRate), rate(s.wallRate), s.steadyMBps.toFixed(1), s.cpuRate === undefined ? '-' : rate(s.cpuRate), `${Math.round(s.p99BatchMs)}`, mib(s.peakRss),
    cores(s.cpu?.process), cores(s.cpu?.mainThread), cores(s.cpu?.broker), cores(s.cpu?.other),
  ];
}

function runLine(r: RunResult): string {
  const cpu = r.cpuSteady;
  return `  ${r.contender} #${r.run}: ${rate(r.records)} records, ${rate(r.steadyRate)} rec/s steady (${r.steadySeconds.toFixed(1)} s), `
    + `${rate(r.wallRate)} rec/s wall (${r.wallSeconds.toFixed(1)} s), batches ${r.batches}, p50/p99/max ${r.p50BatchMs}/${r.p99BatchMs}/${r.maxBatchMs} ms, `
    + `in batches ${Math.round(r.inBatchShare * 100)}%${r.commitShare === undefined ? '' : ` (transaction ${Math.round(r.commitShare * 100)}% of it)`}, `
    + `${r.cpuRate === undefined ? '' : `${rate(r.cpuRate)} rec/CPU-s, `}RSS ${mib(r.peakRss)} (${r.rssTimeline.map((b) => Math.round(b / 2 ** 20)).join('/')} MiB at 20..100%)${cpu ? `, cores: process ${cores(cpu.process)} (main ${cores(cpu.mainThread)}), broker ${cores(cpu.broker)}, other ${cores(cpu.other)}` : ''}`;
}

export function e2eSummary(r: E2eResult): string {
  const { options: o, recrypt, pipe, baseline, ratios } = r;
  const n = rate(o.records);
  const rows = [
    ['contender', 'records', 'rec/s steady', 'rec/s wall', 'MB/s', 'rec/CPU-s', 'p99 batch ms', 'peak RSS', 'CPU proc', 'main thr', 'broker', 'other'],
    row(`(b) recrypt run, median of ${recrypt.runs}`, recrypt, n),
    row(`(d) pipe copy, median of ${pipe.runs}`, pipe, n),
    ...(baseline ? [row(`(c) Confluent libraries, median of ${baseline.runs}`, baseline, rate(baseline.records))] : []),
  ];
  const targets = [
    ['target', 'measured', ''],
    ratios.recryptVsBaseline === undefined
      ? [`(b) >= ${E2E_TARGETS.recryptVsBaseline}x (c)`, '(c) skipped', '']
      : [`(b) >= ${E2E_TARGETS.recryptVsBaseline}x (c)`, `${ratios.recryptVsBaseline.toFixed(1)}x`, mark(ratios.recryptVsBaseline >= E2E_TARGETS.recryptVsBaseline)],
    [`(b) >= ${Math.round(E2E_TARGETS.recryptVsPipe * 100)}% of (d)`, `${Math.round(ratios.recryptVsPipe * 100)}% (wall: ${Math.round(ratios.recryptVsPipeWall * 100)}%)`, mark(ratios.recryptVsPipe >= E2E_TARGETS.recryptVsPipe)],
    [`(b) peak RSS <= ${mib(E2E_TARGETS.peakRssBytes)}`, mib(recrypt.peakRss), mark(recrypt.peakRss <= E2E_TARGETS.peakRssBytes)],
  ];
  const share = baseline?.serdeShare === undefined ? '' : `; the baseline spent ${Math.round(baseline.serdeShare * 100)}% of its batch time in the serdes, the rest in transactions`;
  return [
    `End to end on the local stack: ${n} Customer records (${r.source.bytesPerRecord.toFixed(1)} bytes key + value), ${o.partitions} partitions, `
      + `encrypt name + email (AES256_GCM), exactly once, batchSize ${o.batchSize}`,
    `(produced in ${r.source.seconds.toFixed(1)} s; CLI ${r.build.compiled ? 'compiled with tsc' : 'run through tsx'}; load average ${r.load.start.join(' ')} at start, ${r.load.end.join(' ')} at end)`,
    '',
    table(rows),
    '',
    'steady = first batch start to last commit; wall = process start to exit; rec/CPU-s = records per CPU-second of the process.',
    'CPU columns: cores busy over the steady window (1.00 = one core): the contender process, its main (JavaScript) thread,',
    'the Kafka broker, everything else on the machine (other work competes for the same two cores).',
    '',
    table(targets),
    `ratios are medians of the per-round ratios (recrypt #k / pipe #k, recrypt #k / baseline #k): ${ratios.perRound
      .map((p) => `#${p.run} ${Math.round(p.vsPipe * 100)}%${p.vsBaseline === undefined ? '' : `, ${p.vsBaseline.toFixed(1)}x`}`).join('; ')}`,
    '',
    'runs:',
    ...r.runs.map(runLine),
    baseline ? `(c) ran ${o.baselineSeconds} s at most per round (cap ${rate(o.baselineMaxRecords)} records)${share}.` : '(c) skipped (BENCH_E2E_BASELINE_SECONDS=0).',
    `cleanup: ${r.cleanup.join(', ') || 'nothing'}`,
  ].join('\n');
}
