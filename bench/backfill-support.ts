/** The backfill benchmark's own plumbing: a backfill's Redis keys (the rest is in stack.ts, procs.ts and jobs.ts). */
import { BackfillStore, openQueue, type BackfillContext } from '../src/backfill/index.js';

/** Removes a backfill's queue and state from Redis. */
export async function forget(ctx: BackfillContext, job: string): Promise<void> {
  const queue = openQueue(ctx.redisUrl, job);
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  await new BackfillStore(ctx.redis).clear(job);
}
