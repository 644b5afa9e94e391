// Fault-injection harness for the DLQ suite: runs a job in-process (prepareJob/startJob, the code
// `recrypt run` and `serve` use) against the real stack, capturing its log lines and metrics, and checks
// the promise of issue 7 afterwards: no canary anywhere it must not be, no record lost.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { loadText } from '../../../src/jobs/load.js';
import type { Job } from '../../../src/jobs/index.js';
import type { PipelineSummary } from '../../../src/kafka/pipeline.js';
import { createJobRuntime, prepareJob, startJob, type JobRun } from '../../../src/runtime/index.js';
import { loadServiceConfig } from '../../../src/service/config.js';
import { JobMetrics } from '../../../src/service/metrics.js';
import { createLogger } from '../../../src/util/logger.js';
import { consumeRaw, type RawRecord } from '../helpers/kafka.js';
import { stack } from '../helpers/stack.js';

/** A unique random string for one tagged field of one record. */
export function canary(): string {
  return `CANARY${randomBytes(9).toString('hex')}`;
}

export function loadJob(yaml: string): Job {
  const { documents, problems } = loadText('job.yaml', yaml);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return documents[0]!.job!;
}

export interface Running {
  readonly run: JobRun;
  readonly logs: string[];
  readonly metrics: JobMetrics;
  readonly transient: string[];
}

export interface StartOptions {
  /** Runs after prepareJob (its checks passed) and before the pipeline starts. */
  readonly beforeStart?: () => Promise<void>;
}

export async function startInProcess(job: Job, options: StartOptions = {}): Promise<Running> {
  const logs: string[] = [];
  const config = loadServiceConfig(process.env);
  const metrics = new JobMetrics();
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line), base: { job: job.metadata.name } });
  const prepared = await prepareJob(createJobRuntime(config, job, { logger, metrics }));
  await options.beforeStart?.();
  const transient: string[] = [];
  const observer = metrics.observer(job.metadata.name, { onTransientError: (e) => transient.push(e.code) });
  const run = await startJob(prepared, { observer, transactionalId: `recrypt-${job.metadata.name}-${randomBytes(3).toString('hex')}` });
  return { run, logs, metrics, transient };
}

export async function runToEnd(job: Job, options: StartOptions = {}): Promise<Running & { summary: PipelineSummary }> {
  const running = await startInProcess(job, options);
  const summary = await running.run.done;
  return { ...running, summary };
}

// ------------------------------------------------------------------------------------------- checks

/** The canary in any encoding the guard knows (independent, simpler code: raw, hex, base64 at 3 alignments). */
function forms(value: string): Buffer[] {
  const raw = Buffer.from(value);
  const out = [raw, Buffer.from(raw.toString('hex'))];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), raw]).toString('base64');
    out.push(Buffer.from(b64.slice(shift === 0 ? 0 : shift + 1, -4)));
  }
  return out;
}

export function leaksIn(bytes: Buffer | null | undefined, canaries: readonly string[]): string[] {
  if (!bytes || bytes.length === 0) return [];
  return canaries.filter((c) => forms(c).some((f) => bytes.includes(f)));
}

function recordLeaks(records: readonly RawRecord[], canaries: readonly string[]): string[] {
  const found: string[] = [];
  for (const r of records) {
    found.push(...leaksIn(r.key, canaries), ...leaksIn(r.value, canaries));
    for (const [name, value] of Object.entries(r.headers)) found.push(...leaksIn(Buffer.from(name), canaries), ...leaksIn(value, canaries));
  }
  return found;
}

async function redisLeaks(canaries: readonly string[]): Promise<string[]> {
  const redis = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const found: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scanBuffer(cursor, 'COUNT', '1000');
      cursor = next.toString();
      for (const key of keys) {
        found.push(...leaksIn(key, canaries));
        const type = await redis.type(key);
        let parts: Buffer[] = [];
        if (type === 'string') parts = [(await redis.getBuffer(key)) ?? Buffer.alloc(0)];
        else if (type === 'hash') parts = await redis.hgetallBuffer(key).then((h) => Object.entries(h).flatMap(([k, v]) => [Buffer.from(k), v]));
        else if (type === 'list') parts = await redis.lrangeBuffer(key, 0, -1);
        else if (type === 'set') parts = await redis.smembersBuffer(key);
        else if (type === 'zset') parts = await redis.zrangeBuffer(key, '0', '-1');
        else if (type === 'stream') parts = (await redis.xrangeBuffer(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]);
        for (const p of parts) found.push(...leaksIn(p, canaries));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return found;
}

export interface Outcome {
  readonly target: RawRecord[];
  readonly dlq: RawRecord[];
}

/**
 * The checks: no canary in the DLQ (read_committed and read_uncommitted), in the target (every
 * canary sits in a field due for encryption, so none may appear anywhere in a target record), in the
 * logs, in the metrics or in Redis.
 */
export async function assertNoCanaryAnywhere(running: Running, topics: { target: string[]; dlq: string[] }, canaries: readonly string[]): Promise<Outcome> {
  const read = async (list: string[], isolation: 'read_committed' | 'read_uncommitted') =>
    (await Promise.all(list.map((t) => consumeRaw(t, { idleMs: 2500, isolation })))).flat();
  const dlq = await read(topics.dlq, 'read_committed');
  const target = await read(topics.target, 'read_committed');
  expect(recordLeaks(dlq, canaries), 'canary in the DLQ (read_committed)').toEqual([]);
  expect(recordLeaks(await read(topics.dlq, 'read_uncommitted'), canaries), 'canary in the DLQ (read_uncommitted)').toEqual([]);
  expect(recordLeaks(target, canaries), 'canary in the target').toEqual([]);
  expect(recordLeaks(await read(topics.target, 'read_uncommitted'), canaries), 'canary in the target (read_uncommitted)').toEqual([]);
  expect(leaksIn(Buffer.from(running.logs.join('\n')), canaries), 'canary in the logs').toEqual([]);
  expect(leaksIn(Buffer.from(await running.metrics.registry.metrics()), canaries), 'canary in the metrics').toEqual([]);
  expect(await redisLeaks(canaries), 'canary in Redis').toEqual([]);
  return { target, dlq };
}

/**
 * No record lost: below each partition's committed offset every source offset is in the target (keys
 * are `o<offset>`) or in the DLQ (`__source.offset`), exactly once; nothing at or past it was written.
 */
export function assertNoRecordLost(summary: PipelineSummary, source: string, outcome: Outcome, partitions = 1): void {
  for (let p = 0; p < partitions; p++) {
    const committed = summary.partitions.find((x) => x.topic === source && x.partition === p)?.committed ?? 0;
    const inTarget = outcome.target.filter((r) => r.partition === p).map((r) => Number(r.key!.toString().slice(1)));
    const inDlq = outcome.dlq.filter((r) => r.headers['__source.topic']?.toString() === source && Number(r.headers['__source.partition']?.toString()) === p)
      .map((r) => Number(r.headers['__source.offset']!.toString()));
    const all = [...inTarget, ...inDlq].sort((a, b) => a - b);
    expect(all, `partition ${p}: every offset below ${committed} exactly once`).toEqual(Array.from({ length: committed }, (_, i) => i));
  }
}

export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').pop());
  }
  return total;
}

// ------------------------------------------------------------------------------------------- KMS

/** A private moto (AWS KMS API) behind a TCP proxy: `down()` refuses connections, `up()` serves again; keys survive. */
export interface PrivateKms {
  readonly endpoint: string;
  down(): Promise<void>;
  up(): Promise<void>;
  /** Swaps in a fresh moto behind the same endpoint: every key is gone (NotFoundException), as if deleted. */
  forgetKeys(): Promise<void>;
  close(): Promise<void>;
}

async function spawnMoto(): Promise<{ child: ChildProcess; port: number }> {
  const port = 21_000 + Math.floor(Math.random() * 8_000);
  const bin = join(process.env.RECRYPT_CACHE_DIR ?? join(homedir(), '.cache/recrypt'), 'moto-venv/bin/moto_server');
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/moto-api/`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('moto did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port };
}

function stopMoto(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startPrivateKms(): Promise<PrivateKms> {
  let moto = await spawnMoto();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(moto.port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  const listen = () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await listen();
  const port = (server.address() as net.AddressInfo).port;
  const up = () => new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
  const down = () => new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); sockets.clear(); });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    down, up,
    forgetKeys: async () => {
      const fresh = await spawnMoto();
      const old = moto;
      moto = fresh;
      for (const s of sockets) s.destroy();
      sockets.clear();
      await stopMoto(old.child);
    },
    close: async () => {
      if (server.listening) await down();
      await stopMoto(moto.child);
    },
  };
}
