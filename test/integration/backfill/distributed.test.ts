// The distributed backfill end to end on the real stack: 200,000 Customer records over 6 partitions,
// encrypted by two `recrypt worker` processes, one of them SIGKILLed twice mid-run and respawned. The
// backfill completes, the verification adds up, the target (read_committed) holds every source record
// exactly once and in source order per partition, Confluent's deserializer decrypts a sample, and Redis
// holds no record data or key material.
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { QUEUE_PREFIX, type BackfillStatus, type VerifyReport } from '../../../src/backfill/index.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { officialSerdes, register } from '../helpers/csfle.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { backfillJobYaml, context, dumpRedis, forget, spawnWorker, waitForStatus } from './harness.js';

const RECORDS = Number(process.env.BACKFILL_RECORDS ?? 200_000);
const PARTITIONS = 6;
const created: string[] = [];
const children: Array<ReturnType<typeof spawnWorker>> = [];
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  if (created.length) await deleteTopics(...created);
});

/** The names of workers holding an active task right now (BullMQ's processedBy). */
async function activeWorkers(job: string): Promise<string[]> {
  const queue = new Queue(job, { connection: { url: stack.redisUrl }, prefix: QUEUE_PREFIX });
  try {
    return (await queue.getJobs(['active'])).map((j) => j.processedBy ?? '');
  } finally {
    await queue.close();
  }
}

describe('recrypt backfill with two workers, one killed twice', () => {
  it(`encrypts ${RECORDS} records exactly once`, async () => {
    const t0 = Date.now();
    const source = await createTopic('bf-customers', PARTITIONS, { 'retention.ms': '-1' });
    const target = uniqueName('bf-customers-enc');
    created.push(source, target);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const { people, records, canary } = customers(RECORDS, PARTITIONS, schemaId);
    for (let i = 0; i < records.length; i += 25_000) await produceRaw(source, records.slice(i, i + 25_000));
    const produced = Date.now();

    const name = uniqueName('bf').toLowerCase();
    const kek = uniqueName('bf-kek');
    // Small transactions keep the run long enough for two kills on a fast machine.
    const jobFile = writeJobFile(backfillJobYaml({ name, source, target, kek, batchSize: 250 }));
    const submitted = await recrypt(['backfill', 'submit', jobFile]);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toContain(`${PARTITIONS} tasks over ${PARTITIONS} partitions, ${RECORDS} offsets`);

    const ctx = context();
    try {
      const started = Date.now();
      const b = spawnWorker(jobFile, 'worker-b');
      let a = spawnWorker(jobFile, 'worker-a1');
      children.push(a, b);
      const kills: Array<{ at: number; done: number }> = [];
      // Kill worker A twice, each time while it holds tasks that made progress; respawn it at once.
      for (let k = 1; k <= 2; k++) {
        const me = `worker-a${k}`;
        let seen: BackfillStatus | undefined;
        await waitForStatus(ctx, name, (s) => {
          seen = s;
          return s.done > 0 && s.tasks.some((t) => t.state === 'active' && t.committed > t.task.from);
        }, 90_000, `progress before kill ${k}`);
        const deadline = Date.now() + 60_000;
        while (!(await activeWorkers(name)).includes(me) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        // Let it commit a few transactions of its own first.
        await new Promise((r) => setTimeout(r, 500));
        if (!(await activeWorkers(name)).includes(me)) break;
        a.child.kill('SIGKILL');
        await a;
        kills.push({ at: Date.now() - started, done: seen?.done ?? 0 });
        a = spawnWorker(jobFile, `worker-a${k + 1}`);
        children.push(a);
      }
      expect(kills).toHaveLength(2);

      const final = await waitForStatus(ctx, name, (s) => s.state === 'completed' || s.tasks.some((t) => t.state === 'failed'), 180_000, 'completion');
      const finishedAt = Date.now();
      expect(final.tasks.filter((t) => t.state === 'failed')).toEqual([]);
      expect(final.state).toBe('completed');

      // Verification: stored at the finish and recomputed by the command.
      expect(final.report?.ok).toBe(true);
      const verified = await recrypt(['backfill', 'verify', name, '--json']);
      expect(verified.code, verified.stderr).toBe(0);
      const report = JSON.parse(verified.stdout) as VerifyReport;
      expect(report).toMatchObject({ ok: true, source: RECORDS, target: RECORDS, dlq: 0 });
      expect(report.partitions).toHaveLength(PARTITIONS);

      const status = await recrypt(['backfill', 'status', name]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain('completed');
      expect(status.stdout).toContain('verification of backfill');

      // Stop the workers gracefully: SIGTERM exits 0.
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.code, ra.stderr.slice(-2000)).toBe(0);
      expect(rb.code, rb.stderr.slice(-2000)).toBe(0);
      for (const r of [ra, rb, submitted, verified, status]) {
        expect(r.stderr).not.toContain(canary);
        expect(r.stdout).not.toContain(canary);
      }

      // The target, read_committed: every source record exactly once, in source order per partition.
      const out = await consumeRaw(target, { count: RECORDS, idleMs: 60_000 });
      expect(out).toHaveLength(RECORDS);
      const lastIdOf = new Map<number, number>();
      const keys = new Set<string>();
      for (const r of out) {
        const id = Number(r.key!.toString().slice(1));
        keys.add(r.key!.toString());
        expect(r.partition).toBe(id % PARTITIONS);
        expect(id).toBeGreaterThan(lastIdOf.get(r.partition) ?? -1);
        lastIdOf.set(r.partition, id);
      }
      expect(keys.size).toBe(RECORDS);
      const needle = Buffer.from(canary);
      expect(out.filter((r) => r.value!.includes(needle))).toHaveLength(0);
      const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
      for (const r of out.filter((_, i) => i % Math.floor(RECORDS / 50) === 0)) {
        const id = Number(r.key!.toString().slice(1));
        expect(await official.deserializer.deserialize(target, r.value!)).toEqual(people[id]);
        expect(r.headers.trace?.toString()).toBe(`t${id}`);
      }

      // Redis: names, offsets and counts only.
      const dump = await dumpRedis(ctx.redis, name);
      expect(dump.size).toBeGreaterThan(0);
      const forbidden = [canary, '@example.com', stack.localSecret, kek];
      for (const [key, value] of dump) {
        for (const f of forbidden) {
          expect(key.includes(f), `${key} holds ${f}`).toBe(false);
          expect(value.includes(f), `${key} holds ${f}`).toBe(false);
        }
      }

      console.log(JSON.stringify({
        records: RECORDS, partitions: PARTITIONS, produceMs: produced - t0, backfillMs: finishedAt - started,
        recordsPerSecond: Math.round(RECORDS / ((finishedAt - started) / 1000)), kills,
      }));
    } finally {
      await forget(ctx, name);
      ctx.close();
    }
  }, 360_000);
});
