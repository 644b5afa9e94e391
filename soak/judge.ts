/**
 * The soak's verdict on memory: is RSS flat after warm-up? Pure functions over the samples, so the
 * judgment is unit-tested on made-up series (test/unit/soak/judge.test.ts).
 *
 * A process's RSS climbs while it warms up (JIT, librdkafka's queues, the DEK and schema caches), so
 * the first `warmupMs` of the run and of each instance's life are left out. What remains of each
 * instance lifetime (an incarnation: one process, from start to kill) is fitted with a straight line;
 * its growth is the fitted end over the fitted start, minus one. A leak shows as a steady slope, a
 * sawtooth of garbage collections does not move the fit. The spread of the per-minute medians
 * (max/min - 1) is reported beside it.
 */

export interface Sample {
  /** Milliseconds since the run started. */
  readonly at: number;
  /** Which incarnation (Incarnation.id) the sample was taken from. */
  readonly incarnation: number;
  readonly rssBytes?: number;
  readonly heapUsedBytes?: number;
  readonly eventLoopP99Ms?: number;
  readonly consumerLag?: number;
}

export interface Incarnation {
  readonly id: number;
  /** POD_NAME: a replacement takes its predecessor's name. */
  readonly name: string;
  readonly pid: number;
  /** Milliseconds since the run started. */
  readonly startedAt: number;
  endedAt?: number;
  endedBy?: string;
}

export interface Fit { readonly slope: number; readonly intercept: number }

/** Least squares line through (x, y); slope 0 through the mean when every x is the same. */
export function linearFit(xs: readonly number[], ys: readonly number[]): Fit {
  const n = xs.length;
  if (n === 0 || n !== ys.length) throw new Error(`linearFit needs as many x as y, at least one (${n}, ${ys.length})`);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface JudgedIncarnation {
  readonly incarnation: number;
  readonly name: string;
  /** The judged window, milliseconds since the run started. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly samples: number;
  readonly fitStartMb: number;
  readonly fitEndMb: number;
  /** Fitted growth over the window: fitEnd / fitStart - 1. */
  readonly growth: number;
  /** The fitted slope as a share of fitStart per hour (what the window's trend would be over an hour). */
  readonly growthPerHour: number;
  /** max/min - 1 of the per-minute medians of the window. */
  readonly minuteMedianSpread: number;
  readonly pass: boolean;
}

export interface RssVerdict {
  readonly pass: boolean;
  readonly limit: number;
  readonly warmupMs: number;
  readonly judged: readonly JudgedIncarnation[];
  /** Incarnations whose post-warm-up window was too short to judge, with why. */
  readonly skipped: ReadonlyArray<{ readonly incarnation: number; readonly name: string; readonly why: string }>;
  readonly summary: string;
}

export interface JudgeOptions {
  readonly durationMs: number;
  /** Default: the first 10 minutes or 1/6 of the run, whichever is shorter. */
  readonly warmupMs?: number;
  /** Largest growth allowed, default 0.10. */
  readonly limit?: number;
  /**
   * A window shorter than this, or with fewer than 4 samples, is not judged. Default: 2 minutes or the
   * warm-up, whichever is longer: a replacement spends its first minutes catching up on the backlog its
   * predecessor's death left (bigger batches, a higher RSS), and a minute of that is no trend.
   */
  readonly minWindowMs?: number;
}

export const defaultWarmupMs = (durationMs: number): number => Math.min(10 * 60_000, Math.round(durationMs / 6));

const MB = 1024 * 1024;

export function judgeRss(samples: readonly Sample[], incarnations: readonly Incarnation[], options: JudgeOptions): RssVerdict {
  const limit = options.limit ?? 0.10;
  const warmupMs = options.warmupMs ?? defaultWarmupMs(options.durationMs);
  const minWindowMs = options.minWindowMs ?? Math.max(2 * 60_000, warmupMs);
  const judged: JudgedIncarnation[] = [];
  const skipped: Array<{ incarnation: number; name: string; why: string }> = [];
  for (const inc of incarnations) {
    const from = Math.max(warmupMs, inc.startedAt + warmupMs);
    const window = samples.filter((s) => s.incarnation === inc.id && s.at >= from && s.rssBytes !== undefined);
    const span = window.length ? window[window.length - 1]!.at - window[0]!.at : 0;
    if (window.length < 4 || span < minWindowMs) {
      skipped.push({ incarnation: inc.id, name: inc.name, why: `${window.length} samples over ${Math.round(span / 1000)} s after warm-up` });
      continue;
    }
    const xs = window.map((s) => s.at);
    const ys = window.map((s) => s.rssBytes! / MB);
    const fit = linearFit(xs, ys);
    const x0 = xs[0]!;
    const x1 = xs[xs.length - 1]!;
    const start = fit.intercept + fit.slope * x0;
    const end = fit.intercept + fit.slope * x1;
    const byMinute = new Map<number, number[]>();
    for (const s of window) {
      const minute = Math.floor(s.at / 60_000);
      byMinute.set(minute, [...(byMinute.get(minute) ?? []), s.rssBytes! / MB]);
    }
    const medians = [...byMinute.values()].map(median);
    const growth = end / start - 1;
    judged.push({
      incarnation: inc.id, name: inc.name, fromMs: x0, toMs: x1, samples: window.length,
      fitStartMb: round(start, 1), fitEndMb: round(end, 1), growth: round(growth, 4),
      growthPerHour: round((fit.slope * 3_600_000) / start, 4),
      minuteMedianSpread: round(Math.max(...medians) / Math.min(...medians) - 1, 4),
      pass: growth <= limit,
    });
  }
  const pass = judged.length > 0 && judged.every((j) => j.pass);
  const lines = judged.map((j) => `${j.name}#${j.incarnation} ${fmtMin(j.fromMs)}-${fmtMin(j.toMs)}: ` +
    `${j.fitStartMb} -> ${j.fitEndMb} MB fitted (${pct(j.growth)}; ${pct(j.growthPerHour)}/h; minute medians spread ${pct(j.minuteMedianSpread)}) ${j.pass ? 'ok' : 'GROWS'}`);
  const summary = judged.length === 0
    ? `RSS not judged: no instance lived ${Math.round(minWindowMs / 1000)} s past the ${Math.round(warmupMs / 1000)} s warm-up`
    : `RSS ${pass ? 'flat' : 'NOT flat'} (limit +${Math.round(limit * 100)}% after a ${Math.round(warmupMs / 1000)} s warm-up):\n  ${lines.join('\n  ')}`;
  return { pass, limit, warmupMs, judged, skipped, summary };
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const fmtMin = (ms: number): string => `${(ms / 60_000).toFixed(1)}m`;
