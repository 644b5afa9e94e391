// Proof with a real engine (issue 23): a Kafka Streams application (test/streams, Apache Kafka's
// kafka-streams) joins two topics on a field, comparing the stored values as any stream processor
// does, with no keys. First the harness proves itself on plaintext topics; then, on topics recrypt
// re-encrypted to AES256_SIV one job per topic, the join finds nothing: each target subject has its
// own DEK, so equal customer ids encrypt to different ciphertexts across the two topics.
// A join group's test is sivJoin(classpath, { spec }) and the two expectations of the plaintext test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics } from '../helpers/kafka.js';
import { decryptPairs, joinData, plaintextJoin, produceJoinTopics, storedJoinValues } from './helpers/join-data.js';
import { sivJoin } from './helpers/siv-join.js';
import { buildStreamsApp, runJoin, STREAMS_APP_BUILD_TIMEOUT_MS } from './helpers/streams-join.js';

const CUSTOMERS = 200;
const ORDERS = 1000;

let classpath = '';
const created: string[] = [];

beforeAll(async () => {
  const build = await buildStreamsApp();
  classpath = build.classpath;
  console.log(`Streams join app ready in ${build.ms} ms (scripts/streams-app.sh)`);
}, STREAMS_APP_BUILD_TIMEOUT_MS);

afterAll(async () => { if (created.length) await deleteTopics(...created); });

describe('a Kafka Streams join over recrypt topics', () => {
  it('joins plaintext topics exactly like the relational join (the harness proves itself)', async () => {
    const data = joinData(CUSTOMERS, ORDERS);
    const expected = plaintextJoin(data);
    expect(expected.length).toBeGreaterThan(ORDERS / 2);
    expect(expected.length).toBeLessThan(ORDERS);
    const topics = await produceJoinTopics(data);
    created.push(topics.customers.topic, topics.orders.topic);

    const run = await runJoin(classpath, { left: topics.customers, right: topics.orders });
    created.push(run.outputTopic);
    console.log(`plaintext join: ${run.pairs.length} pairs in ${run.ms} ms`);

    expect(run.summary).toMatchObject({ leftRead: CUSTOMERS, rightRead: ORDERS, leftSkipped: 0, rightSkipped: 0, joined: expected.length });
    expect(await decryptPairs(run.pairs, topics, { customers: CUSTOMERS, orders: ORDERS })).toEqual(expected);
  });

  it('finds no pair on topics re-encrypted to AES256_SIV without a join group (one DEK per subject)', async () => {
    const { expected, siv, run, topics } = await sivJoin(classpath, { customers: CUSTOMERS, orders: ORDERS });
    created.push(...topics);
    console.log(`SIV join without a group: ${run.pairs.length} pairs in ${run.ms} ms (plaintext join: ${expected.length})`);

    // The app read every record and found each one's join value, and the plaintext join is far from empty:
    // the empty result is the ciphertexts', not the harness's.
    expect(run.summary).toMatchObject({ leftRead: CUSTOMERS, rightRead: ORDERS, leftSkipped: 0, rightSkipped: 0, joined: 0 });
    expect(run.pairs).toEqual([]);
    expect(expected.length).toBeGreaterThan(ORDERS / 2);

    // Why: each topic is deterministic on its own (one stored value per customer id), but the two topics
    // store different ciphertexts for the same customer id.
    const customerIds = await storedJoinValues(siv.customers, CUSTOMERS);
    const orderCustomerIds = await storedJoinValues(siv.orders, ORDERS);
    expect(customerIds.size).toBe(CUSTOMERS);
    const shared = [...orderCustomerIds.keys()].filter((id) => customerIds.has(id));
    expect(shared.length).toBeGreaterThan(CUSTOMERS / 2);
    for (const id of shared) {
      const inOrders = [...orderCustomerIds.get(id)!];
      const inCustomers = [...customerIds.get(id)!];
      expect(inOrders).toHaveLength(1);
      expect(inCustomers).toHaveLength(1);
      expect(inOrders[0]).not.toBe(id);
      expect(inOrders[0]).not.toBe(inCustomers[0]);
    }
  });
});
