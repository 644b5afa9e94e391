/**
 * The start-up benchmark (issue 24): the demo-size `recrypt run` (2,000 Avro Customer records, 3
 * partitions, encrypt name + email, stopAt end, exactly once), started `starts` times by the built CLI
 * (bench/procs.ts), each into a fresh target topic. Per start, from recrypt's own log lines
 * (LOG_LEVEL=debug) against the spawn time: the target topic created, the partitions assigned, the first
 * committed batch (the first record committed), the last one, and the process exit. Also the time
 * `import()` of the CLI's main module takes in a fresh node (the module graph the command loads before
 * it does anything), `imports` times. The starts alternate between the job's default engine worker
 * threads and `processing.workers: 0` (the main thread alone), so the thread pool's share of the
 * start-up shows. Medians are reported.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DekRegistryClient, SchemaRegistryClient } from '../src/registry/index.js';
import { CUSTOMER_SCHEMA } from './customer.js';
import { produceCustomers } from './e2e-data.js';
import { loadAverage } from './e2e-proc.js';
import { parseLogLines } from './e2e-runs.js';
import { jobYaml } from './jobs.js';
import { buildCommands, removeBuild, watch } from './procs.js';
import { createTopic, deleteTopicsAndGroups, loadStackEnv } from './stack.js';
import { table } from './report.js';
import { median } from './stats.js';

export interface StartupOptions {
  readonly records: number;
  readonly partitions: number;
  readonly starts: number;
  readonly imports: number;
  readonly log?: (line: string) => void;
}

export const DEFAULT_STARTUP_OPTIONS: StartupOptions = { records: 2_000, partitions: 3, starts: 7, imports: 7 };
export const QUICK_STARTUP_OPTIONS: StartupOptions = { records: 2_000, partitions: 3, starts: 3, imports: 3 };

/** Milliseconds from the spawn to each milestone of one start (undefined: not logged). */
export interface StartTimeline {
  readonly targetCreatedMs?: number;
  readonly assignedMs?: number;
  readonly firstCommitMs?: number;
  readonly lastCommitMs?: number;
  readonly exitMs: number;
}

/** A start's milestones from recrypt's log lines (stderr) against its spawn and exit times. */
export function startTimeline(stderr: string, startedAt: number, exitedAt: number): StartTimeline {
  const lines = parseLogLines(stderr);
  const first = (msg: string): number | undefined => {
    const line = lines.find((l) => l.msg === msg);
    return line === undefined || Number.isNaN(line.time) ? undefined : line.time - startedAt;
  };
  const commits = lines.filter((l) => l.msg === 'batch committed');
  const last = commits[commits.length - 1];
  const at = (name: keyof StartTimeline, ms: number | undefined) => (ms === undefined ? {} : { [name]: ms });
  return {
    ...at('targetCreatedMs', first('created target topic')), ...at('assignedMs', first('partitions assigned')),
    ...at('firstCommitMs', first('batch committed')), ...at('lastCommitMs', last ? last.time - startedAt : undefined), exitMs: exitedAt - startedAt,
  };
}

/** Median of each milestone over the starts that logged it. */
export function medianTimeline(starts: readonly StartTimeline[]): StartTimeline {
  const of = (name: keyof StartTimeline) => {
    const values = starts.map((s) => s[name]).filter((v): v is number => v !== undefined);
    return values.length ? { [name]: median(values) } : {};
  };
  return { ...of('targetCreatedMs'), ...of('assignedMs'), ...of('firstCommitMs'), ...of('lastCommitMs'), exitMs: median(starts.map((s) => s.exitMs)) };
}

/** The two job variants the starts alternate between. */
export const VARIANTS = [
  { label: 'default worker threads', workers: undefined },
  { label: 'processing.workers: 0', workers: 0 },
] as const;

export interface StartupResult {
  readonly options: Omit<StartupOptions, 'log'>;
  readonly compiled: boolean;
  readonly load: { start: [number, number, number]; end: [number, number, number] };
  /** Milliseconds of `await import(main.js)` in a fresh node, per try. */
  readonly importMs: readonly number[];
  readonly importMedianMs: number;
  /** Per variant (VARIANTS order): every start's timeline and their median. */
  readonly variants: ReadonlyArray<{ label: string; starts: readonly StartTimeline[]; median: StartTimeline }>;
  readonly cleanup: readonly string[];
}

export async function runStartupBench(options: StartupOptions = DEFAULT_STARTUP_OPTIONS): Promise<StartupResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[startup] ${line}\n`));
  loadStackEnv();
  const loadStart = loadAverage();
  const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const source = `bench-start-src-${id}`;
  const kek = `bench-start-kek-${id}`;
  const topics = [source];
  const groups: string[] = [];
  const registry = new SchemaRegistryClient({ baseUrls: [process.env.SCHEMA_REGISTRY_URL!] });
  const deks = new DekRegistryClient({ baseUrls: [process.env.SCHEMA_REGISTRY_URL!] });
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'debug' };
  delete env.NODE_OPTIONS;
  const cleanup: string[] = [];
  const commands = await buildCommands('startup-build', [], log);
  try {
    const importMs: number[] = [];
    const main = pathToFileURL(join(commands.dir, 'dist', 'cli', 'main.js')).href;
    for (let i = 0; i < (commands.compiled ? options.imports : 0); i++) {
      const probe = `const t = performance.now(); await import(${JSON.stringify(main)}); console.log(performance.now() - t);`;
      const r = await watch([process.execPath, '--input-type=module', '-e', probe], env, 60_000);
      if (r.code !== 0) throw new Error(`importing the CLI failed: ${r.stderr.slice(-500)}`);
      importMs.push(Number(r.stdout.trim()));
    }
    await createTopic(source, options.partitions);
    const schemaId = (await registry.register(`${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA })).id;
    await produceCustomers(process.env.KAFKA_BOOTSTRAP_SERVERS!, source, options.partitions, schemaId, options.records);
    const starts: StartTimeline[][] = VARIANTS.map(() => []);
    for (let i = 1; i <= options.starts * VARIANTS.length; i++) {
      const variant = (i - 1) % VARIANTS.length;
      const { workers, label } = VARIANTS[variant]!;
      const name = `bench-start-${id}-${i}`;
      const target = `${source.replace('-src-', '-enc-')}-${i}`;
      topics.push(target);
      groups.push(`recrypt-${name}`);
      const file = join(commands.dir, `${name}.yaml`);
      writeFileSync(file, jobYaml({
        name, mode: 'encrypt', source, target, rule: { kek, kmsKeyId: 'bench-start-key', algorithm: 'AES256_GCM' }, batchSize: 500, stopAtEnd: true,
        ...(workers === undefined ? {} : { workers }),
      }));
      const r = await watch([...commands.recrypt, 'run', file], env, 120_000);
      if (r.code !== 0) throw new Error(`recrypt run exited ${r.code ?? r.signal}: ${r.stderr.split('\n').filter((l) => !l.includes('"debug"')).slice(-5).join('\n')}`);
      const t = startTimeline(r.stderr, r.startedAt, r.exitedAt);
      if (t.firstCommitMs === undefined) throw new Error('recrypt run logged no "batch committed" line');
      starts[variant]!.push(t);
      log(`start ${i} (${label}): first record committed after ${Math.round(t.firstCommitMs)} ms, exit after ${t.exitMs} ms`);
    }
    return {
      options: { records: options.records, partitions: options.partitions, starts: options.starts, imports: options.imports },
      compiled: commands.compiled, load: { start: loadStart, end: loadAverage() }, importMs,
      importMedianMs: importMs.length ? median(importMs) : Number.NaN,
      variants: VARIANTS.map((v, k) => ({ label: v.label, starts: starts[k]!, median: medianTimeline(starts[k]!) })),
      cleanup,
    };
  } finally {
    cleanup.push(...await deleteTopicsAndGroups(topics, groups).catch((err: unknown) => [`topics not deleted: ${(err as Error).message}`]));
    for (const topic of topics) {
      const subject = `${topic}-value`;
      await deks.deleteDek(kek, subject).then(() => deks.deleteDek(kek, subject, undefined, true)).catch(() => undefined);
      await registry.deleteSubject(subject).then(() => registry.deleteSubject(subject, true)).catch(() => undefined);
    }
    await deks.deleteKek(kek).then(() => deks.deleteKek(kek, true)).catch(() => undefined);
    removeBuild(commands);
  }
}

export function startupSummary(r: StartupResult): string {
  const ms = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '-' : `${Math.round(x)} ms`);
  const milestones: ReadonlyArray<[string, keyof StartTimeline]> = [
    ['spawn -> target topic created', 'targetCreatedMs'], ['spawn -> partitions assigned', 'assignedMs'],
    ['spawn -> first record committed', 'firstCommitMs'], ['spawn -> last record committed', 'lastCommitMs'], ['spawn -> process exit', 'exitMs'],
  ];
  return [
    `Start-up: the demo-size recrypt run (${r.options.records} Avro records, ${r.options.partitions} partitions, encrypt, stopAt end), `
      + `median of ${r.options.starts} starts per variant, alternating (CLI ${r.compiled ? 'compiled' : 'through tsx'}; `
      + `load average ${r.load.start.join(' ')} at start, ${r.load.end.join(' ')} at end)`,
    '',
    `import of the CLI's modules (fresh node, median of ${r.importMs.length}): ${ms(r.importMedianMs)}`,
    '',
    table([['milestone', ...r.variants.map((v) => v.label)], ...milestones.map(([label, key]) => [label, ...r.variants.map((v) => ms(v.median[key]))])]),
    '',
    ...r.variants.map((v) => `${v.label}, per start (first commit / exit): ${v.starts.map((s) => `${ms(s.firstCommitMs)} / ${ms(s.exitMs)}`).join(', ')}`),
    `cleanup: ${r.cleanup.join(', ')}`,
  ].join('\n');
}
