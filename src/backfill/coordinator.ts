/**
 * The control side of a backfill: submit (snapshot, split, enqueue), status, pause, resume, cancel, and
 * the finalization that verifies and, for continueStreaming, cuts over to the streaming job.
 */
import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KafkaConnection } from '../kafka/connection.js';
import { snapshotOffsets } from '../kafka/topics.js';
import { partitionKey } from '../kafka/types.js';
import { RecryptError } from '../util/errors.js';
import { commitGroupOffsets, groupOffsets } from './kafka-offsets.js';
import { FINALIZE_TASK, QUEUE_PREFIX, jobGroupId, queueName } from './names.js';
import type { RedisPolicy } from './redis.js';
import { DEFAULT_SETTINGS, redisConnection } from './settings.js';
import { splitTasks } from './splitter.js';
import { BackfillStore } from './store.js';
import type { BackfillPlan, BackfillState, PartitionPlan, TaskProgress, TaskSpec, VerifyReport } from './types.js';
import { verifyBackfill } from './verify.js';

export interface BackfillContext {
  readonly connection: KafkaConnection;
  readonly redisUrl: string;
  readonly redis: Redis;
  /** How the queue connections opened for this context treat an unreachable Redis (redis.ts). */
  readonly redisPolicy?: RedisPolicy;
}

export function openQueue(redisUrl: string, job: string, policy: RedisPolicy = {}): Queue {
  const queue = new Queue(queueName(job), { connection: redisConnection(redisUrl, policy), prefix: QUEUE_PREFIX });
  // Without a listener BullMQ prints connection errors to stderr as raw objects; they surface on the
  // calls that need Redis anyway.
  queue.on('error', () => undefined);
  return queue;
}

/** A task's payload on the queue: its id only (the plan holds the offsets). */
export interface TaskData {
  readonly task: string;
}

export interface SubmitRequest {
  readonly job: string;
  readonly specDigest: string;
  readonly routes: readonly { readonly source: string; readonly target: string }[];
  readonly relaxOrdering: boolean;
  readonly taskRecords: number;
  readonly continueStreaming: boolean;
}

const ACTIVE_STATES: readonly BackfillState[] = ['running', 'paused', 'finalizing', 'streaming'];

/**
 * Snapshots the source end offsets and splits them into tasks. A partition starts at the job group's
 * committed offset when there is one (an earlier backfill or run of the same job got that far), else
 * at its low watermark.
 */
export async function planBackfill(ctx: BackfillContext, request: SubmitRequest): Promise<BackfillPlan> {
  const sources = request.routes.map((r) => r.source);
  const targetOf = new Map(request.routes.map((r) => [r.source, r.target]));
  const [source, target] = await Promise.all([
    snapshotOffsets(ctx.connection, sources),
    snapshotOffsets(ctx.connection, [...new Set(targetOf.values())]),
  ]);
  const committed = await groupOffsets(ctx.connection, jobGroupId(request.job), source.map(({ topic, partition }) => ({ topic, partition })));
  const targetHigh = new Map(target.map((t) => [partitionKey(t.topic, t.partition), t.high]));
  const partitions: PartitionPlan[] = source.map((p) => {
    const done = committed.find((c) => c.topic === p.topic && c.partition === p.partition)?.offset ?? -1;
    const targetTopic = targetOf.get(p.topic)!;
    const from = done >= 0 ? Math.min(Math.max(done, p.low), p.high) : p.low;
    return { topic: p.topic, partition: p.partition, targetTopic, from, to: p.high, targetStart: targetHigh.get(partitionKey(targetTopic, p.partition)) ?? 0 };
  });
  const tasks = splitTasks(request.job, partitions, request);
  return {
    job: request.job, specDigest: request.specDigest, createdAt: Date.now(),
    relaxOrdering: request.relaxOrdering, continueStreaming: request.continueStreaming, taskRecords: request.taskRecords,
    partitions, tasks,
  };
}

export async function submitBackfill(ctx: BackfillContext, request: SubmitRequest): Promise<BackfillPlan> {
  const store = new BackfillStore(ctx.redis);
  const state = await store.state(request.job);
  if (state && ACTIVE_STATES.includes(state)) {
    throw new RecryptError('BACKFILL_STATE', `backfill ${request.job} is ${state}; cancel it before submitting again`);
  }
  const plan = await planBackfill(ctx, request);
  const queue = openQueue(ctx.redisUrl, request.job, ctx.redisPolicy);
  try {
    // Job ids are task ids: completed jobs of an earlier backfill would swallow the new ones.
    await queue.obliterate({ force: true });
    await store.create(plan);
    await queue.addBulk(plan.tasks.map((t) => ({
      name: 'task', data: { task: t.id } satisfies TaskData,
      opts: { jobId: t.id, attempts: 1, removeOnComplete: false, removeOnFail: false },
    })));
  } finally {
    await queue.close();
  }
  return plan;
}

export type TaskQueueState = JobType | 'unknown';

export interface TaskStatus {
  readonly task: TaskSpec;
  readonly state: TaskQueueState;
  readonly committed: number;
  readonly rate: number;
  readonly written: number;
  readonly dlq: number;
  readonly failedReason?: string;
  readonly halted?: TaskProgress['halted'];
}

export interface PartitionStatus {
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  readonly to: number;
  /** Offsets covered so far (sum over the partition's tasks). */
  readonly done: number;
  readonly total: number;
  readonly rate: number;
}

export interface BackfillStatus {
  readonly job: string;
  readonly state: BackfillState | 'unknown';
  readonly createdAt: number;
  readonly tasks: readonly TaskStatus[];
  readonly partitions: readonly PartitionStatus[];
  readonly counts: Readonly<Record<string, number>>;
  readonly done: number;
  readonly total: number;
  readonly rate: number;
  /** Seconds to go at the current rate; null while nothing runs. */
  readonly etaSeconds: number | null;
  readonly report: VerifyReport | null;
}

const QUEUE_STATES: readonly JobType[] = ['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'];

export async function backfillStatus(ctx: BackfillContext, job: string, settings = DEFAULT_SETTINGS): Promise<BackfillStatus> {
  const store = new BackfillStore(ctx.redis);
  const plan = await store.requirePlan(job);
  const [state, done, progress, report] = await Promise.all([
    store.state(job), store.doneTasks(job), store.progress(job, plan.tasks.map((t) => t.id)), store.report(job),
  ]);
  let stateOf = new Map<string, TaskQueueState>();
  const reasons = new Map<string, string>();
  const queue = openQueue(ctx.redisUrl, job, ctx.redisPolicy);
  try {
    // The lists are read one after another, so a task moving between two of them during the read can
    // be missed (e.g. wait -> active after `active` was read): read again until every task is placed.
    for (let attempt = 0; attempt < 3; attempt++) {
      stateOf = new Map();
      for (const type of QUEUE_STATES) {
        for (const j of await queue.getJobs([type])) {
          if (!j?.id || j.name === FINALIZE_TASK) continue;
          stateOf.set(j.id, type);
          if (type === 'failed' && j.failedReason) reasons.set(j.id, j.failedReason);
        }
      }
      if (plan.tasks.every((t) => stateOf.has(t.id) || done.has(t.id))) break;
    }
  } finally {
    await queue.close();
  }
  const now = Date.now();
  const fresh = settings.progressIntervalMs * 3;
  const tasks: TaskStatus[] = plan.tasks.map((task) => {
    const p = progress.get(task.id);
    const finished = done.has(task.id);
    const committed = finished ? task.to : Math.min(task.to, Math.max(task.from, p?.committed ?? task.from));
    // The done set is the authority: a task whose range is committed is completed, even when its queue
    // job still shows `active` (its worker lost the lock in a Redis outage and could not move it on;
    // the stalled check re-runs it, and the re-run finds the range done).
    const queueState = finished ? 'completed' : (stateOf.get(task.id) ?? 'unknown');
    const rate = queueState === 'active' && p && now - p.updatedAt < fresh ? p.rate : 0;
    return {
      task, state: queueState, committed, rate, written: p?.written ?? 0, dlq: p?.dlq ?? 0,
      ...(reasons.has(task.id) ? { failedReason: reasons.get(task.id)! } : {}),
      ...(p?.halted ? { halted: p.halted } : {}),
    };
  });
  const partitions: PartitionStatus[] = plan.partitions.map((p) => {
    const own = tasks.filter((t) => t.task.topic === p.topic && t.task.partition === p.partition);
    return {
      topic: p.topic, partition: p.partition, from: p.from, to: p.to,
      done: own.reduce((n, t) => n + (t.committed - t.task.from), 0), total: p.to - p.from,
      rate: own.reduce((n, t) => n + t.rate, 0),
    };
  });
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
  const total = partitions.reduce((n, p) => n + p.total, 0);
  const covered = partitions.reduce((n, p) => n + p.done, 0);
  const rate = partitions.reduce((n, p) => n + p.rate, 0);
  return {
    job, state: state ?? 'unknown', createdAt: plan.createdAt, tasks, partitions, counts, done: covered, total, rate,
    etaSeconds: rate > 0 ? Math.ceil((total - covered) / rate) : null, report,
  };
}

export async function pauseBackfill(ctx: BackfillContext, job: string): Promise<void> {
  const store = new BackfillStore(ctx.redis);
  await store.requirePlan(job);
  if (!(await store.transition(job, ['running'], 'paused'))) {
    throw new RecryptError('BACKFILL_STATE', `backfill ${job} is ${await store.state(job)}, not running`);
  }
  const queue = openQueue(ctx.redisUrl, job, ctx.redisPolicy);
  // Workers see the state within a progress interval, stop their tasks at a transaction boundary
  // and put them back; the paused queue hands out nothing until resume.
  try { await queue.pause(); } finally { await queue.close(); }
}

export async function resumeBackfill(ctx: BackfillContext, job: string): Promise<void> {
  const store = new BackfillStore(ctx.redis);
  await store.requirePlan(job);
  if (!(await store.transition(job, ['paused'], 'running'))) {
    throw new RecryptError('BACKFILL_STATE', `backfill ${job} is ${await store.state(job)}, not paused`);
  }
  const queue = openQueue(ctx.redisUrl, job, ctx.redisPolicy);
  try {
    await queue.resume();
    // Paused just as the last task finished: the finalization skipped, so enqueue it again.
    if ((await store.doneTasks(job)).size === (await store.requirePlan(job)).tasks.length) await enqueueFinalize(queue);
  } finally {
    await queue.close();
  }
}

/** Adds the finalization job once (its id dedupes concurrent adds by the workers finishing the last tasks). */
export async function enqueueFinalize(queue: Queue): Promise<void> {
  await queue.add(FINALIZE_TASK, {}, { jobId: FINALIZE_TASK, attempts: 1, removeOnComplete: true, removeOnFail: false });
}

/**
 * Stops a backfill: workers stop its tasks at a transaction boundary, the queue is removed. The Kafka
 * checkpoints stay, so submitting the job again continues where this one stopped.
 */
export async function cancelBackfill(ctx: BackfillContext, job: string, waitMs = 30_000): Promise<void> {
  const store = new BackfillStore(ctx.redis);
  await store.requirePlan(job);
  await store.setState(job, 'cancelled');
  const queue = openQueue(ctx.redisUrl, job, ctx.redisPolicy);
  try {
    await queue.pause();
    const deadline = Date.now() + waitMs;
    while ((await queue.getActiveCount()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

/** Target high watermarks now, keyed by partitionKey(target topic, partition). */
async function targetEnds(ctx: BackfillContext, plan: BackfillPlan): Promise<Map<string, number>> {
  const targets = [...new Set(plan.partitions.map((p) => p.targetTopic))];
  return new Map((await snapshotOffsets(ctx.connection, targets)).map((o) => [partitionKey(o.topic, o.partition), o.high]));
}

async function dlqCounts(store: BackfillStore, plan: BackfillPlan): Promise<Map<string, number>> {
  const progress = await store.progress(plan.job, plan.tasks.map((t) => t.id));
  const out = new Map<string, number>();
  for (const t of plan.tasks) {
    const key = partitionKey(t.topic, t.partition);
    out.set(key, (out.get(key) ?? 0) + (progress.get(t.id)?.dlq ?? 0));
  }
  return out;
}

/**
 * Recounts a backfill. Once finalized, the target counts stop at the watermarks recorded then (the
 * streaming job may have written more since).
 */
export async function verify(ctx: BackfillContext, job: string): Promise<VerifyReport> {
  const store = new BackfillStore(ctx.redis);
  const plan = await store.requirePlan(job);
  const previous = await store.report(job);
  const ends = previous
    ? new Map(plan.partitions.map((p) => [partitionKey(p.targetTopic, p.partition), previous.targetEnd[`${p.targetTopic}/${p.partition}`] ?? 0]))
    : await targetEnds(ctx, plan);
  return verifyBackfill(ctx.connection, { plan, targetEnd: ends, dlq: await dlqCounts(store, plan) });
}

/**
 * Runs once every task is done (as the queue's `finalize` job, so a worker that dies here is replaced):
 * checks every checkpoint reached its end, records the target watermarks, verifies, and for
 * continueStreaming commits the snapshot offsets for the job's streaming group before marking the
 * backfill `streaming` (only when the report adds up: otherwise it stays `completed` for a human to
 * look at). Idempotent: the commit never moves an offset backwards and happens only
 * before the state says streaming (a streaming member exists only after that).
 */
export async function finalizeBackfill(ctx: BackfillContext, job: string): Promise<VerifyReport | null> {
  const store = new BackfillStore(ctx.redis);
  const plan = await store.plan(job);
  if (!plan) return null;
  if (!(await store.transition(job, ['running', 'finalizing'], 'finalizing'))) return store.report(job);
  const byGroup = new Map<string, TaskSpec[]>();
  for (const t of plan.tasks) byGroup.set(t.groupId, [...(byGroup.get(t.groupId) ?? []), t]);
  for (const [groupId, tasks] of byGroup) {
    const offsets = await groupOffsets(ctx.connection, groupId, tasks.map(({ topic, partition }) => ({ topic, partition })));
    for (const t of tasks) {
      if (t.to === t.from) continue;
      const at = offsets.find((o) => o.topic === t.topic && o.partition === t.partition)?.offset ?? -1;
      if (at < t.to) throw new RecryptError('BACKFILL_STATE', `task ${t.id} is marked done but its checkpoint is ${at}, before ${t.to}`);
    }
  }
  let report = await store.report(job);
  if (!report) {
    report = await verifyBackfill(ctx.connection, { plan, targetEnd: await targetEnds(ctx, plan), dlq: await dlqCounts(store, plan) });
    await store.saveReport(report);
  }
  if (plan.continueStreaming && report.ok) {
    const seam = plan.partitions.map((p) => ({ topic: p.topic, partition: p.partition }));
    const current = await groupOffsets(ctx.connection, jobGroupId(job), seam);
    const moves = plan.partitions
      .filter((p) => (current.find((c) => c.topic === p.topic && c.partition === p.partition)?.offset ?? -1) < p.to)
      .map((p) => ({ topic: p.topic, partition: p.partition, offset: p.to }));
    await commitGroupOffsets(ctx.connection, jobGroupId(job), moves);
    await store.transition(job, ['finalizing'], 'streaming');
  } else {
    await store.transition(job, ['finalizing'], 'completed');
  }
  return report;
}
