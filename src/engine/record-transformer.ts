/**
 * The engine's driver: a RecordProcessor for kafka/'s pipeline around the synchronous kernel
 * (kernel/transform.ts). Per batch it resolves the target's write DEKs, runs the kernel over every record
 * part it transforms (one driver per part: the value, and with `keys: rules` the key, composed by
 * part-driver.ts), and acts on what comes back:
 * - a schema miss: loads the writer schema, compiles its plan (plan-table.ts), runs the record again;
 * - a DEK miss: fetches the DEK through keys/ (single-flight there; the distinct misses of a batch up to
 *   maxInFlight at a time), runs the record again;
 * - a rule failure: its action: NONE on read runs the record again with that step skipped, DLQ diverts it
 *   (dlq-route.ts), ERROR halts its partition; a key failure halts whatever the action (key-failures.ts);
 * - a migration (JSONata, async): runs it (migrate.ts) between the kernel's READ side and its resume;
 * - any other failure: transient ones propagate (the loop backs off and retries the batch); unreadable
 *   bytes go to the job's DLQ when it has one; the rest halt.
 * It counts schema and DEK misses and reports rule failures; the kernel counts field operations.
 */
import type { DlqWriter, Plaintext } from '../dlq/index.js';
import { dekCacheKey, type DekManager } from '../keys/index.js';
import type { RuleAction, RuleDirection } from '../rules/index.js';
import { RecryptError, isTransient } from '../util/errors.js';
import type { OutputRecord, ProcessedRecord, SourceRecord } from '../util/records.js';
import { locate, partHeaderName, type Located, type RecordPart } from '../wire/index.js';
import { plaintextsOfPart, routeFailed, type DlqRoute } from './dlq-route.js';
import { isKeyFailure, keyHalt, KEY_ABSENT_CODES } from './key-failures.js';
import { Kernel, ruleFailure } from './kernel/transform.js';
import { isMiss, type ActionPolicy, type DekMiss, type Outcome, type RuleFailure, type SchemaMiss, type Transformed } from './kernel/outcome.js';
import type { EngineStats } from './kernel/visitors.js';
import { MainKeyring } from './main-keyring.js';
import { subjectScope, type DekScopeResolver } from './dek-scope.js';
import { migrateRecord, type MigrationDriver } from './migrate.js';
import type { MigrationResolver } from './migration-plans.js';
import { DriverLink } from './threads/link.js';
import type { EnginePool } from './threads/pool.js';
import { compileSide, isKeyedStep, type Side, type Step } from './plan.js';
import { planOf, PlanTable, refKey } from './plan-table.js';
import type { LoadedSchema, SchemaStore } from './schema-store.js';
import { sourceSubject, type SubjectNameStrategy } from './subjects.js';

export type { EngineStats } from './kernel/visitors.js';

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
  /** The DEK scope of each target subject on write (join groups share one); default: the subject itself. */
  readonly writeScopeOf?: DekScopeResolver;
  /** The record part this driver transforms (default the value); `target` is that part's target. */
  readonly part?: RecordPart;
  /** Tagged plaintexts of the record's other part, which the DLQ guard must also keep out (part-driver.ts). */
  readonly otherPartPlaintexts?: (record: SourceRecord) => Promise<readonly Plaintext[]>;
  /** Worker threads that share the batch's fast path (threads/link.ts); absent: the main thread runs it all. */
  readonly threads?: EnginePool;
  /** Whether a writer schema's records migrate to the target (JSONata rules, migration-plans.ts); absent: never. */
  readonly migrations?: MigrationResolver;
}

const MAX_ATTEMPTS = 32;
const NO_SKIPS: ReadonlySet<Step> = new Set();

/** A record whose first attempt did not come out ok. */
interface Slow {
  readonly index: number;
  readonly outcome: Outcome;
}

/** What to do with a record that failed for good: a halt (or unreadable: the job's DLQ), or a rule's DLQ. */
type Final = RecryptError | RuleFailure;

export class RecordTransformer {
  private readonly plans = new PlanTable();
  private readonly writeSides = new Map<string, Side>();
  private readonly keyring: MainKeyring;
  private readonly kernel: Kernel;
  private readonly policy: ActionPolicy;
  private readonly route: DlqRoute;
  private readonly part: RecordPart;
  private readonly link: DriverLink | undefined;
  /** Schema and DEK misses since the last drainStats() (the kernel counts field operations). */
  private misses = { dekMisses: 0, schemaMisses: 0 };
  /** Write steps whose DEK failed permanently in this batch: their records take the rule's action. */
  private readonly writeDekFailures = new Map<Step, unknown>();

  constructor(private readonly options: TransformerOptions) {
    this.keyring = new MainKeyring(options.keys, options.threads !== undefined);
    this.policy = {
      allowPlaintextOnEncryptFailure: options.allowPlaintextOnEncryptFailure === true,
      dlqAccepts: (step) => {
        const own = step.rule.params?.['dlq.topic'];
        return options.dlq !== undefined && options.dlq.topicFor('', own ? { dlqTopic: own } : {}) !== undefined;
      },
    };
    this.kernel = new Kernel(this.keyring, this.policy);
    this.part = options.part ?? 'value';
    const { schema, subject } = options.target;
    this.link = options.threads && new DriverLink(options.threads, {
      part: this.part, target: schema, targetSubject: subject, writeScope: (options.writeScopeOf ?? subjectScope)(subject), keyring: this.keyring,
    });
    this.route = {
      dlq: options.dlq, keys: options.keys, plans: this.plans, targetTopicFor: options.target.topicFor, part: this.part,
      ...(options.otherPartPlaintexts ? { otherPartPlaintexts: options.otherPartPlaintexts } : {}),
    };
  }

  /** The target's WRITE side for the default message; used by plan checks and dry runs. */
  targetSide(indexes?: readonly number[]): Side {
    const key = indexes?.join('.') ?? '';
    let side = this.writeSides.get(key);
    if (!side) {
      const { schema, subject } = this.options.target;
      const codec = this.options.schemas.codec(schema, schema.schemaType === 'PROTOBUF' ? indexes ?? [0] : undefined);
      side = compileSide(schema, codec, 'write', subject, indexes, this.options.writeScopeOf);
      for (const step of [...side.domain, ...side.encoding]) if (isKeyedStep(step)) this.keyring.knowWrite(step.dek, step.params);
      this.writeSides.set(key, side);
    }
    return side;
  }

  /** The tagged values of this driver's part of `record` as plaintext (its plan compiled; else none), for the DLQ guard. */
  partPlaintexts(record: SourceRecord): Promise<readonly Plaintext[]> {
    return plaintextsOfPart(this.route, record);
  }

  /** What the engine did since the last call (for metrics); resets the counters. */
  drainStats(): EngineStats {
    const stats = this.kernel.drainStats();
    stats.dekMisses = this.misses.dekMisses;
    stats.schemaMisses = this.misses.schemaMisses;
    this.link?.drainInto(stats);
    this.misses = { dekMisses: 0, schemaMisses: 0 };
    return stats;
  }

  /** A RecordProcessor for kafka/'s pipeline. */
  readonly process = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => {
    this.targetSide();
    await this.prepareWriteDeks();
    const out: ProcessedRecord[] = new Array(batch.length);
    let slow: Slow[] | undefined;
    // With threads, the main thread runs the first share and whatever the threads hand back undone (threads/link.ts).
    const offload = this.link?.start(batch);
    let threaded: readonly (Transformed | undefined)[] | undefined;
    for (let i = 0; i < batch.length; i++) {
      if (i === offload?.from) threaded = await offload.done;
      // The common case stays synchronous: no promise, no allocation beyond the outcome and the output.
      const record = batch[i]!;
      const outcome = threaded?.[i] ?? this.kernel.transform(record, this.part, this.plans, NO_SKIPS);
      if (outcome.kind === 'ok') out[i] = this.output(record, outcome);
      else (slow ??= []).push({ index: i, outcome });
    }
    if (slow) {
      if ((this.options.maxInFlight ?? 1) > 1) slow = await this.resolveMissesAhead(batch, out, slow);
      for (const entry of slow) {
        const record = batch[entry.index]!;
        // An earlier record may have filled what this one missed.
        const outcome = isMiss(entry.outcome) ? this.kernel.transform(record, this.part, this.plans, NO_SKIPS) : entry.outcome;
        out[entry.index] = outcome.kind === 'ok' ? this.output(record, outcome) : await this.processRecord(record, outcome);
      }
    }
    this.link?.finished(slow === undefined || slow.length === 0);
    return out;
  };

  /**
   * Fetches what a batch's records miss (writer schemas, then the read DEKs they lead to), the distinct
   * ones up to maxInFlight at a time, so that a batch under many DEKs (a topic pattern, years of rotation)
   * does not wait for them one after another; then runs those records again. Returns the records still to
   * go through the one-by-one slow path, in order. A fetch that fails is left to that path, which meets
   * the failure again and handles it as it always does; each distinct fetch is tried once here.
   */
  private async resolveMissesAhead(batch: readonly SourceRecord[], out: ProcessedRecord[], slow: Slow[]): Promise<Slow[]> {
    const tried = new Set<string>();
    for (let round = 0; round < MAX_ATTEMPTS; round++) {
      const fetches = new Map<string, () => Promise<void>>();
      for (const { outcome } of slow) {
        const fetch = this.missFetch(outcome);
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
        const record = batch[entry.index]!;
        const outcome = isMiss(entry.outcome) ? this.kernel.transform(record, this.part, this.plans, NO_SKIPS) : entry.outcome;
        if (outcome.kind === 'ok') out[entry.index] = this.output(record, outcome);
        else still.push({ index: entry.index, outcome });
      }
      slow = still;
    }
    return slow;
  }

  /** The fetch that resolves a miss (counted as the miss), keyed by what it fetches. */
  private missFetch(outcome: Outcome): { key: string; run: () => Promise<void> } | undefined {
    if (outcome.kind === 'schema-miss') {
      return {
        key: `plan\u0000${refKey(outcome.topic, outcome.ref)}\u0000${outcome.indexes?.join('.') ?? ''}`,
        run: async () => {
          await this.compilePlan(outcome);
          this.misses.schemaMisses += 1;
        },
      };
    }
    if (outcome.kind === 'dek-miss' && outcome.version !== undefined) {
      const { step, version } = outcome;
      return {
        key: `dek\u0000${dekCacheKey(step.dek, version)}`,
        run: async () => {
          await this.options.keys.dekForRead(step.dek, step.params, version);
          this.misses.dekMisses += 1;
        },
      };
    }
    return undefined;
  }

  /**
   * The slow path of one record: acts on what the kernel handed back (a schema or DEK to fetch, a rule
   * to skip, a DLQ diversion, a failure) and runs it again. `first` is what a run already handed back,
   * so its rule failure is reported once.
   */
  async processRecord(record: SourceRecord, first?: Outcome): Promise<ProcessedRecord> {
    // The part is located once, for every run below and for the DLQ.
    let located: Located | null | undefined;
    let unreadable: unknown;
    try {
      located = locate(record, this.part);
    } catch (err) {
      unreadable = err;
    }
    const skipped = new Set<Step>();
    let pending = first;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const outcome: Outcome = pending
        ?? (located === undefined ? { kind: 'failed', error: unreadable } : this.kernel.transformLocated(record.topic, located, this.plans, skipped));
      pending = undefined;
      if (outcome.kind === 'ok') return this.output(record, outcome);
      let final: Final | undefined;
      if (outcome.kind === 'rule-failure') final = this.ruleAction(outcome, skipped);
      else if (outcome.kind === 'failed') final = this.failure(outcome.error);
      else if (outcome.kind === 'migrate') pending = await migrateRecord(outcome, skipped, this.migrationDriver(record)); // JSONata is async
      else {
        try {
          if (outcome.kind === 'schema-miss') {
            this.misses.schemaMisses += 1;
            await this.compilePlan(outcome);
          } else {
            this.misses.dekMisses += 1;
            await this.fetchDek(outcome);
          }
        } catch (err) {
          if (isTransient(err)) throw err;
          final = outcome.kind === 'dek-miss' ? this.dekUnavailable(outcome, err, skipped) : this.failure(err);
        }
      }
      if (final !== undefined) return routeFailed(this.route, record, located ?? undefined, final);
    }
    return { halt: new RecryptError('INTERNAL', `record ${record.topic}/${record.partition}@${record.offset} kept missing keys or schemas`) };
  }

  private migrationDriver(record: SourceRecord): MigrationDriver {
    const onNone = this.options.onRuleFailure;
    return { kernel: this.kernel, policy: this.policy, ...(onNone ? { onNone } : {}), plaintexts: () => plaintextsOfPart(this.route, record) };
  }

  /** The rule's action on a failure: undefined means run again (NONE skipped the step). */
  private ruleAction(failure: RuleFailure, skipped: Set<Step>): Final | undefined {
    const { step, direction, action, error } = failure;
    this.options.onRuleFailure?.({ rule: step.rule.name, direction, action, code: error.code });
    if (failure.keyFailure) return keyHalt(step, direction, error);
    if (action === 'NONE') {
      skipped.add(step);
      return undefined;
    }
    if (action === 'DLQ') return failure;
    return new RecryptError(error.code, `rule ${step.rule.name} (${direction}): ${error.message}`, { cause: error });
  }

  /** A failure that is no rule's: transient ones propagate; the rest end the record. */
  private failure(err: unknown): RecryptError {
    if (isTransient(err)) throw err;
    return err instanceof RecryptError ? err : new RecryptError('INTERNAL', 'unexpected failure transforming a record', { cause: err });
  }

  /** A DEK that cannot be had, for good: a tolerant read step whose KEK or DEK does not exist is skipped (the writer
   * skipped that rule); the write DEK fails every record alike: a key failure halt; else the step's action (undefined: run again). */
  private dekUnavailable(miss: DekMiss, err: unknown, skipped: Set<Step>): Final | undefined {
    const { step, version } = miss;
    // A key that exists but cannot be used (KMS refusal, bad DEK) is not skipped: it halts like any key failure.
    if (step.tolerant === true && version !== undefined && !(isKeyFailure(err) && !KEY_ABSENT_CODES.has((err as RecryptError).code))) {
      skipped.add(step);
      return undefined;
    }
    // The write DEK depends on the rule and target subject, never on the record (see key-failures.ts).
    if (version === undefined) {
      const error = err instanceof RecryptError ? err : new RecryptError('INTERNAL', `rule ${step.rule.name}: the write DEK could not be had`, { cause: err });
      this.options.onRuleFailure?.({ rule: step.rule.name, direction: 'write', action: 'ERROR', code: error.code });
      return keyHalt(step, 'write', error);
    }
    return this.ruleAction(ruleFailure(step, 'read', err, this.policy), skipped);
  }

  /** The record with its transformed part (and without that part's schema id header when the id moved into the bytes). */
  private output(record: SourceRecord, outcome: Transformed): ProcessedRecord {
    const { bytes } = outcome;
    let headers = record.headers;
    if (outcome.dropHeader) {
      const name = partHeaderName(this.part);
      headers = headers.filter((h) => h.key !== name);
    }
    const output: OutputRecord = {
      topic: this.options.target.topicFor(record.topic), partition: record.partition,
      key: this.part === 'value' ? record.key : bytes, value: this.part === 'value' ? bytes : record.value,
      headers, timestamp: record.timestamp,
    };
    return { outputs: [output] };
  }

  /**
   * The write DEK of every compiled write side, refreshed once per batch: a protobuf target has a side
   * per message (each its own steps and refs), and a DEK held for one must rotate like the others. A
   * permanent failure is remembered for the batch: each record then takes the failing rule's action.
   */
  private async prepareWriteDeks(): Promise<void> {
    this.writeDekFailures.clear();
    for (const step of [...this.writeSides.values()].flatMap((side) => [...side.domain, ...side.encoding])) {
      if (!isKeyedStep(step)) continue;
      try {
        this.keyring.hold(step.dek, await this.options.keys.dekForWrite(step.dek, step.params));
      } catch (err) {
        if (isTransient(err)) throw err;
        this.keyring.drop(step.dek);
        this.writeDekFailures.set(step, err);
      }
    }
  }

  private async fetchDek(miss: DekMiss): Promise<void> {
    const { step, version } = miss;
    if (version === undefined) {
      if (this.writeDekFailures.has(step)) throw this.writeDekFailures.get(step);
      this.keyring.hold(step.dek, await this.options.keys.dekForWrite(step.dek, step.params));
    } else {
      await this.options.keys.dekForRead(step.dek, step.params, version);
    }
  }

  private async compilePlan(miss: SchemaMiss): Promise<void> {
    const { topic, ref } = miss;
    const writer = await this.options.schemas.load(ref);
    this.plans.setSchemaType(topic, ref, writer.schemaType);
    const isProtobuf = writer.schemaType === 'PROTOBUF';
    // A protobuf schema's plan depends on the record's message indexes: wait for them.
    if (isProtobuf && miss.indexes === undefined) return;
    const indexes = isProtobuf ? miss.indexes : undefined;
    const subject = sourceSubject(this.options.subjectNameStrategy, topic, writer, this.part === 'key');
    const read = compileSide(writer, this.options.schemas.codec(writer, indexes), 'read', subject, indexes);
    const write = this.targetSide(this.options.target.schema.schemaType === 'PROTOBUF' ? indexes : undefined);
    const migration = await this.options.migrations?.(subject, writer);
    // Not handed to the threads: they run the kernel only, so such records come back undone (no plan there).
    if (migration) return this.plans.set(topic, ref, indexes, { read, write, convert: null, spliced: null, migration });
    this.plans.set(topic, ref, indexes, planOf(read, write, writer.id === this.options.target.schema.id));
    this.link?.planned(topic, ref, indexes, writer, subject, this.options.target.schema.schemaType === 'PROTOBUF' ? indexes : undefined);
  }
}
