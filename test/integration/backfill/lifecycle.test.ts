// Backfill lifecycle on the real stack: relaxed ordering (sub-range tasks with their own groups), pause
// and resume, SIGTERM during a run (tasks go back to the queue, nothing fails, exit 0), the cut-over to
// a streaming job with no gap and no duplicate at the seam, and a halted partition failing only its task.
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { BackfillStore, QUEUE_PREFIX, groupOffsets, jobGroupId, type BackfillStatus } from '../../../src/backfill/index.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { register } from '../helpers/csfle.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { backfillJobYaml, context, forget, spawnWorker, waitForStatus } from './harness.js';

const created: string[] = [];
const children: Array<ReturnType<typeof spawnWorker>> = [];
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  if (created.length) await deleteTopics(...created);
});

async function queueCounts(job: string) {
  const queue = new Queue(job, { connection: { url: stack.redisUrl }, prefix: QUEUE_PREFIX });
  try {
    return await queue.getJobCounts();
  } finally {
    await queue.close();
  }
}

/** Each task's committed offset in its own consumer group (relaxed ordering: one group per task). */
async function checkpointsInKafka(ctx: ReturnType<typeof context>, status: BackfillStatus): Promise<number[]> {
  return Promise.all(status.tasks.map(async (t) => {
    const [o] = await groupOffsets(ctx.connection, t.task.groupId, [{ topic: t.task.topic, partition: t.task.partition }]);
    return o?.offset ?? -1;
  }));
}

describe('backfill lifecycle', () => {
  it('relaxed ordering: pause, resume, SIGTERM, then cuts over to streaming at exactly the snapshot', async () => {
    const source = await createTopic('bf-life', 2, { 'retention.ms': '-1' });
    const target = uniqueName('bf-life-enc');
    created.push(source, target);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const total = 40_000;
    const { records, canary } = customers(total + 1_000, 2, schemaId);
    await produceRaw(source, records.slice(0, total));

    const name = uniqueName('bf-life').toLowerCase();
    const jobFile = writeJobFile(backfillJobYaml({
      name, source, target, kek: uniqueName('kek'), relaxOrdering: true, taskRecords: 2_500, continueStreaming: true, batchSize: 50,
    }));
    const submitted = await recrypt(['backfill', 'submit', jobFile]);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toContain('16 tasks over 2 partitions');

    const ctx = context();
    try {
      let w = spawnWorker(jobFile, 'life-1', 1);
      children.push(w);
      await waitForStatus(ctx, name, (s) => s.done > 0 && (s.counts.completed ?? 0) >= 1, 60_000, 'first tasks');

      // Pause: running tasks stop at a transaction boundary and go back; nothing fails.
      const paused = await recrypt(['backfill', 'pause', name]);
      expect(paused.code, paused.stderr).toBe(0);
      const atPause = await waitForStatus(ctx, name, (s) => s.state === 'paused' && (s.counts.active ?? 0) === 0, 30_000, 'pause');
      const kafkaAtPause = await checkpointsInKafka(ctx, atPause);
      await new Promise((r) => setTimeout(r, 2_000));
      const stillPaused = await waitForStatus(ctx, name, () => true, 1_000, 'status');
      // Nothing is committed while paused (Kafka holds the checkpoints), and the status said so already.
      expect(await checkpointsInKafka(ctx, stillPaused)).toEqual(kafkaAtPause);
      expect(stillPaused.done).toBe(atPause.done);
      expect(stillPaused.counts.failed ?? 0).toBe(0);
      expect((await recrypt(['backfill', 'resume', name])).code).toBe(0);
      const resumed = await waitForStatus(ctx, name, (s) => s.state === 'running' && (s.counts.active ?? 0) > 0, 30_000, 'resume');

      // SIGTERM mid-run: exit 0, active tasks back on the queue without a failed attempt. (A task can
      // finish within one progress interval, so "progress" is the backfill's, not an active task's.)
      await waitForStatus(ctx, name, (s) => (s.counts.active ?? 0) > 0 && s.done > resumed.done, 30_000, 'progress');
      w.child.kill('SIGTERM');
      const term = await w;
      expect(term.code, term.stderr.slice(-2000)).toBe(0);
      const afterTerm = await queueCounts(name);
      expect(afterTerm.active).toBe(0);
      expect(afterTerm.failed).toBe(0);
      expect((afterTerm.waiting ?? 0) + (afterTerm.prioritized ?? 0)).toBeGreaterThan(0);

      w = spawnWorker(jobFile, 'life-2', 2);
      children.push(w);
      const final = await waitForStatus(ctx, name, (s) => s.state === 'streaming' || s.state === 'completed', 120_000, 'cut-over');
      expect(final.state).toBe('streaming');
      expect(final.report).toMatchObject({ ok: true, source: total, target: total });

      // The streaming group starts exactly at the snapshot.
      const seam = await groupOffsets(ctx.connection, jobGroupId(name), [0, 1].map((partition) => ({ topic: source, partition })));
      expect(seam.map((o) => o.offset).reduce((a, b) => a + b, 0)).toBe(total);

      // Records produced after the cut-over reach the target through the streaming job.
      await produceRaw(source, records.slice(total));
      const out = await consumeRaw(target, { count: total + 1_000, idleMs: 60_000 });
      expect(out).toHaveLength(total + 1_000);
      expect(new Set(out.map((r) => r.key!.toString())).size).toBe(total + 1_000);
      expect(out.some((r) => r.value!.includes(Buffer.from(canary)))).toBe(false);

      w.child.kill('SIGTERM');
      const last = await w;
      expect(last.code, last.stderr.slice(-2000)).toBe(0);
      expect(last.stderr + term.stderr).not.toContain(canary);
    } finally {
      await forget(ctx, name);
      ctx.close();
    }
  }, 240_000);

  it('a halted partition fails its task with the error code and offset; the others complete', async () => {
    const source = await createTopic('bf-halt', 3, { 'retention.ms': '-1' });
    const target = uniqueName('bf-halt-enc');
    created.push(source, target);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const { records } = customers(300, 3, schemaId);
    await produceRaw(source, records);
    await produceRaw(source, [{ key: Buffer.from('bad'), value: Buffer.from('not confluent framing'), partition: 1 }]);

    const name = uniqueName('bf-halt').toLowerCase();
    const jobFile = writeJobFile(backfillJobYaml({ name, source, target, kek: uniqueName('kek') }));
    expect((await recrypt(['backfill', 'submit', jobFile])).code).toBe(0);
    const ctx = context();
    try {
      const w = spawnWorker(jobFile, 'halt-1', 3);
      children.push(w);
      const final = await waitForStatus(ctx, name, (s) => (s.counts.completed ?? 0) + (s.counts.failed ?? 0) === 3, 60_000, 'tasks to settle');
      expect(final.counts).toEqual({ completed: 2, failed: 1 });
      const failed = final.tasks.find((t) => t.state === 'failed')!;
      expect(failed.task.partition).toBe(1);
      expect(failed.failedReason).toMatch(new RegExp(`^[A-Z_]+ at offset 100 of ${source}/1$`));
      expect(final.state).toBe('running');

      const status = await recrypt(['backfill', 'status', name]);
      expect(status.code).toBe(3);
      expect(status.stdout).toMatch(/FAILED: [A-Z_]+ at offset 100/);
      w.child.kill('SIGTERM');
      expect((await w).code).toBe(0);
    } finally {
      await forget(ctx, name);
      ctx.close();
    }
  }, 120_000);

  it('verify exits non-zero when source, target and DLQ do not add up', async () => {
    const source = await createTopic('bf-verify', 2);
    const target = await createTopic('bf-verify-enc', 2);
    created.push(source, target);
    await produceRaw(source, Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: `v${i}`, partition: i % 2 })));
    // Partition 1 of the target lacks a record.
    await produceRaw(target, Array.from({ length: 9 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: `e${i}`, partition: i % 2 })));
    const name = uniqueName('bf-verify').toLowerCase();
    const ctx = context();
    try {
      await new BackfillStore(ctx.redis).create({
        job: name, specDigest: 'x', createdAt: Date.now(), relaxOrdering: false, continueStreaming: false, taskRecords: 10,
        partitions: [0, 1].map((partition) => ({ topic: source, partition, targetTopic: target, from: 0, to: 5, targetStart: 0 })),
        tasks: [],
      });
      const result = await recrypt(['backfill', 'verify', name]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('MISMATCH');
      expect(result.stdout).toMatch(new RegExp(`${source}/1 +\\[0, 5\\) +5 +4 +0  <- does not add up`));
      expect(result.stdout).not.toMatch(new RegExp(`${source}/0 .*does not add up`));
    } finally {
      await new BackfillStore(ctx.redis).clear(name);
      ctx.close();
    }
  });
});
