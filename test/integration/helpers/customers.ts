// Customer records for end-to-end tests: Avro bytes framed for a schema id (built with avsc, fast
// enough for tens of thousands of records), with a canary in every PII field.
import avro from 'avsc';
import { randomBytes } from 'node:crypto';
import type { RawRecordInput } from './kafka.js';

export const CUSTOMER_SCHEMA = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'demo',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
  ],
});

export interface Customer { id: number; name: string; email: string; country: string; balance: number }

const type = avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema);

export function frame(schemaId: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(schemaId, 1);
  payload.copy(out, 5);
  return out;
}

export function decodeCustomer(value: Buffer): Customer {
  return type.fromBuffer(value.subarray(5)) as Customer;
}

/** `count` customers spread over `partitions`; every PII field holds a unique canary. */
export function customers(count: number, partitions: number, schemaId: number, t0 = Date.now() - 3_600_000) {
  const run = randomBytes(3).toString('hex');
  const people: Customer[] = [];
  const records: RawRecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const person = { id: i, name: `Canary${run}N${i}`, email: `canary${run}e${i}@example.com`, country: ['NL', 'DE', 'FR'][i % 3]!, balance: i / 8 };
    people.push(person);
    records.push({
      key: Buffer.from(`c${i}`), value: frame(schemaId, type.toBuffer(person)), partition: i % partitions,
      timestamp: String(t0 + i), headers: { trace: Buffer.from(`t${i}`) },
    });
  }
  return { people, records, canary: `Canary${run}` };
}
