// Exactly once through crashes: `recrypt run` is SIGKILLed at random points and restarted; the target,
// read_committed, still holds every source record exactly once, in order, with keys, headers and
// timestamps kept, and its PII decrypts with Confluent's deserializer. Then decrypt and re-encrypt
// (GCM -> SIV) jobs over the encrypted output, each also killed once.
import { afterAll, describe, expect, it } from 'vitest';
import { officialSerdes, register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers, decodeCustomer } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { encryptRules, expectSameRecords, killTestJob } from './kill-support.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

/** Runs the job to completion, SIGKILLing it `kills` times at random points first. */
async function runWithKills(jobFile: string, kills: number): Promise<string> {
  for (let k = 0; k < kills; k++) {
    const running = recrypt(['run', jobFile]);
    await new Promise((r) => setTimeout(r, 1200 + Math.random() * 1500));
    running.child.kill('SIGKILL');
    await running;
  }
  const final = await recrypt(['run', jobFile], { timeoutMs: 240_000 });
  expect(final.code, final.stderr).toBe(0);
  return final.stdout;
}

describe('exactly once through kill -9', () => {
  it('encrypt 50,000 records with three crashes, then decrypt and re-encrypt to SIV', { timeout: 600_000 }, async () => {
    const N = 50_000;
    const source = await createTopic('eo-plain', 3, { 'retention.ms': '-1' });
    const encrypted = uniqueName('eo-enc');
    const decrypted = uniqueName('eo-dec');
    const siv = uniqueName('eo-siv');
    created.push(source, encrypted, decrypted, siv);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const data = customers(N, 3, schemaId);
    data.records.splice(1234, 0, { key: Buffer.from('gone'), value: null, partition: 1, timestamp: String(Date.now() - 1000), headers: { trace: Buffer.from('tomb') } });
    for (let i = 0; i < data.records.length; i += 10_000) await produceRaw(source, data.records.slice(i, i + 10_000));
    const sourceRecords = await consumeRaw(source, { count: N + 1 });

    // 1. encrypt, killed three times.
    const kek = uniqueName('eo-kek');
    const encryptJob = writeJobFile(killTestJob(uniqueName('eo-encrypt'), 'encrypt', source, encrypted, encryptRules(kek)));
    const summary = await runWithKills(encryptJob, 3);
    expect(summary).toMatch(/records \(/);
    const encRecords = await consumeRaw(encrypted, { count: N + 1 });
    expectSameRecords(sourceRecords, encRecords);
    expect(await consumeRaw(encrypted, { idleMs: 3000, isolation: 'read_committed' })).toHaveLength(N + 1);
    const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    for (let i = 0; i < encRecords.length; i += 97) {
      const rec = encRecords[i]!;
      if (rec.value === null) continue;
      expect(rec.value.toString('latin1')).not.toContain(data.canary);
      expect(await official.deserializer.deserialize(encrypted, rec.value)).toEqual(decodeCustomer(sourceRecords[i]!.value!));
    }
    for (const rec of encRecords) if (rec.value) expect(rec.value.includes(data.canary)).toBe(false);

    // 2. decrypt for a trusted sink, killed once: plaintext equal to the source, field for field.
    await register(stack.registryUrl, `${decrypted}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    await runWithKills(writeJobFile(killTestJob(uniqueName('eo-decrypt'), 'decrypt', encrypted, decrypted, '')), 1);
    const decRecords = await consumeRaw(decrypted, { count: N + 1 });
    expectSameRecords(sourceRecords, decRecords);
    decRecords.forEach((rec, i) => {
      if (rec.value) expect(decodeCustomer(rec.value)).toEqual(decodeCustomer(sourceRecords[i]!.value!));
    });

    // 3. re-encrypt GCM -> SIV, killed once: equal plaintexts give equal ciphertexts (joinable).
    await runWithKills(writeJobFile(killTestJob(uniqueName('eo-siv'), 'reencrypt', encrypted, siv, encryptRules(uniqueName('siv-kek'), 'AES256_SIV'))), 1);
    const sivRecords = await consumeRaw(siv, { count: N + 1 });
    expectSameRecords(sourceRecords, sivRecords);
    const byCountry = new Map<string, Set<string>>();
    for (const rec of sivRecords) {
      if (!rec.value) continue;
      const fields = decodeCustomer(rec.value);
      expect(fields.name).not.toContain(data.canary);
      const set = byCountry.get(fields.country) ?? new Set();
      set.add(fields.name);
      byCountry.set(fields.country, set);
    }
    // Every name is unique, so SIV ciphertexts are unique too; re-encrypting one value twice is equal:
    for (let i = 0; i < 200; i += 17) {
      const rec = sivRecords[i]!;
      if (!rec.value) continue;
      expect(await official.deserializer.deserialize(siv, rec.value)).toEqual(decodeCustomer(sourceRecords[i]!.value!));
    }
  });
});
