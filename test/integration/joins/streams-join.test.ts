// Proof with a real engine (issue 23): a Kafka Streams application (test/streams, Apache Kafka's
// kafka-streams) joins two topics on a field, comparing the stored values as any stream processor
// does, with no keys. The harness proves itself on plaintext topics. On topics recrypt re-encrypted to
// AES256_SIV within one join group (spec.target.joinGroup), the join equals the plaintext join; without
// the group, one job per topic, it finds nothing: each target subject has its own DEK, so equal customer
// ids encrypt to different ciphertexts across the two topics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/stack.js';
import { compareJoinValues, decryptPairs, joinData, plaintextJoin, produceJoinTopics } from './helpers/join-data.js';
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
  it('joins plaintext topics exactly like the relational join, schema id in the payload or in a header (the harness proves itself)', async () => {
    const data = joinData(CUSTOMERS, ORDERS);
    const expected = plaintextJoin(data);
    expect(expected.length).toBeGreaterThan(ORDERS / 2);
    expect(expected.length).toBeLessThan(ORDERS);
    const topics = await produceJoinTopics(data, { framing: { customers: 'prefix', orders: 'header' } });
    created.push(topics.customers.topic, topics.orders.topic);

    const run = await runJoin(classpath, { left: topics.customers, right: topics.orders });
    created.push(run.outputTopic);
    console.log(`plaintext join: ${run.pairs.length} pairs in ${run.ms} ms`);

    expect(run.summary).toMatchObject({ leftRead: CUSTOMERS, rightRead: ORDERS, leftSkipped: 0, rightSkipped: 0, joined: expected.length });
    expect(await decryptPairs(run.pairs, topics, { customers: CUSTOMERS, orders: ORDERS })).toEqual(expected);
  });

  it('joins topics recrypt re-encrypted to AES256_SIV in one join group exactly like the plaintext join', async () => {
    const kek = uniqueName('join-kek');
    const group = uniqueName('customer-ids').toLowerCase();
    const { expected, siv, run, topics, counts } = await sivJoin(classpath, {
      customers: CUSTOMERS, orders: ORDERS, kek,
      // Each job names the same group and subjects; the two jobs run one after the other, as two processes would.
      spec: (targets) => ({ target: { joinGroup: { name: group, subjects: [`${targets.orders}-value`, `${targets.customers}-value`] } } }),
    });
    created.push(...topics);
    console.log(`SIV join in a join group: ${run.pairs.length} pairs in ${run.ms} ms`);

    expect(run.summary).toMatchObject({ leftRead: CUSTOMERS, rightRead: ORDERS, leftSkipped: 0, rightSkipped: 0, joined: expected.length });
    // Confluent's deserializer decrypts both sides of every pair (each under its own subject's DEK, which
    // the group made the same), and the pairs are the plaintext join's.
    expect(await decryptPairs(run.pairs, siv, counts)).toEqual(expected);
    // The join compared ciphertexts: equal ids are stored as one value across the topics, never as the id.
    const values = await compareJoinValues(siv, counts);
    expect(values).toMatchObject({ sameStoredValue: values.sharedIds, storedAsPlaintext: 0, maxValuesPerId: 1 });
  });

  it('finds no pair on topics re-encrypted to AES256_SIV without a join group (one DEK per subject)', async () => {
    const { expected, siv, run, topics, counts } = await sivJoin(classpath, { customers: CUSTOMERS, orders: ORDERS });
    created.push(...topics);
    console.log(`SIV join without a group: ${run.pairs.length} pairs in ${run.ms} ms (plaintext join: ${expected.length})`);

    // The app read every record and found each one's join value, and the plaintext join is far from empty:
    // the empty result is the ciphertexts', not the harness's.
    expect(run.summary).toMatchObject({ leftRead: CUSTOMERS, rightRead: ORDERS, leftSkipped: 0, rightSkipped: 0, joined: 0 });
    expect(run.pairs).toEqual([]);
    expect(expected.length).toBeGreaterThan(ORDERS / 2);

    // Why: each topic is deterministic on its own (one stored value per customer id), but the two topics
    // store different ciphertexts for the same customer id.
    const values = await compareJoinValues(siv, counts);
    expect(values.sharedIds).toBeGreaterThan(CUSTOMERS / 2);
    expect(values).toMatchObject({ sameStoredValue: 0, storedAsPlaintext: 0, maxValuesPerId: 1 });
  });
});
