/**
 * The soak's plot, written as SVG by hand (no plotting dependency): panels stacked over one time axis
 * in minutes, each with its y axis, a line per series and a legend, and vertical markers (the kills)
 * across every panel. Pure: a chart description in, the SVG text out.
 */

export interface Series {
  readonly label: string;
  /** A CSS colour; by default the palette's next one within the panel. */
  readonly color?: string;
  /** [minutes since the run started, value]; a series may have gaps (a killed instance's line ends). */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
}

export interface Marker { readonly atMinutes: number; readonly label: string }

export interface Chart {
  readonly title: string;
  /** Lines under the title. */
  readonly subtitle?: readonly string[];
  readonly minutes: number;
  readonly panels: readonly Panel[];
  readonly markers?: readonly Marker[];
}

const WIDTH = 960;
const PANEL_HEIGHT = 190;
const LEFT = 70;
const RIGHT = 190;
/** Room above the first panel for the title, then 16 px per subtitle line. */
const HEADER = 52;
const GAP = 50;
export const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round step (1, 2 or 5 times a power of ten) giving at most `maxTicks` ticks up to `max`. */
export function niceStep(max: number, maxTicks: number): number {
  if (!(max > 0)) return 1;
  const raw = max / maxTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** Ticks from 0 to the first multiple of the step at or above max. */
export function niceTicks(max: number, maxTicks = 5): number[] {
  const step = niceStep(max, maxTicks);
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmt = (v: number): string => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toPrecision(3))));

export function renderSvg(chart: Chart): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const subtitle = chart.subtitle ?? [];
  const TOP = HEADER + subtitle.length * 16;
  const height = TOP + chart.panels.length * (PANEL_HEIGHT + GAP) + 10;
  const minutes = Math.max(chart.minutes, 1 / 60);
  const x = (m: number): number => LEFT + (Math.min(Math.max(m, 0), minutes) / minutes) * plotWidth;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`);
  subtitle.forEach((line, i) => out.push(`<text x="${LEFT}" y="${40 + i * 16}" fill="#555555">${escapeXml(line)}</text>`));

  // One minute per tick; a label every `labelEvery` minutes so at most ~12 labels fit.
  const labelEvery = niceStep(minutes, 12) < 1 ? 1 : niceStep(minutes, 12);
  chart.panels.forEach((panel, index) => {
    const top = TOP + index * (PANEL_HEIGHT + GAP);
    const bottom = top + PANEL_HEIGHT;
    const values = panel.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
    const ticks = niceTicks(values.length ? Math.max(...values) : 1);
    const yMax = ticks[ticks.length - 1]!;
    const y = (v: number): number => bottom - (v / yMax) * PANEL_HEIGHT;
    out.push(`<g class="panel">`);
    out.push(`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)} (${escapeXml(panel.unit)})</text>`);
    for (const t of ticks) {
      out.push(`<line x1="${LEFT}" y1="${y(t).toFixed(1)}" x2="${LEFT + plotWidth}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${LEFT - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
    }
    for (let m = 0; m <= minutes + 1e-9; m += 1) {
      const labelled = Math.abs(m / labelEvery - Math.round(m / labelEvery)) < 1e-9;
      out.push(`<line x1="${x(m).toFixed(1)}" y1="${bottom}" x2="${x(m).toFixed(1)}" y2="${bottom + (labelled ? 6 : 3)}" stroke="#333333"/>`);
      if (labelled) out.push(`<text x="${x(m).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${fmt(m)}</text>`);
    }
    out.push(`<line x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${bottom}" stroke="#333333"/>`);
    out.push(`<line x1="${LEFT}" y1="${bottom}" x2="${LEFT + plotWidth}" y2="${bottom}" stroke="#333333"/>`);
    out.push(`<text x="${LEFT + plotWidth}" y="${bottom + 32}" text-anchor="end" fill="#555555">minutes</text>`);
    for (const marker of chart.markers ?? []) {
      out.push(`<line x1="${x(marker.atMinutes).toFixed(1)}" y1="${top}" x2="${x(marker.atMinutes).toFixed(1)}" y2="${bottom}" stroke="#999999" stroke-dasharray="4 3"><title>${escapeXml(marker.label)}</title></line>`);
    }
    panel.series.forEach((series, s) => {
      const color = series.color ?? COLORS[s % COLORS.length]!;
      const points = series.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
      if (points.length === 1) {
        out.push(`<circle cx="${x(points[0]![0]).toFixed(1)}" cy="${y(points[0]![1]).toFixed(1)}" r="2" fill="${color}"/>`);
      } else if (points.length > 1) {
        const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
        out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"><title>${escapeXml(series.label)}</title></path>`);
      }
      const ly = top + 12 + s * 16;
      out.push(`<line x1="${LEFT + plotWidth + 14}" y1="${ly - 4}" x2="${LEFT + plotWidth + 34}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
      out.push(`<text x="${LEFT + plotWidth + 40}" y="${ly}">${escapeXml(series.label)}</text>`);
    });
    out.push(`</g>`);
  });
  out.push(`</svg>`);
  return `${out.join('\n')}\n`;
}
