import { describe, expect, it } from 'vitest';
import {
  DLQ_HEADERS, REPLAY_ATTEMPTS_HEADER, decideReplay, isUnreadable, parseDlqRecord, refuseBeforeLookup, sourceFromPayload, withReplayAttempt,
  type DlqEntry, type ReplayContext, type SourceLookup,
} from '../../../src/dlq/index.js';
import { dlqHeaders } from '../../../src/dlq/headers.js';
import { RecryptError } from '../../../src/util/errors.js';
import type { RecordHeader, SourceRecord } from '../../../src/util/records.js';

const source: SourceRecord = {
  topic: 'customers', partition: 2, offset: 41, key: Buffer.from('k'), value: Buffer.from([0, 0, 0, 0, 7, 1]),
  headers: [{ key: 'trace', value: Buffer.from('t') }], timestamp: 1_700_000_000_000,
};
const rule = { name: 'pii', mode: 'WRITE' as const, subject: 'customers.enc-value', topic: 'customers.enc' };
const error = new RecryptError('RULE_UNSUPPORTED_FIELD_TYPE', 'rule pii: tagged field age is an int');

/** A DLQ record as dlq-writer.ts lays it out: null key, the source timestamp, headers.ts's headers. */
function dlqRecord(payload: string, extra: RecordHeader[] = [], value: Buffer | null = null, part?: 'key'): SourceRecord {
  return {
    topic: 'customers.dlq', partition: 2, offset: 7, key: null, value, timestamp: source.timestamp,
    headers: [...dlqHeaders(source, error, rule, '7', payload, part), ...extra],
  };
}

function entryOf(record: SourceRecord): DlqEntry {
  const entry = parseDlqRecord(record);
  if (isUnreadable(entry)) throw new Error(entry.problem);
  return entry;
}

const ctx: ReplayContext = { sourceTopics: new Set(['customers']), keyed: false, maxAttempts: 3 };
const found: SourceLookup = { kind: 'found', record: source };
const gone: SourceLookup = { kind: 'gone' };

describe('parseDlqRecord: the headers dlq-writer.ts writes, read back', () => {
  it('reads the source coordinates, policy, rule and failure of a value', () => {
    expect(parseDlqRecord(dlqRecord('redacted', [], Buffer.from('x')))).toEqual({
      dlq: { topic: 'customers.dlq', partition: 2, offset: 7 },
      source: { topic: 'customers', partition: 2, offset: 41 },
      part: 'value', policy: 'redacted', exception: 'RULE_UNSUPPORTED_FIELD_TYPE: RecryptError', rule: { name: 'pii', mode: 'WRITE' },
      schemaId: '7', attempts: 0, hasValue: true, timestamp: source.timestamp,
    });
  });

  it('reads a failed key, a poison record (no rule) and the replay attempt count', () => {
    expect(entryOf(dlqRecord('reference', [], null, 'key')).part).toBe('key');
    const poison: SourceRecord = { ...dlqRecord('reference'), headers: dlqHeaders(source, error, undefined, undefined, 'reference') };
    const parsed = entryOf(poison);
    expect(parsed.rule).toBeUndefined();
    expect(parsed.schemaId).toBeUndefined();
    expect(entryOf(dlqRecord('source', [{ key: REPLAY_ATTEMPTS_HEADER, value: Buffer.from('2') }])).attempts).toBe(2);
  });

  it('takes the last of repeated headers, as Kafka clients do', () => {
    const record = dlqRecord('reference', [{ key: DLQ_HEADERS.sourceOffset, value: Buffer.from('99') }]);
    expect(entryOf(record).source.offset).toBe(99);
  });

  it.each([
    ['no source topic', (h: RecordHeader[]) => h.filter((x) => x.key !== DLQ_HEADERS.sourceTopic), 'not a recrypt DLQ record'],
    ['a partition that is not a number', (h: RecordHeader[]) => [...h, { key: DLQ_HEADERS.sourcePartition, value: Buffer.from('-1') }], 'not a partition number'],
    ['an offset that is not a number', (h: RecordHeader[]) => [...h, { key: DLQ_HEADERS.sourceOffset, value: Buffer.from('4x') }], 'not an offset'],
    ['an unknown payload policy', (h: RecordHeader[]) => [...h, { key: DLQ_HEADERS.payload, value: Buffer.from('plaintext') }], 'no known payload policy'],
    ['an unknown part', (h: RecordHeader[]) => [...h, { key: DLQ_HEADERS.sourcePart, value: Buffer.from('value') }], 'neither absent nor key'],
    ['an attempt count that is not a count', (h: RecordHeader[]) => [...h, { key: REPLAY_ATTEMPTS_HEADER, value: Buffer.from('1.5') }], 'not a count'],
  ])('names the problem of %s, by DLQ coordinates', (_name, edit, problem) => {
    const record = dlqRecord('reference');
    const parsed = parseDlqRecord({ ...record, headers: edit([...record.headers]) });
    expect(isUnreadable(parsed)).toBe(true);
    expect(parsed).toMatchObject({ dlq: { topic: 'customers.dlq', partition: 2, offset: 7 } });
    expect((parsed as { problem: string }).problem).toContain(problem);
  });

  it('a record without a payload header is a reference (the writer always writes one; older records may not)', () => {
    const record = dlqRecord('reference');
    expect(entryOf({ ...record, headers: record.headers.filter((h) => h.key !== DLQ_HEADERS.payload) }).policy).toBe('reference');
  });
});

describe('decideReplay', () => {
  it.each(['reference', 'redacted', 'source', 'encrypted'])('payload %s: the source record still in its topic is replayed as it is', (policy) => {
    expect(decideReplay(entryOf(dlqRecord(policy, [], policy === 'reference' ? null : Buffer.from('x'))), found, ctx))
      .toEqual({ replay: true, from: 'source-record', why: 'the source record is still in its topic' });
  });

  it('a failed key is replayed from its source record too', () => {
    expect(decideReplay(entryOf(dlqRecord('reference', [], null, 'key')), found, ctx)).toMatchObject({ replay: true, from: 'source-record' });
  });

  it.each([
    ['reference', 'has no payload'],
    ['redacted', 'lost the tagged values'],
    ['encrypted', 'not the source value'],
  ])('payload %s with the source record gone: not replayable', (policy, why) => {
    const decision = decideReplay(entryOf(dlqRecord(policy, [], policy === 'reference' ? null : Buffer.from('x'))), gone, ctx);
    expect(decision.replay).toBe(false);
    expect(decision.why).toContain('no longer in its topic');
    expect(decision.why).toContain(why);
  });

  it('payload source with the source record gone: replayed from the DLQ payload, unless the job needs the key', () => {
    const entry = entryOf(dlqRecord('source', [], Buffer.from('x')));
    expect(decideReplay(entry, gone, ctx)).toMatchObject({ replay: true, from: 'dlq-payload' });
    expect(decideReplay(entry, gone, { ...ctx, keyed: true })).toMatchObject({ replay: false, why: expect.stringContaining('by key') });
    expect(decideReplay(entryOf(dlqRecord('source', [], null, 'key')), gone, ctx)).toMatchObject({ replay: false, why: expect.stringContaining('no key') });
    expect(decideReplay(entryOf(dlqRecord('source', [], null)), gone, ctx)).toMatchObject({ replay: false, why: expect.stringContaining('no value') });
  });

  it('a record at the source coordinates with another timestamp is not the one that failed', () => {
    const other: SourceLookup = { kind: 'found', record: { ...source, timestamp: source.timestamp + 1 } };
    expect(decideReplay(entryOf(dlqRecord('redacted', [], Buffer.from('x'))), other, ctx)).toMatchObject({ replay: false, why: expect.stringContaining('recreated') });
    // Unless the DLQ topic stamps its own times (LogAppendTime): then the timestamp proves nothing.
    expect(decideReplay(entryOf(dlqRecord('redacted', [], Buffer.from('x'))), other, { ...ctx, appendTimeTopics: new Set(['customers.dlq']) }))
      .toMatchObject({ replay: true, from: 'source-record' });
    // A source payload still is the value that failed.
    expect(decideReplay(entryOf(dlqRecord('source', [], Buffer.from('x'))), other, ctx)).toMatchObject({ replay: true, from: 'dlq-payload' });
  });

  it('refuses, before any lookup, a record of another job\'s topic and one at the attempt limit', () => {
    const foreign = entryOf(dlqRecord('reference'));
    expect(refuseBeforeLookup(foreign, { ...ctx, sourceTopics: new Set(['orders']) })).toMatchObject({ replay: false, why: expect.stringContaining('not a source of this job') });
    const tired = entryOf(dlqRecord('reference', [{ key: REPLAY_ATTEMPTS_HEADER, value: Buffer.from('3') }]));
    expect(refuseBeforeLookup(tired, ctx)).toMatchObject({ replay: false, why: 'replayed and failed 3 times already (limit 3)' });
    expect(decideReplay(tired, found, ctx).replay).toBe(false);
    expect(refuseBeforeLookup(entryOf(dlqRecord('reference', [{ key: REPLAY_ATTEMPTS_HEADER, value: Buffer.from('2') }])), ctx)).toBeUndefined();
  });

  it('never puts a value into a reason', () => {
    const secret = 'CANARYe3b0c44298fc1c149a';
    const record = dlqRecord('redacted', [], Buffer.from(secret));
    for (const lookup of [found, gone, { kind: 'found' as const, record: { ...source, value: Buffer.from(secret), timestamp: 1 } }]) {
      expect(JSON.stringify(decideReplay(entryOf(record), lookup, ctx))).not.toContain('CANARY');
    }
  });
});

describe('rebuilt and re-diverted records', () => {
  it('sourceFromPayload: the DLQ value and schema id header at the source coordinates, key null', () => {
    const dlq = dlqRecord('source', [{ key: '__value_schema_id', value: Buffer.from('guid') }], Buffer.from('bytes'));
    expect(sourceFromPayload(entryOf(dlq), dlq)).toEqual({
      topic: 'customers', partition: 2, offset: 41, key: null, value: Buffer.from('bytes'),
      headers: [{ key: '__value_schema_id', value: Buffer.from('guid') }], timestamp: source.timestamp,
    });
  });

  it('withReplayAttempt: one attempt more than the record replayed, the header written once', () => {
    const entry = entryOf(dlqRecord('reference', [{ key: REPLAY_ATTEMPTS_HEADER, value: Buffer.from('1') }]));
    const out = withReplayAttempt({ headers: [{ key: REPLAY_ATTEMPTS_HEADER, value: Buffer.from('0') }, { key: 'a', value: Buffer.from('b') }] }, entry);
    expect(out.headers.filter((h) => h.key === REPLAY_ATTEMPTS_HEADER).map((h) => h.value.toString())).toEqual(['2']);
    expect(out.headers.some((h) => h.key === 'a')).toBe(true);
  });
});
