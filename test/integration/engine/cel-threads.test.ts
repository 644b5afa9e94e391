// CEL and CEL_FIELD steps with the engine's worker threads (engine/threads/): the threads compile the
// same plans from the same schemas and rules, so a driver with a pool writes what the main thread alone
// writes, byte for byte (AES256_SIV targets), including records a CEL condition fails (NONE: written
// all the same; ERROR: the halt) and records a CEL_FIELD expression cannot evaluate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { EnginePool, RecordTransformer, SchemaStore } from '../../../src/engine/index.js';
import { createCodec } from '../../../src/formats/index.js';
import { DekManager } from '../../../src/keys/index.js';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import type { Rule } from '../../../src/model/index.js';
import { DekRegistryClient, SchemaRegistryClient } from '../../../src/registry/index.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/util/records.js';
import { encodeFrame } from '../../../src/wire/index.js';
import { encryptRule } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';

const SECRET = 'cel-threads-secret';
type Format = 'AVRO' | 'PROTOBUF' | 'JSON';
const SCHEMAS: Record<Format, string> = {
  AVRO: JSON.stringify({
    type: 'record', name: 'Msg',
    fields: [{ name: 'text', type: 'string', 'confluent:tags': ['PII'] }, { name: 'n', type: 'int' }, { name: 'note', type: 'string' }],
  }),
  PROTOBUF: 'syntax = "proto3";\npackage t;\nimport "confluent/meta.proto";\n'
    + 'message M { string text = 1 [(confluent.field_meta).tags = "PII"]; int32 n = 2; string note = 3; }\n',
  JSON: JSON.stringify({
    type: 'object', properties: { text: { type: 'string', 'confluent:tags': ['PII'] }, n: { type: 'integer' }, note: { type: 'string' } },
  }),
};
const INDEXES = (format: Format) => (format === 'PROTOBUF' ? [0] : undefined);

let registry: DevRegistry;
let client: SchemaRegistryClient;
const pool = new EnginePool({ threads: 2, minSliceRecords: 32 });
beforeAll(async () => {
  registry = await startDevRegistry({ port: 0, localSecret: SECRET });
  client = new SchemaRegistryClient({ baseUrls: [registry.url] });
});
afterAll(async () => {
  await pool.close();
  await registry.close();
});

async function engine(targetSubject: string, threads: EnginePool | undefined): Promise<RecordTransformer> {
  const keys = new DekManager({
    dekRegistry: new DekRegistryClient({ baseUrls: [registry.url] }),
    kms: { get: () => new LocalKmsDriver({ secret: SECRET }) }, kmsProps: { secret: SECRET },
  });
  const schemas = new SchemaStore(client);
  const target = await schemas.adopt(await client.getLatest(targetSubject), targetSubject);
  return new RecordTransformer({
    schemas, keys, mode: 'encrypt', subjectNameStrategy: 'topic', maxInFlight: 8,
    target: { schema: target, subject: targetSubject, topicFor: () => 'out' },
    ...(threads ? { threads } : {}),
  });
}

function shape(result: ProcessedRecord | undefined): string {
  if (result === undefined) return 'missing';
  if ('halt' in result) return `halt ${result.halt.code}`;
  return `${result.dlq === true ? 'dlq ' : ''}${result.outputs.map((o) => `${o.topic}/${o.partition} ${o.value?.toString('hex')}`).join(',')}`;
}

describe.each(['AVRO', 'PROTOBUF', 'JSON'] as const)('CEL steps with worker threads, %s', (format) => {
  it('a pool writes what the main thread writes: masks, passing and failing conditions', { timeout: 120_000 }, async () => {
    const codec = createCodec({ schemaType: format, schema: SCHEMAS[format] }, new Map(), format === 'PROTOBUF' ? { messageIndexes: [0] } : {});
    const plainTopic = uniqueName('cel-threads-plain');
    const plainId = (await client.register(`${plainTopic}-value`, { schemaType: format, schema: SCHEMAS[format] })).id;
    const target = (onFailure: string): Rule[] => [
      { name: 'small', type: 'CEL', kind: 'CONDITION', mode: 'WRITE', expr: 'message.n < 1000.0', onFailure },
      { name: 'mask', type: 'CEL_FIELD', kind: 'TRANSFORM', mode: 'WRITE', tags: ['PII'], expr: "value.substring(0, 4) + '*'" },
      encryptRule('siv', uniqueName('kek'), { 'encrypt.dek.algorithm': 'AES256_SIV' }),
    ];
    const batchOf = (from: number, count: number): SourceRecord[] => Array.from({ length: count }, (_, i) => {
      const n = from + i;
      // Every 50th record fails the condition; every 70th has text too short for substring(0, 4).
      const value = { text: n % 70 === 0 ? 'ab' : `secret ${n}`, n: n % 50 === 0 ? 5000 + n : n % 1000, note: `note ${n % 7}` };
      return { topic: plainTopic, partition: n % 3, offset: n, key: Buffer.from(`k${n}`), value: encodeFrame(plainId, codec.encode(value) as Buffer, INDEXES(format)), headers: [], timestamp: n };
    });
    for (const onFailure of ['NONE', 'ERROR']) {
      const targetTopic = uniqueName('cel-threads-target');
      await client.register(`${targetTopic}-value`, { schemaType: format, schema: SCHEMAS[format], ruleSet: { domainRules: target(onFailure) } });
      const single = await engine(`${targetTopic}-value`, undefined);
      const threaded = await engine(`${targetTopic}-value`, pool);
      const before = pool.counts.done;
      for (const [from, count] of [[1, 300], [301, 400]] as const) {
        const batch = batchOf(from, count);
        const a = (await single.process(batch)).map(shape);
        const b = (await threaded.process(batch)).map(shape);
        expect(b).toEqual(a);
        // The condition's failures: written on NONE, a halt on ERROR; the too-short text halts both ways.
        const failing = batch.map((r, i) => ({ n: r.offset, s: a[i]! })).filter(({ n }) => n % 50 === 0 && n % 70 !== 0);
        for (const { s } of failing) expect(s.startsWith('halt') ? 'halt' : 'written').toBe(onFailure === 'NONE' ? 'written' : 'halt');
        for (const [i, r] of batch.entries()) if (r.offset % 70 === 0 && r.offset % 50 !== 0) expect(a[i]).toBe('halt RULE_EXPRESSION_FAILED');
      }
      // Records with CEL steps ran on the threads (not all: failures and misses come back to the main thread).
      expect(pool.counts.done - before).toBeGreaterThan(0);
    }
  });
});
