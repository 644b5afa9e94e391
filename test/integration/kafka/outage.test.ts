// Issue 21 #8: a broker outage is said once when it starts and once when it ends (it was silent), and
// the pipeline carries on afterwards. The broker is the test's own, behind a proxy the test cuts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { TransactionalPipeline } from '../../../src/kafka/pipeline.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/kafka/types.js';
import type { RecryptError } from '../../../src/util/errors.js';
import { startOwnKafka, type OwnKafka } from '../helpers/own-kafka.js';

let own: OwnKafka;
beforeAll(async () => { own = await startOwnKafka(); }, 150_000);
afterAll(async () => { await own?.stop(); });

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('pipeline during a broker outage', () => {
  it('reports the lost connection once and its return once, then goes on', async () => {
    const client = new kafkajs.Kafka({ brokers: [own.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'src', numPartitions: 1 }, { topic: 'dst', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'src', messages: Array.from({ length: 10 }, (_, i) => ({ value: `a${i}` })) });
    await producer.disconnect();

    const events: string[] = [];
    let written = 0;
    const copy = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> =>
      batch.map((r) => ({ outputs: [{ topic: 'dst', partition: r.partition, key: r.key, value: r.value, headers: [], timestamp: r.timestamp }] }));
    const pipeline = new TransactionalPipeline({
      name: 'outage', connection: { bootstrapServers: own.bootstrap, properties: {} }, groupId: 'g-outage', transactionalId: 'tx-outage',
      topics: ['src'], startAt: 'earliest', processor: copy, backoff: { initialMs: 100, maxMs: 1000 },
      observer: {
        onBatchCommitted: (info) => { written += info.written; },
        onConnectionLost: (e: RecryptError) => events.push(`lost ${e.code}`),
        onConnectionRestored: () => events.push('back'),
      },
    });
    const running = pipeline.run();
    try {
      await waitFor('the first records', () => written === 10, 60_000);
      expect(events).toEqual([]);

      await own.cut();
      await waitFor('the lost connection', () => events.length > 0, 60_000);
      // Several seconds more of outage: still one line, not one per retry.
      await new Promise((r) => setTimeout(r, 4000));
      expect(events).toEqual(['lost KAFKA_UNAVAILABLE']);

      await own.restore();
      await waitFor('the connection back', () => events.length > 1, 60_000);
      expect(events).toEqual(['lost KAFKA_UNAVAILABLE', 'back']);

      const after = client.producer();
      await after.connect();
      await after.send({ topic: 'src', messages: Array.from({ length: 5 }, (_, i) => ({ value: `b${i}` })) });
      await after.disconnect();
      await waitFor('the records after the outage', () => written === 15, 60_000);
      expect(events).toEqual(['lost KAFKA_UNAVAILABLE', 'back']);
    } finally {
      pipeline.stop();
      await running.catch(() => undefined);
    }
  });
});
