// issue 21 #8: one line per (rule, action, code) per interval with a count, instead of one per record.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogAggregator } from '../../../src/util/log-aggregator.js';

type Fields = { rule: string; action: string; code: string };

function collecting() {
  const lines: string[] = [];
  const aggregator = new LogAggregator<Fields>({
    intervalMs: 10_000,
    first: (f) => lines.push(`first ${f.rule} ${f.action} ${f.code}`),
    summary: (f, count, ms) => lines.push(`summary ${f.rule} ${f.action} ${f.code} x${count} in ${ms}`),
  });
  return { lines, aggregator };
}

describe('LogAggregator', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('1,500 identical events: the first at once, the rest as one summary per interval, the remainder at flush', () => {
    const { lines, aggregator } = collecting();
    const e = { rule: 'pii', action: 'DLQ', code: 'CRYPTO_DECRYPT' };
    for (let i = 0; i < 1000; i++) aggregator.record(e);
    expect(lines).toEqual(['first pii DLQ CRYPTO_DECRYPT']);
    vi.advanceTimersByTime(10_000);
    expect(lines).toEqual(['first pii DLQ CRYPTO_DECRYPT', 'summary pii DLQ CRYPTO_DECRYPT x999 in 10000']);
    for (let i = 0; i < 500; i++) aggregator.record(e);
    vi.advanceTimersByTime(5_000);
    expect(lines).toHaveLength(2);
    aggregator.flush();
    expect(lines).toEqual(['first pii DLQ CRYPTO_DECRYPT', 'summary pii DLQ CRYPTO_DECRYPT x999 in 10000', 'summary pii DLQ CRYPTO_DECRYPT x500 in 10000']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('groups by every field: another rule, action or code is its own line', () => {
    const { lines, aggregator } = collecting();
    aggregator.record({ rule: 'a', action: 'DLQ', code: 'X' });
    aggregator.record({ rule: 'a', action: 'ERROR', code: 'X' });
    aggregator.record({ rule: 'a', action: 'DLQ', code: 'Y' });
    aggregator.record({ rule: 'b', action: 'DLQ', code: 'X' });
    aggregator.record({ rule: 'b', action: 'DLQ', code: 'X' });
    expect(lines).toEqual(['first a DLQ X', 'first a ERROR X', 'first a DLQ Y', 'first b DLQ X']);
    aggregator.flush();
    expect(lines.slice(4)).toEqual(['summary b DLQ X x1 in 10000']);
  });

  it('a group quiet for a whole interval is forgotten: its next event is logged at once; no timer left behind', () => {
    const { lines, aggregator } = collecting();
    const e = { rule: 'r', action: 'NONE', code: 'C' };
    aggregator.record(e);
    vi.advanceTimersByTime(10_000); // nothing pending: no line, group dropped, timer stopped
    expect(lines).toEqual(['first r NONE C']);
    expect(vi.getTimerCount()).toBe(0);
    aggregator.record(e);
    expect(lines).toEqual(['first r NONE C', 'first r NONE C']);
    aggregator.flush();
    expect(lines).toHaveLength(2);
  });
});
