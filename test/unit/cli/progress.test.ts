// `recrypt run` progress: what one progress line says (records, committed/end per partition, rate,
// ETA), that it is a JSON log line per interval when stderr is not a terminal, and that the bars
// draw every partition with its totals on a terminal.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PartitionProgress } from '../../../src/kafka/pipeline.js';
import { progressFields, reportProgress, snapshot, type ProgressSource } from '../../../src/cli/progress.js';
import { createLogger } from '../../../src/util/logger.js';

afterEach(() => { vi.useRealTimers(); });

function part(p: Partial<PartitionProgress> & { partition: number }): PartitionProgress {
  return { topic: 't', committed: 0, records: 0, written: 0, dlq: 0, done: false, ...p };
}

describe('run progress', () => {
  it('counts what is left to each range end, or the lag without an end; halted and done have none left', () => {
    const source: ProgressSource = {
      partitions: [
        part({ partition: 0, committed: 400, records: 300, end: 1000 }),
        part({ partition: 1, committed: 50, records: 50 }),
        part({ partition: 2, committed: 70, records: 70, end: 90, halted: { offset: 70, code: 'FORMAT_DECODE' } }),
        part({ partition: 3, committed: 90, records: 90, end: 90, done: true }),
      ],
      lag: () => [{ topic: 't', partition: 1, lag: 25 }],
    };
    const parts = snapshot(source);
    expect(parts.map((p) => p.remaining)).toEqual([600, 25, 0, 0]);
    const fields = progressFields(parts, 410, 10);
    expect(fields).toEqual({
      records: 510, remaining: 625, rate: 10, etaSeconds: 63,
      partitions: 't/0 400/1000, t/1 50, t/2 HALTED at 70/90, t/3 90/90 done',
    });
    expect(progressFields(parts, 510, 10).etaSeconds).toBeUndefined();
  });

  it('logs one JSON progress line per interval when stderr is not a terminal', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const partitions = [part({ partition: 0, committed: 0, records: 0, end: 100 })];
    const reporter = reportProgress({ partitions, lag: () => [] }, { tty: false, logger: createLogger({ write: (l) => lines.push(l) }), intervalMs: 10_000 });
    try {
      partitions[0]!.records = 40;
      partitions[0]!.committed = 40;
      vi.advanceTimersByTime(10_000);
      partitions[0]!.records = 60;
      partitions[0]!.committed = 60;
      vi.advanceTimersByTime(10_000);
    } finally {
      reporter.stop();
    }
    expect(lines).toHaveLength(2);
    const last = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(last).toMatchObject({ level: 'info', msg: 'progress', records: 60, remaining: 40, rate: 2, etaSeconds: 20, partitions: 't/0 60/100' });
  });

  it('draws a bar per partition on a terminal', () => {
    const stream = new PassThrough();
    let drawn = '';
    stream.on('data', (d: Buffer) => { drawn += d.toString(); });
    Object.assign(stream, { isTTY: true, columns: 120, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true });
    const partitions = [part({ partition: 0, committed: 30, records: 30, end: 120 }), part({ partition: 1, committed: 5, records: 5, end: 5, done: true })];
    const reporter = reportProgress({ partitions, lag: () => [] }, { tty: true, logger: createLogger({ write: () => undefined }), intervalMs: 10_000, stream });
    reporter.stop();
    expect(drawn).toMatch(/\[[^\]]+\] 25% \| 30\/120 \| [\d.]+k? rec\/s \| ETA \S+ \| t\/0/);
    expect(drawn).toMatch(/\[[^\]]+\] 100% \| 5\/5 .*\| t\/1/);
  });
});
