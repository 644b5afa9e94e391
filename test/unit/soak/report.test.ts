// From a soak run's JSON to its chart (one colour per incarnation in every panel, kills as markers, the
// verdict in the subtitle) and its figures; and the soak's command line.
import { describe, expect, it } from 'vitest';
import type { Incarnation, Sample } from '../../../soak/judge.js';
import { parseOptions } from '../../../soak/options.js';
import { chartOf, figuresOf, type SoakReport } from '../../../soak/report.js';

const MB = 1024 * 1024;
const incarnations: Incarnation[] = [
  { id: 1, name: 'soak-0', pid: 11, startedAt: 0 },
  { id: 2, name: 'soak-1', pid: 12, startedAt: 0, endedAt: 120_000, endedBy: 'SIGKILL' },
  { id: 3, name: 'soak-1', pid: 13, startedAt: 120_000 },
];
const samples: Sample[] = [
  { at: 60_000, incarnation: 1, rssBytes: 100 * MB, heapUsedBytes: 20 * MB, eventLoopP99Ms: 10, consumerLag: 5 },
  { at: 60_000, incarnation: 2, rssBytes: 110 * MB, heapUsedBytes: 30 * MB, eventLoopP99Ms: 30 },
  { at: 180_000, incarnation: 1, rssBytes: 105 * MB, heapUsedBytes: 25 * MB, eventLoopP99Ms: 20 },
  { at: 180_000, incarnation: 3, rssBytes: 90 * MB },
];
const report: SoakReport = {
  startedAt: '2026-12-08T05:00:00.000Z',
  options: { minutes: 3, rate: 2000, killEveryMinutes: 2, sampleSeconds: 10, partitions: 6, instances: 2 },
  stack: { name: 'soak-1', portBase: 40_000 }, build: 'compiled',
  job: { name: 'j', mode: 'reencrypt', source: 's', target: 't', change: 'AES256_GCM -> AES256_SIV, new KEK' },
  incarnations, samples,
  fleet: [{ at: 60_000, produced: 100, groupLag: 7, instances: 2 }, { at: 200_000, produced: 300, instances: 2 }],
  kills: [{ at: 120_000, name: 'soak-1', incarnation: 2, replacement: 3, readyAfterMs: 3000 }],
  exactlyOnce: { produced: 300, read: 300, lost: 0, duplicated: 0, outOfOrder: 0, foreign: 0, decrypted: 3, decryptMismatches: 0, pass: true },
  pass: true,
};

describe('chartOf', () => {
  const chart = chartOf(report);
  it('has RSS, heap, event-loop and lag panels, an incarnation keeping its colour in each', () => {
    expect(chart.panels.map((p) => p.title)).toEqual(['Resident set size', 'V8 heap used', 'Event-loop delay p99', 'Consumer lag']);
    const rss = chart.panels[0]!.series;
    expect(rss.map((s) => s.label)).toEqual(['soak-0 #1', 'soak-1 #2', 'soak-1 #3']);
    expect(rss[0]!.points).toEqual([[1, 100], [3, 105]]);
    const heap = chart.panels[1]!.series;
    expect(heap.map((s) => s.label)).toEqual(['soak-0 #1', 'soak-1 #2']);
    expect(heap.map((s) => s.color)).toEqual(rss.slice(0, 2).map((s) => s.color));
    const lag = chart.panels[3]!.series;
    expect(lag[0]).toMatchObject({ label: 'group (committed)', points: [[1, 7]] });
    expect(lag[1]).toMatchObject({ label: 'soak-0 #1', color: rss[0]!.color, points: [[1, 5]] });
  });
  it('spans the samples past the run (the drain), marks the kills and says the verdict', () => {
    expect(chart.minutes).toBe(4);
    expect(chart.markers).toEqual([{ atMinutes: 2, label: 'SIGKILL soak-1 #2' }]);
    expect(chart.subtitle![1]).toBe('PASS: 300 records, lost 0, duplicated 0');
  });
});

describe('figuresOf', () => {
  it('takes the maxima and the median event-loop delay', () => {
    expect(figuresOf(report)).toEqual({ maxRssMb: 110, maxHeapUsedMb: 30, maxEventLoopP99Ms: 30, medianEventLoopP99Ms: 20, maxGroupLag: 7 });
  });
});

describe('parseOptions', () => {
  it('defaults to an hour at 2,000 records/s with a kill every 10 minutes', () => {
    expect(parseOptions([])).toMatchObject({ minutes: 60, rate: 2000, killEveryMinutes: 10, sampleSeconds: 10, partitions: 6, publish: false, build: true });
  });
  it('kills every 2 minutes in a short run and takes every option', () => {
    expect(parseOptions(['--minutes', '5'])).toMatchObject({ minutes: 5, killEveryMinutes: 2 });
    expect(parseOptions(['--minutes', '0.5', '--rate', '100', '--kill-every', '0.25', '--sample-seconds', '2', '--partitions', '3', '--out', 'x', '--publish', '--no-build']))
      .toMatchObject({ minutes: 0.5, rate: 100, killEveryMinutes: 0.25, sampleSeconds: 2, partitions: 3, out: 'x', publish: true, build: false });
  });
  it('refuses what is not a positive number, and unknown options', () => {
    expect(() => parseOptions(['--rate', '1.5'])).toThrow(/--rate must be a positive integer/);
    expect(() => parseOptions(['--minutes', '0'])).toThrow(/--minutes must be a positive number/);
    expect(() => parseOptions(['--fast'])).toThrow();
  });
});
