// The three cross-client vectors of CSFLE-NOTES section 7, run through recrypt's engine (not the crypto
// primitives alone): a fresh registry per vector so that topic1-value gets schema id 1, KEK kek1
// (local-kms, key id mykey, secret mysecret) and the vector's wrapped DEK registered as version 1.
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessedRecord } from '../../../src/kafka/types.js';
import { DekRegistryClient } from '../../../src/registry/index.js';
import type { DekAlgorithm } from '../../../src/registry/types.js';
import { encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';

const F1_SCHEMA = '{"name":"F1Schema","type":"record","fields":[{"name":"f1","type":"string","confluent:tags":["PII"]}]}';
const PLAINTEXT = 'hello world';

interface Vector {
  readonly algorithm: DekAlgorithm;
  readonly expiryDays?: string;
  readonly encryptedKeyMaterial: string;
  readonly messageHex: string;
  readonly field: string;
}

const A: Vector = {
  algorithm: 'AES256_GCM',
  encryptedKeyMaterial: '07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4=',
  messageHex: '0000000001687a67792f6a464e4d562f6546696c6148724d796542676461567a725230756447656f74573863412f4a616c37756b722b4d2f797a',
  field: 'zgy/jFNMV/eFilaHrMyeBgdaVzrR0udGeotW8cA/Jal7ukr+M/yz',
};
const B: Vector = {
  algorithm: 'AES256_SIV',
  encryptedKeyMaterial: 'YSx3DTlAHrmpoDChquJMifmPntBzxgRVdMzgYL82rgWBKn7aUSnG+WIu9ozBNS3y2vXd++mBtK07w4/W/G6w0da39X9hfOVZsGnkSvry/QRht84V8yz3dqKxGMOK5A==',
  messageHex: '0000000001484436597478726c426e6b545757394e3656626b3349496e6a57483831786d5968336b3464',
  field: 'D6YtxrlBnkTWW9N6Vbk3IInjWH81xmYh3k4d',
};
const C: Vector = {
  algorithm: 'AES256_GCM',
  expiryDays: '1',
  encryptedKeyMaterial: 'W/v6hOQYq1idVAcs1pPWz9UUONMVZW4IrglTnG88TsWjeCjxmtRQ4VaNe/I5dCfm2zyY9Cu0nqdvqImtUk4=',
  messageHex: '000000000178414141414141473448493662316e585058714c79473863494933354e4851736571715543642b49654c65465641654e705353336678506e4a3332413d',
  field: 'AAAAAAG4HI6b1nXPXqLyG8cII35NHQseqqUCd+IeLeFVAeNpSS3fxPnJ32A=',
};

let registry: TestRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

function output(result: ProcessedRecord | undefined): Buffer {
  if (result === undefined) throw new Error('no result');
  if (!('outputs' in result)) throw result.halt;
  return result.outputs[0]!.value!;
}

/** Fresh registry: topic1-value (id 1) with the vector's rule, kek1, and the vector's DEK as version 1. */
async function setUp(vector: Vector): Promise<string> {
  registry = await startTestRegistry();
  const url = registry.url;
  const params: Record<string, string> = { 'encrypt.dek.algorithm': vector.algorithm };
  if (vector.expiryDays !== undefined) params['encrypt.dek.expiry.days'] = vector.expiryDays;
  const id = await register(url, 'topic1-value', {
    schemaType: 'AVRO', schema: F1_SCHEMA, ruleSet: { domainRules: [encryptRule('encryptPII', 'kek1', params)] },
  });
  expect(id).toBe(1);
  const deks = new DekRegistryClient({ baseUrls: [url] });
  await deks.createKek({ name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
  const dek = await deks.createDek('kek1', {
    subject: 'topic1-value', version: 1, algorithm: vector.algorithm, encryptedKeyMaterial: vector.encryptedKeyMaterial,
  });
  expect(dek.version).toBe(1);
  // The plain subject: same record, no rules; registered second so it never takes id 1.
  const plainId = await register(url, 'plain1-value', { schemaType: 'AVRO', schema: F1_SCHEMA });
  expect(plainId).not.toBe(1);
  return url;
}

/** The field's ciphertext as it sits in the vector's message: after the 5-byte prefix, an Avro string. */
function avroStringAfterPrefix(message: Buffer): string {
  let len = 0;
  let shift = 0;
  let i = 5;
  for (;;) {
    const b = message[i++]!;
    len |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  const n = (len >>> 1) ^ -(len & 1);
  return message.subarray(i, i + n).toString('utf8');
}

async function decryptThroughEngine(vector: Vector): Promise<void> {
  const url = await setUp(vector);
  const message = Buffer.from(vector.messageHex, 'hex');
  expect(avroStringAfterPrefix(message)).toBe(vector.field);
  const { transformer } = await recryptEngine(url, { mode: 'decrypt', targetSubject: 'plain1-value', targetTopic: 'plain1' });
  const plain = output((await transformer.process([sourceRecord('topic1', message)]))[0]);
  const decoded = await officialSerdes(url, 'AVRO').deserializer.deserialize('plain1', plain);
  expect(decoded).toEqual({ f1: PLAINTEXT });
  expect(avroStringAfterPrefix(plain)).toBe(PLAINTEXT);
}

describe('CSFLE-NOTES section 7 vectors through the engine', () => {
  it('A (AES256_GCM): decrypts the message to "hello world"', async () => {
    await decryptThroughEngine(A);
  });

  it('C (AES256_GCM, expiry 1 day, version prefix): decrypts the message to "hello world"', async () => {
    await decryptThroughEngine(C);
  });

  it('B (AES256_SIV): decrypts, and encrypting {"f1":"hello world"} reproduces the message byte for byte', async () => {
    const url = await setUp(B);
    const expected = Buffer.from(B.messageHex, 'hex');
    const { transformer } = await recryptEngine(url, { mode: 'encrypt', targetSubject: 'topic1-value', targetTopic: 'topic1' });
    // The plain source record as a legacy producer wrote it, under the plain subject's id.
    const plainBytes = await officialSerdes(url, 'AVRO').serializer.serialize('plain1', { f1: PLAINTEXT });
    expect(plainBytes.readInt32BE(1)).not.toBe(1);
    const [first, second] = await transformer.process([sourceRecord('plain1', plainBytes, 0), sourceRecord('plain1', plainBytes, 1)]);
    expect(output(first).toString('hex')).toBe(B.messageHex);
    expect(output(second).equals(expected)).toBe(true);

    const decrypt = await recryptEngine(url, { mode: 'decrypt', targetSubject: 'plain1-value', targetTopic: 'plain1' });
    const plain = output((await decrypt.transformer.process([sourceRecord('topic1', expected)]))[0]);
    expect(avroStringAfterPrefix(plain)).toBe(PLAINTEXT);
    // And the official deserializer reads recrypt's bytes (they are the vector's).
    expect(await officialSerdes(url, 'AVRO').deserializer.deserialize('topic1', output(first))).toEqual({ f1: PLAINTEXT });
  });
});
