// Customer records for the audit tests: written encrypted by Confluent's own serializer, or planted as
// plaintext (framed Avro built with avsc) at positions the test knows.
import avro from 'avsc';
import { randomBytes } from 'node:crypto';
import type { Rule } from '../../../src/registry/types.js';
import type { RawRecordInput } from '../helpers/kafka.js';

const fields = (tags: boolean) => [
  { name: 'id', type: 'long' },
  { name: 'name', type: 'string', ...(tags ? { 'confluent:tags': ['PII'] } : {}) },
  { name: 'email', type: ['null', 'string'], default: null, ...(tags ? { 'confluent:tags': ['PII'] } : {}) },
  { name: 'country', type: 'string' },
];

/** The legacy schema: same fields, no tags (records written with it carry no ENCRYPT rule). */
export const PLAIN_SCHEMA = JSON.stringify({ type: 'record', name: 'Customer', namespace: 'audit', fields: fields(false) });
export const TAGGED_SCHEMA = JSON.stringify({ type: 'record', name: 'Customer', namespace: 'audit', fields: fields(true) });

export interface Customer { id: number; name: string; email: string | null; country: string }

const avroType = avro.Type.forSchema(JSON.parse(TAGGED_SCHEMA) as avro.Schema);

export function localRule(kek: string, params: Record<string, string> = {}): Rule {
  return {
    name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'audit-key', ...params },
  };
}

export function people(count: number): Customer[] {
  const run = randomBytes(3).toString('hex');
  return Array.from({ length: count }, (_, i) => ({
    id: i, name: `Canary${run}N${i}`, email: i % 5 === 4 ? null : `canary${run}e${i}@example.com`, country: ['NL', 'DE', 'FR'][i % 3]!,
  }));
}

/** Framed Avro written as is: what a producer without CSFLE (or with a broken one) would write. */
export function plainRecord(schemaId: number, customer: Customer): Buffer {
  const payload = avroType.toBuffer(customer);
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(schemaId, 1);
  payload.copy(out, 5);
  return out;
}

/** Offsets that records get when produced in order, partition by partition, from offset 0. */
export function withOffsets(records: RawRecordInput[]): Array<{ partition: number; offset: number }> {
  const next = new Map<number, number>();
  return records.map((r) => {
    const p = r.partition ?? 0;
    const offset = next.get(p) ?? 0;
    next.set(p, offset + 1);
    return { partition: p, offset };
  });
}
