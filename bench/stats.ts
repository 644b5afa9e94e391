/**
 * Timing: contenders run in turn within each repetition (A B C, A B C, ...), so a noisy neighbour or a
 * CPU frequency change hits all of them alike and their ratios stay meaningful; each is summarized by
 * the median of its per-repetition rates.
 */
import { performance } from 'node:perf_hooks';

export interface RateSample {
  /** Records per timed run. */
  readonly records: number;
  /** Records/s of each timed run, in run order. */
  readonly rates: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /**
   * Median records per CPU-second of the whole process (all threads: GC helpers, libuv's pool). On a
   * shared machine this moves less than wall time when neighbours steal the core.
   */
  readonly cpuMedian: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Contender {
  /** Records one run processes. */
  readonly records: number;
  /** Untimed runs before the first timed one (JIT tiers, caches, DEK and schema lookups). */
  readonly warmups: number;
  readonly run: () => unknown;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Wall and CPU seconds of one run. */
async function timed(run: () => unknown): Promise<{ wall: number; cpu: number }> {
  // A full GC (node --expose-gc) first, so one run's garbage is not billed to the next; the
  // collections a run causes itself stay in its time.
  gc?.();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await run();
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** Warms every contender up, then times `repetitions` interleaved rounds. */
export async function measureInterleaved<K extends string>(contenders: Readonly<Record<K, Contender>>, repetitions: number): Promise<Record<K, RateSample>> {
  const names = Object.keys(contenders) as K[];
  for (const name of names) for (let i = 0; i < contenders[name].warmups; i++) await contenders[name].run();
  const rates = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const cpuRates = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let rep = 0; rep < repetitions; rep++) {
    for (const name of names) {
      const { wall, cpu } = await timed(contenders[name].run);
      rates[name].push(contenders[name].records / wall);
      cpuRates[name].push(contenders[name].records / cpu);
    }
  }
  const out = {} as Record<K, RateSample>;
  for (const n of names) {
    const r = rates[n];
    out[n] = { records: contenders[n].records, rates: r, median: median(r), min: Math.min(...r), max: Math.max(...r), cpuMedian: median(cpuRates[n]) };
  }
  return out;
}
