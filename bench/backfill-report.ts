/** The backfill suite's printed summary. */
import type { BackfillBenchResult } from './backfill.js';
import { mib, rate, table } from './report.js';

const pct = (x: number | undefined): string => (x === undefined ? '-' : `${Math.round(x * 100)}%`);
const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'not seen');

export function backfillSummary(r: BackfillBenchResult): string {
  const { options: o, run, backfills, takeover } = r;
  const rows = [
    ['contender', 'tasks/worker', 'rec/s wall', 'wall s', 'rec/s from 1st progress', 'vs recrypt run', 'per worker vs run', 'scaling vs 1 worker', 'CPU s', 'rec/CPU-s', 'peak RSS/process'],
    ['recrypt run (one process)', '-', rate(run.wallRate), run.wallSeconds.toFixed(1), '-', '100%', '100%', '-', run.cpuSeconds.toFixed(1), rate(run.records / Math.max(0.001, run.cpuSeconds)), mib(run.peakRss)],
    ...backfills.map((b) => [
      `backfill, ${b.workers} worker process${b.workers > 1 ? 'es' : ''}`, String(b.concurrency), rate(b.wallRate), b.wallSeconds.toFixed(1), rate(b.afterStartRate),
      pct(b.vsRun), pct(b.perWorkerVsRun), pct(b.scaling), b.cpuSeconds.toFixed(1), rate(b.cpuRate), mib(b.peakRssPerWorker),
    ]),
  ];
  const lines = [
    `Backfill on the local stack: ${rate(o.records)} Customer records, ${o.partitions} partitions (one task each), encrypt name + email (AES256_GCM), `
      + `exactly once, batchSize ${o.batchSize}; worker processes on this machine (${r.load.start.join(' ')} load average at start, ${r.load.end.join(' ')} at end)`,
    '',
    table(rows),
    '',
    'wall: recrypt run = process start to exit; backfill = the workers\' spawn to `completed` (start-up, job preparation, tasks, finalization',
    'with its verification; the submit is not counted). per worker vs run = (backfill rec/s / run rec/s) / workers: 100% = each worker as fast',
    'as one recrypt run. Every worker process shares the machine\'s cores with the broker and Redis: more processes than cores cannot scale.',
  ];
  if (takeover) {
    const s = takeover.settings;
    lines.push(
      '',
      `Takeover after SIGKILL (2 workers, each may hold all ${o.partitions} tasks, batchSize ${takeover.batchSize} so that tasks are mid-range at the kill; lock ${s.lockDurationMs} ms renewed every ${s.lockRenewMs} ms, stalled check every ${s.stalledIntervalMs} ms, bound ${seconds(s.boundMs)}):`,
      `  ${takeover.tasksKilled} task(s) of the killed worker held by the other after ${takeover.takenOverMs.map(seconds).join(', ')}; `
        + `first commit after ${takeover.firstCommitMs.map(seconds).join(', ')}`,
      `  the whole backfill with the kill (batchSize ${takeover.batchSize}): ${rate(takeover.wallRate)} rec/s wall (${takeover.wallSeconds.toFixed(1)} s), verification ok`,
    );
  }
  lines.push(`cleanup: ${r.cleanup.join(', ') || 'nothing'}`);
  return lines.join('\n');
}
