/**
 * `recrypt backfill submit|status|verify|pause|resume|cancel` and `recrypt worker`: the cli side of
 * backfill/. This layer owns what backfill/ must not import: the service's job preparation and the
 * pipeline factory, handed to the worker as `runTask`.
 */
import cliProgress from 'cli-progress';
import { parseArgs } from 'node:util';
import {
  BackfillWorker, DEFAULT_SETTINGS, backfillStatus, cancelBackfill, formatReport, jobDigest, pauseBackfill, redisClient,
  resumeBackfill, submitBackfill, verify, type BackfillContext, type BackfillSettings, type BackfillStatus, type TaskRun,
  type TaskSpec,
} from '../backfill/index.js';
import type { Job } from '../jobs/index.js';
import type { PipelineObserver } from '../kafka/pipeline.js';
import { ensureMirroredTopic } from '../kafka/topics.js';
import { loadServiceConfig, type ServiceConfig } from '../service/config.js';
import { prepareJob, startJob, type PreparedJob, type RunnerDeps } from '../service/job-runner.js';
import { kmsRegistryFor } from '../service/kms.js';
import { RecryptError } from '../util/errors.js';
import { createLogger, type Logger } from '../util/logger.js';
import { loadJobs, pickJob, UsageError, withUsage } from './common.js';

export const BACKFILL_USAGE = `usage:
  recrypt backfill submit FILE [--job NAME]     snapshot the source, split it into tasks, enqueue them
  recrypt backfill status NAME [--json] [--wait]
                                                progress per partition, records/s, ETA, task states;
                                                --wait follows it to the end and prints the verification
  recrypt backfill verify NAME [--json]         source, target and DLQ records per partition (exit 1 on mismatch)
  recrypt backfill pause|resume|cancel NAME
  recrypt worker FILE|DIR... [--job NAME] [--concurrency N]
                                                process backfill tasks of the jobs in FILE|DIR`;


function usageGuard(body: () => Promise<void>): Promise<void> {
  return withUsage(BACKFILL_USAGE, body);
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new RecryptError('CONFIG_INVALID', `${name} must be a positive integer`);
  return value;
}

/** Lock and stall settings; env overrides exist for tests and unusual clusters. */
function settingsFromEnv(concurrency: number | undefined): BackfillSettings {
  return {
    concurrency: concurrency ?? intFromEnv('RECRYPT_BACKFILL_CONCURRENCY', DEFAULT_SETTINGS.concurrency),
    lockDurationMs: intFromEnv('RECRYPT_BACKFILL_LOCK_MS', DEFAULT_SETTINGS.lockDurationMs),
    stalledIntervalMs: intFromEnv('RECRYPT_BACKFILL_STALLED_INTERVAL_MS', DEFAULT_SETTINGS.stalledIntervalMs),
    maxStalledCount: DEFAULT_SETTINGS.maxStalledCount,
    progressIntervalMs: intFromEnv('RECRYPT_BACKFILL_PROGRESS_MS', DEFAULT_SETTINGS.progressIntervalMs),
    retryDelayMs: intFromEnv('RECRYPT_BACKFILL_RETRY_MS', DEFAULT_SETTINGS.retryDelayMs),
  };
}

async function withContext<T>(config: ServiceConfig, body: (ctx: BackfillContext) => Promise<T>): Promise<T> {
  const redis = redisClient(config.redisUrl);
  try {
    return await body({ connection: config.kafka, redisUrl: config.redisUrl, redis });
  } finally {
    redis.disconnect();
  }
}

function runnerDeps(config: ServiceConfig, logger: Logger): RunnerDeps {
  return { config, kms: kmsRegistryFor(config), logger };
}

export async function backfill(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  await usageGuard(async () => {
    switch (sub) {
      case 'submit': return submit(rest);
      case 'status': return status(rest);
      case 'verify': return verifyCommand(rest);
      case 'pause': case 'resume': case 'cancel': return control(sub, rest);
      case '-h': case '--help': case 'help':
        console.log(BACKFILL_USAGE);
        return;
      default: throw new UsageError(sub ? `unknown backfill command ${sub}` : 'backfill needs a command');
    }
  });
}

async function submit(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { job: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('backfill submit needs exactly one FILE');
  const jobs = await loadJobs(positionals);
  if (!jobs) return;
  const job = pickJob(jobs, values.job);
  const config = loadServiceConfig();
  const logger = createLogger({ level: config.logLevel, base: { job: job.metadata.name } });
  // Rules on the target subject and the safety checks, exactly as `recrypt run` does them.
  const prepared = await prepareJob(job, runnerDeps(config, logger));
  for (const route of prepared.routes.values()) {
    await ensureMirroredTopic(config.kafka, route.source, route.target, { create: job.spec.target.createTopic });
  }
  const plan = await withContext(config, (ctx) => submitBackfill(ctx, {
    job: job.metadata.name, specDigest: jobDigest(job),
    routes: [...prepared.routes.values()].map((r) => ({ source: r.source, target: r.target })),
    ...job.spec.backfill,
  }));
  const total = plan.partitions.reduce((n, p) => n + p.to - p.from, 0);
  console.log(`backfill ${plan.job} submitted: ${plan.tasks.length} tasks over ${plan.partitions.length} partitions, ${total} offsets${plan.relaxOrdering ? ` (ordering relaxed: tasks of at most ${plan.taskRecords})` : ''}`);
  for (const p of plan.partitions) console.log(`  ${p.topic}/${p.partition} -> ${p.targetTopic}: offsets [${p.from}, ${p.to})`);
}

function formatRate(rate: number): string {
  return rate >= 1000 ? `${(rate / 1000).toFixed(1)}k` : String(Math.round(rate));
}

function printStatusOnce(s: BackfillStatus): void {
  const bars = new cliProgress.MultiBar({
    format: '  {name} [{bar}] {percentage}% | {value}/{total} | {rate} rec/s',
    clearOnComplete: false, hideCursor: false, noTTYOutput: true, notTTYSchedule: 1e9, stream: process.stdout,
    barsize: 30, emptyOnZero: true,
  }, cliProgress.Presets.shades_classic);
  const width = Math.max(...s.partitions.map((p) => `${p.topic}/${p.partition}`.length));
  for (const p of s.partitions) {
    bars.create(Math.max(p.total, 0), Math.max(p.done, 0), { name: `${p.topic}/${p.partition}`.padEnd(width), rate: formatRate(p.rate) });
  }
  bars.stop();
}

function printHeader(s: BackfillStatus): void {
  const counts = Object.entries(s.counts).map(([k, v]) => `${v} ${k}`).join(', ');
  const eta = s.etaSeconds === null ? '-' : `${s.etaSeconds}s`;
  console.log(`backfill ${s.job}: ${s.state}; ${s.done}/${s.total} offsets; ${formatRate(s.rate)} records/s; ETA ${eta}; tasks: ${counts}`);
  for (const t of s.tasks.filter((x) => x.state === 'failed')) {
    console.log(`  task ${t.task.id} FAILED: ${t.failedReason ?? 'unknown'}`);
  }
}

function finished(s: BackfillStatus): boolean {
  if (s.state === 'completed' || s.state === 'streaming' || s.state === 'cancelled') return true;
  // Failed tasks and nothing left to run: the backfill cannot finish on its own.
  const open = s.tasks.filter((t) => t.state !== 'completed' && t.state !== 'failed').length;
  return open === 0 && s.tasks.some((t) => t.state === 'failed');
}

async function status(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: {
    json: { type: 'boolean' }, wait: { type: 'boolean' }, interval: { type: 'string', default: '2' },
  } });
  if (positionals.length !== 1) throw new UsageError('backfill status needs exactly one NAME');
  const name = positionals[0]!;
  const intervalMs = Math.max(Number(values.interval) || 2, 0.2) * 1000;
  const config = loadServiceConfig();
  await withContext(config, async (ctx) => {
    let s = await backfillStatus(ctx, name);
    if (values.wait) {
      const tty = process.stdout.isTTY === true && !values.json;
      const bars = tty ? new cliProgress.MultiBar({
        format: '  {name} [{bar}] {percentage}% | {value}/{total} | {rate} rec/s | ETA {eta}s', clearOnComplete: false, hideCursor: true,
      }, cliProgress.Presets.shades_classic) : undefined;
      const handles = bars ? s.partitions.map((p) => bars.create(p.total, p.done, { name: `${p.topic}/${p.partition}`, rate: '0' })) : [];
      while (!finished(s)) {
        await new Promise((r) => setTimeout(r, intervalMs));
        s = await backfillStatus(ctx, name);
        s.partitions.forEach((p, i) => handles[i]?.update(p.done, { rate: formatRate(p.rate) }));
        if (!tty && !values.json) console.log(`backfill ${s.job}: ${s.state}; ${s.done}/${s.total} offsets; ${formatRate(s.rate)} records/s; ETA ${s.etaSeconds ?? '-'}s`);
      }
      bars?.stop();
    }
    if (values.json) {
      console.log(JSON.stringify(s, null, 2));
    } else {
      printHeader(s);
      printStatusOnce(s);
      if (s.report) for (const line of formatReport(s.report)) console.log(line);
    }
    if (s.tasks.some((t) => t.state === 'failed')) process.exitCode = 3;
    else if (s.report && !s.report.ok) process.exitCode = 1;
  });
}

async function verifyCommand(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('backfill verify needs exactly one NAME');
  const report = await withContext(loadServiceConfig(), (ctx) => verify(ctx, positionals[0]!));
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else for (const line of formatReport(report)) console.log(line);
  if (!report.ok) process.exitCode = 1;
}

async function control(command: 'pause' | 'resume' | 'cancel', args: string[]): Promise<void> {
  if (args.length !== 1) throw new UsageError(`backfill ${command} needs exactly one NAME`);
  const name = args[0]!;
  await withContext(loadServiceConfig(), async (ctx) => {
    if (command === 'pause') await pauseBackfill(ctx, name);
    else if (command === 'resume') await resumeBackfill(ctx, name);
    else await cancelBackfill(ctx, name);
  });
  console.log(`backfill ${name}: ${command === 'pause' ? 'paused' : command === 'resume' ? 'resumed' : 'cancelled'}`);
}

/**
 * The job's pipeline over one task's range. A task whose group is not the job's own (a sub-range of a
 * partition) runs under a job name that makes startJob use that group (`recrypt-<name>`).
 */
function taskRunner(job: Job, deps: RunnerDeps, prepared: () => Promise<PreparedJob>) {
  return async (task: TaskSpec, observer: PipelineObserver): Promise<TaskRun> => {
    const base = await prepared();
    const groupName = task.groupId.replace(/^recrypt-/, '');
    const forTask = groupName === job.metadata.name ? base : { ...base, job: { ...base.job, metadata: { ...base.job.metadata, name: groupName } } };
    const run = await startJob(forTask, deps, {
      ranges: [{ topic: task.topic, partition: task.partition, from: task.from, to: task.to }],
      transactionalId: task.transactionalId,
      observer,
    });
    return { pipeline: run.pipeline, done: run.done };
  };
}

export async function worker(args: string[]): Promise<void> {
  await usageGuard(async () => {
    const { positionals, values } = parseArgs({ args, allowPositionals: true, options: {
      job: { type: 'string', multiple: true }, queue: { type: 'string', multiple: true }, concurrency: { type: 'string' },
    } });
    if (positionals.length === 0) throw new UsageError('worker needs the job definitions: FILE or DIR');
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw new UsageError('--concurrency must be a positive integer');
    const jobs = await loadJobs(positionals);
    if (!jobs) return;
    const wanted = [...(values.job ?? []), ...(values.queue ?? [])];
    const selected = wanted.length ? wanted.map((n) => pickJob(jobs, n)) : jobs;
    const config = loadServiceConfig();
    const logger = createLogger({ level: config.logLevel, base: { instance: config.instanceId } });
    const settings = settingsFromEnv(concurrency);
    const redis = redisClient(config.redisUrl);
    const context: BackfillContext = { connection: config.kafka, redisUrl: config.redisUrl, redis };
    const workers = selected.map((job) => {
      const log = logger.child({ job: job.metadata.name });
      const deps = runnerDeps(config, log);
      let preparing: Promise<PreparedJob> | undefined;
      const prepared = () => {
        preparing ??= prepareJob(job, deps).catch((err: unknown) => { preparing = undefined; throw err; });
        return preparing;
      };
      return new BackfillWorker({
        job: job.metadata.name, specDigest: jobDigest(job), context, settings, logger: log, name: config.instanceId,
        runTask: taskRunner(job, deps, prepared),
        ...(job.spec.backfill.continueStreaming ? {
          startStreaming: async () => {
            const run = await startJob(await prepared(), deps, {
              observer: { onHalt: (tp, offset, error) => log.error('partition halted', { topic: tp.topic, partition: tp.partition, offset, error }) },
            });
            return { stop: () => run.pipeline.stop(), done: run.done };
          },
        } : {}),
      });
    });
    for (const w of workers) w.start();
    logger.info('worker started', { jobs: selected.map((j) => j.metadata.name).join(','), concurrency: settings.concurrency });
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        logger.info('shutting down: stopping tasks at a transaction boundary', { signal });
        Promise.all(workers.map((w) => w.shutdown())).catch(() => undefined).finally(() => { redis.disconnect(); resolve(); });
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
  });
}
