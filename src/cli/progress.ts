/**
 * Progress of a running pipeline for `recrypt run`: per-partition bars with rate and ETA when stderr is
 * a terminal, else one JSON log line per interval (records done, committed/end per partition, rate,
 * ETA). The bar format is shared with `backfill status --wait`.
 */
import cliProgress from 'cli-progress';
import type { PartitionProgress } from '../kafka/pipeline.js';
import type { Logger } from '../util/logger.js';

/** Per-partition bar: the numbers first and the (long) partition name last, so a narrow terminal cuts the name. */
export const PARTITION_BAR_FORMAT = '  [{bar}] {percentage}% | {value}/{total} | {rate} rec/s | ETA {eta_formatted} | {name}';

/** A multi-bar in the shared per-partition format, drawn on `stream`. */
export function partitionBars(stream: NodeJS.WritableStream = process.stderr): cliProgress.MultiBar {
  return new cliProgress.MultiBar({
    format: PARTITION_BAR_FORMAT, clearOnComplete: false, hideCursor: true, stream, etaBuffer: 30, fps: 5, barsize: 20,
    // The command's own signal handling stops the bars (with their final state).
    gracefulExit: false,
  }, cliProgress.Presets.shades_classic);
}

export function formatRate(rate: number): string {
  return rate >= 1000 ? `${(rate / 1000).toFixed(1)}k` : String(Math.round(rate));
}

/** What progress reads from a pipeline (TransactionalPipeline has both). */
export interface ProgressSource {
  readonly partitions: readonly PartitionProgress[];
  lag(): Array<{ topic: string; partition: number; lag: number }>;
}

export interface PartitionSnapshot {
  readonly name: string;
  readonly records: number;
  /** Offsets still to go: to the range end, or the consumer lag when the run has no end. */
  readonly remaining: number;
  readonly committed: number;
  readonly end: number | undefined;
  readonly state: 'running' | 'done' | 'halted';
}

export function snapshot(source: ProgressSource): PartitionSnapshot[] {
  const lags = new Map(source.lag().map((l) => [`${l.topic}/${l.partition}`, l.lag]));
  return source.partitions.map((p) => {
    const name = `${p.topic}/${p.partition}`;
    const state = p.halted ? 'halted' : p.done ? 'done' : 'running';
    const remaining = state !== 'running' ? 0 : p.end !== undefined ? Math.max(0, p.end - p.committed) : (lags.get(name) ?? 0);
    return { name, records: p.records, remaining, committed: p.committed, end: p.end, state };
  });
}

/** One progress line's fields: totals, the rate since the previous line, and the ETA at that rate. */
export function progressFields(parts: readonly PartitionSnapshot[], recordsBefore: number, seconds: number) {
  const records = parts.reduce((n, p) => n + p.records, 0);
  const remaining = parts.reduce((n, p) => n + p.remaining, 0);
  const rate = seconds > 0 ? Math.max(0, records - recordsBefore) / seconds : 0;
  return {
    records,
    remaining,
    rate: Math.round(rate),
    // Offsets, not records: transaction markers make the ETA a little pessimistic.
    etaSeconds: remaining === 0 ? 0 : rate > 0 ? Math.round(remaining / rate) : undefined,
    partitions: parts.map((p) => `${p.name} ${p.state === 'halted' ? 'HALTED at ' : ''}${p.committed}${p.end !== undefined ? `/${p.end}` : ''}${p.state === 'done' ? ' done' : ''}`).join(', '),
  };
}

export interface ProgressOptions {
  /** Bars on `stream` (stderr is a terminal) or JSON lines through `logger`. */
  readonly tty: boolean;
  readonly logger: Logger;
  /** Between JSON lines. */
  readonly intervalMs: number;
  readonly stream?: NodeJS.WritableStream;
}

export interface ProgressReporter {
  /** Draws the final state and stops. */
  stop(): void;
}

export function reportProgress(source: ProgressSource, options: ProgressOptions): ProgressReporter {
  return options.tty ? barsReporter(source, options.stream ?? process.stderr) : linesReporter(source, options);
}

function linesReporter(source: ProgressSource, options: ProgressOptions): ProgressReporter {
  let records = 0;
  let at = Date.now();
  const timer = setInterval(() => {
    const parts = snapshot(source);
    if (parts.length === 0) return;
    const now = Date.now();
    const fields = progressFields(parts, records, (now - at) / 1000);
    records = fields.records;
    at = now;
    options.logger.info('progress', fields);
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function barsReporter(source: ProgressSource, stream: NodeJS.WritableStream): ProgressReporter {
  const bars = partitionBars(stream);
  const byName = new Map<string, cliProgress.SingleBar>();
  const started = Date.now();
  const tick = () => {
    // The rate since the start: steadier than per tick; the bars' own ETA follows recent values.
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    for (const p of snapshot(source)) {
      const total = p.records + p.remaining;
      const payload = { name: p.state === 'halted' ? `${p.name} HALTED` : p.name, rate: formatRate(p.records / seconds) };
      const bar = byName.get(p.name);
      if (!bar) {
        byName.set(p.name, bars.create(total, p.records, payload));
        continue;
      }
      bar.setTotal(total);
      bar.update(p.records, payload);
    }
  };
  const timer = setInterval(tick, 1000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      bars.stop();
    },
  };
}
