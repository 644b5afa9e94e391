// The lock settings against a model of BullMQ 6's lock renewal (LockManager: a timer every
// lockRenewTime/2 extends a lock last extended more than lockRenewTime/2 ago) and its two-phase stalled
// check (moveStalledJobsToWait-9.lua: a task marked at the previous check whose lock is gone now moves
// back to wait; then every active task is marked; a renewal unmarks it). Two claims of settings.ts: a
// killed worker's task is back on the queue within takeoverBoundMs, and a live worker keeps its lock
// through an event-loop stall shorter than 3/4 of lockDuration.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, lockRenewMs, takeoverBoundMs, type BackfillSettings } from '../../../src/backfill/index.js';

type Lock = Pick<BackfillSettings, 'lockDurationMs' | 'stalledIntervalMs'>;

interface Scenario {
  /** The first stalled check after the task was taken (0 <= phase < stalledInterval). */
  readonly checkPhase: number;
  /** The worker dies here (no renewal afterwards); Infinity = never. */
  readonly killAt: number;
  /** The worker's event loop is blocked over [from, from + ms): renewal ticks due then run at its end. */
  readonly stall?: { readonly from: number; readonly ms: number };
  readonly horizon: number;
}

/** When the stalled check moves the task back to wait (taken at t = 0), or undefined within the horizon. */
function movedAt(settings: Lock, s: Scenario): number | undefined {
  const renew = lockRenewMs(settings);
  let lockUntil = settings.lockDurationMs;
  let renewedTs = 0;
  let marked = false;
  let nextTick = renew / 2;
  let nextCheck = s.checkPhase;
  for (;;) {
    const stallEnd = s.stall ? s.stall.from + s.stall.ms : -1;
    const tickAt = s.stall && nextTick >= s.stall.from && nextTick < stallEnd ? stallEnd : nextTick;
    const tickAlive = tickAt < s.killAt;
    if (Math.min(tickAlive ? tickAt : Infinity, nextCheck) > s.horizon) return undefined;
    if (tickAlive && tickAt <= nextCheck) {
      if (renewedTs + renew / 2 < tickAt) {
        renewedTs = tickAt;
        // extendLocks-1.lua: only a lock that still exists is extended (else lockRenewalFailed).
        if (lockUntil > tickAt) {
          lockUntil = tickAt + settings.lockDurationMs;
          marked = false;
        }
      }
      nextTick = tickAt + renew / 2;
      continue;
    }
    if (marked && lockUntil <= nextCheck) return nextCheck;
    marked = true;
    nextCheck += settings.stalledIntervalMs;
  }
}

const SETTINGS: Lock[] = [
  DEFAULT_SETTINGS,
  { lockDurationMs: 6_000, stalledIntervalMs: 2_000 },
  { lockDurationMs: 2_000, stalledIntervalMs: 5_000 },
  { lockDurationMs: 120_000, stalledIntervalMs: 30_000 },
];

describe('backfill lock settings', () => {
  it('defaults: a killed worker\'s task is back on the queue within 6 s, renewed about every second', () => {
    expect(takeoverBoundMs(DEFAULT_SETTINGS)).toBe(6_000);
    expect(lockRenewMs(DEFAULT_SETTINGS)).toBe(1_250);
  });

  it.each(SETTINGS)('a killed worker\'s task moves within takeoverBoundMs (lock $lockDurationMs ms, check $stalledIntervalMs ms)', (settings) => {
    const bound = takeoverBoundMs(settings);
    let worst = 0;
    for (let phase = 0; phase < settings.stalledIntervalMs; phase += settings.stalledIntervalMs / 7) {
      for (let kill = 1; kill < 4 * settings.lockDurationMs; kill += settings.lockDurationMs / 13) {
        const at = movedAt(settings, { checkPhase: phase, killAt: kill, horizon: kill + 10 * bound });
        expect(at, `phase ${phase}, kill ${kill}`).toBeDefined();
        expect(at! - kill).toBeLessThanOrEqual(bound);
        worst = Math.max(worst, at! - kill);
      }
    }
    // The bound is tight: some kill time comes within one renewal of it.
    expect(worst).toBeGreaterThan(bound - lockRenewMs(settings) - settings.stalledIntervalMs / 7);
  });

  it.each(SETTINGS)('a live worker keeps its lock through a stall under 3/4 of the lock (lock $lockDurationMs ms)', (settings) => {
    const tolerated = (settings.lockDurationMs * 3) / 4;
    for (let from = 0; from < 3 * settings.lockDurationMs; from += settings.lockDurationMs / 17) {
      const stall = { from, ms: tolerated - 1 };
      const at = movedAt(settings, { checkPhase: settings.stalledIntervalMs / 3, killAt: Infinity, stall, horizon: 6 * settings.lockDurationMs });
      expect(at, `stall from ${from}`).toBeUndefined();
    }
    // And the margin is real: a stall of a whole lock duration loses it.
    const lost = movedAt(settings, { checkPhase: 0, killAt: Infinity, stall: { from: settings.lockDurationMs, ms: 2 * settings.lockDurationMs }, horizon: 6 * settings.lockDurationMs });
    expect(lost).toBeDefined();
  });
});
