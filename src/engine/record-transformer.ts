/**
 * The pure record transform: source record in Confluent's wire format -> target record, running the
 * writer schema's READ rules (reverse order) and the target schema's WRITE rules (list order).
 *
 * The per-record path is synchronous: decode, walk, encrypt, encode. What needs I/O (a writer schema
 * not seen yet, a DEK version not cached yet) is signalled by a miss, fetched once for the whole
 * process, and the record is retried. Failures are classified: transient ones propagate (the loop
 * backs off and retries the batch); permanent ones take the failing rule's action.
 */
import type { FieldCipher } from '../crypto/index.js';
import type { DlqRuleInfo, DlqWriter } from '../dlq/index.js';
import type { FieldInfo } from '../formats/index.js';
import type { DekAlgorithm } from '../registry/types.js';
import { createValueConverter, type FieldSplicer, type SpliceState, type ValueConverter } from '../formats/index.js';
import type { OutputRecord, ProcessedRecord, RecordHeader, SourceRecord } from '../util/records.js';
import { dekCacheKey, type DekManager, type WriteDek } from '../keys/index.js';
import type { RuleAction, RuleDirection } from '../rules/index.js';
import { RecryptError, isTransient, type ErrorCode } from '../util/errors.js';
import { decodeFrame, encodeFrame, isIdRef, peekSchemaRef, VALUE_SCHEMA_ID_HEADER, type SchemaRef } from '../wire/index.js';
import { buildSourceView, schemaIdOf, unreadableRecord } from './dlq-view.js';
import { KEY_ABSENT_CODES, isKeyFailure } from './key-failures.js';
import { decryptEncoded, decryptField, encryptEncoded, encryptField } from './field-crypto.js';
import { compileSide, unsupportedRuleError, type FieldStep, type PayloadStep, type Side, type Step } from './plan.js';
import type { LoadedSchema, SchemaStore } from './schema-store.js';
import { sourceSubject, type SubjectNameStrategy } from './subjects.js';

export type JobMode = 'encrypt' | 'decrypt' | 'reencrypt';

export interface TransformTarget {
  readonly schema: LoadedSchema;
  readonly subject: string;
  readonly topicFor: (sourceTopic: string) => string;
}

export interface RuleFailureEvent {
  readonly rule: string;
  readonly direction: RuleDirection;
  readonly action: RuleAction;
  readonly code: string;
}

export interface TransformerOptions {
  readonly schemas: SchemaStore;
  readonly keys: DekManager;
  readonly mode: JobMode;
  readonly subjectNameStrategy: SubjectNameStrategy;
  readonly target: TransformTarget;
  /** Lets write-side NONE send a field out unencrypted; off unless a job opts in by name. */
  readonly allowPlaintextOnEncryptFailure?: boolean;
  readonly onRuleFailure?: (event: RuleFailureEvent) => void;
  /**
   * Where records go whose rule action is DLQ (and, when the job has a dlq section, unreadable records).
   * Without it, DLQ actions fail closed: the partition halts.
   */
  readonly dlq?: DlqWriter;
  /**
   * How many distinct writer schemas and read DEKs a batch may fetch at once (job processing.maxInFlight;
   * default 1). Records still finish one by one, in order; only the fetches overlap.
   */
  readonly maxInFlight?: number;
}

/**
 * Permanent failures that are not a rule's: the record's bytes cannot be read. They take no rule action;
 * with a job-level DLQ they go there (reference payload only), else the partition halts.
 */
const UNREADABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'WIRE_TRUNCATED', 'WIRE_UNKNOWN_MAGIC', 'WIRE_BAD_INDEXES', 'WIRE_BAD_HEADER', 'FORMAT_DECODE', 'ENGINE_UNKNOWN_SCHEMA',
]);

/** Raised when a record names a writer schema no plan exists for yet. */
class PlanMiss {
  constructor(readonly ref: SchemaRef, readonly topic: string, readonly indexes: readonly number[] | undefined) {}
}

/** Raised to rerun a record with one more rule skipped (the NONE action on read). */
class SkipAndRetry {
  constructor(readonly step: Step) {}
}

/** Raised when a rule failed permanently and its action is DLQ. */
class DivertToDlq {
  constructor(readonly step: Step, readonly direction: RuleDirection, readonly error: RecryptError) {}
}

interface Plan {
  readonly read: Side;
  readonly write: Side;
  readonly convert: ValueConverter | null;
  /** Writer and target schemas that encode alike: the selected fields are rewritten in place. */
  readonly spliced: SplicedPlan | null;
}

interface SplicedPlan {
  readonly splicer: FieldSplicer;
  readonly state: SpliceState;
  /** The target's wire prefix (magic byte and schema id). */
  readonly prefix: Buffer;
}

const MAX_ATTEMPTS = 32;

export interface EngineStats {
  readonly encrypted: Record<DekAlgorithm, number>;
  readonly decrypted: Record<DekAlgorithm, number>;
  /** DEKs fetched because they were not cached (each once, unless a fetch failed and was retried). */
  dekMisses: number;
  /** Writer schemas compiled into a plan (first sight of a schema on a topic). */
  schemaMisses: number;
}

function newCounters(): EngineStats {
  return {
    encrypted: { AES128_GCM: 0, AES256_GCM: 0, AES256_SIV: 0 },
    decrypted: { AES128_GCM: 0, AES256_GCM: 0, AES256_SIV: 0 },
    dekMisses: 0,
    schemaMisses: 0,
  };
}
const NO_SKIPS: ReadonlySet<Step> = new Set();

export class RecordTransformer {
  private readonly plans = new Map<string, Plan>();
  /** The plan of the last v0-framed record in the payload (non-protobuf), by topic and schema id. */
  private lastPlan: { readonly topic: string; readonly id: number; readonly plan: Plan } | undefined;
  private readonly schemaTypes = new Map<string, string>();
  private readonly writeSides = new Map<string, Side>();
  /** DEK per write step, resolved once per batch (cached by keys/ with a TTL). */
  private readonly writeDeks = new Map<Step, WriteDek>();
  /** Field operations and cache misses since the last drainStats(): plain integers on the hot path. */
  private counters = newCounters();
  private readonly encryptVisitors = new Map<Step, WriteVisitors>();
  private readonly decryptVisitors = new Map<Step, (value: unknown, field: FieldInfo) => unknown>();
  private readonly encodedDecryptVisitors = new Map<Step, (encoded: Buffer | null, field: FieldInfo) => Buffer | null>();
  /** Write steps whose DEK failed permanently in this batch: their records take the rule's action. */
  private readonly writeDekFailures = new Map<Step, unknown>();

  constructor(private readonly options: TransformerOptions) {}

  /** The target's WRITE side for the default message; used by plan checks and dry runs. */
  targetSide(indexes?: readonly number[]): Side {
    const key = indexes?.join('.') ?? '';
    let side = this.writeSides.get(key);
    if (!side) {
      const { schema, subject } = this.options.target;
      const codec = this.options.schemas.codec(schema, schema.schemaType === 'PROTOBUF' ? indexes ?? [0] : undefined);
      side = compileSide(schema, codec, 'write', subject, indexes);
      this.writeSides.set(key, side);
    }
    return side;
  }

  /** What the engine did since the last call (for metrics); resets the counters. */
  drainStats(): EngineStats {
    const stats = this.counters;
    this.counters = newCounters();
    // Visitors hold the counter objects: rebuild them against the fresh ones.
    this.encryptVisitors.clear();
    this.decryptVisitors.clear();
    this.encodedDecryptVisitors.clear();
    return stats;
  }

  /** A RecordProcessor for kafka/'s pipeline. */
  readonly process = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => {
    await this.prepareWriteDeks(this.targetSide());
    const out: ProcessedRecord[] = new Array(batch.length);
    let slow: Slow[] | undefined;
    for (let i = 0; i < batch.length; i++) {
      // The common case stays synchronous: no promise, no allocation beyond the output.
      const failed = this.attempt(batch, i, out);
      if (failed) (slow ??= []).push(failed);
    }
    if (slow) {
      if ((this.options.maxInFlight ?? 1) > 1) slow = await this.resolveMissesAhead(batch, out, slow);
      for (const entry of slow) {
        // An earlier record may have filled what this one missed.
        const failed = isMiss(entry.signal) ? this.attempt(batch, entry.index, out) : entry;
        if (failed) out[entry.index] = await this.processRecord(batch[entry.index]!, failed.signal);
      }
    }
    return out;
  };

  /**
   * One synchronous attempt at batch[index]: fills out[index], or returns what it threw. Repeating an
   * attempt that threw a miss repeats no rule failure event: a miss is thrown before any of them.
   */
  private attempt(batch: readonly SourceRecord[], index: number, out: ProcessedRecord[]): Slow | undefined {
    try {
      out[index] = { outputs: [this.transformSync(batch[index]!, NO_SKIPS)] };
      return undefined;
    } catch (signal) {
      return { index, signal };
    }
  }

  /**
   * Fetches what a batch's records miss (writer schemas, then the read DEKs they lead to), the distinct
   * ones up to maxInFlight at a time, so that a batch under many DEKs (a topic pattern, years of rotation)
   * does not wait for them one after another; then retries those records. Returns the records still to
   * go through the one-by-one slow path, in order. A fetch that fails is left to that path, which meets
   * the failure again and handles it as it always does; each distinct fetch is tried once here.
   */
  private async resolveMissesAhead(
    batch: readonly SourceRecord[], out: ProcessedRecord[], slow: Slow[],
  ): Promise<Slow[]> {
    const tried = new Set<string>();
    for (let round = 0; round < MAX_ATTEMPTS; round++) {
      const fetches = new Map<string, () => Promise<void>>();
      for (const { signal } of slow) {
        const fetch = this.missFetch(signal);
        if (fetch && !tried.has(fetch.key)) fetches.set(fetch.key, fetch.run);
      }
      if (fetches.size === 0) break;
      for (const key of fetches.keys()) tried.add(key);
      const queue = [...fetches.values()];
      const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) await next().catch(() => undefined);
      };
      await Promise.all(Array.from({ length: Math.min(this.options.maxInFlight ?? 1, queue.length) }, worker));
      const still: Slow[] = [];
      for (const entry of slow) {
        const failed = isMiss(entry.signal) ? this.attempt(batch, entry.index, out) : entry;
        if (failed) still.push(failed);
      }
      slow = still;
    }
    return slow;
  }

  /** The fetch that resolves a miss signal (counted as the miss), keyed by what it fetches. */
  private missFetch(signal: unknown): { key: string; run: () => Promise<void> } | undefined {
    if (signal instanceof PlanMiss) {
      const { ref, topic, indexes } = signal;
      return {
        key: `plan\u0000${topic}\u0000${isIdRef(ref) ? `id:${ref.id}` : `guid:${ref.guid}`}\u0000${indexes?.join('.') ?? ''}`,
        run: async () => {
          await this.compilePlan(signal);
          this.counters.schemaMisses += 1;
        },
      };
    }
    if (signal instanceof MissingDek && signal.version !== undefined) {
      const { step, version } = signal;
      return {
        key: `dek\u0000${dekCacheKey(step.dek, version)}`,
        run: async () => {
          await this.options.keys.dekForRead(step.dek, step.params, version);
          this.counters.dekMisses += 1;
        },
      };
    }
    return undefined;
  }

  /**
   * The slow path of one record: resolves what the synchronous attempt signalled (a schema or DEK to
   * fetch, a rule to skip, a DLQ diversion) and retries. `firstSignal` is what a synchronous attempt
   * already threw, so its side effects (rule failure events) are not repeated.
   */
  async processRecord(record: SourceRecord, firstSignal?: unknown): Promise<ProcessedRecord> {
    const skipped = new Set<Step>();
    let pending = firstSignal;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let signal: unknown;
      if (pending !== undefined) {
        signal = pending;
        pending = undefined;
      } else {
        try {
          return { outputs: [this.transformSync(record, skipped)] };
        } catch (err) {
          signal = err;
        }
      }
      let outcome: RecryptError | DivertToDlq | undefined;
      try {
        if (signal instanceof SkipAndRetry) skipped.add(signal.step);
        else if (signal instanceof PlanMiss) {
          this.counters.schemaMisses += 1;
          await this.compilePlan(signal);
        } else if (signal instanceof MissingDek) {
          this.counters.dekMisses += 1;
          await this.fetchDek(signal);
        }
        else if (signal instanceof DivertToDlq) outcome = signal;
        else throw signal;
      } catch (err) {
        if (isTransient(err)) throw err;
        outcome = this.permanentOutcome(err, signal, skipped);
      }
      if (outcome !== undefined) return this.failed(record, outcome);
    }
    return { halt: new RecryptError('INTERNAL', `record ${record.topic}/${record.partition}@${record.offset} kept missing keys or schemas`) };
  }

  /**
   * A permanent failure: a DEK that cannot be had goes through its rule's action (NONE skips the rule
   * and the record is retried, DLQ diverts it); anything else halts. Undefined means retry.
   */
  private permanentOutcome(err: unknown, signal: unknown, skipped: Set<Step>): RecryptError | DivertToDlq | undefined {
    // A tolerant read step whose KEK or DEK does not exist: the writer skipped that rule. A key that
    // exists but cannot be used (KMS refusal, bad DEK) is not skipped: it halts like any key failure.
    if (signal instanceof MissingDek && signal.step.tolerant === true && signal.version !== undefined
      && !(isKeyFailure(err) && !KEY_ABSENT_CODES.has((err as RecryptError).code))) {
      skipped.add(signal.step);
      return undefined;
    }
    // The write DEK depends on the rule and target subject, never on the record: failing to get it,
    // whatever the code, fails every record alike, so it is a key failure (see key-failures.ts).
    if (signal instanceof MissingDek && signal.version === undefined) {
      const error = err instanceof RecryptError ? err : new RecryptError('INTERNAL', `rule ${signal.step.rule.name}: the write DEK could not be had`, { cause: err });
      return this.keyHalt(signal.step, 'write', error);
    }
    if (signal instanceof MissingDek) {
      try {
        this.onStepFailure(signal.step, signal.version === undefined ? 'write' : 'read', err);
      } catch (outcome) {
        if (outcome instanceof SkipAndRetry) {
          skipped.add(outcome.step);
          return undefined;
        }
        if (outcome instanceof DivertToDlq) return outcome;
        err = outcome;
      }
    }
    return err instanceof RecryptError ? err : new RecryptError('INTERNAL', 'unexpected failure transforming a record', { cause: err });
  }

  /** A record that failed for good: to the DLQ when its rule (or, unreadable, the job) says so, else a halt. */
  private async failed(record: SourceRecord, outcome: RecryptError | DivertToDlq): Promise<ProcessedRecord> {
    const dlq = this.options.dlq;
    if (!(outcome instanceof DivertToDlq)) {
      return dlq !== undefined && UNREADABLE.has(outcome.code) ? dlq.divert(unreadableRecord(record, outcome)) : { halt: outcome };
    }
    const { step, direction, error } = outcome;
    const dlqTopic = step.rule.params?.['dlq.topic'];
    const rule: DlqRuleInfo = {
      name: step.rule.name,
      mode: direction === 'write' ? 'WRITE' : 'READ',
      subject: step.subject,
      topic: direction === 'write' ? this.options.target.topicFor(record.topic) : record.topic,
      ...(dlqTopic ? { dlqTopic } : {}),
    };
    const plan = this.planOf(record);
    let view;
    try {
      view = plan === undefined ? undefined : await buildSourceView(record, plan, this.options.keys);
    } catch (err) {
      if (isTransient(err)) throw err;
      return { halt: new RecryptError('DLQ_BUILD_FAILED', `record ${record.topic}/${record.partition}@${record.offset}: the source could not be read for the DLQ`, { cause: err }) };
    }
    const schemaId = schemaIdOf(record);
    return dlq!.divert({ record, error, rule, ...(schemaId === undefined ? {} : { schemaId }), ...(view ? { view } : {}) });
  }

  /** The compiled plan a record uses, when there is one (no fetching). */
  private planOf(record: SourceRecord): Plan | undefined {
    if (record.value === null) return undefined;
    try {
      const header = findHeader(record.headers, VALUE_SCHEMA_ID_HEADER);
      const ref = peekSchemaRef(record.value, header);
      const refKey = `${record.topic}\u0000${isIdRef(ref) ? `id:${ref.id}` : `guid:${ref.guid}`}`;
      const schemaType = this.schemaTypes.get(refKey);
      if (schemaType !== 'PROTOBUF') return this.plans.get(refKey);
      const frame = decodeFrame(record.value, { header, messageIndexes: true });
      return this.plans.get(`${refKey}\u0000${(frame.indexes ?? [0]).join('.')}`);
    } catch {
      return undefined;
    }
  }

  private transformSync(record: SourceRecord, skipped: ReadonlySet<Step>): OutputRecord {
    const target = this.options.target.topicFor(record.topic);
    if (record.value === null) {
      return { topic: target, partition: record.partition, key: record.key, value: null, headers: record.headers, timestamp: record.timestamp };
    }
    const header = findHeader(record.headers, VALUE_SCHEMA_ID_HEADER);
    let plan: Plan | undefined;
    let payload: Buffer;
    const last = this.lastPlan;
    const bytes = record.value;
    // Most records repeat the last record's v0 frame (topic and schema id): no key strings, no lookups.
    if (header === undefined && last !== undefined && bytes.length >= 5 && bytes[0] === 0 && last.topic === record.topic && last.id === bytes.readInt32BE(1)) {
      plan = last.plan;
      payload = bytes.subarray(5);
    } else {
      const ref = peekSchemaRef(bytes, header);
      const refKey = `${record.topic}\u0000${isIdRef(ref) ? `id:${ref.id}` : `guid:${ref.guid}`}`;
      // Protobuf frames carry message indexes, which pick the message (and so the plan).
      const schemaType = this.schemaTypes.get(refKey);
      if (schemaType === undefined) throw new PlanMiss(ref, record.topic, undefined);
      const isProtobuf = schemaType === 'PROTOBUF';
      const frame = decodeFrame(bytes, { header, messageIndexes: isProtobuf });
      const indexes = isProtobuf ? frame.indexes ?? [0] : undefined;
      plan = this.plans.get(isProtobuf ? `${refKey}\u0000${indexes!.join('.')}` : refKey);
      if (!plan) throw new PlanMiss(ref, record.topic, indexes);
      payload = frame.payload;
      if (!isProtobuf && header === undefined && isIdRef(ref)) this.lastPlan = { topic: record.topic, id: ref.id, plan };
    }

    payload = this.runPayloadSteps(plan.read.encoding, payload, 'read', skipped);
    // The id now travels in the payload: a stale id header would make readers pick the writer schema.
    const headers = header === undefined ? record.headers : record.headers.filter((h) => h.key !== VALUE_SCHEMA_ID_HEADER);
    if (plan.spliced !== null && plan.write.encoding.length === 0) {
      const framed = this.spliceSync(plan, plan.spliced, payload, skipped);
      if (framed !== undefined) return { topic: target, partition: record.partition, key: record.key, value: framed, headers, timestamp: record.timestamp };
    }
    let value = plan.read.codec.decode(payload);
    value = this.runFieldSteps(plan.read.domain, value, 'read', skipped);
    if (plan.convert) value = plan.convert(value);
    value = this.runFieldSteps(plan.write.domain, value, 'write', skipped);
    let encoded = plan.write.codec.encode(value);
    encoded = this.runPayloadSteps(plan.write.encoding, encoded, 'write', skipped);
    const framed = encodeFrame(plan.write.schema.id, encoded, plan.write.messageIndexes);
    return { topic: target, partition: record.partition, key: record.key, value: framed, headers, timestamp: record.timestamp };
  }

  /**
   * The rules on the selected fields' encoded bytes, straight in the payload (formats/avro-splice.ts):
   * the same steps, order, visitors' counters and failure handling as runFieldSteps over a decoded
   * value. Undefined when the payload does not scan or a result does not fit: the general path then
   * runs from the start and reports what is wrong.
   */
  private spliceSync(plan: Plan, spliced: SplicedPlan, payload: Buffer, skipped: ReadonlySet<Step>): Buffer | undefined {
    const { splicer, state } = spliced;
    if (!splicer.scan(payload, state)) return undefined;
    const values = state.values as (Buffer | null)[];
    const { base64 } = state;
    const sides = [plan.read.domain, plan.write.domain] as const;
    for (let side = 0; side < 2; side++) {
      const steps = sides[side]!;
      const direction: RuleDirection = side === 0 ? 'read' : 'write';
      const leavesOf = side === 0 ? splicer.read : splicer.write;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        if (skipped.has(step)) continue;
        try {
          if (step.kind === 'unsupported') throw unsupportedRuleError(step);
          if (step.kind !== 'field' || step.walker === null) continue;
          const leaves = leavesOf[i]!;
          if (side === 0) {
            const visit = this.encodedDecryptVisitor(step);
            for (const leaf of leaves) values[leaf.index] = visit(values[leaf.index] as Buffer | null, leaf.info);
          } else {
            const visit = this.encodedEncryptVisitor(step);
            for (const leaf of leaves) {
              const at = leaf.index;
              // Encrypted by an earlier write step: that step's output is the base64 text.
              if (base64[at] === 1) {
                values[at] = Buffer.from(values[at]!.toString('base64'), 'latin1');
                base64[at] = 0;
              }
              const ciphertext = visit(values[at] ?? null);
              values[at] = ciphertext;
              if (ciphertext !== null && leaf.info.kind === 'string') base64[at] = 1;
            }
          }
        } catch (err) {
          this.onStepFailure(step, direction, err);
        }
      }
    }
    return splicer.splice(payload, state, spliced.prefix);
  }

  private runFieldSteps(steps: readonly Step[], value: unknown, direction: RuleDirection, skipped: ReadonlySet<Step>): unknown {
    // Values a tolerant step decrypted in this record (only allocated when the plan has such a step).
    let peeled: Set<unknown> | undefined;
    for (const step of steps) {
      if (step.tolerant === true) peeled ??= new Set();
      if (skipped.has(step)) continue;
      try {
        if (step.kind === 'unsupported') throw unsupportedRuleError(step);
        if (step.kind !== 'field' || step.walker === null) continue;
        value = step.walker(value, direction === 'write' ? this.encryptVisitor(step) : this.cachedDecryptVisitor(step, peeled));
      } catch (err) {
        this.onStepFailure(step, direction, err);
      }
    }
    return value;
  }

  private runPayloadSteps(steps: readonly Step[], payload: Buffer, direction: RuleDirection, skipped: ReadonlySet<Step>): Buffer {
    for (const step of steps) {
      if (skipped.has(step)) continue;
      try {
        if (step.kind === 'unsupported') throw unsupportedRuleError(step);
        if (step.kind !== 'payload') continue;
        const field: FieldInfo = { name: '(payload)', fullName: '(payload)', inlineTags: [], kind: 'bytes' };
        payload = (direction === 'write'
          ? this.encryptVisitor(step)(payload, field)
          : this.cachedDecryptVisitor(step)(payload, field)) as Buffer;
      } catch (err) {
        this.onStepFailure(step, direction, err);
      }
    }
    return payload;
  }

  /** Applies the rule's onFailure action to a permanent failure; rethrows signals and transient errors. */
  private onStepFailure(step: Step, direction: RuleDirection, err: unknown): never {
    if (err instanceof MissingDek || err instanceof PlanMiss || isTransient(err)) throw err;
    const error = err instanceof RecryptError ? err
      : new RecryptError('INTERNAL', `rule ${step.rule.name} failed (${direction})`, { cause: err });
    // About the key, not the record: no action may divert or skip it (key-failures.ts).
    if (isKeyFailure(error)) throw this.keyHalt(step, direction, error);
    let action = step.onFailure;
    // Write-side NONE would let plaintext out; only a job that opted in by name may do that.
    if (action === 'NONE' && direction === 'write' && !this.options.allowPlaintextOnEncryptFailure) action = 'ERROR';
    // DLQ goes through dlq/'s guarded writer; without one, or without a DLQ topic, fail closed.
    if (action === 'DLQ' && !this.dlqAccepts(step)) action = 'ERROR';
    this.options.onRuleFailure?.({ rule: step.rule.name, direction, action, code: error.code });
    if (action === 'NONE') throw new SkipAndRetry(step);
    if (action === 'DLQ') throw new DivertToDlq(step, direction, error);
    throw new RecryptError(error.code, `rule ${step.rule.name} (${direction}): ${error.message}`, { cause: error });
  }

  /**
   * The halt of a record whose rule's key cannot be used: the error's own code, whatever the rule's
   * onFailure (reported as the ERROR action taken), so the operator sees the key problem, not a DLQ.
   */
  private keyHalt(step: Step, direction: RuleDirection, error: RecryptError): RecryptError {
    this.options.onRuleFailure?.({ rule: step.rule.name, direction, action: 'ERROR', code: error.code });
    return new RecryptError(
      error.code,
      `rule ${step.rule.name} (${direction}): its key cannot be used, so the partition halts whatever onFailure says (${step.onFailure}): ${error.message}`,
      { cause: error },
    );
  }

  private dlqAccepts(step: Step): boolean {
    const dlq = this.options.dlq;
    const own = step.rule.params?.['dlq.topic'];
    return dlq !== undefined && dlq.topicFor('', own ? { dlqTopic: own } : {}) !== undefined;
  }

  private encryptVisitor(step: FieldStep | PayloadStep): (value: unknown, field: FieldInfo) => unknown {
    return this.writeVisitors(step).visit;
  }

  /** encryptVisitor's counterpart on encoded field bytes (spliceSync). */
  private encodedEncryptVisitor(step: FieldStep): (encoded: Buffer | null) => Buffer | null {
    return this.writeVisitors(step).visitEncoded;
  }

  /** Both forms of a write step's visitor: one pair of closures per (step, DEK), not per record. */
  private writeVisitors(step: FieldStep | PayloadStep): WriteVisitors {
    const dek = this.writeDeks.get(step) ?? this.options.keys.peekWrite(step.dek, step.params);
    if (!dek) throw new MissingDek(step, undefined);
    const cached = this.encryptVisitors.get(step);
    if (cached && cached.dek === dek) return cached;
    const version = step.params.expiryDays > 0 ? dek.version : undefined;
    const counts = this.counters.encrypted;
    const algorithm = step.params.algorithm;
    const visitors: WriteVisitors = {
      dek,
      visit: (value, field) => {
        if (value !== null && value !== undefined) counts[algorithm] += 1;
        return encryptField(value, field, dek.cipher, version);
      },
      visitEncoded: (encoded) => {
        if (encoded !== null) counts[algorithm] += 1;
        return encryptEncoded(encoded, dek.cipher, version);
      },
    };
    this.encryptVisitors.set(step, visitors);
    return visitors;
  }

  /** decryptVisitor's counterpart on encoded field bytes; spliced plans have no tolerant step. */
  private encodedDecryptVisitor(step: FieldStep): (encoded: Buffer | null, field: FieldInfo) => Buffer | null {
    let visit = this.encodedDecryptVisitors.get(step);
    if (visit) return visit;
    const { algorithm, expiryDays } = step.params;
    const cipherFor = this.readCiphers(step);
    const decrypted = this.counters.decrypted;
    visit = (encoded, field) => {
      const plaintext = decryptEncoded(encoded, field, expiryDays > 0, cipherFor);
      if (encoded !== null) decrypted[algorithm] += 1;
      return plaintext;
    };
    this.encodedDecryptVisitors.set(step, visit);
    return visit;
  }

  /** A read step's cipher per DEK version from keys/'s cache (the last one kept); MissingDek when not cached. */
  private readCiphers(step: FieldStep | PayloadStep): (version: number) => FieldCipher {
    const { keys } = this.options;
    let lastVersion = -1;
    let lastCipher: FieldCipher | undefined;
    return (version) => {
      if (version === lastVersion && lastCipher) return lastCipher;
      const cipher = keys.peekRead(step.dek, version);
      if (!cipher) throw new MissingDek(step, version);
      lastVersion = version;
      lastCipher = cipher;
      return cipher;
    };
  }

  /** Decrypt visitors hold no per-record state unless tolerant steps share a `peeled` set. */
  private cachedDecryptVisitor(step: FieldStep | PayloadStep, peeled?: Set<unknown>): (value: unknown, field: FieldInfo) => unknown {
    if (peeled !== undefined) return this.decryptVisitor(step, peeled);
    let visit = this.decryptVisitors.get(step);
    if (!visit) {
      visit = this.decryptVisitor(step);
      this.decryptVisitors.set(step, visit);
    }
    return visit;
  }

  /**
   * `peeled` collects what tolerant steps decrypted. Rules of one same-tag set select the same fields
   * and, with the same KEK, the same DEK: a one-layer ciphertext then decrypts under the tolerant step
   * already, and the primary step finds plaintext. A value a tolerant step produced is authenticated
   * plaintext, so when the primary step cannot decrypt it, it stays as it is.
   */
  private decryptVisitor(step: FieldStep | PayloadStep, peeled?: Set<unknown>): (value: unknown, field: FieldInfo) => unknown {
    const { algorithm, expiryDays } = step.params;
    const cipherFor = this.readCiphers(step);
    const tolerant = step.tolerant === true;
    const decrypted = this.counters.decrypted;
    return (value, field) => {
      try {
        const plaintext = decryptField(value, field, expiryDays > 0, cipherFor);
        if (value !== null && value !== undefined) decrypted[algorithm] += 1;
        if (tolerant) peeled?.add(plaintext);
        return plaintext;
      } catch (err) {
        const notCiphertext = err instanceof RecryptError && (err.code === 'CRYPTO_DECRYPT' || err.code === 'CRYPTO_BAD_CIPHERTEXT');
        // A tolerant step (see plan.ts) leaves a value that is not its ciphertext as it is.
        if (notCiphertext && (tolerant || peeled?.has(value) === true)) return value;
        throw err;
      }
    };
  }

  /**
   * Resolves every write DEK before the batch. A permanent failure is remembered for the batch: each
   * record then takes the failing rule's action (without asking the KMS again per record).
   */
  private async prepareWriteDeks(side: Side): Promise<void> {
    this.writeDekFailures.clear();
    for (const step of [...side.domain, ...side.encoding]) {
      if (step.kind === 'unsupported') continue;
      try {
        this.writeDeks.set(step, await this.options.keys.dekForWrite(step.dek, step.params));
      } catch (err) {
        if (isTransient(err)) throw err;
        this.writeDeks.delete(step);
        this.writeDekFailures.set(step, err);
      }
    }
  }

  private async fetchDek(miss: MissingDek): Promise<void> {
    const { step, version } = miss;
    if (version === undefined) {
      if (this.writeDekFailures.has(step)) throw this.writeDekFailures.get(step);
      this.writeDeks.set(step, await this.options.keys.dekForWrite(step.dek, step.params));
    } else {
      await this.options.keys.dekForRead(step.dek, step.params, version);
    }
  }

  private async compilePlan(miss: PlanMiss): Promise<void> {
    this.lastPlan = undefined;
    const writer = await this.options.schemas.load(miss.ref);
    const refKey = `${miss.topic}\u0000${isIdRef(miss.ref) ? `id:${miss.ref.id}` : `guid:${miss.ref.guid}`}`;
    this.schemaTypes.set(refKey, writer.schemaType);
    const isProtobuf = writer.schemaType === 'PROTOBUF';
    // A protobuf schema's plan depends on the record's message indexes: wait for them.
    if (isProtobuf && miss.indexes === undefined) return;
    const indexes = isProtobuf ? miss.indexes : undefined;
    const subject = sourceSubject(this.options.subjectNameStrategy, miss.topic, writer, false);
    const read = compileSide(writer, this.options.schemas.codec(writer, indexes), 'read', subject, indexes);
    const write = this.targetSide(this.options.target.schema.schemaType === 'PROTOBUF' ? indexes : undefined);
    const convert = writer.id === this.options.target.schema.id ? null : createValueConverter(read.codec, write.codec);
    this.plans.set(isProtobuf ? `${refKey}\u0000${indexes!.join('.')}` : refKey, { read, write, convert, spliced: splicedPlan(read, write) });
  }
}

/**
 * The in-place plan, when it applies: the writer's format has a splicer for these two schemas, and no
 * tolerant step (those compare decoded values across steps; the general path keeps that logic in one place).
 */
function splicedPlan(read: Side, write: Side): SplicedPlan | null {
  if (read.codec.compileSplicer === undefined) return null;
  if (read.domain.some((s) => s.tolerant === true)) return null;
  const selects = (side: Side) => side.domain.map((s) => (s.kind === 'field' ? s.select : null));
  const splicer = read.codec.compileSplicer(write.codec, selects(read), selects(write));
  if (splicer === null) return null;
  return { splicer, state: splicer.newState(), prefix: encodeFrame(write.schema.id, Buffer.alloc(0), write.messageIndexes) };
}

interface WriteVisitors {
  readonly dek: WriteDek;
  readonly visit: (value: unknown, field: FieldInfo) => unknown;
  readonly visitEncoded: (encoded: Buffer | null) => Buffer | null;
}

/** A DEK not in keys/'s cache yet: version undefined means "the write DEK of this step". */
class MissingDek {
  constructor(readonly step: FieldStep | PayloadStep, readonly version: number | undefined) {}
}

/** A record whose synchronous attempt threw `signal`. */
interface Slow {
  readonly index: number;
  readonly signal: unknown;
}

/** A schema or DEK not cached yet: fetching it and trying again can succeed. */
function isMiss(signal: unknown): signal is PlanMiss | MissingDek {
  return signal instanceof PlanMiss || signal instanceof MissingDek;
}

function findHeader(headers: readonly RecordHeader[], key: string): Buffer | undefined {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.key === key) return headers[i]!.value;
  return undefined;
}
