// Which client answers are permanent for the record (issue 21 #1), and the size check before producing.
import kafka from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { classifyKafkaError, unlistedKafkaCode } from '../../../src/kafka/kafka-errors.js';
import { oversize, producerMaxBytes, wireSize } from '../../../src/kafka/record-size.js';
import type { OutputRecord, SourceRecord } from '../../../src/kafka/types.js';

const E = kafka.CODES.ERRORS;

describe('classifyKafkaError for produced records', () => {
  it('makes a size refusal RECORD_TOO_LARGE (permanent) at produce() and at commit, even when the transaction must abort', () => {
    for (const [operation, err] of [
      ['produce', { code: E.ERR_MSG_SIZE_TOO_LARGE, message: 'Broker: Message size too large' }],
      ['transaction', { code: E.ERR_MSG_SIZE_TOO_LARGE, message: 'ProduceRequest failed', isTxnRequiresAbort: true }],
      ['transaction', { code: E.ERR_RECORD_LIST_TOO_LARGE, message: 'record list too large', isTxnRequiresAbort: true }],
    ] as const) {
      const e = classifyKafkaError(operation, err);
      expect([e.code, e.transient]).toEqual(['RECORD_TOO_LARGE', false]);
    }
  });

  it('makes any other produce() refusal not known to be transient KAFKA_PRODUCE (permanent)', () => {
    for (const code of [E.ERR_INVALID_RECORD, E.ERR__INVALID_ARG, 12345]) {
      const e = classifyKafkaError('produce', { code, message: 'refused' });
      expect([e.code, e.transient]).toEqual(['KAFKA_PRODUCE', false]);
    }
  });

  it('blames a record at commit only for record-level codes (invalid record or timestamp, policy, corrupt)', () => {
    for (const code of [E.ERR_INVALID_RECORD, E.ERR_INVALID_TIMESTAMP, E.ERR_POLICY_VIOLATION, E.ERR_INVALID_MSG]) {
      const e = classifyKafkaError('commit transaction', { code, message: 'refused', isTxnRequiresAbort: true });
      expect([e.code, e.transient]).toEqual(['KAFKA_PRODUCE', false]);
    }
  });

  it('makes authorization, unknown topic and unknown partition KAFKA_TOPIC (permanent, no record blamed) when writing', () => {
    for (const code of [E.ERR_TOPIC_AUTHORIZATION_FAILED, E.ERR__UNKNOWN_PARTITION, E.ERR_UNKNOWN_TOPIC_OR_PART, E.ERR__UNKNOWN_TOPIC]) {
      for (const operation of ['produce', 'commit transaction']) {
        const e = classifyKafkaError(operation, { code, message: 'refused', isTxnRequiresAbort: operation !== 'produce', isRetriable: true });
        expect([e.code, e.transient]).toEqual(['KAFKA_TOPIC', false]);
      }
    }
  });

  it('makes refused credentials and ACLs KAFKA_AUTH (permanent) whatever the operation, fatal or retriable flags', () => {
    for (const code of [E.ERR__AUTHENTICATION, E.ERR_SASL_AUTHENTICATION_FAILED, E.ERR_CLUSTER_AUTHORIZATION_FAILED,
      E.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, E.ERR_GROUP_AUTHORIZATION_FAILED]) {
      for (const operation of ['consume', 'commit transaction', 'init transactions']) {
        const e = classifyKafkaError(operation, { code, message: 'refused', isFatal: true, isRetriable: true, isTxnRequiresAbort: true });
        expect([e.code, e.transient]).toEqual(['KAFKA_AUTH', false]);
      }
    }
  });

  it('keeps answers about the client or the cluster transient', () => {
    expect(classifyKafkaError('produce', { code: E.ERR__QUEUE_FULL, message: 'full' }).transient).toBe(true);
    expect(classifyKafkaError('produce', { code: E.ERR__STATE, message: 'erroneous state' }).transient).toBe(true);
    expect(classifyKafkaError('produce', { code: E.ERR__TRANSPORT, message: 'down' }).code).toBe('KAFKA_UNAVAILABLE');
    expect(classifyKafkaError('transaction', { code: E.ERR__TIMED_OUT, message: 'flush timed out' }).code).toBe('KAFKA_UNAVAILABLE');
    // An unknown commit failure is about the transaction, not a record: retried.
    expect(classifyKafkaError('transaction', { code: 12345, message: 'x', isTxnRequiresAbort: true }).code).toBe('KAFKA_TRANSACTION');
  });

  it('marks a code on no list as unlisted (its retries are capped), with or without the abort-required flag; a listed or retriable one is not', () => {
    expect(unlistedKafkaCode(classifyKafkaError('commit transaction', { code: 12345, message: 'x' }))).toBe(12345);
    expect(unlistedKafkaCode(classifyKafkaError('commit transaction', { code: 12345, message: 'x', isTxnRequiresAbort: true }))).toBe(12345);
    for (const code of [E.ERR__MSG_TIMED_OUT, E.ERR__STATE, E.ERR__QUEUE_FULL, E.ERR_CONCURRENT_TRANSACTIONS]) {
      const e = classifyKafkaError('commit transaction', { code, message: 'x', isTxnRequiresAbort: true });
      expect([e.code, unlistedKafkaCode(e)]).toEqual(['KAFKA_TRANSACTION', undefined]);
    }
    expect(unlistedKafkaCode(classifyKafkaError('commit transaction', { message: 'no code', isTxnRequiresAbort: true }))).toBeUndefined();
    // librdkafka says a retry helps: retried like any transient error, not capped.
    expect(unlistedKafkaCode(classifyKafkaError('commit transaction', { code: 12345, message: 'x', isTxnRequiresAbort: true, isRetriable: true }))).toBeUndefined();
  });
});

const source: SourceRecord = { topic: 'src', partition: 2, offset: 41, key: null, value: Buffer.alloc(10), headers: [], timestamp: 0 };
const out = (valueBytes: number, topic = 'dst'): OutputRecord => ({
  topic, partition: 2, key: Buffer.from('k1'), value: Buffer.alloc(valueBytes), headers: [{ key: 'h', value: Buffer.from('v') }], timestamp: 0,
});

describe('oversize', () => {
  const limits = { producerMaxBytes: 10_000, topicMaxBytes: new Map([['small', 2_000]]) };

  it('counts key, value, headers and the framing', () => {
    expect(wireSize(out(1000))).toBeGreaterThan(1000 + 2 + 2);
    expect(wireSize(out(1000))).toBeLessThan(1000 + 100);
  });

  it("refuses an output over the producer's message.max.bytes, naming the record, size, limit and settings", () => {
    const e = oversize(source, [out(9_000), out(20_000)], limits)!;
    expect(e.code).toBe('RECORD_TOO_LARGE');
    expect(e.message).toContain('src/2@41');
    expect(e.message).toContain(`${wireSize(out(20_000))} bytes`);
    expect(e.message).toContain("producer's message.max.bytes of 10000 bytes");
    expect(e.message).toContain('KAFKA_PROP_MESSAGE_MAX_BYTES');
    expect(e.message).toContain("target topic's max.message.bytes");
  });

  it("refuses an output over its topic's max.message.bytes, batch header included; other topics are not held to it", () => {
    expect(oversize(source, [out(1_900, 'small')], limits)?.message).toContain('max.message.bytes of topic small of 2000 bytes');
    expect(oversize(source, [out(1_800, 'small')], limits)).toBeUndefined();
    expect(oversize(source, [out(5_000, 'other')], limits)).toBeUndefined();
  });

  it("reads the producer's message.max.bytes, librdkafka's default when unset", () => {
    expect(producerMaxBytes({})).toBe(1_000_000);
    expect(producerMaxBytes({ 'message.max.bytes': '8388608' })).toBe(8_388_608);
    expect(producerMaxBytes({ 'message.max.bytes': 4000 })).toBe(4000);
  });
});
