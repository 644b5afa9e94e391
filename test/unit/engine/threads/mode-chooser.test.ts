// engine/threads/link.ts ModeChooser: a driver shares a batch with its threads when that measured faster
// than the main thread alone, re-measures the other way every RETRY_EVERY-th batch, and follows a change.
import { describe, expect, it } from 'vitest';
import { ModeChooser } from '../../../../src/engine/threads/link.js';

/** Runs `batches` batches whose per-record cost is `cost(threaded, batch)`; the ways chosen. */
function run(chooser: ModeChooser, batches: number, cost: (threaded: boolean, batch: number) => number, from = 0): boolean[] {
  const ways: boolean[] = [];
  for (let b = from; b < from + batches; b++) {
    const threaded = chooser.next();
    ways.push(threaded);
    chooser.measured(threaded, cost(threaded, b));
  }
  return ways;
}

describe('ModeChooser', () => {
  it('warms the threads up, measures both ways, then keeps the faster one', () => {
    const chooser = new ModeChooser();
    const ways = run(chooser, 64, (threaded) => (threaded ? 10 : 20));
    expect(ways.slice(0, ModeChooser.WARM_UP + 1)).toEqual([true, true, true]);
    expect(ways[ModeChooser.WARM_UP + 1]).toBe(false); // the main thread alone, measured once
    const later = ways.slice(16); // batches 17 to 64
    expect(later.filter((w) => !w).length).toBe(later.length / ModeChooser.RETRY_EVERY);
  });

  it('keeps batches on the main thread where the threads are slower (a busy machine), trying them now and then', () => {
    const chooser = new ModeChooser();
    const later = run(chooser, 64, (threaded) => (threaded ? 30 : 20)).slice(16);
    expect(later.filter((w) => w).length).toBe(later.length / ModeChooser.RETRY_EVERY);
  });

  it('follows a change: the threads become faster when the machine quietens', () => {
    const chooser = new ModeChooser();
    run(chooser, 64, (threaded) => (threaded ? 30 : 20));
    const after = run(chooser, 96, (threaded) => (threaded ? 8 : 20), 64);
    expect(after.slice(-32).filter((w) => w).length).toBeGreaterThanOrEqual(30);
  });
});
