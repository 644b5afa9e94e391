/**
 * The backfill's plan and state in Redis, beside its BullMQ queue. Values are JSON of the types in
 * types.ts or plain numbers: names, offsets and counts only.
 */
import type { Redis } from 'ioredis';
import { RecryptError } from '../util/errors.js';
import { stateKeys } from './names.js';
import type { BackfillPlan, BackfillState, TaskProgress, VerifyReport } from './types.js';

export class BackfillStore {
  constructor(private readonly redis: Redis) {}

  async plan(job: string): Promise<BackfillPlan | null> {
    const raw = await this.redis.get(stateKeys(job).plan);
    return raw ? (JSON.parse(raw) as BackfillPlan) : null;
  }

  async requirePlan(job: string): Promise<BackfillPlan> {
    const plan = await this.plan(job);
    if (!plan) throw new RecryptError('BACKFILL_STATE', `no backfill named ${job} in Redis`);
    return plan;
  }

  /** Replaces any earlier backfill of this job: plan, state, progress, done set and report. */
  async create(plan: BackfillPlan): Promise<void> {
    const keys = stateKeys(plan.job);
    await this.clear(plan.job);
    await this.redis.multi()
      .set(keys.plan, JSON.stringify(plan))
      .set(keys.state, 'running')
      .exec();
  }

  async clear(job: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, stale] = await this.redis.scan(cursor, 'MATCH', stateKeys(job).pattern, 'COUNT', 500);
      cursor = next;
      if (stale.length) await this.redis.del(...stale);
    } while (cursor !== '0');
  }

  async state(job: string): Promise<BackfillState | null> {
    return (await this.redis.get(stateKeys(job).state)) as BackfillState | null;
  }

  async setState(job: string, state: BackfillState): Promise<void> {
    await this.redis.set(stateKeys(job).state, state);
  }

  /** Moves from one of `from` to `to` atomically; false when the state was something else. */
  async transition(job: string, from: readonly BackfillState[], to: BackfillState): Promise<boolean> {
    const script = `local s = redis.call('GET', KEYS[1])
for i = 2, #ARGV do if s == ARGV[i] then redis.call('SET', KEYS[1], ARGV[1]) return 1 end end
return 0`;
    return (await this.redis.eval(script, 1, stateKeys(job).state, to, ...from)) === 1;
  }

  async writeProgress(job: string, id: string, progress: { committed: number; rate: number; written: number; dlq: number; halted?: { offset: number; code: string } }): Promise<void> {
    const key = stateKeys(job).task(id);
    const fields: Record<string, string | number> = {
      committed: progress.committed, rate: Math.round(progress.rate), updatedAt: Date.now(),
    };
    if (progress.halted) {
      fields.haltedOffset = progress.halted.offset;
      fields.haltedCode = progress.halted.code;
    }
    const tx = this.redis.multi().hset(key, fields);
    if (progress.written) tx.hincrby(key, 'written', progress.written);
    if (progress.dlq) tx.hincrby(key, 'dlq', progress.dlq);
    await tx.exec();
  }

  async progress(job: string, ids: readonly string[]): Promise<Map<string, TaskProgress>> {
    const out = new Map<string, TaskProgress>();
    if (ids.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(stateKeys(job).task(id));
    const results = (await pipeline.exec()) ?? [];
    ids.forEach((id, i) => {
      const h = (results[i]?.[1] ?? {}) as Record<string, string>;
      if (h.committed === undefined) return;
      out.set(id, {
        committed: Number(h.committed), rate: Number(h.rate ?? 0), written: Number(h.written ?? 0), dlq: Number(h.dlq ?? 0),
        updatedAt: Number(h.updatedAt ?? 0),
        ...(h.haltedCode !== undefined ? { halted: { offset: Number(h.haltedOffset), code: h.haltedCode } } : {}),
      });
    });
    return out;
  }

  /** Records a finished task; returns how many tasks are done. */
  async markDone(job: string, id: string): Promise<number> {
    const keys = stateKeys(job);
    const [, count] = (await this.redis.multi().sadd(keys.done, id).scard(keys.done).exec()) ?? [];
    return Number(count?.[1] ?? 0);
  }

  async doneTasks(job: string): Promise<Set<string>> {
    return new Set(await this.redis.smembers(stateKeys(job).done));
  }

  async saveReport(report: VerifyReport): Promise<void> {
    await this.redis.set(stateKeys(report.job).report, JSON.stringify(report));
  }

  async report(job: string): Promise<VerifyReport | null> {
    const raw = await this.redis.get(stateKeys(job).report);
    return raw ? (JSON.parse(raw) as VerifyReport) : null;
  }
}
