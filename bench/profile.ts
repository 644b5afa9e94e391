/**
 * recrypt's engine alone on one path, in steady state, optionally under the CPU profiler (started after
 * set-up and warm-up, so module loading and test-data generation stay out of the profile):
 *
 *   node --import tsx bench/profile.ts [plain->gcm|gcm->plain|gcm->siv] [--seconds 10] [--profile]
 *
 * Prints the rate; with --profile also writes .bench/profiles/<path>-<time>.cpuprofile (open it in
 * Chrome DevTools or speedscope) and prints the top functions by self time and the engine's stages
 * by inclusive time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { customers } from './customer.js';
import { batches, engineFor, PATHS, runEngine, sourceRecords } from './engine.js';
import { startFixture, TOPICS } from './fixture.js';
import { encodePlain, rawRecordFn } from './raw-loop.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
}

function label(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
  return `${n.callFrame.functionName || '(anonymous)'}${url ? `  ${url}:${n.callFrame.lineNumber + 1}` : ''}`;
}

/** Top functions by self time, and by inclusive time (each function counted once per stack). */
export function summarize(profile: CpuProfile, top = 20): { self: string; inclusive: string } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    self.set(label(n), (self.get(label(n)) ?? 0) + hits);
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + hits);
    }
  }
  const list = (m: Map<string, number>, filter: (l: string) => boolean): string =>
    [...m.entries()].filter(([l]) => filter(l)).sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([l, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${l}`).join('\n');
  return { self: list(self, () => true), inclusive: list(inclusive, (l) => l.includes('src/') || l.includes('avsc')) };
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string', default: '10' }, profile: { type: 'boolean', default: false } } });
  const spec = PATHS.find((p) => p.path === (positionals[0] ?? 'plain->gcm'));
  if (!spec) throw new Error(`unknown path ${positionals[0]}; known: ${PATHS.map((p) => p.path).join(', ')}`);
  const seconds = Number(values.seconds);
  const fixture = await startFixture();
  try {
    const plain = encodePlain(customers(20_000), fixture.ids.plain);
    const toGcm = rawRecordFn('plain->gcm', fixture, fixture.ids.gcm);
    const source = spec.from === 'plain' ? plain : plain.map((v) => toGcm(v));
    const input = batches(sourceRecords(TOPICS[spec.from], source), 1_000);
    const transformer = await engineFor(fixture, spec);
    for (let i = 0; i < 3; i++) await runEngine(transformer, input);

    const session = new Session();
    if (values.profile) {
      session.connect();
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.setSamplingInterval', { interval: 100 });
      await post(session, 'Profiler.start');
    }
    let records = 0;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      await runEngine(transformer, input);
      records += source.length;
    }
    const rate = records / ((performance.now() - start) / 1000);
    const cpu = process.cpuUsage(cpuStart);
    const cpuRate = records / ((cpu.user + cpu.system) / 1e6);
    console.log(`${spec.path}: ${Math.round(rate)} records/s, ${Math.round(cpuRate)} records/cpu-s${values.profile ? ' (under the profiler)' : ''}`);
    if (values.profile) {
      const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
      session.disconnect();
      const dir = join(process.cwd(), '.bench', 'profiles');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${spec.path.replace('->', '-to-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const { self, inclusive } = summarize(profile);
      console.log(`profile: ${file}\n\nself time:\n${self}\n\ninclusive time (src/ and avsc):\n${inclusive}`);
    }
  } finally {
    await fixture.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
