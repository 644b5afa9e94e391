// Join groups (issue 23) against Confluent's own clients: Go writes customers and orders (plaintext, or
// AES256_GCM-encrypted), two `recrypt run` jobs (one per topic) move both into one join group with an
// AES256_SIV rule on one KEK over the JOIN_KEY fields. Then Confluent's Go deserializer and its JS
// deserializer each read both target topics back to the source values (each finds the DEK under its
// own subject), equal customer ids are stored as byte-identical ciphertexts across the two topics, and
// the DEK Registry holds the same wrapped material at version 1 under both subjects. Without the group
// the same jobs give readable topics whose join values never match across them, and two DEKs.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsDriver as OfficialAwsKmsDriver } from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { officialSerdes, register } from '../helpers/csfle.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw, type RawRecord } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { plain } from '../engine/harness.js';
import { encryptRule, kmsParams, type KmsType } from './cell.js';
import { GoClient, toGo } from './go-client.js';

const JOIN_KEY = 'JOIN_KEY';
const CUSTOMERS = 24;
const ORDERS = 60;

const CUSTOMER_SCHEMA = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'conformance.join',
  fields: [{ name: 'id', type: 'string', 'confluent:tags': [JOIN_KEY] }, { name: 'name', type: 'string' }],
});
const ORDER_SCHEMA = JSON.stringify({
  type: 'record', name: 'Order', namespace: 'conformance.join',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string', 'confluent:tags': [JOIN_KEY] },
    { name: 'amount', type: 'double' },
  ],
});

type Side = 'customers' | 'orders';
const SIDES = ['customers', 'orders'] as const satisfies readonly Side[];
const SCHEMA: Record<Side, string> = { customers: CUSTOMER_SCHEMA, orders: ORDER_SCHEMA };
/** The JOIN_KEY field of each side: what a stream processor joins on. */
const JOIN_FIELD: Record<Side, string> = { customers: 'id', orders: 'customerId' };
const COUNT: Record<Side, number> = { customers: CUSTOMERS, orders: ORDERS };
const AVRO_TYPE: Record<Side, avro.Type> = {
  customers: avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema),
  orders: avro.Type.forSchema(JSON.parse(ORDER_SCHEMA) as avro.Schema),
};

type Values = Record<Side, Record<string, unknown>[]>;
type Topics = Record<Side, string>;

/** Customers and orders whose ids are unique to this call; orders refer to ids up to 25% past the last customer. */
function joinValues(): { values: Values; idPrefix: string } {
  const idPrefix = `cust-${randomBytes(4).toString('hex')}-`;
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({ id: `${idPrefix}${i}`, name: `Customer ${i}` }));
  const orders = Array.from({ length: ORDERS }, (_, j) => ({
    orderId: `order-${j}`, customerId: `${idPrefix}${(j * 7) % Math.ceil(CUSTOMERS * 1.25)}`, amount: j / 4,
  }));
  return { values: { customers, orders }, idPrefix };
}

const created: string[] = [];
let go: GoClient;
let awsKeyArn: string;
beforeAll(async () => {
  go = new GoClient(stack.registryUrl, { LOCAL_SECRET: stack.localSecret });
  OfficialAwsKmsDriver.register();
  const admin = new KMSClient({ region: 'us-east-1', endpoint: stack.kmsEndpoint });
  awsKeyArn = (await admin.send(new CreateKeyCommand({ Description: 'recrypt Go conformance (join group)' }))).KeyMetadata!.Arn!;
  admin.destroy();
});
afterAll(async () => {
  await go?.close();
  if (created.length) await deleteTopics(...created);
});

/**
 * The source topics, written by Go: plaintext for `encrypt`, for `reencrypt` AES256_GCM over the JOIN_KEY
 * fields (local-kms, one KEK per topic, as two independent producers would have them).
 */
async function goSources(mode: 'encrypt' | 'reencrypt', values: Values): Promise<Topics> {
  const topics = {} as Topics;
  for (const side of SIDES) {
    const topic = await createTopic(`join-${side}-src`, 1, { 'retention.ms': '-1' });
    created.push(topic);
    const ruleSet = mode === 'reencrypt'
      ? { ruleSet: { domainRules: [encryptRule('encryptJoinKey', uniqueName('gcm-kek'), kmsParams('local-kms', ''), [JOIN_KEY])] } }
      : {};
    await register(stack.registryUrl, `${topic}-value`, { schemaType: 'AVRO', schema: SCHEMA[side], ...ruleSet });
    await produceRaw(topic, await Promise.all(values[side].map(async (value, i) => ({
      key: Buffer.from(String(i)), value: await go.serialize('AVRO_GENERIC', topic, toGo(value)),
    }))));
    topics[side] = topic;
  }
  return topics;
}

interface GroupJobs {
  mode: 'encrypt' | 'reencrypt';
  kms: KmsType;
  kek: string;
  /** A join group over both target subjects; without it, each subject gets its own DEK. */
  group: boolean;
  /** Run both jobs at once, as two processes racing to create the group's DEK would. */
  concurrent: boolean;
}

/** One `recrypt run` job per side into new target topics, JOIN_KEY fields under AES256_SIV on one KEK. */
async function runJobs(sources: Topics, options: GroupJobs): Promise<Topics> {
  const targets: Topics = { customers: uniqueName('join-customers-siv'), orders: uniqueName('join-orders-siv') };
  created.push(targets.customers, targets.orders);
  const joinGroup = options.group
    ? { joinGroup: { name: uniqueName('customer-ids').toLowerCase(), subjects: [`${targets.orders}-value`, `${targets.customers}-value`] } }
    : {};
  const job = (side: Side): string => stringify({
    apiVersion: 'recrypt/v1', kind: 'Job',
    metadata: { name: uniqueName(`join-${side}`).toLowerCase() },
    spec: {
      mode: options.mode,
      source: { topic: sources[side], startAt: 'earliest', stopAt: 'end' },
      target: { topic: targets[side], createTopic: true, ...joinGroup },
      rules: {
        domainRules: [{
          name: 'encryptJoinKey', type: 'ENCRYPT', mode: 'WRITEREAD', tags: [JOIN_KEY], onFailure: 'ERROR,ERROR',
          params: { 'encrypt.kek.name': options.kek, ...kmsParams(options.kms, awsKeyArn), 'encrypt.dek.algorithm': 'AES256_SIV' },
        }],
      },
    },
  });
  const runOne = async (side: Side): Promise<void> => {
    const result = await recrypt(['run', writeJobFile(job(side))]);
    expect(result.code, `recrypt run (${side}):\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`\\b${COUNT[side]} records \\(${COUNT[side]} written, 0 to DLQ\\)`));
  };
  if (options.concurrent) await Promise.all(SIDES.map(runOne));
  else for (const side of SIDES) await runOne(side);
  return targets;
}

/** Every record of each target topic, by source index (the record key). */
async function readTargets(targets: Topics): Promise<Record<Side, Map<number, Buffer>>> {
  const out = {} as Record<Side, Map<number, Buffer>>;
  for (const side of SIDES) {
    const records: RawRecord[] = await consumeRaw(targets[side], { count: COUNT[side] });
    expect(records).toHaveLength(COUNT[side]);
    out[side] = new Map(records.map((r) => [Number(r.key!.toString()), r.value!]));
  }
  return out;
}

/** Go and JS deserialize every record of both topics to the source value; no id is stored in the clear. */
async function expectBothClientsRead(targets: Topics, records: Record<Side, Map<number, Buffer>>, values: Values, idPrefix: string): Promise<void> {
  const js = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret }).deserializer;
  for (const side of SIDES) {
    for (const [i, bytes] of records[side]) {
      expect(bytes.includes(Buffer.from(idPrefix)), `${side} ${i}: join id in the clear`).toBe(false);
      expect(await go.deserialize('AVRO_GENERIC', targets[side], bytes), `Go reads ${side} ${i}`).toEqual(toGo(values[side][i]));
      expect(plain(await js.deserialize(targets[side], bytes)), `JS reads ${side} ${i}`).toEqual(values[side][i]);
    }
  }
}

/** The stored (encrypted) join value of each record, grouped by its plaintext id, per side. */
function storedJoinValues(records: Record<Side, Map<number, Buffer>>, values: Values): Record<Side, Map<string, Set<string>>> {
  const out = {} as Record<Side, Map<string, Set<string>>>;
  for (const side of SIDES) {
    out[side] = new Map();
    for (const [i, bytes] of records[side]) {
      const stored = (AVRO_TYPE[side].fromBuffer(bytes.subarray(5)) as Record<string, string>)[JOIN_FIELD[side]]!;
      const id = values[side][i]![JOIN_FIELD[side]] as string;
      out[side].set(id, (out[side].get(id) ?? new Set()).add(stored));
    }
  }
  return out;
}

interface JoinComparison {
  /** Customer ids that orders refer to. */
  sharedIds: number;
  /** Of those, ids whose stored value is the same in both topics. */
  sameStoredValue: number;
  /** Most distinct stored values of one id within one topic (1: deterministic). */
  maxValuesPerId: number;
}

function compareJoinValues(stored: Record<Side, Map<string, Set<string>>>): JoinComparison {
  let sharedIds = 0;
  let sameStoredValue = 0;
  for (const [id, orderValues] of stored.orders) {
    const customerValues = stored.customers.get(id);
    if (!customerValues) continue;
    sharedIds++;
    if ([...orderValues].every((v) => customerValues.has(v))) sameStoredValue++;
  }
  const maxValuesPerId = Math.max(...SIDES.flatMap((side) => [...stored[side].values()].map((s) => s.size)));
  return { sharedIds, sameStoredValue, maxValuesPerId };
}

interface DekVersion { subject: string; version: number; algorithm: string; encryptedKeyMaterial: string }

/** What the DEK Registry holds for `subject` under `kek`: its SIV versions and version 1. */
async function dekOf(kek: string, subject: string): Promise<{ versions: number[]; v1: DekVersion }> {
  const base = `${stack.registryUrl}/dek-registry/v1/keks/${encodeURIComponent(kek)}/deks/${encodeURIComponent(subject)}/versions`;
  const get = async <T>(url: string): Promise<T> => {
    const res = await fetch(url);
    expect(res.status, `GET ${url}`).toBe(200);
    return (await res.json()) as T;
  };
  return { versions: await get<number[]>(`${base}?algorithm=AES256_SIV`), v1: await get<DekVersion>(`${base}/1?algorithm=AES256_SIV`) };
}

const CELLS: readonly Omit<GroupJobs, 'kek' | 'group'>[] = [
  { mode: 'reencrypt', kms: 'local-kms', concurrent: false },
  { mode: 'encrypt', kms: 'aws-kms', concurrent: true },
];

describe('a join group read by Confluent\'s Go and JS deserializers', () => {
  it.each(CELLS)('Go $mode sources -> two recrypt run jobs in one group ($kms, concurrent: $concurrent) -> both clients read both topics, equal ids equal bytes, one DEK', async (cell) => {
    const { values, idPrefix } = joinValues();
    const sources = await goSources(cell.mode, values);
    const kek = uniqueName('join-kek');
    const targets = await runJobs(sources, { ...cell, kek, group: true });
    const records = await readTargets(targets);

    // (1) Go and (2) JS: each finds the DEK under its own subject and gets the source values back.
    await expectBothClientsRead(targets, records, values, idPrefix);

    // (3) Equal ids are byte-identical across the topics (and deterministic within each).
    const comparison = compareJoinValues(storedJoinValues(records, values));
    expect(comparison.sharedIds).toBeGreaterThan(CUSTOMERS / 2);
    expect(comparison).toEqual({ sharedIds: comparison.sharedIds, sameStoredValue: comparison.sharedIds, maxValuesPerId: 1 });

    // (4) The DEK Registry: one version, the same wrapped material, under both subjects.
    const customersDek = await dekOf(kek, `${targets.customers}-value`);
    const ordersDek = await dekOf(kek, `${targets.orders}-value`);
    expect(customersDek.versions).toEqual([1]);
    expect(ordersDek.versions).toEqual([1]);
    expect(customersDek.v1).toMatchObject({ version: 1, algorithm: 'AES256_SIV' });
    expect(ordersDek.v1).toMatchObject({ version: 1, algorithm: 'AES256_SIV' });
    expect(ordersDek.v1.encryptedKeyMaterial).toBeTruthy();
    expect(ordersDek.v1.encryptedKeyMaterial).toBe(customersDek.v1.encryptedKeyMaterial);
  });

  it('without the group, the same jobs give readable topics whose join values never match across them, and two DEKs', async () => {
    const { values, idPrefix } = joinValues();
    const sources = await goSources('reencrypt', values);
    const kek = uniqueName('join-kek');
    const targets = await runJobs(sources, { mode: 'reencrypt', kms: 'local-kms', kek, group: false, concurrent: false });
    const records = await readTargets(targets);
    await expectBothClientsRead(targets, records, values, idPrefix);

    // Each topic is deterministic on its own, but no id is stored alike in both.
    const comparison = compareJoinValues(storedJoinValues(records, values));
    expect(comparison.sharedIds).toBeGreaterThan(CUSTOMERS / 2);
    expect(comparison).toEqual({ sharedIds: comparison.sharedIds, sameStoredValue: 0, maxValuesPerId: 1 });

    const customersDek = await dekOf(kek, `${targets.customers}-value`);
    const ordersDek = await dekOf(kek, `${targets.orders}-value`);
    expect(ordersDek.v1.encryptedKeyMaterial).not.toBe(customersDek.v1.encryptedKeyMaterial);
  });
});
