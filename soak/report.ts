/**
 * What a soak run writes (.soak/soak-<date>.json) and how it becomes the plot: one line per instance
 * incarnation for RSS, heap used and event-loop delay, the group's lag, a dashed marker per kill.
 */
import type { ExactlyOnce } from './data.js';
import type { Incarnation, RssVerdict, Sample } from './judge.js';
import { COLORS, type Chart, type Series } from './svg.js';

export interface FleetSample {
  /** Milliseconds since the run started. */
  readonly at: number;
  readonly produced: number;
  /** End offsets minus the group's committed offsets on the source (undefined when the poll failed). */
  readonly groupLag?: number;
  readonly instances: number;
}

export interface Kill {
  readonly at: number;
  readonly name: string;
  readonly incarnation: number;
  readonly replacement: number;
  /** From the SIGKILL to the replacement's /readyz 200. */
  readyAfterMs?: number;
}

export interface SoakOptions {
  readonly minutes: number;
  readonly rate: number;
  readonly killEveryMinutes: number;
  readonly sampleSeconds: number;
  readonly partitions: number;
  readonly instances: number;
}

export interface SoakReport {
  readonly startedAt: string;
  endedAt?: string;
  readonly options: SoakOptions;
  readonly stack: { readonly name: string; readonly portBase: number };
  readonly build: string;
  readonly job: { readonly name: string; readonly mode: string; readonly source: string; readonly target: string; readonly change: string };
  readonly incarnations: Incarnation[];
  readonly samples: Sample[];
  readonly fleet: FleetSample[];
  readonly kills: Kill[];
  produced?: number;
  /** From the producer's stop to a group lag of 0. */
  drainMs?: number;
  exactlyOnce?: ExactlyOnce;
  rss?: RssVerdict;
  figures?: Figures;
  error?: string;
  pass?: boolean;
}

export interface Figures {
  readonly maxRssMb: number;
  readonly maxHeapUsedMb: number;
  readonly maxEventLoopP99Ms: number;
  readonly medianEventLoopP99Ms: number;
  readonly maxGroupLag: number;
}

const MB = 1024 * 1024;

export function figuresOf(report: SoakReport): Figures {
  const values = (pick: (s: Sample) => number | undefined) => report.samples.map(pick).filter((v): v is number => v !== undefined);
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
  const loops = values((s) => s.eventLoopP99Ms).sort((a, b) => a - b);
  return {
    maxRssMb: Math.round(max(values((s) => s.rssBytes)) / MB),
    maxHeapUsedMb: Math.round(max(values((s) => s.heapUsedBytes)) / MB),
    maxEventLoopP99Ms: Math.round(max(loops) * 10) / 10,
    medianEventLoopP99Ms: loops.length ? Math.round(loops[loops.length >> 1]! * 10) / 10 : 0,
    maxGroupLag: max(report.fleet.map((f) => f.groupLag).filter((v): v is number => v !== undefined)),
  };
}

function perIncarnation(report: SoakReport, pick: (s: Sample) => number | undefined, scale: number): Series[] {
  // An incarnation has one colour in every panel.
  return report.incarnations.map((inc, i) => ({
    label: `${inc.name} #${inc.id}`,
    color: COLORS[i % COLORS.length]!,
    points: report.samples
      .filter((s) => s.incarnation === inc.id && pick(s) !== undefined)
      .map((s) => [s.at / 60_000, pick(s)! / scale] as const),
  })).filter((s) => s.points.length > 0);
}

export function chartOf(report: SoakReport): Chart {
  const o = report.options;
  const verdict = report.pass === undefined ? 'unfinished' : report.pass ? 'PASS' : 'FAIL';
  const eo = report.exactlyOnce;
  const subtitle = [
    `${o.instances} × recrypt serve, ${report.job.change}, ${o.rate} records/s over ${o.partitions} partitions, ` +
      `SIGKILL every ${o.killEveryMinutes} min (dashed lines); ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    `${verdict}` + (eo ? `: ${eo.produced} records, lost ${eo.lost}, duplicated ${eo.duplicated}` : '') +
      (report.rss ? `; ${report.rss.pass ? 'RSS flat' : 'RSS NOT flat'} after a ${Math.round(report.rss.warmupMs / 60_000 * 10) / 10} min warm-up` +
        report.rss.judged.map((j) => `, ${j.name} #${j.incarnation} ${j.growth >= 0 ? '+' : ''}${(j.growth * 100).toFixed(1)}%`).join('') : ''),
  ];
  return {
    title: `recrypt soak: ${o.minutes} minutes of re-encryption with instance kills`,
    subtitle,
    // The samples run from the fleet's start to its stop: set-up before the producer, the drain after.
    minutes: Math.max(o.minutes, Math.ceil(Math.max(0, ...report.fleet.map((f) => f.at), ...report.samples.map((s) => s.at)) / 60_000)),
    markers: report.kills.map((k) => ({ atMinutes: k.at / 60_000, label: `SIGKILL ${k.name} #${k.incarnation}` })),
    panels: [
      { title: 'Resident set size', unit: 'MiB', series: perIncarnation(report, (s) => s.rssBytes, MB) },
      { title: 'V8 heap used', unit: 'MiB', series: perIncarnation(report, (s) => s.heapUsedBytes, MB) },
      { title: 'Event-loop delay p99', unit: 'ms', series: perIncarnation(report, (s) => s.eventLoopP99Ms, 1) },
      {
        title: 'Consumer lag', unit: 'records',
        series: [
          { label: 'group (committed)', color: '#000000', points: report.fleet.filter((f) => f.groupLag !== undefined).map((f) => [f.at / 60_000, f.groupLag!] as const) },
          // What each instance reports of its own partitions (recrypt_consumer_lag).
          ...perIncarnation(report, (s) => s.consumerLag, 1),
        ],
      },
    ],
  };
}
