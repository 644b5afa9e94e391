// A protobuf target has one compiled write side per message. The driver refreshes the write DEK of every
// side once per batch: a DEK it had to fetch mid-batch for one side must not stay pinned there after
// the DEK rotates (found in review: the protobuf side kept writing with v1 after the rotation to v2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher } from '../../../src/crypto/index.js';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { RecordTransformer, SchemaStore } from '../../../src/engine/index.js';
import { createCodec } from '../../../src/formats/index.js';
import type { DekManager, WriteDek } from '../../../src/keys/index.js';
import { SchemaRegistryClient } from '../../../src/registry/index.js';
import type { RegisteredSchema } from '../../../src/registry/types.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/util/records.js';
import { encodeFrame } from '../../../src/wire/index.js';

const PROTO = 'syntax = "proto3";\npackage t;\nimport "confluent/meta.proto";\nmessage M { string a = 1 [(confluent.field_meta).tags = "PII"]; }\n';
const RULES = { domainRules: [{ name: 'enc', kind: 'TRANSFORM' as const, mode: 'WRITEREAD' as const, type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k', 'encrypt.dek.expiry.days': '1' } }] };

let registry: DevRegistry;
let client: SchemaRegistryClient;
beforeAll(async () => {
  registry = await startDevRegistry({ port: 0, localSecret: 'unused' });
  client = new SchemaRegistryClient({ baseUrls: [registry.url], latestTtlMs: 0 });
});
afterAll(async () => registry.close());

describe('protobuf target: the write DEK rotates on every compiled side', () => {
  it('writes with the rotated DEK after a mid-batch write-DEK miss', async () => {
    const source = await client.register('rot-in-value', { schemaType: 'PROTOBUF', schema: PROTO });
    await client.register('rot-out-value', { schemaType: 'PROTOBUF', schema: PROTO, ruleSet: RULES });
    const schemas = new SchemaStore(client);
    const targetInfo = await client.getLatest('rot-out-value');
    const target = await schemas.adopt(targetInfo, 'rot-out-value');

    // A keys/ stand-in at the DEK boundary: the latest DEK version, and a cache that can lapse.
    let version = 1;
    let lapses = 0;
    const dekOf = (v: number): WriteDek => ({ version: v, cipher: createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, v)) });
    const keys = {
      peekWrite: () => (lapses > 0 ? (lapses--, undefined) : dekOf(version)),
      dekForWrite: async () => dekOf(version),
      peekRead: () => undefined,
      dekForRead: async () => { throw new Error('no read DEK in this test'); },
    } as unknown as DekManager;
    const transformer = new RecordTransformer({
      schemas, keys, mode: 'encrypt', subjectNameStrategy: 'topic',
      target: { schema: target, subject: 'rot-out-value', topicFor: () => 'rot-out' },
    });

    const sourceCodec = createCodec(await client.getLatest('rot-in-value'), new Map(), { messageIndexes: [0] });
    const record = (offset: number): SourceRecord => ({
      topic: 'rot-in', partition: 0, offset, key: null, headers: [], timestamp: 0,
      value: encodeFrame(source.id, sourceCodec.encode({ a: 'hello' }) as Buffer, [0]),
    });
    const versionOf = (out: ProcessedRecord | undefined, info: RegisteredSchema): number => {
      if (out === undefined || !('outputs' in out)) throw new Error('record not written');
      const value = out.outputs[0]!.value!;
      const decoded = createCodec(info, new Map(), { messageIndexes: [0] }).decode(value.subarray(6)) as { a: string };
      return Buffer.from(decoded.a, 'base64').readInt32BE(1); // the DEK version prefix (expiry on)
    };

    expect(versionOf((await transformer.process([record(0)]))[0], targetInfo)).toBe(1);
    lapses = 2; // keys/'s latest pointer lapses mid-batch: the driver fetches the write DEK for that side
    expect(versionOf((await transformer.process([record(1)]))[0], targetInfo)).toBe(1);
    version = 2; // the DEK expired and was rotated
    const rotated = await transformer.process([record(2), record(3)]);
    expect([versionOf(rotated[0], targetInfo), versionOf(rotated[1], targetInfo)]).toEqual([2, 2]);
  });
});
