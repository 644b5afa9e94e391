/**
 * The end-to-end suites' pure parts: recrypt's log and summary lines, percentiles, one run's figures
 * from its batches and /proc samples, medians over runs, and ratios paired within a round.
 */
import { cpuSplitOf, type CpuSplit, type ProcSample } from './e2e-proc.js';
import { median } from './stats.js';

export type Contender = 'recrypt' | 'pipe' | 'baseline';

export interface BatchTiming {
  readonly records: number;
  /** Processing start to commit, in ms. */
  readonly latencyMs: number;
  /** Of that, the transaction's (pipe only). */
  readonly commitMs?: number;
}

export interface CommittedBatch extends BatchTiming {
  /** Date.now() of the commit (the log line's time). */
  readonly time: number;
}

/** A pino log line's time (epoch ms, or an ISO string with LOG_FORMAT iso). */
function logTime(time: unknown): number {
  return typeof time === 'number' ? time : Date.parse(typeof time === 'string' ? time : '');
}

/** Every JSON log line of recrypt's stderr with its message and time (other lines are skipped). */
export function parseLogLines(stderr: string): Array<{ msg: string; time: number; fields: Record<string, unknown> }> {
  const out: Array<{ msg: string; time: number; fields: Record<string, unknown> }> = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry['msg'] === 'string') out.push({ msg: entry['msg'], time: logTime(entry['time']), fields: entry });
    } catch {
      // not a log line of ours
    }
  }
  return out;
}

/** The 'batch committed' debug lines of recrypt's pino log (JSON lines on stderr). */
export function parseCommittedBatches(stderr: string): CommittedBatch[] {
  return parseLogLines(stderr)
    .filter((l) => l.msg === 'batch committed' && typeof l.fields['latencyMs'] === 'number')
    .map((l) => ({ time: l.time, records: typeof l.fields['records'] === 'number' ? l.fields['records'] : 0, latencyMs: l.fields['latencyMs'] as number }));
}

/** `job NAME: N records (W written, D to DLQ) in S s, R records/s` */
export function parseRunSummary(stdout: string): { records: number; written: number; dlq: number; seconds: number } | undefined {
  const m = /job \S+: (\d+) records \((\d+) written, (\d+) to DLQ\) in ([\d.]+) s/.exec(stdout);
  return m ? { records: Number(m[1]), written: Number(m[2]), dlq: Number(m[3]), seconds: Number(m[4]) } : undefined;
}

export function rssTimeline(samples: readonly ProcSample[]): number[] {
  // An exiting process (a zombie) has no VmRSS line any more: those samples say nothing about memory.
  const alive = samples.filter((s) => s.rss > 0);
  if (alive.length === 0) return [];
  return [0.2, 0.4, 0.6, 0.8, 1].map((f) => alive[Math.max(0, Math.ceil(f * alive.length) - 1)]!.rss);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface RunResult {
  readonly contender: Contender;
  readonly run: number;
  readonly records: number;
  /** Process start to exit. */
  readonly wallSeconds: number;
  /** First batch's processing start to last commit. */
  readonly steadySeconds: number;
  readonly wallRate: number;
  readonly steadyRate: number;
  /** Source key + value megabytes (1e6) per second, over the steady window. */
  readonly steadyMBps: number;
  /** Records per CPU-second of the contender process over the steady window (steadier on a shared machine). */
  readonly cpuRate?: number;
  readonly batches: number;
  readonly p50BatchMs: number;
  readonly p99BatchMs: number;
  readonly maxBatchMs: number;
  /** Share of the steady window spent inside batches (process + transaction); the rest is polling. */
  readonly inBatchShare: number;
  /** Pipe: share of the in-batch time spent in the transaction (begin, produce, sendOffsets, commit). */
  readonly commitShare?: number;
  readonly peakRss: number;
  /** RSS (bytes) at 20, 40, 60, 80 and 100% of the process's life: flat once the client's buffers are full. */
  readonly rssTimeline: readonly number[];
  readonly cpuSteady?: CpuSplit;
  readonly cpuWhole?: CpuSplit;
  /** recrypt: the pipeline's duration from its summary line. */
  readonly pipelineSeconds?: number;
  /** Baseline: where its time went. */
  readonly serdeSeconds?: number;
  readonly transactionSeconds?: number;
}

/** What runResult needs of a watched process. */
export interface ProcessTrace {
  readonly startedAt: number;
  readonly exitedAt: number;
  readonly samples: readonly ProcSample[];
  readonly peakRss: number;
}

export function runResult(
  contender: Contender, run: number, proc: ProcessTrace, batches: readonly BatchTiming[],
  records: number, firstBatchStart: number, lastCommit: number, bytesPerRecord: number, extra: Partial<RunResult> = {},
): RunResult {
  const wallSeconds = Math.max(0.001, (proc.exitedAt - proc.startedAt) / 1000);
  const steadySeconds = Math.max(0.001, (lastCommit - firstBatchStart) / 1000);
  const latencies = batches.map((b) => b.latencyMs);
  const cpuSteady = cpuSplitOf(proc.samples, firstBatchStart, lastCommit);
  const cpuWhole = cpuSplitOf(proc.samples);
  const inBatchMs = latencies.reduce((a, b) => a + b, 0);
  const commitMs = batches.every((b) => b.commitMs !== undefined) ? batches.reduce((a, b) => a + b.commitMs!, 0) : undefined;
  return {
    contender, run, records, wallSeconds, steadySeconds,
    wallRate: records / wallSeconds, steadyRate: records / steadySeconds, steadyMBps: (records * bytesPerRecord) / steadySeconds / 1e6,
    ...(cpuSteady && cpuSteady.process > 0 ? { cpuRate: records / steadySeconds / cpuSteady.process } : {}),
    batches: batches.length, p50BatchMs: percentile(latencies, 50), p99BatchMs: percentile(latencies, 99), maxBatchMs: Math.max(0, ...latencies),
    inBatchShare: Math.min(1, inBatchMs / (steadySeconds * 1000)), ...(commitMs !== undefined && inBatchMs > 0 ? { commitShare: commitMs / inBatchMs } : {}),
    peakRss: proc.peakRss, rssTimeline: rssTimeline(proc.samples), ...(cpuSteady ? { cpuSteady } : {}), ...(cpuWhole ? { cpuWhole } : {}), ...extra,
  };
}

export interface ContenderSummary {
  readonly runs: number;
  /** Median records of a run (the baseline's time box makes them differ). */
  readonly records: number;
  readonly steadyRate: number;
  readonly wallRate: number;
  readonly steadyMBps: number;
  readonly cpuRate?: number;
  /** Median over runs of each run's p99 batch latency. */
  readonly p99BatchMs: number;
  /** Highest peak RSS of the runs. */
  readonly peakRss: number;
  readonly cpu?: { process: number; mainThread: number; broker: number; other: number };
}

export function summarize(runs: readonly RunResult[]): ContenderSummary {
  if (runs.length === 0) throw new Error('nothing to summarize');
  const cpus = runs.map((r) => r.cpuSteady).filter((c): c is CpuSplit => c !== undefined);
  return {
    runs: runs.length,
    records: median(runs.map((r) => r.records)),
    steadyRate: median(runs.map((r) => r.steadyRate)),
    wallRate: median(runs.map((r) => r.wallRate)),
    steadyMBps: median(runs.map((r) => r.steadyMBps)),
    ...(runs.every((r) => r.cpuRate !== undefined) ? { cpuRate: median(runs.map((r) => r.cpuRate!)) } : {}),
    p99BatchMs: median(runs.map((r) => r.p99BatchMs)),
    peakRss: Math.max(...runs.map((r) => r.peakRss)),
    ...(cpus.length ? {
      cpu: {
        process: median(cpus.map((c) => c.process)), mainThread: median(cpus.map((c) => c.mainThread)),
        broker: median(cpus.map((c) => c.broker)), other: median(cpus.map((c) => c.other)),
      },
    } : {}),
  };
}

/**
 * Ratios of `of` between the runs of `mine` and the runs of `others` with the same round number, in
 * round order, and their median (undefined when no round has both).
 */
export function pairedRatios(
  mine: readonly RunResult[], others: readonly RunResult[], of: (r: RunResult) => number,
): { perRound: Array<{ run: number; ratio: number }>; median?: number } {
  const perRound = mine.flatMap((r) => {
    const o = others.find((x) => x.run === r.run);
    return o ? [{ run: r.run, ratio: of(r) / of(o) }] : [];
  });
  return { perRound, ...(perRound.length ? { median: median(perRound.map((p) => p.ratio)) } : {}) };
}
