// The soak's hand-written SVG: well-formed, axes with round ticks, a minute tick per minute, one path per
// series scaled into its panel, kill markers, escaped text; and the Prometheus text parser it reads.
import { describe, expect, it } from 'vitest';
import { metricSum, processFigures } from '../../../soak/prometheus.js';
import { escapeXml, niceStep, niceTicks, renderSvg, type Chart } from '../../../soak/svg.js';

const chart: Chart = {
  title: 'soak <test> & co',
  subtitle: ['two instances', 'PASS'],
  minutes: 5,
  markers: [{ atMinutes: 2, label: 'SIGKILL soak-1 #2' }],
  panels: [
    { title: 'RSS', unit: 'MiB', series: [
      { label: 'soak-0 #1', points: [[0, 100], [1, 150], [2, 180], [5, 180]] },
      { label: 'soak-1 #2', points: [[2.5, 120]] },
    ] },
    { title: 'Lag', unit: 'records', series: [{ label: 'group', points: [[0, 0], [5, 0]] }] },
  ],
};

describe('niceStep and niceTicks', () => {
  it('picks 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(180, 5)).toBe(50);
    expect(niceStep(60, 12)).toBe(5);
    expect(niceStep(0.9, 5)).toBe(0.2);
    expect(niceStep(0, 5)).toBe(1);
  });
  it('runs from 0 to the first step at or above the maximum', () => {
    expect(niceTicks(180)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(200)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe('renderSvg', () => {
  const svg = renderSvg(chart);

  it('is one svg element with balanced groups and escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<g /g)).toHaveLength(2);
    expect(svg.match(/<\/g>/g)).toHaveLength(2);
    expect(svg).toContain('soak &lt;test&gt; &amp; co');
    expect(svg).not.toContain('<test>');
    expect(escapeXml('"a" & <b>')).toBe('&quot;a&quot; &amp; &lt;b&gt;');
  });

  it('draws a path per multi-point series and a dot for a single point', () => {
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    // soak-0 #1: x from 70 (minute 0) to 770 (minute 5); y: the first panel starts at 84 (title and two
    // subtitle lines) and is 190 high, so 100 MiB of a 0..200 axis is at its middle.
    const d = /<path d="([^"]+)"[^>]*><title>soak-0 #1/.exec(svg)![1]!;
    const points = d.split(' ').map((p) => p.slice(1).split(',').map(Number));
    expect(points).toHaveLength(4);
    expect(points[0]![0]).toBe(70);
    expect(points[3]![0]).toBe(770);
    expect(points[0]![1]).toBeCloseTo(84 + 190 / 2, 1);
    expect(points[2]![1]).toBeCloseTo(84 + 190 * (1 - 180 / 200), 1);
  });

  it('has a tick every minute, labelled, y labels from round ticks, a legend and the kill marker in every panel', () => {
    for (const m of ['0', '1', '2', '3', '4', '5']) expect(svg).toContain(`text-anchor="middle">${m}</text>`);
    expect(svg.match(/text-anchor="middle">/g)).toHaveLength(12);
    for (const v of ['0', '50', '100', '150', '200']) expect(svg).toContain(`text-anchor="end">${v}</text>`);
    expect(svg).toContain('>soak-1 #2</text>');
    expect(svg.match(/stroke-dasharray="4 3"><title>SIGKILL soak-1 #2<\/title>/g)).toHaveLength(2);
    expect(svg).toContain('RSS (MiB)');
    expect(svg).toContain('>two instances</text>');
    expect(svg).toContain('>PASS</text>');
  });

  it('keeps a series colour that was given', () => {
    const coloured = renderSvg({ title: 't', minutes: 1, panels: [{ title: 'p', unit: 'u', series: [{ label: 'a', color: '#123456', points: [[0, 1], [1, 2]] }] }] });
    expect(coloured).toContain('stroke="#123456" stroke-width="1.5"><title>a</title>');
  });

  it('labels every 5 or 10 minutes on an hour, with a tick each minute', () => {
    const hour = renderSvg({ title: 'h', minutes: 60, panels: [{ title: 'RSS', unit: 'MiB', series: [{ label: 'a', points: [[0, 1], [60, 1]] }] }] });
    expect(hour.match(/text-anchor="middle">/g)).toHaveLength(13);
    expect(hour.match(/y2="\d+" stroke="#333333"\/>/g)!.length).toBeGreaterThanOrEqual(61);
  });
});

describe('prometheus text', () => {
  const text = [
    '# HELP recrypt_process_process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE recrypt_process_process_resident_memory_bytes gauge',
    'recrypt_process_process_resident_memory_bytes 123456789',
    'recrypt_process_nodejs_heap_size_used_bytes 4567',
    'recrypt_process_nodejs_heap_size_used_bytes_total 1',
    'recrypt_process_nodejs_eventloop_lag_p99_seconds 0.0123',
    'recrypt_consumer_lag{job="j",topic="t",partition="0"} 5',
    'recrypt_consumer_lag{job="j",topic="t",partition="1"} 7',
  ].join('\n');
  it('sums every label set of a metric and tells a longer name apart', () => {
    expect(metricSum(text, 'recrypt_consumer_lag')).toBe(12);
    expect(metricSum(text, 'recrypt_process_nodejs_heap_size_used_bytes')).toBe(4567);
    expect(metricSum(text, 'absent')).toBeUndefined();
  });
  it('reads the figures the soak samples', () => {
    expect(processFigures(text)).toEqual({ rssBytes: 123456789, heapUsedBytes: 4567, eventLoopP99Seconds: 0.0123, consumerLag: 12 });
    expect(processFigures('')).toEqual({});
  });
});
