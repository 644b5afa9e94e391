/**
 * The backfill benchmark (issue 24), on the local stack (Kafka, Redis, dev registry): a bounded backfill
 * of a 6-partition topic of Customer records, encrypted by 1, 2 and 4 `recrypt worker` processes on this
 * machine (one task per partition; each worker may hold ceil(6 / workers) tasks), against one `recrypt
 * run` (stopAt end) over the same topic. Wall time of a backfill: the workers' spawn to the state
 * `completed` (process start, job preparation, every task, the finalization with its verification); of
 * the run: process start to exit. Then the takeover: two workers that may each hold every task, one
 * SIGKILLed once it holds tasks that made progress; per task of the killed worker, the time until the
 * other worker holds it and until its Kafka checkpoint moves past the one at the kill. Every backfill's
 * own verification (source = target per partition, read_committed) must add up, or the suite fails.
 *
 * The CLI is compiled (backfill-support.ts). Everything the run created (topics, groups, subjects, keys,
 * Redis keys) is removed at the end. Workers run with the default lock settings (settings.ts).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import {
  DEFAULT_SETTINGS, QUEUE_PREFIX, backfillStatus, jobGroupId, lockRenewMs, redisClient, takeoverBoundMs,
  type BackfillContext, type BackfillStatus,
} from '../src/backfill/index.js';
import { DekRegistryClient, SchemaRegistryClient } from '../src/registry/index.js';
import { kafkaConnectionFromEnv } from '../src/service/config.js';
import { forget } from './backfill-support.js';
import { jobYaml } from './jobs.js';
import { buildCommands, cpuOf, removeBuild, start, type Proc } from './procs.js';
import { admin, createTopic, deleteTopicsAndGroups, loadStackEnv, sleep } from './stack.js';
import { CUSTOMER_SCHEMA } from './customer.js';
import { parseRunSummary } from './e2e-runs.js';
import { produceCustomers, type ProduceResult } from './e2e-data.js';
import { loadAverage } from './e2e-proc.js';

export interface BackfillBenchOptions {
  readonly records: number;
  readonly partitions: number;
  readonly batchSize: number;
  readonly workers: readonly number[];
  /** Skip the SIGKILL takeover run. */
  readonly takeover: boolean;
  readonly log?: (line: string) => void;
}

export const DEFAULT_BACKFILL_OPTIONS: BackfillBenchOptions = { records: 300_000, partitions: 6, batchSize: 500, workers: [1, 2, 4], takeover: true };
export const QUICK_BACKFILL_OPTIONS: BackfillBenchOptions = { records: 60_000, partitions: 6, batchSize: 500, workers: [1, 2, 4], takeover: true };

/** BENCH_BACKFILL_RECORDS, BENCH_BACKFILL_BATCH_SIZE, BENCH_BACKFILL_WORKERS (e.g. "1,2,4"), BENCH_BACKFILL_TAKEOVER=0. */
export function backfillEnvOverrides(base: BackfillBenchOptions, env: NodeJS.ProcessEnv = process.env): BackfillBenchOptions {
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, got ${raw}`);
    return value;
  };
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    return raw === undefined || raw === '' ? fallback : positive(name, raw);
  };
  // Each item of the list on its own (the whole list is no number).
  const workers = env.BENCH_BACKFILL_WORKERS ? env.BENCH_BACKFILL_WORKERS.split(',').map((w) => positive('BENCH_BACKFILL_WORKERS', w.trim())) : base.workers;
  return {
    ...base, records: num('BENCH_BACKFILL_RECORDS', base.records), batchSize: num('BENCH_BACKFILL_BATCH_SIZE', base.batchSize), workers,
    takeover: env.BENCH_BACKFILL_TAKEOVER === undefined ? base.takeover : env.BENCH_BACKFILL_TAKEOVER !== '0',
  };
}

export interface RunBaseline {
  readonly records: number;
  readonly wallSeconds: number;
  readonly wallRate: number;
  /** The pipeline's own duration (its summary line): without process start and job preparation. */
  readonly pipelineSeconds: number;
  readonly cpuSeconds: number;
  readonly peakRss: number;
}

export interface BackfillRun {
  readonly workers: number;
  readonly concurrency: number;
  readonly submitSeconds: number;
  /** Workers' spawn to the state `completed`. */
  readonly wallSeconds: number;
  readonly wallRate: number;
  /** First progress seen to completed: without process start and job preparation. */
  readonly afterStartRate: number;
  /** wallRate over the run's. */
  readonly vsRun: number;
  /** vsRun / workers: 1.0 = each worker as fast as one `recrypt run`. */
  readonly perWorkerVsRun: number;
  /** wallRate / (workers x the 1-worker backfill's wallRate). */
  readonly scaling?: number;
  /** CPU seconds of all workers together, and records per CPU-second. */
  readonly cpuSeconds: number;
  readonly cpuRate: number;
  readonly peakRssPerWorker: number;
}

export interface TakeoverRun {
  readonly settings: { lockDurationMs: number; lockRenewMs: number; stalledIntervalMs: number; boundMs: number };
  readonly tasksKilled: number;
  /** processing.batchSize of the takeover run. */
  readonly batchSize: number;
  /** Per task of the killed worker: ms from SIGKILL until the other worker held it, and until its checkpoint moved. */
  readonly takenOverMs: readonly number[];
  readonly firstCommitMs: readonly number[];
  readonly wallSeconds: number;
  readonly wallRate: number;
}

export interface BackfillBenchResult {
  readonly options: Omit<BackfillBenchOptions, 'log'>;
  readonly load: { start: [number, number, number]; end: [number, number, number] };
  readonly source: ProduceResult & { topic: string; partitions: number };
  readonly run: RunBaseline;
  readonly backfills: readonly BackfillRun[];
  readonly takeover?: TakeoverRun;
  readonly cleanup: readonly string[];
}


// ---------------------------------------------------------------------------------------------------
// The suite

/** The backfill's status until `until` holds; a failed task fails the suite. */
async function follow(ctx: BackfillContext, job: string, until: (s: BackfillStatus) => boolean, timeoutMs: number, what: string): Promise<BackfillStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await backfillStatus(ctx, job);
    const failed = s.tasks.find((t) => t.state === 'failed');
    if (failed) throw new Error(`backfill ${job}: task ${failed.task.id} failed: ${failed.failedReason ?? '?'}`);
    if (until(s)) return s;
    if (Date.now() > deadline) throw new Error(`backfill ${job}: timed out waiting for ${what} (${s.state}, ${s.done}/${s.total})`);
    await sleep(200);
  }
}

async function stopAll(procs: readonly Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => { for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL'); }, 30_000);
  await Promise.all(procs.map((p) => p.exited));
  clearTimeout(timer);
}

export async function runBackfillBench(options: BackfillBenchOptions = DEFAULT_BACKFILL_OPTIONS): Promise<BackfillBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[backfill] ${line}\n`));
  loadStackEnv();
  if (!process.env.REDIS_URL) throw new Error('REDIS_URL is not set: the backfill suite needs the local stack');
  const loadStart = loadAverage();
  const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const source = `bench-bf-src-${id}`;
  const kek = `bench-bf-kek-${id}`;
  const topics: string[] = [source];
  const groups: string[] = [];
  const subjects: string[] = [`${source}-value`];
  const jobs: string[] = [];
  const procs: Proc[] = [];
  const cleanup: string[] = [];
  const registry = new SchemaRegistryClient({ baseUrls: [process.env.SCHEMA_REGISTRY_URL!] });
  const deks = new DekRegistryClient({ baseUrls: [process.env.SCHEMA_REGISTRY_URL!] });
  const redis = redisClient(process.env.REDIS_URL);
  const ctx: BackfillContext = { connection: kafkaConnectionFromEnv(process.env), redisUrl: process.env.REDIS_URL, redis };
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  delete env.NODE_OPTIONS;
  // The workers run with the defaults, whatever the caller's environment says.
  for (const name of Object.keys(env)) if (name.startsWith('RECRYPT_BACKFILL_')) delete env[name];

  log(`load average ${loadStart.join(' ')}; building the CLI`);
  const commands = await buildCommands('backfill-build', [], log);
  const { recrypt } = commands;
  const job = (tag: string, stopAtEnd: boolean, batchSize = options.batchSize) => {
    const name = `bench-bf-${id}-${tag}`;
    const target = `${source.replace('-src-', '-enc-')}-${tag}`;
    topics.push(target);
    subjects.push(`${target}-value`);
    groups.push(jobGroupId(name));
    const file = join(commands.dir, `${name}.yaml`);
    writeFileSync(file, jobYaml({
      name, mode: 'encrypt', source, target, rule: { kek, kmsKeyId: 'bench-backfill-key', algorithm: 'AES256_GCM' }, batchSize, stopAtEnd,
    }));
    return { name, file };
  };
  const run = async (args: readonly string[]) => {
    const p = start(recrypt, args, env, { stderrTail: 20_000 });
    procs.push(p);
    const r = await p.exited;
    if (r.code !== 0) throw new Error(`recrypt ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.split('\n').slice(-5).join('\n')}`);
    return { ...r, proc: p };
  };
  /** Submits a backfill and spawns its workers; returns them and the spawn time. */
  const launch = async (tag: string, workers: number, concurrency: number, batchSize?: number) => {
    const j = job(tag, false, batchSize);
    const submitStart = Date.now();
    await run(['backfill', 'submit', j.file]);
    jobs.push(j.name);
    const submitSeconds = (Date.now() - submitStart) / 1000;
    const spawnedAt = Date.now();
    const mine = Array.from({ length: workers }, (_, i) => {
      const p = start(recrypt, ['worker', j.file, '--concurrency', String(concurrency)], { ...env, POD_NAME: `bench-${tag}-${i}` }, { stderrTail: 20_000 });
      procs.push(p);
      return p;
    });
    return { ...j, procs: mine, spawnedAt, submitSeconds };
  };

  try {
    await createTopic(source, options.partitions);
    const schemaId = (await registry.register(`${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA })).id;
    log(`producing ${options.records} records to ${source} (${options.partitions} partitions)`);
    const produced = await produceCustomers(process.env.KAFKA_BOOTSTRAP_SERVERS!, source, options.partitions, schemaId, options.records);

    // One `recrypt run` over the same topic.
    const baselineJob = job('run', true);
    const started = Date.now();
    const r = await run(['run', baselineJob.file]);
    const summary = parseRunSummary(r.stdout);
    if (!summary || summary.written !== options.records) throw new Error(`recrypt run wrote ${summary?.written ?? '?'} of ${options.records} records`);
    const runWall = (r.exitedAt - started) / 1000;
    const baseline: RunBaseline = { records: summary.records, wallSeconds: runWall, wallRate: options.records / runWall, pipelineSeconds: summary.seconds, cpuSeconds: cpuOf(r.proc), peakRss: r.proc.monitor.peakRss };
    log(`recrypt run: ${Math.round(baseline.wallRate)} rec/s wall (${runWall.toFixed(1)} s)`);

    const backfills: BackfillRun[] = [];
    for (const workers of options.workers) {
      const concurrency = Math.ceil(options.partitions / workers);
      const b = await launch(`w${workers}`, workers, concurrency);
      let firstProgress = 0;
      const final = await follow(ctx, b.name, (s) => {
        if (!firstProgress && s.done > 0) firstProgress = Date.now();
        return s.state === 'completed';
      }, 30 * 60_000, 'completion');
      const wallSeconds = (Date.now() - b.spawnedAt) / 1000;
      if (!final.report?.ok || final.report.target !== options.records) throw new Error(`backfill with ${workers} workers: the verification does not add up`);
      await stopAll(b.procs);
      const wallRate = options.records / wallSeconds;
      const one = backfills.find((x) => x.workers === 1);
      const cpuSeconds = b.procs.reduce((t, p) => t + cpuOf(p), 0);
      const result: BackfillRun = {
        workers, concurrency, submitSeconds: b.submitSeconds, wallSeconds, wallRate,
        afterStartRate: options.records / Math.max(0.001, (Date.now() - (firstProgress || b.spawnedAt)) / 1000),
        vsRun: wallRate / baseline.wallRate, perWorkerVsRun: wallRate / baseline.wallRate / workers,
        ...(one ? { scaling: wallRate / (workers * one.wallRate) } : workers === 1 ? { scaling: 1 } : {}),
        cpuSeconds, cpuRate: options.records / Math.max(0.001, cpuSeconds),
        peakRssPerWorker: Math.max(...b.procs.map((p) => p.monitor.peakRss)),
      };
      backfills.push(result);
      log(`${workers} worker(s): ${Math.round(wallRate)} rec/s wall (${wallSeconds.toFixed(1)} s), ${Math.round(result.vsRun * 100)}% of recrypt run`);
    }

    const takeover = options.takeover ? await measureTakeover(ctx, launch, options, log) : undefined;
    if (takeover) await stopAll(procs);
    return {
      options: { records: options.records, partitions: options.partitions, batchSize: options.batchSize, workers: options.workers, takeover: options.takeover },
      load: { start: loadStart, end: loadAverage() }, source: { ...produced, topic: source, partitions: options.partitions },
      run: baseline, backfills, ...(takeover ? { takeover } : {}), cleanup,
    };
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    log('cleaning up topics, groups, subjects, keys and Redis');
    for (const name of jobs) await forget(ctx, name).catch(() => undefined);
    redis.disconnect();
    cleanup.push(`${jobs.length} backfills in Redis`);
    cleanup.push(...await deleteTopicsAndGroups(topics, groups).catch((err: unknown) => [`topics not deleted: ${(err as Error).message}`]));
    let deleted = 0;
    for (const subject of subjects) {
      await deks.deleteDek(kek, subject).then(() => deks.deleteDek(kek, subject, undefined, true)).catch(() => undefined);
      await registry.deleteSubject(subject).then(() => registry.deleteSubject(subject, true)).then(() => { deleted += 1; }, () => undefined);
    }
    await deks.deleteKek(kek).then(() => deks.deleteKek(kek, true)).catch(() => undefined);
    cleanup.push(`${deleted} subjects`);
    removeBuild(commands);
  }
}

type Launch = (tag: string, workers: number, concurrency: number, batchSize?: number) => Promise<{ name: string; procs: Proc[]; spawnedAt: number }>;

/** Transactions of the takeover run: small, so that a task is still running when the kill comes. */
const TAKEOVER_BATCH_SIZE = 100;

/**
 * Two workers that may each hold every task; the one holding a task in progress (by its Kafka
 * checkpoint, with most of its range to go) is SIGKILLed. Per task of it: until the other worker holds
 * it (BullMQ active, processedBy), and until its checkpoint (the job group's committed offset, stable
 * offsets only) moves past the one read once the killed process is gone.
 */
async function measureTakeover(ctx: BackfillContext, launch: Launch, options: BackfillBenchOptions, log: (line: string) => void): Promise<TakeoverRun> {
  const settings = { lockDurationMs: DEFAULT_SETTINGS.lockDurationMs, lockRenewMs: lockRenewMs(DEFAULT_SETTINGS), stalledIntervalMs: DEFAULT_SETTINGS.stalledIntervalMs, boundMs: takeoverBoundMs(DEFAULT_SETTINGS) };
  const b = await launch('takeover', 2, options.partitions, TAKEOVER_BATCH_SIZE);
  const names = b.procs.map((_, i) => `bench-takeover-${i}`);
  const queue = new Queue(b.name, { connection: { url: ctx.redisUrl }, prefix: QUEUE_PREFIX });
  queue.on('error', () => undefined);
  const kafkaAdmin = admin();
  await kafkaAdmin.connect();
  try {
    const plan = (await backfillStatus(ctx, b.name)).tasks.map((t) => t.task);
    const checkpoint = async (): Promise<Map<number, number>> => {
      const [topic] = await kafkaAdmin.fetchOffsets({ groupId: plan[0]!.groupId, topics: [plan[0]!.topic], requireStableOffsets: true });
      return new Map((topic?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    };
    const active = async () => new Map((await queue.getJobs(['active'])).map((j) => [j.id ?? '', j.processedBy ?? '']));
    let victim = -1;
    let held: string[] = [];
    const deadline = Date.now() + 120_000;
    while (victim < 0 && Date.now() < deadline) {
      const offsets = await checkpoint();
      const moving = new Set(plan.filter((t) => {
        const at = offsets.get(t.partition) ?? -1;
        return at > t.from && at < t.from + (t.to - t.from) / 2;
      }).map((t) => t.id));
      const now = await active();
      for (let i = 0; i < names.length && victim < 0; i++) {
        const ids = [...now].filter(([task, by]) => by === names[i] && moving.has(task)).map(([task]) => task);
        if (ids.length) { victim = i; held = ids; }
      }
      if (victim < 0) {
        if ((await backfillStatus(ctx, b.name)).state !== 'running') throw new Error('takeover: the backfill finished before a worker held a task in progress (more records: BENCH_BACKFILL_RECORDS)');
        await sleep(50);
      }
    }
    if (victim < 0) throw new Error('takeover: no worker held a task in progress');
    const tasks = plan.filter((t) => held.includes(t.id));
    const survivor = names[1 - victim]!;
    b.procs[victim]!.child.kill('SIGKILL');
    const killedAt = Date.now();
    log(`takeover: SIGKILLed ${names[victim]!} holding ${tasks.length} task(s) in progress`);
    await b.procs[victim]!.exited;
    // Read once the process is gone (a commit it sent just before dying lands first): from here only the
    // other worker moves it.
    await sleep(200);
    const before = await checkpoint();
    const taken = new Map<string, number>();
    const resumed = new Map<string, number>();
    while ((taken.size < tasks.length || resumed.size < tasks.length) && Date.now() - killedAt < 120_000) {
      const now = await active();
      const at = Date.now() - killedAt;
      for (const t of tasks) if (!taken.has(t.id) && now.get(t.id) === survivor) taken.set(t.id, at);
      const offsets = await checkpoint();
      for (const t of tasks) if (!resumed.has(t.id) && (offsets.get(t.partition) ?? -1) > (before.get(t.partition) ?? -1)) resumed.set(t.id, Date.now() - killedAt);
      await sleep(50);
    }
    const final = await follow(ctx, b.name, (s) => s.state === 'completed', 30 * 60_000, 'completion after the kill');
    if (!final.report?.ok || final.report.target !== options.records) throw new Error('takeover run: the verification does not add up');
    const wallSeconds = (Date.now() - b.spawnedAt) / 1000;
    const result: TakeoverRun = {
      settings, tasksKilled: tasks.length, batchSize: TAKEOVER_BATCH_SIZE,
      takenOverMs: tasks.map((t) => taken.get(t.id) ?? Number.NaN), firstCommitMs: tasks.map((t) => resumed.get(t.id) ?? Number.NaN),
      wallSeconds, wallRate: options.records / wallSeconds,
    };
    log(`takeover: held again after ${result.takenOverMs.join('/')} ms, first commit after ${result.firstCommitMs.join('/')} ms`);
    return result;
  } finally {
    await queue.close();
    await kafkaAdmin.disconnect();
  }
}
