// A SIGKILLed worker's tasks are taken over by another worker within 10 s, with the default lock and
// stalled-check settings (settings.ts: lock 5 s renewed every 1.25 s, check every 1 s; the harness's
// faster test settings are overridden here), and the target holds every source record exactly once, in
// source order per partition: the killed worker's open transactions are aborted by the new runs'
// initTransactions under the same transactional ids, never written twice.
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { DEFAULT_SETTINGS, QUEUE_PREFIX, takeoverBoundMs } from '../../../src/backfill/index.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { register } from '../helpers/csfle.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, kafka, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { backfillJobYaml, context, forget, spawnWorker, waitForStatus } from './harness.js';

const RECORDS = 180_000;
const PARTITIONS = 6;
const DEFAULT_LOCKS = {
  RECRYPT_BACKFILL_LOCK_MS: String(DEFAULT_SETTINGS.lockDurationMs),
  RECRYPT_BACKFILL_STALLED_INTERVAL_MS: String(DEFAULT_SETTINGS.stalledIntervalMs),
};
const created: string[] = [];
const children: Array<ReturnType<typeof spawnWorker>> = [];
const admins: Array<ReturnType<ReturnType<typeof kafka>['admin']>> = [];
afterAll(async () => {
  for (const a of admins) await a.disconnect();
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  if (created.length) await deleteTopics(...created);
});

/** Task id -> the worker (BullMQ processedBy) running it, for the tasks active right now. */
async function activeTasks(queue: Queue): Promise<Map<string, string>> {
  return new Map((await queue.getJobs(['active'])).map((j) => [j.id ?? '', j.processedBy ?? '']));
}

describe('backfill takeover after SIGKILL', () => {
  it('the killed worker\'s tasks run elsewhere within 10 s; every record once', async () => {
    expect(takeoverBoundMs(DEFAULT_SETTINGS)).toBeLessThan(10_000);
    const source = await createTopic('bf-takeover', PARTITIONS, { 'retention.ms': '-1' });
    const target = uniqueName('bf-takeover-enc');
    created.push(source, target);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const { records } = customers(RECORDS, PARTITIONS, schemaId);
    for (let i = 0; i < records.length; i += 25_000) await produceRaw(source, records.slice(i, i + 25_000));

    const name = uniqueName('bf-take').toLowerCase();
    // Small transactions keep the tasks running long enough to be taken over mid-range.
    const jobFile = writeJobFile(backfillJobYaml({ name, source, target, kek: uniqueName('kek'), batchSize: 100 }));
    const submitted = await recrypt(['backfill', 'submit', jobFile]);
    expect(submitted.code, submitted.stderr).toBe(0);

    const ctx = context();
    const queue = new Queue(name, { connection: { url: stack.redisUrl }, prefix: QUEUE_PREFIX });
    try {
      // Both can hold every task: the survivor has room for the victim's. Which one takes which tasks is
      // BullMQ's choice; the victim is one holding a task in progress.
      const workers = ['take-a', 'take-b'].map((pod) => spawnWorker(jobFile, pod, PARTITIONS, DEFAULT_LOCKS));
      children.push(...workers);
      let victim = -1;
      let mine: string[] = [];
      const deadline = Date.now() + 90_000;
      const plan = (await waitForStatus(ctx, name, () => true, 5_000, 'status')).tasks.map((t) => t.task);
      // The task's checkpoint: its group's committed offsets, stable ones only (no transaction pending).
      const admin = kafka().admin();
      await admin.connect();
      admins.push(admin);
      const checkpoint = async (tasks: typeof plan) => {
        const [topic] = await admin.fetchOffsets({ groupId: plan[0]!.groupId, topics: [source], requireStableOffsets: true });
        const wanted = new Set(tasks.map((t) => t.partition));
        return new Map((topic?.partitions ?? []).filter((p) => wanted.has(p.partition)).map((p) => [p.partition, Number(p.offset)]));
      };
      while (victim < 0 && Date.now() < deadline) {
        // In progress by Kafka's checkpoint (the status's progress is seconds old), with most of it to go.
        const offsets = await checkpoint(plan);
        const moving = new Set(plan.filter((t) => {
          const at = offsets.get(t.partition) ?? -1;
          return at > t.from && at < t.from + (t.to - t.from) / 2;
        }).map((t) => t.id));
        const active = [...(await activeTasks(queue))].filter(([id]) => moving.has(id));
        for (const [i, pod] of ['take-a', 'take-b'].entries()) {
          const held = active.filter(([, by]) => by === pod).map(([id]) => id);
          if (victim < 0 && held.length > 0) { victim = i; mine = held; }
        }
        if (victim < 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(victim, 'no worker held a task in progress').toBeGreaterThanOrEqual(0);
      const survivorName = victim === 0 ? 'take-b' : 'take-a';
      const survivor = workers[1 - victim]!;
      const tasks = plan.filter((t) => mine.includes(t.id));

      workers[victim]!.child.kill('SIGKILL');
      const killedAt = Date.now();
      await workers[victim];
      // Read once the victim is gone (a commit it sent just before dying lands first): only another
      // worker's commit moves it from here.
      await new Promise((r) => setTimeout(r, 200));
      const before = await checkpoint(tasks);
      // Per task: when the survivor holds it, and when its checkpoint first moves past the kill's.
      const takenAt = new Map<string, number>();
      const resumedAt = new Map<string, number>();
      while ((takenAt.size < tasks.length || resumedAt.size < tasks.length) && Date.now() - killedAt < 30_000) {
        const active = await activeTasks(queue);
        const done = await waitForStatus(ctx, name, () => true, 5_000, 'status');
        const now = Date.now();
        for (const t of tasks) {
          const finished = done.tasks.find((x) => x.task.id === t.id)?.state === 'completed';
          if (!takenAt.has(t.id) && (active.get(t.id) === survivorName || finished)) takenAt.set(t.id, now - killedAt);
        }
        const offsets = await checkpoint(tasks);
        for (const t of tasks) {
          if (!resumedAt.has(t.id) && (offsets.get(t.partition) ?? -1) > (before.get(t.partition) ?? -1)) resumedAt.set(t.id, Date.now() - killedAt);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const worstTaken = Math.max(...takenAt.values());
      const worstResumed = Math.max(...resumedAt.values());
      console.log(JSON.stringify({ tasks: tasks.length, takenOverMs: Object.fromEntries(takenAt), firstCommitMs: Object.fromEntries(resumedAt) }));
      expect(takenAt.size).toBe(tasks.length);
      expect(resumedAt.size).toBe(tasks.length);
      expect(worstTaken).toBeLessThan(10_000);
      expect(worstResumed).toBeLessThan(10_000);

      const final = await waitForStatus(ctx, name, (s) => s.state === 'completed' || s.tasks.some((t) => t.state === 'failed'), 180_000, 'completion');
      expect(final.tasks.filter((t) => t.state === 'failed')).toEqual([]);
      expect(final.report).toMatchObject({ ok: true, source: RECORDS, target: RECORDS });
      survivor.child.kill('SIGTERM');
      expect((await survivor).code).toBe(0);

      // The target, read_committed: every record once, in source order per partition.
      const out = await consumeRaw(target, { count: RECORDS, idleMs: 30_000 });
      expect(out).toHaveLength(RECORDS);
      const keys = new Set(out.map((r) => r.key!.toString()));
      expect(keys.size).toBe(RECORDS);
      const last = new Map<number, number>();
      for (const r of out) {
        const id = Number(r.key!.toString().slice(1));
        expect(id).toBeGreaterThan(last.get(r.partition) ?? -1);
        last.set(r.partition, id);
      }
    } finally {
      await queue.close();
      await forget(ctx, name);
      ctx.close();
    }
  }, 300_000);
});
