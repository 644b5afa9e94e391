/**
 * DLQ record headers. The `__rule.*` names are Confluent's (its Java DlqAction writes them); the
 * `__source.*` ones locate the source record. `__rule.exception` is `CODE: ErrorClass`, never a message.
 * The source record's own headers are not copied (they may carry values); the one exception is the
 * schema id header `__value_schema_id` of a `source` payload, which readers need to decode it.
 */
import type { RecordHeader, SourceRecord } from '../util/records.js';
import type { RecryptError } from '../util/errors.js';
import type { RecordPart } from '../wire/index.js';
import type { DlqRuleInfo } from './types.js';

export const DLQ_HEADERS = {
  ruleName: '__rule.name',
  ruleMode: '__rule.mode',
  ruleSubject: '__rule.subject',
  ruleTopic: '__rule.topic',
  ruleException: '__rule.exception',
  sourceTopic: '__source.topic',
  sourcePartition: '__source.partition',
  sourceOffset: '__source.offset',
  sourceSchemaId: '__source.schema.id',
  /** `key` when the record's key failed (keys: rules); absent for the value. */
  sourcePart: '__source.part',
  payload: '__dlq.payload',
} as const;

const h = (key: string, value: string): RecordHeader => ({ key, value: Buffer.from(value, 'utf8') });

export function exceptionText(error: RecryptError): string {
  return `${error.code}: ${error.constructor.name}`;
}

export function dlqHeaders(
  record: SourceRecord, error: RecryptError, rule: DlqRuleInfo | undefined, schemaId: string | undefined, payload: string, part?: RecordPart,
): RecordHeader[] {
  const out: RecordHeader[] = [];
  if (rule !== undefined) {
    out.push(h(DLQ_HEADERS.ruleName, rule.name), h(DLQ_HEADERS.ruleMode, rule.mode), h(DLQ_HEADERS.ruleSubject, rule.subject), h(DLQ_HEADERS.ruleTopic, rule.topic));
  }
  out.push(
    h(DLQ_HEADERS.ruleException, exceptionText(error)),
    h(DLQ_HEADERS.sourceTopic, record.topic),
    h(DLQ_HEADERS.sourcePartition, String(record.partition)),
    h(DLQ_HEADERS.sourceOffset, String(record.offset)),
  );
  if (schemaId !== undefined) out.push(h(DLQ_HEADERS.sourceSchemaId, schemaId));
  if (part === 'key') out.push(h(DLQ_HEADERS.sourcePart, 'key'));
  out.push(h(DLQ_HEADERS.payload, payload));
  return out;
}

/** What a DLQ record built by the writer says about itself (for metrics): its topic, payload policy and cause. */
export function describeDlqRecord(out: { readonly topic: string; readonly headers: readonly RecordHeader[] }): { topic: string; policy: string; cause: 'rule' | 'poison' } {
  const find = (key: string) => out.headers.find((x) => x.key === key)?.value.toString('utf8');
  return { topic: out.topic, policy: find(DLQ_HEADERS.payload) ?? 'reference', cause: find(DLQ_HEADERS.ruleName) === undefined ? 'poison' : 'rule' };
}
