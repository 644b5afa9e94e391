// Shared pieces of the backfill integration tests: job files, worker processes, status polling through
// the backfill module itself (fast), and a full dump of a backfill's Redis keys.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { BackfillStore, backfillStatus, openQueue, redisClient, type BackfillContext, type BackfillStatus } from '../../../src/backfill/index.js';
import { kafkaConnectionFromEnv } from '../../../src/service/config.js';
import { recrypt } from '../helpers/cli.js';
import { stack } from '../helpers/stack.js';

export interface JobOptions {
  name: string;
  source: string;
  target: string;
  kek: string;
  relaxOrdering?: boolean;
  taskRecords?: number;
  continueStreaming?: boolean;
  batchSize?: number;
}

export function backfillJobYaml(o: JobOptions): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${o.name}
spec:
  mode: encrypt
  source:
    topic: ${o.source}
    startAt: earliest
  target:
    topic: ${o.target}
    createTopic: true
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${o.kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: backfill-key
        onFailure: ERROR,ERROR
  processing:
    batchSize: ${o.batchSize ?? 2000}
  backfill:
    relaxOrdering: ${o.relaxOrdering ?? false}${o.taskRecords !== undefined || o.relaxOrdering ? `
    taskRecords: ${o.taskRecords ?? 1000000}` : ''}
    continueStreaming: ${o.continueStreaming ?? false}
`;
}

/** Fast lock expiry and stall checks so a killed worker's tasks move on within seconds. */
export const WORKER_ENV = {
  RECRYPT_BACKFILL_LOCK_MS: '6000',
  RECRYPT_BACKFILL_STALLED_INTERVAL_MS: '2000',
  RECRYPT_BACKFILL_PROGRESS_MS: '1000',
  RECRYPT_BACKFILL_RETRY_MS: '1000',
};

export function spawnWorker(jobFile: string, name: string, concurrency = 3, env: NodeJS.ProcessEnv = {}) {
  return recrypt(['worker', jobFile, '--concurrency', String(concurrency)], {
    env: { ...WORKER_ENV, POD_NAME: name, ...env }, timeoutMs: 600_000,
  });
}

export function context(): BackfillContext & { close(): void } {
  const redis = redisClient(stack.redisUrl);
  return { connection: kafkaConnectionFromEnv(process.env), redisUrl: stack.redisUrl, redis, close: () => redis.disconnect() };
}

export async function waitForStatus(ctx: BackfillContext, job: string, until: (s: BackfillStatus) => boolean, timeoutMs: number, what: string): Promise<BackfillStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: BackfillStatus | undefined;
  while (Date.now() < deadline) {
    last = await backfillStatus(ctx, job);
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify({ state: last?.state, done: last?.done, total: last?.total, counts: last?.counts })}`);
}

/** Every key and value a backfill (plan, state, progress, queue) holds in Redis, as text. */
export async function dumpRedis(redis: Redis, job: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const pattern of [`recrypt:backfill:${job}:*`, `recrypt:queue:${job}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let value: unknown;
        switch (type) {
          case 'string': value = await redis.getBuffer(key); break;
          case 'hash': value = await redis.hgetallBuffer(key); break;
          case 'set': value = await redis.smembersBuffer(key); break;
          case 'list': value = await redis.lrangeBuffer(key, 0, -1); break;
          case 'zset': value = await redis.zrange(key, '0', '-1', 'WITHSCORES'); break;
          case 'stream': value = await redis.xrange(key, '-', '+'); break;
          default: value = `<${type}>`;
        }
        out.set(key, typeof value === 'string' ? value : JSON.stringify(value, (_k, v: unknown) => {
          const b = v as { type?: string; data?: number[] };
          return b && b.type === 'Buffer' && Array.isArray(b.data) ? Buffer.from(b.data).toString('latin1') : v;
        }));
      }
    } while (cursor !== '0');
  }
  return out;
}

/** Removes a finished test backfill's keys (plan, state, progress, queue) from Redis. */
export async function forget(ctx: BackfillContext, job: string): Promise<void> {
  const queue = openQueue(ctx.redisUrl, job);
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  await new BackfillStore(ctx.redis).clear(job);
}

/** A TCP port nothing listens on right now (the OS picked it and it was closed again). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of the test's own on `port` (never the shared one on 6379), ready to answer. `args` are
 * extra server options, e.g. ['--requirepass', 'x'] (then `password` is what the probe uses).
 */
export async function startRedis(port: number, dir: string, args: string[] = [], password?: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', ...args], { stdio: 'ignore' });
  const probe = redisClient(`redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`);
  try {
    for (let i = 0; i < 100; i++) {
      if (await probe.ping().then(() => true, () => false)) return child;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    probe.disconnect();
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}
