/**
 * The audit of one topic range, record by record. The per-record path is synchronous (frame, decode,
 * walk the fields of each ENCRYPT rule, classify each value by its shape); a writer schema not seen yet
 * comes back as data (SchemaNeeded), is fetched once (with the subject's latest schema, whose ENCRYPT
 * rules say what SHOULD be encrypted), and the record is examined again. A record's value is located
 * once (wire/'s locate), whatever the number of attempts.
 *
 * Findings carry positions, field names, rule names and schema ids; never values.
 */
import { compileSide, sourceSubject, type LoadedSchema, type SchemaStore, type Side, type SubjectNameStrategy } from '../engine/index.js';
import type { Codec, FieldInfo, FieldVisitor, FieldWalker } from '../formats/index.js';
import { isRegistryError } from '../registry/index.js';
import type { SchemaRegistryApi } from '../registry/types.js';
import { errorCodeOf, isRecryptError, isTransient, RecryptError } from '../util/errors.js';
import type { SourceRecord } from '../util/records.js';
import { frameOf, isIdRef, locate, schemaRefText, type Located, type SchemaRef } from '../wire/index.js';
import { classifyBytes, classifyValue, type Classification, type PlaintextReason } from './detect.js';
import { coverageOf, coveredFields, fieldSteps, taggedUncovered } from './coverage.js';
import type { KeyUsage, PlaintextFinding, SchemaSummary, UndecodableRecord } from './report.js';

export interface AuditorOptions {
  readonly schemas: SchemaStore;
  readonly registry: Pick<SchemaRegistryApi, 'getLatest'>;
  readonly subjectNameStrategy: SubjectNameStrategy;
  /** Findings and undecodable records kept for the report (all are counted). Default 10,000. */
  readonly maxListed?: number;
}

interface Check {
  readonly walker: FieldWalker;
  readonly visit: FieldVisitor;
}

interface Plan {
  readonly summary: SchemaSummary;
  readonly codec: Codec;
  readonly checks: readonly Check[];
  /** Writer-side ENCRYPT_PAYLOAD: the payload is ciphertext and its fields cannot be read without keys. */
  readonly payload?: { readonly rule: string; readonly kek: string; readonly algorithm: string; readonly versioned: boolean; readonly classify: (payload: Buffer) => Classification };
  /** The latest schema encrypts the payload but the writer schema does not. */
  readonly payloadExpectedBy?: string;
}

/** The `rule` of a finding about a tagged field that no rule covers. */
const NO_RULE = '(none)';

/** A record's value as located once: null for a tombstone, `unreadable` (an error code) when its framing does not read. */
export type LocatedValue = Located | null | { readonly unreadable: string };

/**
 * What observe() needs before it can examine a record: the writer schema behind `ref` (`indexes`
 * undefined), or, for protobuf, the plan of the message the indexes pick.
 */
export interface SchemaNeeded {
  readonly kind: 'schema-needed';
  readonly ref: SchemaRef;
  readonly refKey: string;
  readonly indexes: readonly number[] | undefined;
}

/** Each miss is fetched; a schema needs at most two (its type, then a protobuf message): more is a bug. */
const MAX_ATTEMPTS = 5;

export function locateValue(record: SourceRecord): LocatedValue {
  try {
    return locate(record, 'value');
  } catch (err) {
    return { unreadable: errorCodeOf(err) };
  }
}

export class Auditor {
  records = 0;
  tombstones = 0;
  plaintextValues = 0;
  plaintextRecords = 0;
  undecodableCount = 0;
  readonly findings: PlaintextFinding[] = [];
  readonly undecodable: UndecodableRecord[] = [];

  readonly #options: AuditorOptions;
  readonly #max: number;
  readonly #types = new Map<string, string>();
  readonly #failed = new Map<string, string>();
  readonly #plans = new Map<string, Plan>();
  readonly #summaries = new Map<string, SchemaSummary>();
  readonly #latest = new Map<string, Promise<LoadedSchema | null>>();
  readonly #keys = new Map<string, KeyUsage>();
  // The record being examined, for the visitors (set before each walk).
  #partition = 0;
  #offset = 0;
  #schemaId = 0;
  #recordHasPlaintext = false;

  constructor(options: AuditorOptions) {
    this.#options = options;
    this.#max = options.maxListed ?? 10_000;
  }

  /** Examines a batch; only a schema miss awaits. Transient registry failures propagate. */
  async observeBatch(batch: readonly SourceRecord[]): Promise<void> {
    for (const record of batch) {
      const value = locateValue(record);
      for (let attempt = 1; ; attempt++) {
        const needed = this.observe(record, value);
        if (needed === null) break;
        if (attempt >= MAX_ATTEMPTS) {
          throw new RecryptError('INTERNAL', `schema ${schemaRefText(needed.ref)} of topic ${record.topic} still needed after it was loaded`);
        }
        await this.#compile(record.topic, needed);
      }
    }
  }

  /**
   * Synchronous examination of one record (its value located by locateValue, once for all attempts).
   * Returns what it needs when a writer schema or protobuf message has no plan yet; the record is then
   * not counted, and observe() runs again once #compile has fetched it.
   */
  observe(record: SourceRecord, value: LocatedValue = locateValue(record)): SchemaNeeded | null {
    if (value === null) {
      this.records++;
      this.tombstones++;
      return null;
    }
    if ('unreadable' in value) {
      this.records++;
      this.#undecodable(record, value.unreadable);
      return null;
    }
    const ref = value.ref;
    const refKey = `${record.topic}\u0000${isIdRef(ref) ? `id:${ref.id}` : `guid:${ref.guid}`}`;
    const failed = this.#failed.get(refKey);
    if (failed !== undefined) {
      this.records++;
      this.#undecodable(record, failed);
      return null;
    }
    const type = this.#types.get(refKey);
    if (type === undefined) return { kind: 'schema-needed', ref, refKey, indexes: undefined };
    const isProtobuf = type === 'PROTOBUF';
    let payload: Buffer;
    let indexes: readonly number[] | undefined;
    try {
      const frame = frameOf(value, isProtobuf);
      payload = frame.payload;
      indexes = isProtobuf ? frame.indexes ?? [0] : undefined;
    } catch (err) {
      this.records++;
      this.#undecodable(record, errorCodeOf(err));
      return null;
    }
    const planKey = indexes === undefined ? refKey : `${refKey}\u0000${indexes.join('.')}`;
    const planFailed = this.#failed.get(planKey);
    const plan = this.#plans.get(planKey);
    if (plan === undefined && planFailed === undefined) return { kind: 'schema-needed', ref, refKey, indexes };
    this.records++;
    if (plan === undefined) {
      this.#undecodable(record, planFailed!);
      return null;
    }
    plan.summary.records++;
    this.#partition = record.partition;
    this.#offset = record.offset;
    this.#schemaId = plan.summary.schemaId;
    this.#recordHasPlaintext = false;
    if (plan.payloadExpectedBy !== undefined) this.#plaintext('(payload)', plan.payloadExpectedBy, 'no-encrypt-rule');
    if (plan.payload !== undefined) {
      const c = plan.payload.classify(payload);
      if (c.kind === 'ciphertext') this.#useKey(plan.payload.kek, plan.payload.algorithm, c.version);
      else if (c.kind === 'plaintext') this.#plaintext('(payload)', plan.payload.rule, c.reason);
    } else {
      let decoded: unknown;
      try {
        decoded = plan.codec.decode(payload);
        for (const check of plan.checks) check.walker(decoded, check.visit);
      } catch (err) {
        this.#undecodable(record, errorCodeOf(err));
        return null;
      }
    }
    if (this.#recordHasPlaintext) this.plaintextRecords++;
    return null;
  }

  summaries(): SchemaSummary[] {
    return [...this.#summaries.values()].sort((a, b) => a.schemaId - b.schemaId || a.subject.localeCompare(b.subject));
  }

  keys(): KeyUsage[] {
    return [...this.#keys.values()].sort((a, b) => a.kek.localeCompare(b.kek) || a.algorithm.localeCompare(b.algorithm) || a.version - b.version);
  }

  get truncated(): { findings: boolean; undecodable: boolean } {
    return { findings: this.plaintextValues > this.findings.length, undecodable: this.undecodableCount > this.undecodable.length };
  }

  #undecodable(record: SourceRecord, code: string): void {
    this.undecodableCount++;
    if (this.undecodable.length < this.#max) this.undecodable.push({ partition: record.partition, offset: record.offset, code });
  }

  #plaintext(field: string, rule: string, reason: PlaintextReason, tags?: readonly string[]): void {
    this.plaintextValues++;
    this.#recordHasPlaintext = true;
    if (this.findings.length < this.#max) {
      this.findings.push({ partition: this.#partition, offset: this.#offset, schemaId: this.#schemaId, field, rule, reason, ...(tags === undefined ? {} : { tags }) });
    }
  }

  #useKey(kek: string, algorithm: string, version: number): void {
    this.#usage(kek, algorithm, version).values++;
  }

  #usage(kek: string, algorithm: string, version: number): KeyUsage {
    const key = `${kek}\u0000${algorithm}\u0000${version}`;
    let usage = this.#keys.get(key);
    if (usage === undefined) {
      usage = { kek, algorithm, version, values: 0 };
      this.#keys.set(key, usage);
    }
    return usage;
  }

  async #compile(topic: string, miss: SchemaNeeded): Promise<void> {
    const { schemas, subjectNameStrategy } = this.#options;
    let writer: LoadedSchema;
    try {
      writer = await schemas.load(miss.ref);
    } catch (err) {
      if (isTransient(err)) throw err;
      this.#failed.set(miss.refKey, errorCodeOf(err));
      return;
    }
    this.#types.set(miss.refKey, writer.schemaType);
    const isProtobuf = writer.schemaType === 'PROTOBUF';
    if (isProtobuf && miss.indexes === undefined) return;
    const indexes = isProtobuf ? miss.indexes : undefined;
    const planKey = indexes === undefined ? miss.refKey : `${miss.refKey}\u0000${indexes.join('.')}`;
    try {
      const subject = sourceSubject(subjectNameStrategy, topic, writer, false);
      const read = compileSide(writer, schemas.codec(writer, indexes), 'read', subject, indexes);
      const latest = await this.#latestOf(subject);
      const expected = latest === null ? null : compileSide(latest, schemas.codec(latest, indexes), 'write', subject, indexes);
      this.#plans.set(planKey, this.#plan(writer, subject, read, latest, expected));
    } catch (err) {
      if (isTransient(err)) throw err;
      if (!isRecryptError(err)) throw err;
      this.#failed.set(planKey, errorCodeOf(err));
    }
  }

  #latestOf(subject: string): Promise<LoadedSchema | null> {
    let pending = this.#latest.get(subject);
    if (pending === undefined) {
      pending = (async () => {
        try {
          const latest = await this.#options.registry.getLatest(subject);
          return await this.#options.schemas.adopt(latest, subject);
        } catch (err) {
          if (isRegistryError(err) && err.status === 404) return null;
          throw err;
        }
      })();
      pending.catch(() => this.#latest.delete(subject));
      this.#latest.set(subject, pending);
    }
    return pending;
  }

  #plan(writer: LoadedSchema, subject: string, read: Side, latest: LoadedSchema | null, expected: Side | null): Plan {
    const summaryKey = `${writer.id}\u0000${subject}`;
    const steps = fieldSteps(read);
    const covered = new Set<string>();
    for (const step of steps) for (const name of coveredFields(step.rule, writer, read.codec)) covered.add(name);
    const writerFields = new Set(read.codec.fields().map((f) => f.fullName));
    // Fields the latest schema's rules cover that exist in the writer schema but no writer rule covers.
    const unprotected = new Map<string, string>();
    if (expected !== null) {
      for (const step of fieldSteps(expected)) {
        for (const name of coveredFields(step.rule, expected.schema, expected.codec)) {
          if (writerFields.has(name) && !covered.has(name) && !unprotected.has(name)) unprotected.set(name, step.rule.name);
        }
      }
    }
    // Tagged fields that no ENCRYPT rule of the writer or the latest schema covers: plaintext by design
    // of the rules, which no shape check above would ever see.
    const tagged = taggedUncovered({ schema: writer, codec: read.codec }, expected === null ? null : { schema: expected.schema, codec: expected.codec });
    let summary = this.#summaries.get(summaryKey);
    if (summary === undefined) {
      summary = {
        schemaId: writer.id, subject, schemaType: writer.schemaType, records: 0,
        rules: coverageOf(read), expected: expected === null ? [] : coverageOf(expected),
        latestSchemaId: latest?.id ?? null, unprotectedFields: [...unprotected.keys()].sort(),
        taggedUnencrypted: [...tagged.keys()],
      };
      this.#summaries.set(summaryKey, summary);
    }

    const checks: Check[] = [];
    for (const step of steps) {
      if (step.walker === null) continue;
      const { kekName, algorithm, expiryDays } = step.params;
      const versioned = expiryDays > 0;
      const rule = step.rule.name;
      // Usage counters resolved once per DEK version (the hot path does no string building).
      const usages: KeyUsage[] = [];
      checks.push({
        walker: step.walker,
        visit: (value: unknown, field: FieldInfo) => {
          const c = classifyValue(value, algorithm, versioned);
          if (c.kind === 'ciphertext') (usages[c.version] ??= this.#usage(kekName, algorithm, c.version)).values++;
          else if (c.kind === 'plaintext') this.#plaintext(field.fullName, rule, c.reason);
          return value;
        },
      });
    }
    if (unprotected.size > 0) {
      const walker = read.codec.compileWalker((f) => unprotected.has(f.fullName));
      if (walker !== null) {
        checks.push({
          walker,
          visit: (value: unknown, field: FieldInfo) => {
            if (value !== null && value !== undefined) this.#plaintext(field.fullName, unprotected.get(field.fullName)!, 'no-encrypt-rule');
            return value;
          },
        });
      }
    }
    if (tagged.size > 0) {
      const walker = read.codec.compileWalker((f) => tagged.has(f.fullName));
      if (walker !== null) {
        checks.push({
          walker,
          visit: (value: unknown, field: FieldInfo) => {
            if (value !== null && value !== undefined) this.#plaintext(field.fullName, NO_RULE, 'tagged-no-rule', tagged.get(field.fullName));
            return value;
          },
        });
      }
    }
    const payloadStep = read.encoding.find((s) => s.kind === 'payload');
    const expectedPayload = expected?.encoding.find((s) => s.kind === 'payload');
    const plan: Plan = {
      summary, codec: read.codec, checks,
      ...(payloadStep !== undefined && payloadStep.kind === 'payload' ? {
        payload: {
          rule: payloadStep.rule.name, kek: payloadStep.params.kekName, algorithm: payloadStep.params.algorithm,
          versioned: payloadStep.params.expiryDays > 0,
          classify: (bytes: Buffer) => classifyBytes(bytes, payloadStep.params.algorithm, payloadStep.params.expiryDays > 0),
        },
      } : {}),
      ...(payloadStep === undefined && expectedPayload !== undefined ? { payloadExpectedBy: expectedPayload.rule.name } : {}),
    };
    return plan;
  }
}
