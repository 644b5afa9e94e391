/**
 * Where a record goes whose output the producer or broker refuses for good (RECORD_TOO_LARGE,
 * KAFKA_PRODUCE) when its job has a DLQ: a `reference` DLQ record (no payload; the `__source.*`
 * headers locate it and `__rule.exception` names the code), built and guarded by dlq/'s writer like
 * any unreadable record. Without a job-level DLQ the pipeline halts the partition instead.
 */
import { DlqWriter, type DlqEvents, type DlqTopics } from '../dlq/index.js';
import type { ProcessedRecord, SourceRecord } from '../kafka/types.js';
import type { DekManager } from '../keys/index.js';
import type { SchemaRegistryApi } from '../registry/types.js';
import type { RecryptError } from '../util/errors.js';
import { locate, schemaRefText } from '../wire/index.js';

export interface RefusedRecordDeps {
  readonly registry: SchemaRegistryApi;
  readonly keys: DekManager;
  readonly topics: DlqTopics;
  readonly events?: DlqEvents;
}

export type RefusedRecordHandler = (record: SourceRecord, error: RecryptError) => Promise<ProcessedRecord>;

/** The pipeline's `onRefused` for routes with a job-level DLQ topic; undefined when none has one. */
export function refusedRecordsToDlq(routes: Iterable<{ readonly source: string; readonly dlqTopic?: string }>, deps: RefusedRecordDeps): RefusedRecordHandler | undefined {
  const writers = new Map<string, DlqWriter>();
  for (const route of routes) {
    if (route.dlqTopic === undefined) continue;
    writers.set(route.source, new DlqWriter({
      topic: route.dlqTopic, policy: 'reference', catchPoison: true, registry: deps.registry, keys: deps.keys, topics: deps.topics,
      ...(deps.events ? { events: deps.events } : {}),
    }));
  }
  if (writers.size === 0) return undefined;
  // No rule failed: the writer takes it as an unreadable record, which always gets a reference payload.
  return async (record, error) => {
    const writer = writers.get(record.topic);
    if (writer === undefined) return { halt: error };
    const schemaId = sourceSchemaId(record);
    return writer.divert({ record, error, ...(schemaId === undefined ? {} : { schemaId }) });
  };
}

/** The value's schema id (or GUID) for the `__source.schema.id` header, when its framing reads. */
function sourceSchemaId(record: SourceRecord): string | undefined {
  try {
    const located = locate(record, 'value');
    return located === null ? undefined : schemaRefText(located.ref);
  } catch {
    return undefined; // unreadable framing: the reference record names the source without it
  }
}
