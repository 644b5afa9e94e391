// Throughput of a backfill with one and with two worker processes (BACKFILL_BENCH=1 to run; not part of
// the default suite). 200,000 Customer records over 6 partitions, encrypted; time from the workers'
// start to the finalized backfill (includes process start, job preparation and the verification).
import { afterAll, describe, expect, it } from 'vitest';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { register } from '../helpers/csfle.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { backfillJobYaml, context, forget, spawnWorker, waitForStatus } from './harness.js';

const RECORDS = Number(process.env.BACKFILL_RECORDS ?? 200_000);
const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

describe.skipIf(!process.env.BACKFILL_BENCH)('backfill throughput', () => {
  it('one vs two worker processes', async () => {
    const source = await createTopic('bf-bench', 6, { 'retention.ms': '-1' });
    created.push(source);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const { records } = customers(RECORDS, 6, schemaId);
    for (let i = 0; i < records.length; i += 25_000) await produceRaw(source, records.slice(i, i + 25_000));
    const results: Record<string, unknown> = {};
    for (const workers of [1, 2]) {
      const target = uniqueName('bf-bench-enc');
      created.push(target);
      const name = uniqueName(`bf-bench${workers}`).toLowerCase();
      const jobFile = writeJobFile(backfillJobYaml({ name, source, target, kek: uniqueName('kek') }));
      expect((await recrypt(['backfill', 'submit', jobFile])).code).toBe(0);
      const ctx = context();
      const started = Date.now();
      const procs = Array.from({ length: workers }, (_, i) => spawnWorker(jobFile, `bench-${workers}-${i}`, 6 / workers));
      let firstProgress = 0;
      const final = await waitForStatus(ctx, name, (s) => {
        if (!firstProgress && s.done > 0) firstProgress = Date.now();
        return s.state === 'completed';
      }, 300_000, 'completion');
      const ms = Date.now() - started;
      expect(final.report?.ok).toBe(true);
      results[`${workers} worker${workers > 1 ? 's' : ''}`] = {
        ms, recordsPerSecond: Math.round(RECORDS / (ms / 1000)),
        afterFirstCommitRecordsPerSecond: Math.round(RECORDS / ((Date.now() - firstProgress) / 1000)),
      };
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs);
      await forget(ctx, name);
      ctx.close();
    }
    console.log(JSON.stringify({ records: RECORDS, partitions: 6, ...results }));
  }, 600_000);
});
