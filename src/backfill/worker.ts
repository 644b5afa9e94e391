/**
 * The worker side: a BullMQ Worker whose tasks are offset ranges of one backfill. The task's work is a
 * TransactionalPipeline over its range (built by the caller: `runTask`), so its checkpoint is the
 * offset committed in its last Kafka transaction, under its own deterministic transactional id.
 *
 * Outcomes of a task:
 *   range done                          -> completed (the last one enqueues the finalization)
 *   partition halted (permanent error)  -> failed, reason = error code + offset; other tasks go on
 *   SIGTERM / pause / lost lock / fenced / transient error
 *                                       -> back to wait (or delayed), not counted as an attempt; it
 *                                          resumes from its checkpoint wherever it runs next
 *   worker killed                       -> its lock expires, a stalled check puts it back (a stall is
 *                                          never a failure: maxStalledCount is effectively unlimited)
 */
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job as QueueJob, type Queue } from 'bullmq';
import type { PartitionProgress, PipelineObserver, PipelineSummary } from '../kafka/pipeline.js';
import { ERROR_CODES, errorCodeOf, isTransient } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { enqueueFinalize, finalizeBackfill, openQueue, type BackfillContext, type TaskData } from './coordinator.js';
import { FINALIZE_TASK, QUEUE_PREFIX, queueName } from './names.js';
import { isRedisConnectionError } from './redis.js';
import { DEFAULT_SETTINGS, lockRenewMs, redisConnection, type BackfillSettings } from './settings.js';
import { BackfillStore } from './store.js';
import type { TaskSpec } from './types.js';
import { formatReport } from './verify.js';

export interface TaskPipeline {
  stop(): void;
  readonly partitions: readonly PartitionProgress[];
}

export interface TaskRun {
  readonly pipeline: TaskPipeline;
  readonly done: Promise<PipelineSummary>;
}

/** Starts the pipeline of one task: `ranges: [task range]`, the task's transactional id and group. */
export type TaskRunner = (task: TaskSpec, observer: PipelineObserver) => Promise<TaskRun>;

export interface StreamingRun {
  stop(): void;
  readonly done: Promise<unknown>;
}

export interface BackfillWorkerOptions {
  readonly job: string;
  readonly specDigest: string;
  readonly context: BackfillContext;
  readonly runTask: TaskRunner;
  /** For continueStreaming: runs the job as a streaming job once the backfill cut over. */
  readonly startStreaming?: () => Promise<StreamingRun>;
  readonly settings?: Partial<BackfillSettings>;
  readonly logger: Logger;
  /** Shown on the queue's jobs (which worker ran a task): the pod name. */
  readonly name?: string;
}

type StopReason = 'shutdown' | 'paused' | 'cancelled' | 'lost-lock';

interface ActiveTask {
  readonly task: TaskSpec;
  readonly pipeline: TaskPipeline;
  readonly done: Promise<unknown>;
  reason?: StopReason;
  last: { committed: number; written: number; dlq: number; at: number };
}

export class BackfillWorker {
  private readonly settings: BackfillSettings;
  private readonly store: BackfillStore;
  private readonly queue: Queue;
  private readonly active = new Map<string, ActiveTask>();
  private worker?: Worker<TaskData>;
  private watcher?: NodeJS.Timeout;
  private streaming?: StreamingRun;
  private startingStream = false;
  private stopping = false;

  constructor(private readonly options: BackfillWorkerOptions) {
    this.settings = Object.freeze({ ...DEFAULT_SETTINGS, ...options.settings });
    this.store = new BackfillStore(options.context.redis);
    this.queue = openQueue(options.context.redisUrl, options.job, options.context.redisPolicy);
    this.queue.on('error', (err) => this.queueError(err));
  }

  /**
   * BullMQ's 'error' events. Connection errors repeat every reconnect attempt while Redis is away:
   * they are the outage the process logs once (RedisHealth), not a line each.
   */
  private queueError(err: unknown): void {
    if (!isRedisConnectionError(err)) this.options.logger.warn('queue error', { error: err instanceof Error ? err : String(err) });
  }

  get activeTasks(): number {
    return this.active.size;
  }

  start(): void {
    const s = this.settings;
    const worker = new Worker<TaskData>(queueName(this.options.job), (job, token) => this.process(job, token), {
      connection: redisConnection(this.options.context.redisUrl, this.options.context.redisPolicy),
      prefix: QUEUE_PREFIX,
      concurrency: s.concurrency,
      lockDuration: s.lockDurationMs,
      lockRenewTime: lockRenewMs(s),
      stalledInterval: s.stalledIntervalMs,
      maxStalledCount: s.maxStalledCount,
      ...(this.options.name ? { name: this.options.name } : {}),
    });
    worker.on('error', (err) => this.queueError(err));
    // Another worker may run the task now; the Kafka fencing makes ours stop at its next commit anyway.
    worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) this.stopTask(id, 'lost-lock');
    });
    this.worker = worker;
    this.watcher = setInterval(() => void this.watch(), s.progressIntervalMs);
    this.watcher.unref();
  }

  /**
   * SIGTERM: stop every task at a transaction boundary, put it back on the queue, close. The Kafka side
   * is waited for; the queue side only for `redisGraceMs`, and not at all while Redis is away: putting a
   * task back cannot happen then, and its lock expiry and the stalled check do it later anyway (the
   * checkpoint is in Kafka). BullMQ's close waits for Redis without bound, so a caller that gets here
   * with Redis away may find the event loop still held by its reconnect timers: nothing is left to lose.
   */
  async shutdown(redisGraceMs = 5_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.watcher);
    for (const id of this.active.keys()) this.stopTask(id, 'shutdown');
    this.streaming?.stop();
    await Promise.all([...this.active.values()].map((a) => a.done.catch(() => undefined)));
    await this.streaming?.done.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const grace = this.options.context.redis.status === 'ready' ? redisGraceMs : 0;
    const closed = Promise.all([this.worker?.close(), this.queue.close()]).then(() => true, () => true);
    const inTime = await Promise.race([closed, new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), grace); })]);
    clearTimeout(timer);
    if (!inTime) {
      this.options.logger.warn('Redis did not answer during shutdown: leaving running tasks to the stalled check', { graceMs: grace });
      void this.worker?.disconnect().catch(() => undefined);
      void this.queue.disconnect().catch(() => undefined);
    }
  }

  private stopTask(id: string, reason: StopReason): void {
    const active = this.active.get(id);
    if (!active || active.reason) return;
    active.reason = reason;
    this.options.logger.info('stopping task', { task: id, reason });
    active.pipeline.stop();
  }

  /** Follows the backfill's state: pause and cancel stop running tasks; `streaming` starts the stream. */
  private async watch(): Promise<void> {
    // While Redis is away a read would only queue up behind the reconnects.
    if (this.options.context.redis.status !== 'ready') return;
    let state;
    try {
      state = await this.store.state(this.options.job);
    } catch {
      return; // Redis away: locks and the queue recover on their own
    }
    if (state === 'paused' || state === 'cancelled') for (const id of this.active.keys()) this.stopTask(id, state);
    if (state === 'streaming' && this.options.startStreaming && !this.streaming && !this.startingStream && !this.stopping) {
      this.startingStream = true;
      try {
        this.options.logger.info('backfill cut over: starting the streaming job');
        this.streaming = await this.options.startStreaming();
        this.streaming.done.catch((err: unknown) => this.options.logger.error('streaming job failed', { code: errorCodeOf(err) }));
      } catch (err) {
        this.options.logger.error('streaming job did not start', { code: errorCodeOf(err) });
      } finally {
        this.startingStream = false;
      }
    }
  }

  private async process(job: QueueJob<TaskData>, token?: string): Promise<unknown> {
    if (job.name === FINALIZE_TASK) return this.finalize(job, token);
    const id = job.data.task;
    if (this.stopping) return this.putBack(job, token, 0);
    const plan = await this.store.plan(this.options.job);
    if (!plan) return { skipped: 'no backfill plan' };
    const task = plan.tasks.find((t) => t.id === id);
    if (!task) throw new UnrecoverableError(`BACKFILL_STATE: task ${id} is not in the plan`);
    if (plan.specDigest !== this.options.specDigest) {
      this.options.logger.error('this worker has another version of the job than the submitted backfill; leaving its tasks', { task: id });
      return this.putBack(job, token, this.settings.retryDelayMs * 12);
    }
    const state = await this.store.state(this.options.job);
    if (state === 'cancelled') return { cancelled: true };
    if (state === 'paused') return this.putBack(job, token, 0);

    let run: TaskRun;
    try {
      run = await this.options.runTask(task, {
        onTransientError: (error, retryInMs) => this.options.logger.warn('transient failure, retrying', { task: id, error, retryInMs }),
      });
    } catch (err) {
      return this.interrupted(job, token, task, err);
    }
    const active: ActiveTask = { task, pipeline: run.pipeline, done: run.done, last: { committed: task.from, written: 0, dlq: 0, at: Date.now() } };
    this.active.set(job.id!, active);
    // A shutdown that began while this task was starting did not reach it.
    if (this.stopping) this.stopTask(job.id!, 'shutdown');
    // A pause or cancel seen by the watcher while this task was starting did not reach it: look again.
    void this.store.state(this.options.job).then((now) => {
      if (now === 'paused' || now === 'cancelled') this.stopTask(job.id!, now);
    }, () => undefined);
    const timer = setInterval(() => void this.flush(active), this.settings.progressIntervalMs);
    let summary: PipelineSummary | undefined;
    let failure: unknown;
    try {
      summary = await run.done;
    } catch (err) {
      failure = err;
    }
    // The final progress lands before the task leaves `active`, so a status that shows no active task
    // never shows stale progress either.
    clearInterval(timer);
    this.active.delete(job.id!);
    await this.flush(active);
    if (summary === undefined) return this.interrupted(job, token, task, failure, active.reason);
    const p = summary.partitions.find((x) => x.topic === task.topic && x.partition === task.partition);
    if (p?.halted) {
      this.options.logger.error('task failed: partition halted', { task: id, offset: p.halted.offset, code: p.halted.code });
      throw new UnrecoverableError(`${p.halted.code} at offset ${p.halted.offset} of ${task.topic}/${task.partition}`);
    }
    if (p?.done || (p && p.committed >= task.to) || task.from === task.to) {
      const done = await this.store.markDone(this.options.job, id);
      this.options.logger.info('task done', { task: id, committed: p?.committed ?? task.to, done, of: plan.tasks.length });
      if (done >= plan.tasks.length) await enqueueFinalize(this.queue);
      return { committed: p?.committed ?? task.to };
    }
    if (active.reason === 'cancelled') return { cancelled: true };
    return this.putBack(job, token, 0);
  }

  /** Writes the task's committed offset, rate and counts; the deltas since the last write are added. */
  private async flush(active: ActiveTask): Promise<void> {
    const p = active.pipeline.partitions.find((x) => x.topic === active.task.topic && x.partition === active.task.partition);
    if (!p) return;
    const now = Date.now();
    const last = active.last;
    const seconds = Math.max((now - last.at) / 1000, 0.001);
    const update = {
      committed: p.committed,
      rate: Math.max(0, p.committed - last.committed) / seconds,
      written: p.written - last.written,
      dlq: p.dlq - last.dlq,
      ...(p.halted ? { halted: p.halted } : {}),
    };
    active.last = { committed: p.committed, written: p.written, dlq: p.dlq, at: now };
    try {
      await this.store.writeProgress(this.options.job, active.task.id, update);
    } catch {
      // Progress is informational; the checkpoint lives in Kafka.
      active.last = { ...last, at: last.at };
    }
  }

  /**
   * Anything but a halted partition interrupts a task rather than failing it: fenced (a newer run of the
   * same task took over), transient (broker, registry or KMS away), or stopped. Permanent errors while
   * starting (e.g. an unsafe job) fail it with their code.
   */
  private async interrupted(job: QueueJob<TaskData>, token: string | undefined, task: TaskSpec, err: unknown, reason?: StopReason): Promise<never> {
    const code = errorCodeOf(err);
    if (code === 'KAFKA_FENCED' || reason !== undefined) {
      this.options.logger.warn('task interrupted', { task: task.id, code, reason: reason ?? 'fenced' });
      return this.putBack(job, token, 0);
    }
    if (isTransient(err)) {
      this.options.logger.warn('task interrupted by a transient failure', { task: task.id, code });
      return this.putBack(job, token, this.settings.retryDelayMs);
    }
    this.options.logger.error('task failed', { task: task.id, code });
    throw new UnrecoverableError(`${code}: ${ERROR_CODES[code].doc}`);
  }

  /** Back to wait (or delayed) without counting an attempt; if the lock is gone, someone else has it. */
  private async putBack(job: QueueJob<TaskData>, token: string | undefined, delayMs: number): Promise<never> {
    try {
      if (delayMs > 0) await job.moveToDelayed(Date.now() + delayMs, token);
      else await job.moveToWait(token);
    } catch {
      // Lock lost or Redis away: the stalled check puts the task back.
    }
    throw delayMs > 0 ? new DelayedError() : new WaitingError();
  }

  private async finalize(job: QueueJob<TaskData>, token?: string): Promise<unknown> {
    try {
      const report = await finalizeBackfill(this.options.context, this.options.job);
      if (report) {
        const log = report.ok ? this.options.logger.info : this.options.logger.error;
        for (const line of formatReport(report)) log(line, { job: this.options.job });
      }
      return { ok: report?.ok ?? null };
    } catch (err) {
      if (isTransient(err)) return this.putBack(job, token, this.settings.retryDelayMs);
      this.options.logger.error('finalization failed', { code: errorCodeOf(err) });
      throw new UnrecoverableError(`${errorCodeOf(err)}: ${ERROR_CODES[errorCodeOf(err)].doc}`);
    }
  }
}
