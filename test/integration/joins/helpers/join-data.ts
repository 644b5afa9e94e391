// The join's test data: customers and orders as Avro records, the topics that hold them (plaintext or
// encrypted by Confluent's serializer), the relational join computed in the test, and the lookup that
// turns the Streams app's pairs (source positions) back into decrypted records.
import { HeaderSchemaIdSerializer } from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { randomBytes } from 'node:crypto';
import type { Rule } from '../../../../src/registry/types.js';
import { encryptRule, officialSerdes, register } from '../../helpers/csfle.js';
import { consumeRaw, createTopic, produceRaw, type RawRecord, type RawRecordInput } from '../../helpers/kafka.js';
import { stack } from '../../helpers/stack.js';
import { VALUE_SCHEMA_ID_HEADER } from '../../../../src/wire/index.js';
import type { JoinPair, JoinSide } from './streams-join.js';

/** The tag of the fields streams join on; the recrypt jobs encrypt it deterministically (AES256_SIV). */
export const JOIN_KEY_TAG = 'JOIN_KEY';

export const CUSTOMER_SCHEMA = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'joins',
  fields: [
    { name: 'id', type: 'string', 'confluent:tags': [JOIN_KEY_TAG] },
    { name: 'name', type: 'string' },
  ],
});

export const ORDER_SCHEMA = JSON.stringify({
  type: 'record', name: 'Order', namespace: 'joins',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string', 'confluent:tags': [JOIN_KEY_TAG] },
    { name: 'amount', type: 'double' },
  ],
});

export interface Customer { id: string; name: string }
export interface Order { orderId: string; customerId: string; amount: number }

export interface JoinData {
  customers: Customer[];
  orders: Order[];
}

/**
 * `customerCount` customers and `orderCount` orders; the orders refer to customer numbers up to 20% past
 * the last customer, so some orders have no customer and join nothing. Ids are unique per call.
 */
export function joinData(customerCount = 200, orderCount = 1000): JoinData {
  const run = randomBytes(3).toString('hex');
  const customerId = (i: number) => `cust-${run}-${i}`;
  const customers = Array.from({ length: customerCount }, (_, i) => ({ id: customerId(i), name: `Customer ${i}` }));
  const known = Math.ceil(customerCount * 1.2);
  const orders = Array.from({ length: orderCount }, (_, j) => ({
    orderId: `order-${run}-${j}`, customerId: customerId((j * 7919) % known), amount: (j % 500) / 4,
  }));
  return { customers, orders };
}

/** The inner join customers.id = orders.customerId, as "customerId|orderId" lines, sorted. */
export function plaintextJoin(data: JoinData): string[] {
  const ids = new Set(data.customers.map((c) => c.id));
  return data.orders.filter((o) => ids.has(o.customerId)).map((o) => pairName(o.customerId, o.orderId)).sort();
}

export function pairName(customerId: string, orderId: string): string {
  return `${customerId}|${orderId}`;
}

export interface JoinTopics {
  customers: JoinSide;
  orders: JoinSide;
}

export interface SourceEncryption {
  /** The KEK of the ENCRYPT rule on both source subjects (local-kms). */
  kek: string;
  /** Default AES256_GCM: what topics are usually encrypted with before they move to SIV for joins. */
  algorithm?: 'AES128_GCM' | 'AES256_GCM' | 'AES256_SIV';
}

/**
 * Creates the customers and orders topics, registers their schemas (with an ENCRYPT rule over the
 * JOIN_KEY fields when `encryption` is given) and writes the data with Confluent's serializer,
 * spread over `partitions` partitions, customers timestamped before orders.
 */
/**
 * Where the schema id goes: `prefix` is Confluent's default (0x00 | int32 id before the Avro bytes);
 * `header` puts a GUID in the `__value_schema_id` header and writes the Avro bytes alone.
 */
export type Framing = 'prefix' | 'header';

export interface ProduceJoinOptions {
  partitions?: number;
  encryption?: SourceEncryption;
  framing?: { customers?: Framing; orders?: Framing };
}

export async function produceJoinTopics(data: JoinData, options: ProduceJoinOptions = {}): Promise<JoinTopics> {
  const partitions = options.partitions ?? 2;
  const customers = await createTopic('join-customers', partitions, { 'retention.ms': '-1' });
  const orders = await createTopic('join-orders', partitions, { 'retention.ms': '-1' });
  const rules: Rule[] = options.encryption === undefined ? [] : [encryptRule('encryptJoinKeys', options.encryption.kek,
    { 'encrypt.dek.algorithm': options.encryption.algorithm ?? 'AES256_GCM' }, [JOIN_KEY_TAG])];
  for (const [topic, schema] of [[customers, CUSTOMER_SCHEMA], [orders, ORDER_SCHEMA]] as const) {
    await register(stack.registryUrl, `${topic}-value`, {
      schemaType: 'AVRO', schema, ...(rules.length ? { ruleSet: { domainRules: rules } } : {}),
    });
  }
  const t0 = Date.now() - 60_000;
  // One record at a time: the serializer creates the DEK on its first encryption, once.
  const serialize = async (topic: string, values: object[], t: number, framing: Framing = 'prefix') => {
    const { serializer } = officialSerdes(stack.registryUrl, 'AVRO',
      framing === 'header' ? { schemaIdSerializer: HeaderSchemaIdSerializer } : {}, { secret: stack.localSecret });
    const records: RawRecordInput[] = [];
    for (const [i, value] of values.entries()) {
      const headers: Record<string, Buffer> = {};
      const bytes = Buffer.from(await serializer.serialize(topic, { ...value }, headers));
      if ((headers[VALUE_SCHEMA_ID_HEADER] !== undefined) !== (framing === 'header')) throw new Error(`${topic}: not framed by ${framing}`);
      records.push({ value: bytes, headers, partition: i % partitions, timestamp: String(t + i) });
    }
    return records;
  };
  await produceRaw(customers, await serialize(customers, data.customers, t0, options.framing?.customers));
  await produceRaw(orders, await serialize(orders, data.orders, t0 + 10_000, options.framing?.orders));
  return {
    customers: { topic: customers, field: 'id', schema: CUSTOMER_SCHEMA },
    orders: { topic: orders, field: 'customerId', schema: ORDER_SCHEMA },
  };
}

/** The topic's records, keyed "partition:offset". */
export async function recordsByPosition(topic: string, count: number): Promise<Map<string, RawRecord>> {
  const records = await consumeRaw(topic, { count });
  if (records.length !== count) throw new Error(`${topic}: read ${records.length} records, expected ${count}`);
  return new Map(records.map((r) => [`${r.partition}:${r.offset}`, r]));
}

/**
 * Finds both records of every pair in the joined topics (left = customers, right = orders), decrypts
 * them with Confluent's deserializer and names the pair "customerId|orderId", sorted: comparable with
 * plaintextJoin. A pair whose records do not agree on the customer id is named so, and fails any comparison.
 */
export async function decryptPairs(
  pairs: JoinPair[], topics: JoinTopics, counts: { customers: number; orders: number },
): Promise<string[]> {
  const { deserializer } = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
  const customers = await recordsByPosition(topics.customers.topic, counts.customers);
  const orders = await recordsByPosition(topics.orders.topic, counts.orders);
  const names: string[] = [];
  for (const pair of pairs) {
    const left = customers.get(`${pair.leftPartition}:${pair.leftOffset}`);
    const right = orders.get(`${pair.rightPartition}:${pair.rightOffset}`);
    if (!left?.value || !right?.value) throw new Error(`joined pair points at no record: ${JSON.stringify(pair)}`);
    const customer = await deserializer.deserialize(topics.customers.topic, left.value, left.headers) as Customer;
    const order = await deserializer.deserialize(topics.orders.topic, right.value, right.headers) as Order;
    names.push(customer.id === order.customerId ? pairName(customer.id, order.orderId)
      : `MISMATCH ${pairName(customer.id, order.orderId)} (order's customer ${order.customerId})`);
  }
  return names.sort();
}

/**
 * For one side of a join: each plaintext join value (decrypted with Confluent's deserializer) and the
 * values the topic stores for it (what a stream processor compares: for an encrypted field, the
 * base64 ciphertext). Deterministic encryption stores exactly one value per plaintext.
 */
export async function storedJoinValues(side: JoinSide, count: number): Promise<Map<string, Set<string>>> {
  const { deserializer } = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
  const type = avro.Type.forSchema(JSON.parse(side.schema) as avro.Schema);
  const stored = new Map<string, Set<string>>();
  for (const record of (await recordsByPosition(side.topic, count)).values()) {
    const plain = (await deserializer.deserialize(side.topic, record.value!, record.headers) as Record<string, string>)[side.field]!;
    const payload = record.headers[VALUE_SCHEMA_ID_HEADER] !== undefined ? record.value! : record.value!.subarray(record.value![0] === 1 ? 17 : 5);
    const raw = (type.fromBuffer(payload) as Record<string, string>)[side.field]!;
    stored.set(plain, (stored.get(plain) ?? new Set<string>()).add(raw));
  }
  return stored;
}

export interface JoinValueComparison {
  /** Customer ids that appear on both sides (decrypted). */
  sharedIds: number;
  /** Of those, how many both topics store as the same value: what a stream processor can join. */
  sameStoredValue: number;
  /** Records whose join field is stored as its plaintext (0 once the field is encrypted). */
  storedAsPlaintext: number;
  /** The most stored values any one id has within a topic (1: deterministic). */
  maxValuesPerId: number;
}

/** How the two sides store the join values, decrypted and compared: why a join finds, or misses, its pairs. */
export async function compareJoinValues(topics: JoinTopics, counts: { customers: number; orders: number }): Promise<JoinValueComparison> {
  const customers = await storedJoinValues(topics.customers, counts.customers);
  const orders = await storedJoinValues(topics.orders, counts.orders);
  const shared = [...orders.keys()].filter((id) => customers.has(id));
  const all = [...customers, ...orders];
  return {
    sharedIds: shared.length,
    sameStoredValue: shared.filter((id) => [...orders.get(id)!].some((value) => customers.get(id)!.has(value))).length,
    storedAsPlaintext: all.filter(([id, stored]) => stored.has(id)).length,
    maxValuesPerId: Math.max(...all.map(([, stored]) => stored.size)),
  };
}
