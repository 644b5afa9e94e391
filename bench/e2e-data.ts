/**
 * The end-to-end benchmark's source topic: Customer records (bench/customer.ts's schema, PII name and
 * email) as Avro framed for a schema id, generated straight into buffers with avsc and produced with
 * an idempotent librdkafka producer in large lz4 batches. Customer #i is a pure function of i, so any
 * output record can be checked against its source without keeping a million records around.
 */
import kafka from '@confluentinc/kafka-javascript';
import avro from 'avsc';
import { CUSTOMER_SCHEMA, type Customer } from './customer.js';

const FIRST = ['Alice', 'Bob', 'Chiara', 'Dmitri', 'Eun-ji', 'Farah', 'Gustav', 'Hana', 'Ibrahim', 'Jelena', 'Kofi', 'Lucía'];
const LAST = ['Andersen', 'Bakker', 'Costa', 'Dubois', 'Esposito', 'Fischer', 'García', 'Horvat', 'Ivanova', 'Jansen', 'Kowalski'];
const DOMAINS = ['example.com', 'mail.example.org', 'corp.example.net'];
const COUNTRIES = ['NL', 'DE', 'FR', 'IT', 'ES', 'PL', 'SE', 'US', 'GB', 'JP'];

export const customerType = avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema);

/** A 32-bit mix of the index (splitmix-style): the record's "randomness", reproducible from i alone. */
function mix(i: number, salt: number): number {
  let x = (Math.imul(i, 0x9e3779b1) ^ salt) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Customer #i: name ~14 characters and email ~35, both PII, as in the engine benchmark. */
export function customerAt(i: number): Customer {
  const first = FIRST[mix(i, 1) % FIRST.length]!;
  const last = LAST[mix(i, 2) % LAST.length]!;
  const id = 1_000_000 + i;
  return {
    id,
    name: `${first} ${last}`,
    email: `${first}.${last}.${id}@${DOMAINS[mix(i, 3) % DOMAINS.length]!}`.toLowerCase(),
    country: COUNTRIES[mix(i, 4) % COUNTRIES.length]!,
    balance: (mix(i, 5) % 1_000_000_000) / 100,
  };
}

/** The record key of customer #i (its id); `indexOfKey` inverts it. */
export const keyOf = (i: number): Buffer => Buffer.from(String(1_000_000 + i));
export const indexOfKey = (key: Buffer): number => Number(key.toString()) - 1_000_000;

const SLAB = 1 << 20;

/** Framed Avro values (magic byte, schema id, payload) of customers [from, to), packed in shared slabs. */
export function encodeCustomers(schemaId: number, from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let slab = Buffer.allocUnsafe(SLAB);
  let pos = 0;
  for (let i = from; i < to; i++) {
    const c = customerAt(i);
    for (;;) {
      const end = pos + 5 < SLAB ? customerType.encode(c, slab, pos + 5) : -1;
      if (end > 0) {
        slab[pos] = 0;
        slab.writeUInt32BE(schemaId, pos + 1);
        out.push(slab.subarray(pos, end));
        pos = end;
        break;
      }
      slab = Buffer.allocUnsafe(SLAB);
      pos = 0;
    }
  }
  return out;
}

export interface ProduceResult {
  readonly records: number;
  /** Key + value bytes produced (uncompressed). */
  readonly bytes: number;
  readonly seconds: number;
}

const QUEUE_FULL = kafka.CODES.ERRORS.ERR__QUEUE_FULL;

function settle(run: (cb: (err: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())));
}

/**
 * Produces records [0, count) to `topic` (Avro customers unless `encode` says otherwise), record #i to partition i % partitions, with an idempotent
 * producer (acks all) in lz4 batches of up to 10,000 records; resolves once every record is acknowledged.
 */
export async function produceCustomers(
  brokers: string, topic: string, partitions: number, schemaId: number, count: number,
  encode: (from: number, to: number) => Buffer[] = (from, to) => encodeCustomers(schemaId, from, to),
): Promise<ProduceResult> {
  const started = Date.now();
  let failed: unknown;
  const producer = new kafka.Producer({
    'bootstrap.servers': brokers,
    'client.id': 'recrypt-bench-e2e-loader',
    'log_level': 3,
    'enable.idempotence': true,
    'acks': -1,
    'linger.ms': 50,
    'batch.num.messages': 10_000,
    'batch.size': 1_000_000,
    'compression.type': 'lz4',
    'queue.buffering.max.messages': 200_000,
    'queue.buffering.max.kbytes': 262_144,
    'dr_cb': true,
  });
  producer.on('delivery-report', (err) => { if (err) failed ??= err; });
  await settle((cb) => producer.connect({ timeout: 30_000 }, (err) => cb(err)));
  producer.setPollInterval(50);
  let bytes = 0;
  try {
    const chunk = 5_000; // 10-KiB records too: the encoded chunk stays small
    for (let from = 0; from < count; from += chunk) {
      const to = Math.min(count, from + chunk);
      const values = encode(from, to);
      for (let i = from; i < to; i++) {
        const value = values[i - from]!;
        const key = keyOf(i);
        bytes += key.length + value.length;
        for (;;) {
          try {
            producer.produce(topic, i % partitions, value, key);
            break;
          } catch (err) {
            if ((err as { code?: number }).code !== QUEUE_FULL) throw err;
            producer.poll();
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      }
      if (failed) throw failed;
    }
    await settle((cb) => producer.flush(120_000, (err) => cb(err)));
    // The last delivery reports arrive with the poll that follows the flush.
    await new Promise((r) => setTimeout(r, 100));
    if (failed) throw failed;
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
  return { records: count, bytes, seconds: (Date.now() - started) / 1000 };
}
