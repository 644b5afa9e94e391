// The Auditor without Kafka: records framed by hand, a registry in memory. JSON Schema here (Avro runs
// end to end in the integration tests): tagged properties, metadata.tags, a writer schema without the
// rule, null values, tombstones, unknown ids and undecodable payloads.
import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher, encodeBase64, withVersionPrefix } from '../../../src/crypto/index.js';
import { Auditor, locateValue } from '../../../src/audit/auditor.js';
import { SchemaStore } from '../../../src/engine/index.js';
import { RegistryError } from '../../../src/registry/index.js';
import type { RegisteredSchema, Rule, SchemaRegistryApi } from '../../../src/registry/types.js';
import type { SourceRecord } from '../../../src/util/records.js';
import { encodeFrame } from '../../../src/wire/index.js';

const rule: Rule = {
  name: 'pii', type: 'ENCRYPT', mode: 'WRITEREAD', tags: ['PII'],
  params: { 'encrypt.kek.name': 'k1', 'encrypt.dek.expiry.days': '7' },
};
const schema = (withRule: boolean): RegisteredSchema => ({
  id: withRule ? 2 : 1, schemaType: 'JSON',
  schema: JSON.stringify({
    type: 'object', title: 'Person',
    properties: { name: { type: 'string', 'confluent:tags': ['PII'] }, ssn: { type: ['string', 'null'] }, age: { type: 'integer' } },
  }),
  metadata: { tags: { '$.ssn': ['PII'] } },
  ...(withRule ? { ruleSet: { domainRules: [rule] } } : {}),
});

function registry(): SchemaRegistryApi {
  const byId = new Map([[1, schema(false)], [2, schema(true)]]);
  const notFound = () => Promise.reject(new RegistryError('REGISTRY_NOT_FOUND', 'not found', { status: 404, errorCode: 40403, method: 'GET', path: '/' }));
  return {
    getById: (id) => (byId.has(id) ? Promise.resolve(byId.get(id)!) : notFound()),
    getByGuid: notFound, getVersion: notFound, getLatestWithMetadata: notFound, register: notFound, lookup: notFound,
    getLatest: (subject) => (subject === 'people-value' ? Promise.resolve({ ...schema(true), subject, version: 2 }) : notFound()),
  };
}

const cipher = createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 1));
const enc = (s: string, version = 3) => encodeBase64(withVersionPrefix(version, cipher.encrypt(Buffer.from(s))));
let offset = 0;
const rec = (value: Buffer | null): SourceRecord => ({ topic: 'people', partition: 0, offset: offset++, key: null, value, headers: [], timestamp: 0 });
const json = (id: number, v: unknown) => encodeFrame(id, Buffer.from(JSON.stringify(v)));

describe('Auditor', () => {
  it('classifies tagged fields, by inline tag and metadata.tags, against the writer and the latest schema', async () => {
    offset = 0;
    const store = new SchemaStore(registry());
    const auditor = new Auditor({ schemas: store, registry: registry(), subjectNameStrategy: 'topic' });
    await auditor.observeBatch([
      rec(json(2, { name: enc('Ann'), ssn: enc('123', 4), age: 30 })), // 0: fine
      rec(json(2, { name: enc('Bob'), ssn: null, age: 31 })),          // 1: fine (null)
      rec(json(2, { name: 'Carl Smith', ssn: enc('9'), age: 32 })),     // 2: name plaintext
      rec(json(1, { name: 'Dora', ssn: '555', age: 33 })),              // 3: old schema, no rule
      rec(null),                                                         // 4: tombstone
      rec(json(77, { name: 'x' })),                                      // 5: unknown schema
      rec(Buffer.concat([encodeFrame(2, Buffer.alloc(0)), Buffer.from('{not json')])), // 6: undecodable
    ]);
    expect(auditor.records).toBe(7);
    expect(auditor.tombstones).toBe(1);
    expect(auditor.findings).toEqual([
      { partition: 0, offset: 2, schemaId: 2, field: '$.name', rule: 'pii', reason: 'not-base64' },
      { partition: 0, offset: 3, schemaId: 1, field: '$.name', rule: 'pii', reason: 'no-encrypt-rule' },
      { partition: 0, offset: 3, schemaId: 1, field: '$.ssn', rule: 'pii', reason: 'no-encrypt-rule' },
    ]);
    expect(auditor.plaintextRecords).toBe(2);
    expect(auditor.undecodable).toEqual([{ partition: 0, offset: 5, code: 'ENGINE_UNKNOWN_SCHEMA' }, { partition: 0, offset: 6, code: 'FORMAT_DECODE' }]);
    expect(auditor.keys()).toEqual([
      { kek: 'k1', algorithm: 'AES256_GCM', version: 3, values: 3 },
      { kek: 'k1', algorithm: 'AES256_GCM', version: 4, values: 1 },
    ]);
    const [old, current] = auditor.summaries();
    expect(old).toMatchObject({ schemaId: 1, records: 1, rules: [], unprotectedFields: ['$.name', '$.ssn'], latestSchemaId: 2 });
    expect(current).toMatchObject({ schemaId: 2, records: 4, unprotectedFields: [] });
    expect(current!.rules[0]).toMatchObject({ rule: 'pii', kek: 'k1', expiryDays: 7, fields: ['$.name', '$.ssn'] });
  });

  it('returns the schema it needs as data, counts nothing until it has it, and reads a framing error as undecodable', async () => {
    offset = 0;
    const store = new SchemaStore(registry());
    const auditor = new Auditor({ schemas: store, registry: registry(), subjectNameStrategy: 'topic' });
    const record = rec(json(2, { name: enc('Ann'), ssn: null, age: 30 }));
    const value = locateValue(record);
    expect(auditor.observe(record, value)).toMatchObject({ kind: 'schema-needed', ref: { id: 2 }, indexes: undefined });
    expect(auditor.records).toBe(0);
    await auditor.observeBatch([record]);
    expect(auditor.observe(record, value)).toBeNull();
    expect(auditor.records).toBe(2);
    expect(auditor.observe(rec(Buffer.from([7, 0, 0])))).toBeNull();
    expect(auditor.undecodable).toEqual([{ partition: 0, offset: 1, code: 'WIRE_UNKNOWN_MAGIC' }]);
    expect(auditor.records).toBe(3);
  });
});
