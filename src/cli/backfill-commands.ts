/**
 * `recrypt backfill submit|status|verify|pause|resume|cancel` and `recrypt worker`: the cli side of
 * backfill/. This layer owns what backfill/ must not import: the service's job preparation and the
 * pipeline factory, handed to the worker as `runTask`.
 */
import cliProgress from 'cli-progress';
import {
  BackfillWorker, RedisHealth, backfillStatus, cancelBackfill, connectionErrorCode, formatReport, isRedisConnectionError,
  jobDigest, pauseBackfill, redactRedisUrl, redisClient, redisRefused, redisUnavailable, credentialsAccepted, resumeBackfill, submitBackfill, verify, type BackfillContext,
  type BackfillStatus, type RedisPolicy, type TaskRun, type TaskSpec, DEFAULT_SETTINGS, type BackfillSettings,
} from '../backfill/index.js';
import type { PipelineObserver } from '../kafka/pipeline.js';
import { ensureMirroredTopic } from '../kafka/topics.js';
import { createJobRuntime, prepareJob, startJob, type JobRuntime, type PreparedJob } from '../runtime/index.js';
import { loadServiceConfig, type ServiceConfig } from '../service/config.js';
import { isRecryptError } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { defineCommand, nearest, parseCommand, usageError } from './args.js';
import { loadJobs, logProblems, pickJob, UsageError, withUsage } from './common.js';
import { EXIT } from './exit-codes.js';
import { onShutdownSignals } from './shutdown.js';

const REDIS_ENV = `Redis: REDIS_URL (default redis://127.0.0.1:6379); a command fails with REDIS_UNAVAILABLE when
Redis does not answer within RECRYPT_REDIS_TIMEOUT_MS (default 10000).`;

export const BACKFILL_USAGE = `usage:
  recrypt backfill submit FILE [--job NAME]     snapshot the source, split it into tasks, enqueue them
  recrypt backfill status NAME [--json] [--wait] [--interval SECONDS]
                                                progress per partition, records/s, ETA, task states;
                                                --wait follows it to the end and prints the verification
  recrypt backfill verify NAME [--json]         source, target and DLQ records per partition (exit 1 on mismatch)
  recrypt backfill pause|resume|cancel NAME
  recrypt worker FILE|DIR... [--job NAME] [--concurrency N]
                                                process backfill tasks of the jobs in FILE|DIR

recrypt backfill <command> --help for its options and an example.
${REDIS_ENV}`;

const SUBMIT = defineCommand({
  name: 'backfill submit',
  usage: `usage: recrypt backfill submit FILE [--job NAME]

Snapshots the end offsets of the job's source partitions, splits them into tasks (one per partition;
offset ranges of backfill.taskRecords with backfill.relaxOrdering) and puts them on the job's queue in
Redis. Workers (recrypt worker) run them. Refused while a backfill of the same job is active.

options:
  --job NAME     the job to submit when FILE holds several

example:
  recrypt backfill submit jobs/examples/backfill-encrypt.yaml

${REDIS_ENV}`,
  options: { job: { type: 'string' } },
  allowPositionals: true,
});

const STATUS = defineCommand({
  name: 'backfill status',
  usage: `usage: recrypt backfill status NAME [--json] [--wait] [--interval SECONDS]

Progress of the backfill of job NAME: offsets done per partition, records/s, ETA, task states, and the
verification once it finished. Exit 3 when a task failed, 1 when the verification does not add up.

options:
  --json                the status as JSON on stdout
  --wait                follow it until it finishes (progress bars on a terminal, a line per interval otherwise)
  --interval SECONDS    how often --wait looks (default 2)

example:
  recrypt backfill status customers-backfill --wait

${REDIS_ENV}`,
  options: { json: { type: 'boolean' }, wait: { type: 'boolean' }, interval: { type: 'string', default: '2' } },
  allowPositionals: true,
});

const VERIFY = defineCommand({
  name: 'backfill verify',
  usage: `usage: recrypt backfill verify NAME [--json]

Counts source, target and DLQ records per partition of the backfill of job NAME. Exit 1 on a mismatch.

options:
  --json     the report as JSON on stdout

example:
  recrypt backfill verify customers-backfill

${REDIS_ENV}`,
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
});

const CONTROL_TEXT = {
  pause: 'Pauses the backfill of job NAME: workers stop its tasks at a transaction boundary and take no new ones.',
  resume: 'Resumes a paused backfill of job NAME.',
  cancel: 'Cancels the backfill of job NAME; its Kafka checkpoints stay, so submitting the job again continues.',
} as const;

function controlCommand(command: keyof typeof CONTROL_TEXT) {
  return defineCommand({
    name: `backfill ${command}`,
    usage: `usage: recrypt backfill ${command} NAME

${CONTROL_TEXT[command]}

example:
  recrypt backfill ${command} customers-backfill

${REDIS_ENV}`,
    options: {},
    allowPositionals: true,
  });
}

const CONTROL = { pause: controlCommand('pause'), resume: controlCommand('resume'), cancel: controlCommand('cancel') };

export const WORKER = defineCommand({
  name: 'worker',
  usage: `usage: recrypt worker FILE|DIR... [--job NAME]... [--concurrency N]

Runs the backfill tasks of the jobs defined in FILE|DIR (every job, or those named with --job) until
SIGTERM/SIGINT, which stops the running tasks at a transaction boundary and puts them back on the queue.
While Redis is unreachable it retries with backoff and logs "Redis unreachable, retrying" once, then
"Redis back".

options:
  --job NAME          only this job's tasks (repeatable; --queue NAME is the same)
  --concurrency N     tasks run at once by this process (default RECRYPT_BACKFILL_CONCURRENCY, else 4)

example:
  recrypt worker jobs/ --job customers-backfill --concurrency 2

Redis: REDIS_URL (default redis://127.0.0.1:6379).`,
  options: { job: { type: 'string', multiple: true }, queue: { type: 'string', multiple: true }, concurrency: { type: 'string' } },
  allowPositionals: true,
});

const SUBCOMMANDS = ['submit', 'status', 'verify', 'pause', 'resume', 'cancel', 'help'];

function usageGuard(body: () => Promise<void>): Promise<void> {
  return withUsage(BACKFILL_USAGE, body);
}

/**
 * Runs a command against Redis. Every connection it opens gives up once Redis has been unreachable for
 * RECRYPT_REDIS_TIMEOUT_MS (ioredis would otherwise retry for ever and the command print nothing);
 * Redis is asked first, so a command fails before it changes anything elsewhere.
 */
async function withContext<T>(config: ServiceConfig, body: (ctx: BackfillContext) => Promise<T>): Promise<T> {
  const timeoutMs = config.redisTimeoutMs;
  const policy: RedisPolicy = { giveUpAfterMs: timeoutMs, ...(config.redisTls ? { tls: config.redisTls } : {}) };
  const redis = redisClient(config.redisUrl, policy);
  let cause: string | undefined;
  redis.on('error', (err: unknown) => { cause = connectionErrorCode(err); });
  try {
    await redis.ping();
    return await body({ connection: config.kafka, redisUrl: config.redisUrl, redis, redisPolicy: policy });
  } catch (err) {
    if (isRecryptError(err)) throw err;
    if (isRedisConnectionError(err)) throw redisUnavailable(config.redisUrl, timeoutMs, cause ?? connectionErrorCode(err));
    throw redisRefused(config.redisUrl, err) ?? err;
  } finally {
    redis.disconnect();
  }
}

export async function backfill(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  await usageGuard(async () => {
    switch (sub) {
      case 'submit': return submit(rest);
      case 'status': return status(rest);
      case 'verify': return verifyCommand(rest);
      case 'pause': case 'resume': case 'cancel': return control(sub, rest);
      case '-h': case '--help':
        console.log(BACKFILL_USAGE);
        return;
      case 'help': {
        // `backfill help status` is `backfill status --help`.
        const [of] = rest;
        if (of === undefined || of === 'help') console.log(BACKFILL_USAGE);
        else await backfill([of, '--help']);
        return;
      }
      case undefined: throw new UsageError('backfill needs a command', BACKFILL_USAGE);
      default: {
        const hint = nearest(sub, SUBCOMMANDS.filter((c) => c !== 'help'));
        throw new UsageError(`unknown backfill command ${sub}${hint ? ` (did you mean ${hint}?)` : ''}`, BACKFILL_USAGE);
      }
    }
  });
}

async function submit(args: string[]): Promise<void> {
  const { positionals, values } = parseCommand(SUBMIT, args);
  if (positionals.length !== 1) throw usageError(SUBMIT, 'needs exactly one FILE');
  const jobs = await loadJobs(positionals);
  if (!jobs) return;
  const job = pickJob(jobs, values.job);
  const config = loadServiceConfig();
  const logger = createLogger({ level: config.logLevel, base: { job: job.metadata.name } });
  const plan = await withContext(config, async (ctx) => {
    // Rules on the target subject and the safety checks, exactly as `recrypt run` does them.
    const prepared = await prepareJob(createJobRuntime(config, job, { logger }));
    for (const route of prepared.routes.values()) {
      await ensureMirroredTopic(config.kafka, route.source, route.target, { create: job.spec.target.createTopic });
    }
    return submitBackfill(ctx, {
      job: job.metadata.name, specDigest: jobDigest(job),
      routes: [...prepared.routes.values()].map((r) => ({ source: r.source, target: r.target })),
      ...job.spec.backfill,
    });
  });
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
  const { positionals, values } = parseCommand(STATUS, args);
  if (positionals.length !== 1) throw usageError(STATUS, 'needs exactly one NAME');
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
  const { positionals, values } = parseCommand(VERIFY, args);
  if (positionals.length !== 1) throw usageError(VERIFY, 'needs exactly one NAME');
  const report = await withContext(loadServiceConfig(), (ctx) => verify(ctx, positionals[0]!));
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else for (const line of formatReport(report)) console.log(line);
  if (!report.ok) process.exitCode = 1;
}

async function control(command: 'pause' | 'resume' | 'cancel', args: string[]): Promise<void> {
  const { positionals } = parseCommand(CONTROL[command], args);
  if (positionals.length !== 1) throw usageError(CONTROL[command], 'needs exactly one NAME');
  const name = positionals[0]!;
  await withContext(loadServiceConfig(), async (ctx) => {
    if (command === 'pause') await pauseBackfill(ctx, name);
    else if (command === 'resume') await resumeBackfill(ctx, name);
    else await cancelBackfill(ctx, name);
  });
  console.log(`backfill ${name}: ${command === 'pause' ? 'paused' : command === 'resume' ? 'resumed' : 'cancelled'}`);
}

/**
 * The job's pipeline over one task's range, under the task's consumer group and transactional id
 * (both fixed when the backfill was split: backfill/names.ts).
 */
function taskRunner(prepared: () => Promise<PreparedJob>) {
  return async (task: TaskSpec, observer: PipelineObserver): Promise<TaskRun> => {
    const run = await startJob(await prepared(), {
      ranges: [{ topic: task.topic, partition: task.partition, from: task.from, to: task.to }],
      groupId: task.groupId,
      transactionalId: task.transactionalId,
      observer,
    });
    return { pipeline: run.pipeline, done: run.done };
  };
}

/** Prepares the job once, on first use; a failed preparation is retried by the next task. */
function preparedOnce(runtime: JobRuntime): () => Promise<PreparedJob> {
  let preparing: Promise<PreparedJob> | undefined;
  return () => {
    preparing ??= prepareJob(runtime).catch((err: unknown) => { preparing = undefined; throw err; });
    return preparing;
  };
}

export async function worker(args: string[]): Promise<void> {
  await usageGuard(async () => {
    const { positionals, values } = parseCommand(WORKER, args);
    if (positionals.length === 0) throw usageError(WORKER, 'needs the job definitions: FILE or DIR');
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw usageError(WORKER, '--concurrency must be a positive integer');
    const config = loadServiceConfig();
    const logger = createLogger({ level: config.logLevel, base: { instance: config.instanceId } });
    const jobs = await loadJobs(positionals, logProblems(logger));
    if (!jobs) return;
    const wanted = [...(values.job ?? []), ...(values.queue ?? [])];
    const selected = wanted.length ? wanted.map((n) => pickJob(jobs, n)) : jobs;
    const fromEnv: BackfillSettings = { ...DEFAULT_SETTINGS, ...config.backfill };
    const settings = concurrency === undefined ? fromEnv : { ...fromEnv, concurrency };
    // Reconnects for ever with backoff; RedisHealth logs each outage once.
    const redisPolicy: RedisPolicy = config.redisTls ? { tls: config.redisTls } : {};
    const redis = redisClient(config.redisUrl, redisPolicy);
    new RedisHealth(config.redisUrl, logger).watch(redis);
    await credentialsAccepted(config.redisUrl, redis);
    const context: BackfillContext = { connection: config.kafka, redisUrl: config.redisUrl, redis, redisPolicy };
    const workers = selected.map((job) => {
      const log = logger.child({ job: job.metadata.name });
      const prepared = preparedOnce(createJobRuntime(config, job, { logger: log }));
      return new BackfillWorker({
        job: job.metadata.name, specDigest: jobDigest(job), context, settings, logger: log, name: config.instanceId,
        runTask: taskRunner(prepared),
        ...(job.spec.backfill.continueStreaming ? {
          startStreaming: async () => {
            const run = await startJob(await prepared(), {
              observer: { onHalt: (tp, offset, error) => log.error('partition halted', { topic: tp.topic, partition: tp.partition, offset, error }) },
            });
            return { stop: () => run.pipeline.stop(), done: run.done };
          },
        } : {}),
      });
    });
    for (const w of workers) w.start();
    logger.info('worker started', { jobs: selected.map((j) => j.metadata.name).join(','), concurrency: settings.concurrency, redis: redactRedisUrl(config.redisUrl) });
    await new Promise<void>((resolve) => {
      // The shutdown timeout bounds the Kafka side (tasks finishing their transaction); the Redis side
      // is bounded by BackfillWorker.shutdown on its own.
      const shutdown = onShutdownSignals({
        timeoutMs: config.shutdownTimeoutMs, logger, forcedExitCode: EXIT.STOPPED,
        onStop: () => {
          Promise.all(workers.map((w) => w.shutdown())).catch(() => undefined).finally(() => {
            redis.disconnect();
            shutdown.dispose();
            resolve();
          });
        },
      });
    });
    // The tasks stopped at a transaction boundary; with Redis away BullMQ's connections keep retrying
    // and would hold the process for minutes. Nothing is left that they could still do for us.
    setTimeout(() => process.exit(), 1_000).unref();
  });
}
