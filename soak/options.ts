/** `npm run soak -- [options]`: the command line of soak/run.ts. */
import { parseArgs } from 'node:util';
import type { SoakOptions } from './report.js';

export const USAGE = `usage: npm run soak -- [--minutes 60] [--rate 2000] [--kill-every MIN] [--sample-seconds S]
                      [--partitions 6] [--out .soak] [--publish] [--no-build]
  --minutes N         how long records are produced (default 60; fractions allowed)
  --rate R            records per second the producer writes (default 2000)
  --kill-every K      SIGKILL an instance every K minutes and start its replacement (default 10, or 2 under 30 minutes)
  --sample-seconds S  how often RSS, heap, event-loop delay and lag are sampled (default 10)
  --partitions P      source topic partitions (default 6)
  --out DIR           where the JSON, SVG and logs go (default .soak)
  --publish           also copy the plot to docs/soak.svg
  --no-build          run the CLI from the sources (tsx) instead of a compiled snapshot of src/`;

export interface CliOptions extends SoakOptions {
  readonly out: string;
  readonly publish: boolean;
  readonly build: boolean;
}

function positive(name: string, raw: string | undefined, fallback: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}\n${USAGE}`);
  }
  return value;
}

export function parseOptions(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string' }, rate: { type: 'string' }, 'kill-every': { type: 'string' },
      'sample-seconds': { type: 'string' }, partitions: { type: 'string' }, out: { type: 'string' },
      publish: { type: 'boolean' }, 'no-build': { type: 'boolean' }, help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const minutes = positive('minutes', values.minutes, 60, false);
  return {
    minutes,
    rate: positive('rate', values.rate, 2000, true),
    killEveryMinutes: positive('kill-every', values['kill-every'], minutes >= 30 ? 10 : 2, false),
    sampleSeconds: positive('sample-seconds', values['sample-seconds'], 10, false),
    partitions: positive('partitions', values.partitions, 6, true),
    instances: 2,
    out: values.out ?? '.soak',
    publish: values.publish ?? false,
    build: !(values['no-build'] ?? false),
  };
}
