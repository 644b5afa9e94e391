// The end-to-end benchmark's pure parts: /proc parsing, CPU shares, recrypt's log and summary lines,
// percentiles, option overrides, and the generated source records.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { CUSTOMER_SCHEMA } from '../../../bench/customer.js';
import { parseChildResult } from '../../../bench/e2e-child.js';
import { customerAt, encodeCustomers, indexOfKey, keyOf } from '../../../bench/e2e-data.js';
import { cpuSplitOf, parseMachineTicks, parseStatTicks, parseStatusKb, type ProcSample } from '../../../bench/e2e-proc.js';
import {
  parseCommittedBatches, parseRunSummary, percentile, rssTimeline,
} from '../../../bench/e2e-runs.js';
import { DEFAULT_E2E_OPTIONS, withEnvOverrides } from '../../../bench/e2e.js';

describe('/proc parsing', () => {
  it('reads utime + stime after a command name holding spaces and parentheses', () => {
    const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
    expect(parseStatTicks(stat)).toBe(1234 + 567);
  });

  it('reads kB fields of /proc/<pid>/status as bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
    expect(parseStatusKb(status, 'VmRSS')).toBe(102_400 * 1024);
    expect(parseStatusKb(status, 'VmHWM')).toBe(204_800 * 1024);
    expect(parseStatusKb(status, 'VmSwap')).toBe(0);
  });

  it('splits /proc/stat into busy and total jiffies', () => {
    expect(parseMachineTicks('cpu  10 1 5 100 4 2 3 0 0 0\ncpu0 5 0 2 50 2 1 1 0 0 0\n')).toEqual({ busy: 10 + 1 + 5 + 2 + 3, total: 21 + 100 + 4 });
  });
});

describe('cpuSplitOf', () => {
  const at = (t: number, cpu: number, mainCpu: number, brokerCpu: number, machineBusy: number): ProcSample => ({
    t, cpu, mainCpu, brokerCpu, machineBusy, machineTotal: 2 * (t / 1000), rss: 0, hwm: 0,
  });

  it('averages cores busy over the samples inside the window', () => {
    const samples = [at(0, 0, 0, 0, 0), at(1000, 0.9, 0.6, 0.2, 1.5), at(2000, 1.8, 1.2, 0.4, 3.0), at(3000, 5, 5, 5, 6)];
    const split = cpuSplitOf(samples, 0, 2000)!;
    expect(split.seconds).toBe(2);
    expect(split.process).toBeCloseTo(0.9);
    expect(split.mainThread).toBeCloseTo(0.6);
    expect(split.broker).toBeCloseTo(0.2);
    expect(split.other).toBeCloseTo(1.5 - 0.9 - 0.2);
    expect(split.cores).toBe(2);
  });

  it('has nothing to say about a window with fewer than two samples', () => {
    expect(cpuSplitOf([at(0, 0, 0, 0, 0)])).toBeUndefined();
  });
});

describe('recrypt output parsing', () => {
  it('takes the batch committed debug lines and ignores everything else', () => {
    const stderr = [
      '{"level":"info","time":"2026-01-01T00:00:00.000Z","msg":"partitions assigned"}',
      '{"level":"debug","time":"2026-01-01T00:00:01.000Z","job":"j","records":500,"written":500,"dlq":0,"latencyMs":12,"msg":"batch committed"}',
      'not json "batch committed"',
      '{"level":"debug","time":"2026-01-01T00:00:01.250Z","job":"j","records":200,"written":200,"dlq":0,"latencyMs":7,"msg":"batch committed"}',
    ].join('\n');
    expect(parseCommittedBatches(stderr)).toEqual([
      { time: Date.parse('2026-01-01T00:00:01.000Z'), records: 500, latencyMs: 12 },
      { time: Date.parse('2026-01-01T00:00:01.250Z'), records: 200, latencyMs: 7 },
    ]);
  });

  it('reads the run summary line', () => {
    const stdout = '\njob bench-e2e-x: 1000000 records (999990 written, 10 to DLQ) in 25.3 s, 39525 records/s\n  t/0: ...\n';
    expect(parseRunSummary(stdout)).toEqual({ records: 1_000_000, written: 999_990, dlq: 10, seconds: 25.3 });
    expect(parseRunSummary('nothing')).toBeUndefined();
  });

  it('finds the child result on the last result line', () => {
    expect(parseChildResult('noise\nE2E-RESULT {"records":3}\n')).toMatchObject({ records: 3 });
    expect(parseChildResult('noise\n')).toBeUndefined();
  });
});

describe('statistics and options', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([], 99)).toBe(0);
  });

  it('samples the RSS timeline at fifths of the run, skipping samples of the exiting process', () => {
    const samples = Array.from({ length: 11 }, (_, i) => ({ t: i, cpu: 0, mainCpu: 0, brokerCpu: 0, machineBusy: 0, machineTotal: 0, rss: i < 10 ? i + 1 : 0, hwm: 10 }));
    expect(rssTimeline(samples)).toEqual([2, 4, 6, 8, 10]);
    expect(rssTimeline([])).toEqual([]);
  });

  it('overrides records, batch size, repetitions and the baseline time box from the environment', () => {
    expect(withEnvOverrides(DEFAULT_E2E_OPTIONS, {})).toEqual(DEFAULT_E2E_OPTIONS);
    expect(withEnvOverrides(DEFAULT_E2E_OPTIONS, { BENCH_E2E_RECORDS: '1000', BENCH_E2E_BATCH_SIZE: '2000', BENCH_E2E_REPETITIONS: '0', BENCH_E2E_BASELINE_SECONDS: '0' }))
      .toMatchObject({ records: 1000, batchSize: 2000, repetitions: 1, baselineSeconds: 0 });
    expect(() => withEnvOverrides(DEFAULT_E2E_OPTIONS, { BENCH_E2E_RECORDS: 'many' })).toThrow(/BENCH_E2E_RECORDS/);
  });
});

describe('source records', () => {
  it('frames Avro customers that decode back to customerAt(i), keyed by id', () => {
    const type = avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema);
    const values = encodeCustomers(77, 20_000, 40_000);
    expect(values).toHaveLength(20_000);
    for (const i of [0, 1, 12_345, 19_999]) {
      const value = values[i]!;
      expect(value[0]).toBe(0);
      expect(value.readUInt32BE(1)).toBe(77);
      expect(type.fromBuffer(value.subarray(5))).toEqual(customerAt(20_000 + i));
    }
    expect(indexOfKey(keyOf(123_456))).toBe(123_456);
    expect(customerAt(5)).toEqual(customerAt(5));
    expect(customerAt(5).email).toContain('1000005@');
  });
});
