/**
 * Where a record that failed for good goes: to the DLQ when its rule's action says so (with the source
 * view of dlq-view.ts) or, unreadable, when the job has a DLQ; else it halts its partition. The part's
 * frame, located once by the driver (wire/'s locate), serves the plan lookup, the schema id and the view.
 *
 * Under `keys: rules` a record has two transformed parts. A key that fails goes to the DLQ as a reference
 * (dlq/ writes no payload for it: the payload policies describe values); a value that fails carries the
 * key's tagged plaintexts to the guard as well, so neither part's plaintext can leave through the other.
 * DLQ records never carry the source key (dlq-writer.ts writes a null key).
 */
import type { DlqRuleInfo, DlqWriter, Plaintext } from '../dlq/index.js';
import type { DekManager } from '../keys/index.js';
import { RecryptError, isTransient, type ErrorCode } from '../util/errors.js';
import type { ProcessedRecord, SourceRecord } from '../util/records.js';
import { frameOf, locate, type Located, type RecordPart } from '../wire/index.js';
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
  /** The part this route's driver transforms. */
  readonly part: RecordPart;
  /** The other part's tagged plaintexts (the key's, for a value route under `keys: rules`). */
  readonly otherPartPlaintexts?: (record: SourceRecord) => Promise<readonly Plaintext[]>;
}

/** A record that failed for good: a rule failure whose action is DLQ, or an error that halts (or, unreadable, goes to the job's DLQ). */
export async function routeFailed(
  route: DlqRoute, record: SourceRecord, located: Located | undefined, outcome: RecryptError | RuleFailure,
): Promise<ProcessedRecord> {
  const { dlq } = route;
  if (outcome instanceof RecryptError) {
    if (dlq === undefined || !UNREADABLE.has(outcome.code)) return { halt: outcome };
    return dlq.divert({ ...unreadableRecord(record, located, outcome), part: route.part, ...(await otherPlaintexts(route, record)) });
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
  return dlq!.divert({
    record, error, rule, part: route.part, ...(schemaId === undefined ? {} : { schemaId }), ...(view ? { view } : {}), ...(await otherPlaintexts(route, record)),
  });
}

async function otherPlaintexts(route: DlqRoute, record: SourceRecord): Promise<{ otherPlaintexts?: readonly Plaintext[] }> {
  if (route.otherPartPlaintexts === undefined) return {};
  return { otherPlaintexts: await route.otherPartPlaintexts(record) };
}

/**
 * The tagged values of the route's part of `record` known or suspected to be plaintext (dlq-view.ts),
 * when the part's plan is compiled; none when it is not (the part was never read, so nothing of it was
 * decrypted). Errors of the bytes give none too: an unreadable part has no fields.
 */
export async function plaintextsOfPart(route: DlqRoute, record: SourceRecord): Promise<readonly Plaintext[]> {
  let located: Located | null;
  try {
    located = locate(record, route.part);
  } catch {
    return [];
  }
  if (located === null) return [];
  const plan = planOfLocated(route.plans, record.topic, located);
  if (plan === undefined) return [];
  try {
    return (await buildSourceView(located, plan, route.keys)).plaintexts;
  } catch (err) {
    if (isTransient(err)) throw err;
    return [];
  }
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
