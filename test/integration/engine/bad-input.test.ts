// Bad input through the engine (issue 3, "Bad input"): each case halts the record with a stable code,
// and nothing the engine reports carries a record value. An unreachable registry is transient: the
// batch throws (the loop retries it) instead of halting.
import avro from 'avsc';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessedRecord } from '../../../src/kafka/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { errorText, haltOf } from './harness.js';

const CANARY = 'CANARY-7f3e-secret';
const schema = JSON.stringify({
  type: 'record', name: 'Account', namespace: 'bank',
  fields: [
    { name: 'owner', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'iban', type: ['null', 'bytes'], default: null, 'confluent:tags': ['PII'] },
    { name: 'note', type: 'string' },
  ],
});
const accountType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);

let registry: TestRegistry;
let encTopic: string;
let plainTopic: string;
let encId: number;
beforeAll(async () => {
  registry = await startTestRegistry();
  encTopic = uniqueName('enc');
  plainTopic = uniqueName('plain');
  encId = await register(registry.url, `${encTopic}-value`, {
    schemaType: 'AVRO', schema, ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.expiry.days': '30' })] },
  });
  await register(registry.url, `${plainTopic}-value`, { schemaType: 'AVRO', schema });
});
afterAll(async () => { await registry.close(); });

function framed(id: number, payload: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeInt32BE(id, 1);
  return Buffer.concat([prefix, payload]);
}

function expectSafeHalt(result: ProcessedRecord | undefined, code: string): RecryptError {
  const halt = haltOf(result);
  expect(halt.code).toBe(code);
  expect(halt.transient).toBe(false);
  const text = errorText(halt);
  expect(text).not.toContain(CANARY);
  expect(text).not.toContain('CANARY');
  return halt;
}

async function decryptOne(value: Buffer): Promise<ProcessedRecord | undefined> {
  const { transformer } = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic });
  return (await transformer.process([sourceRecord(encTopic, value)]))[0];
}

async function officialRecord(): Promise<Buffer> {
  return officialSerdes(registry.url, 'AVRO').serializer.serialize(encTopic, { owner: CANARY, iban: Buffer.from(CANARY), note: `note ${CANARY}` });
}

describe('bad input halts with a stable code and no values in the error', () => {
  it('truncated frame: WIRE_TRUNCATED', async () => {
    expectSafeHalt(await decryptOne(Buffer.from([0, 0, 0])), 'WIRE_TRUNCATED');
  });

  it('unknown magic byte: WIRE_UNKNOWN_MAGIC', async () => {
    expectSafeHalt(await decryptOne(Buffer.concat([Buffer.from([7, 0, 0, 0, 1]), Buffer.from(CANARY)])), 'WIRE_UNKNOWN_MAGIC');
  });

  it('garbled payload under a valid schema id: FORMAT_DECODE', async () => {
    expectSafeHalt(await decryptOne(framed(encId, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, ...Buffer.from(CANARY)]))), 'FORMAT_DECODE');
  });

  it('truncated payload (a real record cut short): FORMAT_DECODE', async () => {
    const record = await officialRecord();
    expectSafeHalt(await decryptOne(record.subarray(0, record.length - 10)), 'FORMAT_DECODE');
  });

  it('unknown schema id: ENGINE_UNKNOWN_SCHEMA', async () => {
    expectSafeHalt(await decryptOne(framed(987_654, accountType.toBuffer({ owner: CANARY, iban: null, note: CANARY }))), 'ENGINE_UNKNOWN_SCHEMA');
  });

  it('a string field that is not base64: CRYPTO_BAD_CIPHERTEXT', async () => {
    const bytes = framed(encId, accountType.toBuffer({ owner: `${CANARY} not base64!`, iban: null, note: 'n' }));
    expectSafeHalt(await decryptOne(bytes), 'CRYPTO_BAD_CIPHERTEXT');
  });

  it('tampered ciphertext (string and bytes fields): CRYPTO_DECRYPT', async () => {
    const record = await officialRecord();
    const decoded = accountType.fromBuffer(record.subarray(5)) as { owner: string; iban: Buffer; note: string };
    const ownerCt = Buffer.from(decoded.owner, 'base64');
    ownerCt[ownerCt.length - 1]! ^= 0x01;
    expectSafeHalt(await decryptOne(framed(encId, accountType.toBuffer({ ...decoded, owner: ownerCt.toString('base64') }))), 'CRYPTO_DECRYPT');
    const ibanCt = Buffer.from(decoded.iban);
    ibanCt[10]! ^= 0x80;
    expectSafeHalt(await decryptOne(framed(encId, accountType.toBuffer({ ...decoded, iban: ibanCt }))), 'CRYPTO_DECRYPT');
  });

  it('a DEK version that does not exist (prefix 0x00 00000063): DEK_NOT_FOUND', async () => {
    const record = await officialRecord(); // makes sure the KEK and DEK version 1 exist
    const decoded = accountType.fromBuffer(record.subarray(5)) as { owner: string; iban: Buffer; note: string };
    const ct = Buffer.from(decoded.owner, 'base64');
    expect(ct.subarray(0, 5).equals(Buffer.from([0, 0, 0, 0, 1]))).toBe(true);
    const forged = Buffer.concat([Buffer.from([0, 0, 0, 0, 0x63]), ct.subarray(5)]);
    const halt = expectSafeHalt(await decryptOne(framed(encId, accountType.toBuffer({ ...decoded, owner: forged.toString('base64') }))), 'DEK_NOT_FOUND');
    expect(halt.message).toContain('99');
  });

  it('a missing version prefix where the rule has expiry: CRYPTO_BAD_CIPHERTEXT', async () => {
    const record = await officialRecord();
    const decoded = accountType.fromBuffer(record.subarray(5)) as { owner: string; iban: Buffer; note: string };
    const ct = Buffer.from(decoded.owner, 'base64');
    ct[0] = 0x05;
    expectSafeHalt(await decryptOne(framed(encId, accountType.toBuffer({ ...decoded, owner: ct.toString('base64') }))), 'CRYPTO_BAD_CIPHERTEXT');
  });

  it('a tagged int field on write: RULE_UNSUPPORTED_FIELD_TYPE', async () => {
    const target = uniqueName('enc');
    const source = uniqueName('plain');
    const withInt = JSON.stringify({
      type: 'record', name: 'Person', fields: [
        { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
        { name: 'age', type: 'int', 'confluent:tags': ['PII'] },
      ],
    });
    await register(registry.url, `${target}-value`, { schemaType: 'AVRO', schema: withInt, ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'))] } });
    await register(registry.url, `${source}-value`, { schemaType: 'AVRO', schema: withInt });
    const plainBytes = await officialSerdes(registry.url, 'AVRO').serializer.serialize(source, { name: CANARY, age: 41 });
    const { transformer } = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${target}-value`, targetTopic: target });
    const halt = expectSafeHalt((await transformer.process([sourceRecord(source, plainBytes)]))[0], 'RULE_UNSUPPORTED_FIELD_TYPE');
    expect(halt.message).toContain('age');
    // The official serializer refuses the same record.
    await expect(officialSerdes(registry.url, 'AVRO').serializer.serialize(target, { name: CANARY, age: 41 })).rejects.toThrow();
  });
});

describe('transient failures', () => {
  it('an unreachable registry makes the batch throw a transient RecryptError, not a halt', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const { transformer } = await recryptEngine(registry.url, {
      mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic, engineUrl: `http://127.0.0.1:${closed}`,
    });
    const record = await officialRecord();
    const err = await transformer.process([sourceRecord(encTopic, record)]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RecryptError);
    expect((err as RecryptError).transient).toBe(true);
    expect((err as RecryptError).code).toBe('REGISTRY_UNAVAILABLE');
    expect(errorText(err)).not.toContain('CANARY');
  });
});
