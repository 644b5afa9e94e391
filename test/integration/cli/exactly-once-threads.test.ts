// Exactly once with the engine's worker threads on (processing.workers: 2, #24): `recrypt run` encrypts
// with the batches shared between the main thread and two threads, SIGKILLed at random points and
// restarted; the target, read_committed, holds every source record once, in source order per
// partition, with keys, headers and timestamps kept, and its PII decrypts with Confluent's
// deserializer. Then a decrypt job (threads on, killed once) gives the source values back. The final
// runs log how many records the threads transformed: they must have done some.
import { afterAll, describe, expect, it } from 'vitest';
import { officialSerdes, register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers, decodeCustomer } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { encryptRules, expectSameRecords, killTestJob } from './kill-support.js';

/** Two engine threads whatever the machine's CPUs (the default would be cores - 1). */
const WORKERS = '    workers: 2';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

/**
 * Runs the job to completion, SIGKILLing it `kills` times first; the records the threads did in the final
 * run. Each kill comes within 100 ms of the run's first committed batch (its debug line), not at a fixed
 * time: mid-work, and early enough that the final run still has most of the records (a quiet machine
 * finished them all before a timed kill, and the final run had nothing for its threads).
 */
async function runWithKills(jobFile: string, kills: number): Promise<number> {
  for (let k = 0; k < kills; k++) {
    const running = recrypt(['run', jobFile], { env: { LOG_LEVEL: 'debug' } });
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => { if (d.toString().includes('batch committed')) resolve(); };
      running.child.stdout!.on('data', onData);
      running.child.stderr!.on('data', onData);
      void running.then(() => resolve());
    });
    await new Promise((r) => setTimeout(r, Math.random() * 100));
    running.child.kill('SIGKILL');
    await running;
  }
  const final = await recrypt(['run', jobFile], { timeoutMs: 240_000 });
  expect(final.code, final.stderr).toBe(0);
  const line = `${final.stdout}\n${final.stderr}`.split('\n').find((l) => l.includes('engine worker threads'));
  expect(line, 'the run logs what its threads did').toBeDefined();
  return Number(/"done":(\d+)/.exec(line!)?.[1] ?? 'NaN');
}

describe('exactly once through kill -9, engine worker threads on', () => {
  it('encrypts 30,000 records with three crashes and decrypts them with one, two threads each', { timeout: 600_000 }, async () => {
    const N = 30_000;
    const source = await createTopic('eot-plain', 3, { 'retention.ms': '-1' });
    const encrypted = uniqueName('eot-enc');
    const decrypted = uniqueName('eot-dec');
    created.push(source, encrypted, decrypted);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const data = customers(N, 3, schemaId);
    for (let i = 0; i < data.records.length; i += 10_000) await produceRaw(source, data.records.slice(i, i + 10_000));
    const sourceRecords = await consumeRaw(source, { count: N });

    const threaded = await runWithKills(writeJobFile(killTestJob(uniqueName('eot-encrypt'), 'encrypt', source, encrypted, encryptRules(uniqueName('eot-kek')), WORKERS)), 3);
    const encRecords = await consumeRaw(encrypted, { count: N });
    expectSameRecords(sourceRecords, encRecords);
    expect(await consumeRaw(encrypted, { idleMs: 3000, isolation: 'read_committed' })).toHaveLength(N);
    for (const rec of encRecords) expect(rec.value!.includes(data.canary)).toBe(false);
    const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    for (let i = 0; i < encRecords.length; i += 101) {
      expect(await official.deserializer.deserialize(encrypted, encRecords[i]!.value!)).toEqual(decodeCustomer(sourceRecords[i]!.value!));
    }

    await register(stack.registryUrl, `${decrypted}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const threadedDecrypt = await runWithKills(writeJobFile(killTestJob(uniqueName('eot-decrypt'), 'decrypt', encrypted, decrypted, '', WORKERS)), 1);
    const decRecords = await consumeRaw(decrypted, { count: N });
    expectSameRecords(sourceRecords, decRecords);
    decRecords.forEach((rec, i) => expect(decodeCustomer(rec.value!)).toEqual(decodeCustomer(sourceRecords[i]!.value!)));
    // The final runs had work left after the kills (at least their last batches): some of it on the threads.
    expect(threaded + threadedDecrypt).toBeGreaterThan(0);
  });
});
