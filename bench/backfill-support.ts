/**
 * The backfill benchmark's plumbing: the compiled CLI, watched child processes, topics, groups, job files
 * and a backfill's Redis keys.
 */
import kafka from '@confluentinc/kafka-javascript';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackfillStore, openQueue, type BackfillContext } from '../src/backfill/index.js';
import { ProcMonitor } from './e2e-proc.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = join(ROOT, '.bench', 'backfill-build');

// ---------------------------------------------------------------------------------------------------
// Build and processes

/**
 * Compiles src/ to .bench/backfill-build with tsc (emit only) and runs the real bin/recrypt.js against it, so
 * the processes start like an installed recrypt; the e2e suite's .bench/build is left alone. Falls back
 * to the sources through tsx.
 */
export async function buildCli(log: (line: string) => void): Promise<readonly string[]> {
  rmSync(BUILD, { recursive: true, force: true });
  mkdirSync(join(BUILD, 'bin'), { recursive: true });
  writeFileSync(join(BUILD, 'tsconfig.json'), `${JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: { rootDir: '../..', outDir: 'out', noCheck: true, sourceMap: false, incremental: false },
    include: [], files: ['../../src/cli/main.ts'],
  }, null, 2)}\n`);
  const code = await new Promise<number | null>((resolve) => {
    spawn(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(BUILD, 'tsconfig.json')], { cwd: ROOT, stdio: 'ignore' })
      .on('close', resolve);
  });
  if (existsSync(join(BUILD, 'out', 'src', 'cli', 'main.js'))) {
    // bin/recrypt.js runs ../dist/cli/main.js when it exists.
    copyFileSync(join(ROOT, 'bin', 'recrypt.js'), join(BUILD, 'bin', 'recrypt.js'));
    symlinkSync(join(BUILD, 'out', 'src'), join(BUILD, 'dist'));
    if (code !== 0) log(`build: tsc exited ${code} but emitted`);
    return [process.execPath, join(BUILD, 'bin', 'recrypt.js')];
  }
  log('build failed: running the sources through tsx');
  return [process.execPath, join(ROOT, 'bin', 'recrypt.js')];
}

export interface Proc {
  readonly child: ChildProcess;
  readonly monitor: ProcMonitor;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; at: number }>;
}

export function start(command: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const monitor = new ProcMonitor(child.pid!, undefined);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  // Worker logs can be long; the tail is what a failure needs.
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000); });
  let at = 0;
  child.on('exit', () => { at = Date.now(); monitor.stop(); });
  const exited = new Promise<Awaited<Proc['exited']>>((resolve) => {
    child.on('close', (code, signal) => { monitor.stop(); resolve({ code, signal, stdout, stderr, at: at || Date.now() }); });
  });
  return { child, monitor, exited };
}

export const cpuOf = (p: Proc): number => {
  const s = p.monitor.samples;
  return s.length > 1 ? s[s.length - 1]!.cpu - s[0]!.cpu : 0;
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// Kafka, registry and Redis plumbing

export function admin() {
  const { Kafka, logLevel } = kafka.KafkaJS;
  return new Kafka({ kafkaJS: { brokers: process.env.KAFKA_BOOTSTRAP_SERVERS!.split(','), logLevel: logLevel.NOTHING } }).admin();
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  const a = admin();
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
  } finally {
    await a.disconnect();
  }
}

export async function deleteTopicsAndGroups(topics: readonly string[], groups: readonly string[]): Promise<string[]> {
  const a = admin();
  await a.connect();
  try {
    const existing = new Set(await a.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) await a.deleteTopics({ topics: present, timeout: 30_000 });
    const deleted = groups.length ? await a.deleteGroups([...groups]).then(() => groups.length, () => 0) : 0;
    return [`${present.length} topics`, `${deleted} consumer groups`];
  } finally {
    await a.disconnect();
  }
}

export function jobYaml(name: string, source: string, target: string, kek: string, batchSize: number, stopAtEnd: boolean): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source:
    topic: ${source}
    startAt: earliest${stopAtEnd ? '\n    stopAt: end' : ''}
  target:
    topic: ${target}
    createTopic: true
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: bench-backfill-key
          encrypt.dek.algorithm: AES256_GCM
        onFailure: ERROR,ERROR
  exactlyOnce: true
  processing:
    batchSize: ${batchSize}
`;
}

/** Removes a backfill's queue and state from Redis. */
export async function forget(ctx: BackfillContext, job: string): Promise<void> {
  const queue = openQueue(ctx.redisUrl, job);
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  await new BackfillStore(ctx.redis).clear(job);
}
