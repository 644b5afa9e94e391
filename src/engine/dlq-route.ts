/**
 * Where a record that failed for good goes: to the DLQ when its rule's action says so (with the source
 * view of dlq-view.ts) or, unreadable, when the job has a DLQ; else it halts its partition. The part's
 * frame, located once by the driver (wire/'s locate), serves the plan lookup, the schema id and the view.
 */
import type { DlqRuleInfo, DlqWriter } from '../dlq/index.js';
import type { DekManager } from '../keys/index.js';
import { RecryptError, isTransient, type ErrorCode } from '../util/errors.js';
import type { ProcessedRecord, SourceRecord } from '../util/records.js';
import { frameOf, type Located } from '../wire/index.js';
import { buildSourceView, schemaIdOf, unreadableRecord } from './dlq-view.js';
import type { RuleFailure } from './kernel/outcome.js';
import type { Plan, PlanTable } from './plan-table.js';

/**
 * Permanent failures that are not a rule's: the record's bytes cannot be read. They take no rule action;
 * with a job-level DLQ they go there (reference payload only), else the partition halts.
 */
const UNREADABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'WIRE_TRUNCATED', 'WIRE_UNKNOWN_MAGIC', 'WIRE_BAD_INDEXES', 'WIRE_BAD_HEADER', 'FORMAT_DECODE', 'ENGINE_UNKNOWN_SCHEMA',
]);

export interface DlqRoute {
  readonly dlq: DlqWriter | undefined;
  readonly keys: DekManager;
  readonly plans: PlanTable;
  readonly targetTopicFor: (sourceTopic: string) => string;
}

/** A record that failed for good: a rule failure whose action is DLQ, or an error that halts (or, unreadable, goes to the job's DLQ). */
export async function routeFailed(
  route: DlqRoute, record: SourceRecord, located: Located | undefined, outcome: RecryptError | RuleFailure,
): Promise<ProcessedRecord> {
  const { dlq } = route;
  if (outcome instanceof RecryptError) {
    return dlq !== undefined && UNREADABLE.has(outcome.code) ? dlq.divert(unreadableRecord(record, located, outcome)) : { halt: outcome };
  }
  const { step, direction, error } = outcome;
  const dlqTopic = step.rule.params?.['dlq.topic'];
  const rule: DlqRuleInfo = {
    name: step.rule.name,
    mode: direction === 'write' ? 'WRITE' : 'READ',
    subject: step.subject,
    topic: direction === 'write' ? route.targetTopicFor(record.topic) : record.topic,
    ...(dlqTopic ? { dlqTopic } : {}),
  };
  const plan = located === undefined ? undefined : planOfLocated(route.plans, record.topic, located);
  let view;
  try {
    view = plan === undefined || located === undefined ? undefined : await buildSourceView(located, plan, route.keys);
  } catch (err) {
    if (isTransient(err)) throw err;
    return { halt: new RecryptError('DLQ_BUILD_FAILED', `record ${record.topic}/${record.partition}@${record.offset}: the source could not be read for the DLQ`, { cause: err }) };
  }
  const schemaId = schemaIdOf(located);
  return dlq!.divert({ record, error, rule, ...(schemaId === undefined ? {} : { schemaId }), ...(view ? { view } : {}) });
}

/** The compiled plan a located part uses, when there is one (no fetching). */
function planOfLocated(plans: PlanTable, topic: string, located: Located): Plan | undefined {
  const schemaType = plans.schemaType(topic, located.ref);
  if (schemaType !== 'PROTOBUF') return plans.get(topic, located.ref, undefined);
  try {
    return plans.get(topic, located.ref, frameOf(located, true).indexes ?? [0]);
  } catch {
    return undefined;
  }
}
