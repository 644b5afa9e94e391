// A Redis restart in the middle of a backfill, longer than the lock duration: locks lapse, the stalled
// check puts tasks back, re-runs of a task reuse its transactional id (fencing the old run) and resume
// from the Kafka checkpoint. The backfill completes without losing or duplicating a record. Uses its own
// redis-server (append-only file, like the stack's) so the shared one is never restarted.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisClient, verify, type BackfillContext } from '../../../src/backfill/index.js';
import { kafkaConnectionFromEnv } from '../../../src/service/config.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { register } from '../helpers/csfle.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { backfillJobYaml, freePort, spawnWorker, startRedis as startOwnRedis, waitForStatus } from './harness.js';

const created: string[] = [];
const children: Array<ReturnType<typeof spawnWorker>> = [];
let redis: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'recrypt-redis-'));
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  redis?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  if (created.length) await deleteTopics(...created);
});

function startRedis(port: number): Promise<ChildProcess> {
  return startOwnRedis(port, dir);
}

describe('backfill through a Redis restart', () => {
  it('completes without losing or duplicating a record', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    redis = await startRedis(port);
    const env = { REDIS_URL: url };

    const total = 60_000;
    const source = await createTopic('bf-redis', 3, { 'retention.ms': '-1' });
    const target = uniqueName('bf-redis-enc');
    created.push(source, target);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    await produceRaw(source, customers(total, 3, schemaId).records);
    const name = uniqueName('bf-redis').toLowerCase();
    const jobFile = writeJobFile(backfillJobYaml({ name, source, target, kek: uniqueName('kek'), batchSize: 100 }));
    const submitted = await recrypt(['backfill', 'submit', jobFile], { env });
    expect(submitted.code, submitted.stderr).toBe(0);

    const client = redisClient(url);
    client.on('error', () => undefined);
    const ctx: BackfillContext = { connection: kafkaConnectionFromEnv(process.env), redisUrl: url, redis: client };
    try {
      children.push(spawnWorker(jobFile, 'redis-a', 2, env), spawnWorker(jobFile, 'redis-b', 2, env));
      await waitForStatus(ctx, name, (s) => s.tasks.filter((t) => t.state === 'active' && t.committed > t.task.from).length >= 2, 60_000, 'progress');

      // Down for longer than the 6 s lock: every lock lapses while the pipelines keep committing.
      redis.kill('SIGTERM');
      await new Promise((r) => redis!.once('exit', r));
      await new Promise((r) => setTimeout(r, 9_000));
      redis = await startRedis(port);

      const final = await waitForStatus(ctx, name, (s) => s.state === 'completed' || (s.counts.failed ?? 0) > 0, 120_000, 'completion');
      expect(final.counts).toEqual({ completed: 3 });
      const again = await verify(ctx, name);
      const out = await consumeRaw(target, { count: total, idleMs: 60_000 });
      expect(final.report).toMatchObject({ ok: true, source: total, target: total });
      expect(again.ok).toBe(true);

      expect(out).toHaveLength(total);
      expect(new Set(out.map((r) => r.key!.toString())).size).toBe(total);
      for (const c of children) c.child.kill('SIGTERM');
      const logs = [];
      for (const c of children) {
        const r = await c;
        expect(r.code).toBe(0);
        logs.push(r.stderr);
      }
      const events = logs.join('').split('\n').filter((l) => /task interrupted|stopping task|task done/.test(l)).map((l) => JSON.parse(l) as { msg: string; reason?: string; code?: string });
      console.log(JSON.stringify(events.map((e) => [e.msg, e.reason ?? e.code ?? ''])));
    } finally {
      client.disconnect();
    }
  }, 240_000);
});
