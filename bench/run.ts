/**
 * `npm run bench`: runs the benchmark suites in order, prints a table per suite and writes each suite's
 * JSON results to .bench/<suite>-<timestamp>.json. Targets are reported, not asserted: the process
 * exits non-zero only when a suite fails (an error, or outputs that do not check out).
 *
 *   node --import tsx bench/run.ts [--only engine] [--only e2e] [--only backfill] [--only startup] [--quick]
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backfillEnvOverrides, DEFAULT_BACKFILL_OPTIONS, QUICK_BACKFILL_OPTIONS, runBackfillBench } from './backfill.js';
import { backfillSummary } from './backfill-report.js';
import { DEFAULT_E2E_OPTIONS, QUICK_E2E_OPTIONS, runE2eBench, withEnvOverrides } from './e2e.js';
import { e2eSummary } from './e2e-report.js';
import { DEFAULT_ENGINE_OPTIONS, runEngineBench, TARGETS, type EngineBenchResult } from './engine.js';
import { machine, mib, rate, table, writeResults, type Machine } from './report.js';
import { DEFAULT_STARTUP_OPTIONS, QUICK_STARTUP_OPTIONS, runStartupBench, startupSummary } from './startup.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Suite {
  readonly name: string;
  run(quick: boolean): Promise<{ summary: string; results: unknown }>;
}

function engineSummary(r: EngineBenchResult): string {
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
  const rows = [
    ['path', 'engine rec/s', 'official rec/s', 'raw rec/s', `engine/official (>=${TARGETS.engineVsOfficial}x)`, `engine/raw (>=${pct(TARGETS.engineVsRaw)})`, 'RSS'],
    ...r.paths.map((p) => [
      p.path, rate(p.engine.median), rate(p.official.median), rate(p.raw.median),
      `${p.engineVsOfficial.toFixed(1)}x ${mark(p.engineVsOfficial >= TARGETS.engineVsOfficial)}`,
      `${pct(p.engineVsRaw)} ${mark(p.engineVsRaw >= TARGETS.engineVsRaw)}`,
      mib(p.rss),
    ]),
  ];
  const cpuRows = [
    ['path', 'engine', 'official', 'raw', 'engine/official', 'engine/raw'],
    ...r.paths.map((p) => [
      p.path, rate(p.engine.cpuMedian), rate(p.official.cpuMedian), rate(p.raw.cpuMedian),
      `${(p.engine.cpuMedian / p.official.cpuMedian).toFixed(1)}x`, pct(p.engine.cpuMedian / p.raw.cpuMedian),
    ]),
  ];
  const spread = r.paths.map((p) => `  ${p.path}: engine ${rate(p.engine.min)}-${rate(p.engine.max)}, official ${rate(p.official.min)}-${rate(p.official.max)}, raw ${rate(p.raw.min)}-${rate(p.raw.max)}`);
  const { records, batchSize, officialRecords, repetitions } = r.options;
  return [
    `Engine benchmark: Customer records, one core, median of ${repetitions} interleaved timed runs after two warm-up runs each`,
    `(engine and raw: ${records} records in batches of ${batchSize}; official serdes: ${officialRecords} records)`,
    '',
    table(rows),
    '',
    'The same runs in records per CPU-second of the process (steadier when the machine is shared):',
    '',
    table(cpuRows),
    '',
    'min-max rec/s per run:',
    ...spread,
    `peak RSS: ${mib(r.peakRss)}`,
  ].join('\n');
}

const SUITES: readonly Suite[] = [
  {
    name: 'engine',
    async run(quick) {
      const options = quick ? { records: 4_000, batchSize: 1_000, officialRecords: 400, repetitions: 5 } : DEFAULT_ENGINE_OPTIONS;
      const results = await runEngineBench(options);
      return { summary: engineSummary(results), results };
    },
  },
  {
    // Issues 10 and 24: recrypt run vs Confluent's libraries vs the bare pipe, per format and path, and
    // the scale rows, on the local stack (both cores; BENCH_E2E_* overrides: bench/e2e.ts).
    name: 'e2e',
    async run(quick) {
      const results = await runE2eBench(withEnvOverrides(quick ? QUICK_E2E_OPTIONS : DEFAULT_E2E_OPTIONS));
      return { summary: e2eSummary(results), results };
    },
  },
  {
    // Issue 24: a bounded backfill by 1, 2 and 4 worker processes vs one `recrypt run`, and the takeover
    // of a SIGKILLed worker's tasks (BENCH_BACKFILL_RECORDS etc.: bench/backfill.ts).
    name: 'backfill',
    async run(quick) {
      const results = await runBackfillBench(backfillEnvOverrides(quick ? QUICK_BACKFILL_OPTIONS : DEFAULT_BACKFILL_OPTIONS));
      return { summary: backfillSummary(results), results };
    },
  },
  {
    // Issue 24: time from process start to the first committed record of the demo-size recrypt run.
    name: 'startup',
    async run(quick) {
      const results = await runStartupBench(quick ? QUICK_STARTUP_OPTIONS : DEFAULT_STARTUP_OPTIONS);
      return { summary: startupSummary(results), results };
    },
  },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, quick: { type: 'boolean', default: false } } });
  const only = values.only ?? [];
  const unknown = only.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown suite ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
  const host: Machine = machine(ROOT);
  console.log(`recrypt bench ${new Date().toISOString()}  ${host.cpus} x ${host.cpuModel}, ${host.memoryGiB} GiB, node ${host.node}, commit ${host.commit ?? '?'}`);
  for (const suite of SUITES) {
    if (only.length > 0 && !only.includes(suite.name)) continue;
    const started = Date.now();
    const { summary, results } = await suite.run(values.quick === true);
    console.log(`\n${summary}`);
    const file = writeResults(ROOT, suite.name, { suite: suite.name, date: new Date().toISOString(), machine: host, quick: values.quick, seconds: (Date.now() - started) / 1000, results });
    console.log(`results: ${relative(process.cwd(), file)}`);
  }
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});
