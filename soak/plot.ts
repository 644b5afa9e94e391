/**
 * Redraws a soak run's plot from its JSON: `node --import tsx soak/plot.ts .soak/soak-<date>.json [out.svg]`
 * (default: the JSON's name with .svg). The run writes its SVG itself; this is for a changed chart or a
 * run that was interrupted (its JSON is saved every minute).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { SoakReport } from './report.js';
import { chartOf } from './report.js';
import { renderSvg } from './svg.js';

const [input, output] = process.argv.slice(2);
if (!input) {
  process.stderr.write('usage: node --import tsx soak/plot.ts SOAK.json [OUT.svg]\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(input, 'utf8')) as SoakReport;
const target = output ?? input.replace(/\.json$/, '') + '.svg';
writeFileSync(target, renderSvg(chartOf(report)));
process.stdout.write(`${target}\n`);
