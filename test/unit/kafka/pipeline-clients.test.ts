// The settings the pipeline gives its consumer and producer (pipeline-clients.ts).
import { describe, expect, it } from 'vitest';
import { consumerSettings, producerSettings, TRANSACTION_RETRY_BACKOFF_MS } from '../../../src/kafka/pipeline-clients.js';
import type { PipelineOptions } from '../../../src/kafka/pipeline.js';
import { BATCH_OVERHEAD } from '../../../src/kafka/record-size.js';

const options = (extra: Partial<PipelineOptions> = {}): PipelineOptions => ({
  name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, groupId: 'g', transactionalId: 'tx',
  startAt: 'earliest', processor: async () => [], ...extra,
});

describe('consumerSettings', () => {
  it('reads committed records only and commits nothing itself; the rebalance callback only when given (group mode)', () => {
    const onRebalance = () => undefined;
    const group = consumerSettings(options(), onRebalance);
    expect(group.config).toMatchObject({ 'group.id': 'g', 'isolation.level': 'read_committed', 'enable.auto.commit': false, rebalance_cb: onRebalance });
    expect(consumerSettings(options()).config).not.toHaveProperty('rebalance_cb');
    expect(group.topicConfig).toEqual({ 'auto.offset.reset': 'earliest' });
    expect(consumerSettings(options({ startAt: 'latest' })).topicConfig).toEqual({ 'auto.offset.reset': 'latest' });
  });

  it("lets the job's consumer settings win", () => {
    expect(consumerSettings(options({ consumerConfig: { 'queued.max.messages.kbytes': 1024 } })).config['queued.max.messages.kbytes']).toBe(1024);
  });
});

describe('producerSettings', () => {
  it('makes a transactional, idempotent producer with the transaction timeout given', () => {
    const { config, limits } = producerSettings(options(), 'recrypt-unit', 30_000);
    expect(config).toMatchObject({ 'transactional.id': 'tx', 'enable.idempotence': true, 'transaction.timeout.ms': 30_000 });
    expect(config).not.toHaveProperty('batch.size');
    expect(limits.producerMaxBytes).toBe(1_000_000);
  });

  it('retries a CONCURRENT_TRANSACTIONS answer after 10 ms, not librdkafka\'s 100, unless the connection or the job sets retry.backoff.ms', () => {
    expect(producerSettings(options(), 'c', 1000).config['retry.backoff.ms']).toBe(TRANSACTION_RETRY_BACKOFF_MS);
    expect(TRANSACTION_RETRY_BACKOFF_MS).toBe(10);
    expect(producerSettings(options({ producerConfig: { 'retry.backoff.ms': 50 } }), 'c', 1000).config['retry.backoff.ms']).toBe(50);
    const viaConnection = options({ connection: { bootstrapServers: 'x', properties: { 'retry.backoff.ms': 250 } } });
    expect(producerSettings(viaConnection, 'c', 1000).config).not.toHaveProperty('retry.backoff.ms');
  });

  it("keeps librdkafka's batches within the smallest target topic limit, unless batch.size is set", () => {
    const topicMaxBytes = new Map([['a', 50_000], ['b', 20_000]]);
    expect(producerSettings(options({ topicMaxBytes }), 'c', 1000).config['batch.size']).toBe(20_000 - BATCH_OVERHEAD);
    expect(producerSettings(options({ topicMaxBytes: new Map([['tiny', 100]]) }), 'c', 1000).config['batch.size']).toBe(1024);
    expect(producerSettings(options({ topicMaxBytes, producerConfig: { 'batch.size': 4096 } }), 'c', 1000).config['batch.size']).toBe(4096);
    const viaConnection = options({ topicMaxBytes, connection: { bootstrapServers: 'x', properties: { 'batch.size': 8192 } } });
    expect(producerSettings(viaConnection, 'c', 1000).config).not.toHaveProperty('batch.size');
  });

  it("checks outputs against the message.max.bytes in force: the connection's, under the job's", () => {
    const connection = { bootstrapServers: 'x', properties: { 'message.max.bytes': '8388608' } };
    expect(producerSettings(options({ connection }), 'c', 1000).limits.producerMaxBytes).toBe(8_388_608);
    expect(producerSettings(options({ connection, producerConfig: { 'message.max.bytes': 4000 } }), 'c', 1000).limits.producerMaxBytes).toBe(4000);
  });
});
