// The soak's RSS verdict: a flat sawtooth passes, a steady climb after warm-up fails, the warm-up and
// short-lived incarnations are left out, and the least-squares fit and median are right.
import { describe, expect, it } from 'vitest';
import { defaultWarmupMs, judgeRss, linearFit, median, type Incarnation, type Sample } from '../../../soak/judge.js';

const MB = 1024 * 1024;
const MIN = 60_000;

/** One sample every 10 s from `from` to `to` (ms), RSS in MiB from `rss(atMs)`. */
function series(incarnation: number, from: number, to: number, rss: (at: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let at = from; at <= to; at += 10_000) out.push({ at, incarnation, rssBytes: Math.round(rss(at) * MB) });
  return out;
}

const inc = (id: number, name: string, startedAt: number, endedAt?: number): Incarnation => ({
  id, name, pid: 1000 + id, startedAt, ...(endedAt === undefined ? {} : { endedAt }),
});

describe('linearFit and median', () => {
  it('fits a line exactly and a constant with slope 0', () => {
    const fit = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(fit.slope).toBeCloseTo(2, 12);
    expect(fit.intercept).toBeCloseTo(1, 12);
    expect(linearFit([5, 5, 5], [1, 2, 3])).toEqual({ slope: 0, intercept: 2 });
    expect(() => linearFit([], [])).toThrow(/at least one/);
  });
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('judgeRss', () => {
  it('the default warm-up is 10 minutes or a sixth of the run, whichever is shorter', () => {
    expect(defaultWarmupMs(60 * MIN)).toBe(10 * MIN);
    expect(defaultWarmupMs(120 * MIN)).toBe(10 * MIN);
    expect(defaultWarmupMs(5 * MIN)).toBe(50_000);
  });

  it('passes a flat sawtooth after a steep warm-up', () => {
    // 100 -> 200 MiB over the first 10 minutes, then 200 MiB +- 15 (garbage collections), for an hour.
    const rss = (at: number) => (at < 10 * MIN ? 100 + (at / (10 * MIN)) * 100 : 200 + (Math.floor(at / 30_000) % 2 ? 15 : -15));
    const verdict = judgeRss(series(1, 0, 60 * MIN, rss), [inc(1, 'soak-0', 0)], { durationMs: 60 * MIN });
    expect(verdict.pass).toBe(true);
    expect(verdict.judged).toHaveLength(1);
    const judged = verdict.judged[0]!;
    expect(judged.fromMs).toBe(10 * MIN);
    expect(Math.abs(judged.growth)).toBeLessThan(0.01);
    expect(judged.minuteMedianSpread).toBeGreaterThan(0);
    expect(verdict.summary).toMatch(/RSS flat/);
  });

  it('fails a climb of 20% after warm-up and says which instance grows', () => {
    // 200 MiB at minute 10 to 240 MiB at minute 60: +20%.
    const rss = (at: number) => (at < 10 * MIN ? 150 : 200 + ((at - 10 * MIN) / (50 * MIN)) * 40);
    const verdict = judgeRss(
      [...series(1, 0, 60 * MIN, () => 180), ...series(2, 0, 60 * MIN, rss)],
      [inc(1, 'soak-0', 0), inc(2, 'soak-1', 0)], { durationMs: 60 * MIN },
    );
    expect(verdict.pass).toBe(false);
    const grower = verdict.judged.find((j) => j.incarnation === 2)!;
    expect(grower.growth).toBeCloseTo(0.2, 2);
    expect(grower.growthPerHour).toBeCloseTo(0.24, 2);
    expect(grower.pass).toBe(false);
    expect(verdict.judged.find((j) => j.incarnation === 1)!.pass).toBe(true);
    expect(verdict.summary).toMatch(/NOT flat[\s\S]*soak-1#2[^\n]*GROWS/);
  });

  it('a growth under the limit passes; the limit can be changed', () => {
    const rss = (at: number) => 200 + (at / (60 * MIN)) * 16; // +8% over 10..60 min: about 6.5% fitted
    const samples = series(1, 0, 60 * MIN, rss);
    expect(judgeRss(samples, [inc(1, 'soak-0', 0)], { durationMs: 60 * MIN }).pass).toBe(true);
    expect(judgeRss(samples, [inc(1, 'soak-0', 0)], { durationMs: 60 * MIN, limit: 0.05 }).pass).toBe(false);
  });

  it('judges each incarnation after its own warm-up and skips one that did not outlive it', () => {
    const samples = [
      ...series(1, 0, 60 * MIN, () => 200),
      ...series(2, 0, 20 * MIN, () => 210), // killed at 20: judged 10..20
      ...series(3, 20 * MIN, 29 * MIN, () => 190), // killed at 29: its warm-up ends at 30, nothing left
      ...series(4, 29 * MIN, 60 * MIN, (at) => 150 + (at - 29 * MIN) / MIN), // climbs while it warms up, then flat
    ].map((s) => (s.incarnation === 4 && s.at >= 39 * MIN ? { ...s, rssBytes: 160 * MB } : s));
    const verdict = judgeRss(samples, [inc(1, 'soak-0', 0), inc(2, 'soak-1', 0, 20 * MIN), inc(3, 'soak-1', 20 * MIN, 29 * MIN), inc(4, 'soak-1', 29 * MIN)], { durationMs: 60 * MIN });
    expect(verdict.judged.map((j) => j.incarnation)).toEqual([1, 2, 4]);
    expect(verdict.judged.find((j) => j.incarnation === 4)!.fromMs).toBe(39 * MIN);
    expect(verdict.skipped).toEqual([{ incarnation: 3, name: 'soak-1', why: '0 samples over 0 s after warm-up' }]);
    expect(verdict.pass).toBe(true);
  });

  it('fails when no incarnation could be judged (a run too short says nothing about leaks)', () => {
    const verdict = judgeRss(series(1, 0, 2 * MIN, () => 100), [inc(1, 'soak-0', 0)], { durationMs: 2 * MIN, warmupMs: 90_000 });
    expect(verdict.pass).toBe(false);
    expect(verdict.judged).toEqual([]);
    expect(verdict.summary).toMatch(/not judged/);
  });

  it('ignores samples without an RSS', () => {
    const samples: Sample[] = [...series(1, 0, 10 * MIN, () => 100), { at: 9 * MIN + 5000, incarnation: 1, heapUsedBytes: 5 }];
    const verdict = judgeRss(samples, [inc(1, 'soak-0', 0)], { durationMs: 10 * MIN, warmupMs: MIN });
    expect(verdict.judged[0]!.samples).toBe(55);
    expect(verdict.judged[0]!.growth).toBe(0);
  });
});
