/**
 * The kernel: the synchronous transform of one record part (key or value) in Confluent's wire format,
 * over a compiled plan and a keyring, into an Outcome (kernel/outcome.ts). It runs the writer schema's
 * READ rules (reverse order) and the target schema's WRITE rules (list order): read-side payload steps,
 * then the format's splicer when the plan has one (the selected fields decrypted and encrypted in place,
 * every other byte copied), else decode, field steps, conversion to the target schema, encode, write-side
 * payload steps, and the target's frame.
 *
 * No promise, no I/O, no thrown control flow: a schema or DEK that is not in hand, and a rule that fails,
 * come back as outcomes; errors of the bytes or the crypto are caught here and come back as outcomes too.
 * Per record it allocates the output and the outcome, nothing per field beyond what the codecs do.
 */
import type { FieldInfo } from '../../formats/index.js';
import type { RuleDirection } from '../../rules/index.js';
import { RecryptError, isTransient } from '../../util/errors.js';
import {
  encodeFrame, frameOf, isIdRef, locateBytes, partBytes, partHeader, type Located, type PartRecord, type RecordPart,
} from '../../wire/index.js';
import { isKeyFailure } from '../key-failures.js';
import type { Plan, PlanTable, SplicedPlan } from '../plan-table.js';
import { isCelStep, unsupportedRuleError, type FieldStep, type PayloadStep, type Step } from '../plan.js';
import { checkCondition, runCelField } from './cel.js';
import type { ActionPolicy, Keyring, Outcome, RuleFailure } from './outcome.js';
import { Visitors, type EngineStats } from './visitors.js';

/** A record as the kernel reads it: its topic (plans are per topic) and its parts. */
export interface KernelRecord extends PartRecord {
  readonly topic: string;
}

const ABSENT: Outcome = Object.freeze({ kind: 'ok', bytes: null, dropHeader: false });
const PAYLOAD_FIELD: FieldInfo = { name: '(payload)', fullName: '(payload)', inlineTags: [], kind: 'bytes' };

/**
 * The action a permanent failure of `step` takes here. Shared with the driver, which meets the same
 * failures when a DEK the step needs cannot be fetched. Transient errors are the caller's.
 */
export function ruleFailure(step: Step, direction: RuleDirection, err: unknown, policy: ActionPolicy): RuleFailure {
  const error = err instanceof RecryptError ? err
    : new RecryptError('INTERNAL', `rule ${step.rule.name} failed (${direction})`, { cause: err });
  // About the key, not the record: no action may divert or skip it (key-failures.ts).
  if (isKeyFailure(error)) return { kind: 'rule-failure', step, direction, action: 'ERROR', error, keyFailure: true };
  let action = step.onFailure;
  // Write-side NONE would let plaintext out; only a job that opted in by name may do that. A condition
  // (CEL, CEL_FIELD CONDITION) skipped on NONE changes no value: the record runs again without the check,
  // its ENCRYPT rules intact. A CEL_FIELD TRANSFORM skipped would let the untransformed value out (a
  // privacy mask, often), so it needs the opt-in like ENCRYPT.
  if (action === 'NONE' && direction === 'write' && !isCondition(step) && !policy.allowPlaintextOnEncryptFailure) action = 'ERROR';
  // DLQ goes through dlq/'s guarded writer; without one, or without a DLQ topic, fail closed.
  if (action === 'DLQ' && !policy.dlqAccepts(step)) action = 'ERROR';
  return { kind: 'rule-failure', step, direction, action, error, keyFailure: false };
}

/** A CEL or CEL_FIELD CONDITION: a check that changes no value. */
function isCondition(step: Step): boolean {
  return isCelStep(step) && (step.cel.type === 'CEL' || step.cel.ruleKind === 'CONDITION');
}

export class Kernel {
  private readonly visitors: Visitors;
  /** Set by a step that cannot go on (a miss, a failure); the transform returns it. */
  private stop: Outcome | undefined;

  constructor(keyring: Keyring, private readonly policy: ActionPolicy) {
    this.visitors = new Visitors(keyring);
  }

  /** Field operations since the last call (for metrics); resets the counters. */
  drainStats(): EngineStats {
    return this.visitors.drain();
  }

  /**
   * Transforms `part` of `record` under `plans` (that part's plans), with the `skipped` steps left out.
   * A record that repeats the last record's v0 frame takes its plan without locating the part again.
   */
  transform(record: KernelRecord, part: RecordPart, plans: PlanTable, skipped: ReadonlySet<Step>): Outcome {
    const bytes = partBytes(record, part);
    if (bytes === null) return ABSENT;
    this.reset();
    try {
      const header = partHeader(record, part);
      const last = plans.last;
      const topic = record.topic;
      // Most records repeat the last record's v0 frame (topic and schema id): no key strings, no lookups.
      if (header === undefined && last !== undefined && bytes.length >= 5 && bytes[0] === 0 && last.topic === topic && last.id === bytes.readInt32BE(1)) {
        return this.run(last.plan, bytes.subarray(5), false, skipped);
      }
      return this.runLocated(topic, locateBytes(part, bytes, header), plans, skipped);
    } catch (error) {
      // Framing, decoding, conversion, encoding: the bytes or the schemas, not a rule.
      return { kind: 'failed', error };
    }
  }

  /** transform() of a part already located (wire/'s locate; null: the record has no such part). */
  transformLocated(topic: string, located: Located | null, plans: PlanTable, skipped: ReadonlySet<Step>): Outcome {
    if (located === null) return ABSENT;
    this.reset();
    try {
      return this.runLocated(topic, located, plans, skipped);
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  private reset(): void {
    this.stop = undefined;
    this.visitors.missStep = undefined;
  }

  private runLocated(topic: string, located: Located, plans: PlanTable, skipped: ReadonlySet<Step>): Outcome {
    const { ref, header } = located;
    // Protobuf frames carry message indexes, which pick the message (and so the plan).
    const schemaType = plans.schemaType(topic, ref);
    if (schemaType === undefined) return { kind: 'schema-miss', topic, ref, indexes: undefined };
    const isProtobuf = schemaType === 'PROTOBUF';
    const frame = frameOf(located, isProtobuf);
    const indexes = isProtobuf ? frame.indexes ?? [0] : undefined;
    const plan = plans.get(topic, ref, indexes);
    if (plan === undefined) return { kind: 'schema-miss', topic, ref, indexes };
    if (!isProtobuf && header === undefined && isIdRef(ref)) plans.last = { topic, id: ref.id, plan };
    return this.run(plan, frame.payload, header !== undefined, skipped);
  }

  /** The plan's steps over the part's payload; `dropHeader`: the schema id came from the part's header. */
  private run(plan: Plan, payload: Buffer, dropHeader: boolean, skipped: ReadonlySet<Step>): Outcome {
    payload = this.payloadSteps(plan.read.encoding, payload, 'read', skipped);
    if (this.stop !== undefined) return this.stop;
    if (plan.spliced !== null && plan.write.encoding.length === 0) {
      const framed = this.splice(plan, plan.spliced, payload, skipped);
      if (this.stop !== undefined) return this.stop;
      if (framed !== undefined) return { kind: 'ok', bytes: framed, dropHeader };
    }
    let value = plan.read.codec.decode(payload);
    value = this.fieldSteps(plan.read.domain, value, 'read', skipped);
    if (this.stop !== undefined) return this.stop;
    if (plan.migration !== undefined) return { kind: 'migrate', plan, value, dropHeader };
    return this.writeSide(plan, value, dropHeader, skipped);
  }

  /** The WRITE rules and encoding of a value the driver migrated (a 'migrate' outcome's plan and value). */
  resume(plan: Plan, value: unknown, dropHeader: boolean, skipped: ReadonlySet<Step>): Outcome {
    this.reset();
    try {
      return this.writeSide(plan, value, dropHeader, skipped);
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  private writeSide(plan: Plan, value: unknown, dropHeader: boolean, skipped: ReadonlySet<Step>): Outcome {
    if (plan.convert) value = plan.convert(value);
    value = this.fieldSteps(plan.write.domain, value, 'write', skipped);
    if (this.stop !== undefined) return this.stop;
    let encoded = plan.write.codec.encode(value);
    encoded = this.payloadSteps(plan.write.encoding, encoded, 'write', skipped);
    if (this.stop !== undefined) return this.stop;
    return { kind: 'ok', bytes: encodeFrame(plan.write.schema.id, encoded, plan.write.messageIndexes), dropHeader };
  }

  /**
   * The rules on the selected fields' encoded bytes, straight in the payload (the format's splicer): the
   * same steps, order, counters and failure handling as fieldSteps over a decoded value. Undefined when
   * the payload does not scan or a result does not fit: the general path then runs from the start and
   * reports what is wrong.
   */
  private splice(plan: Plan, spliced: SplicedPlan, payload: Buffer, skipped: ReadonlySet<Step>): Buffer | undefined {
    const { splicer, state } = spliced;
    if (!splicer.scan(payload, state)) return undefined;
    const values = state.values as (Buffer | null)[];
    const { base64 } = state;
    const visitors = this.visitors;
    for (let side = 0; side < 2; side++) {
      const steps = side === 0 ? plan.read.domain : plan.write.domain;
      const direction: RuleDirection = side === 0 ? 'read' : 'write';
      const leavesOf = side === 0 ? splicer.read : splicer.write;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        if (skipped.has(step)) continue;
        if (step.kind === 'unsupported') return this.stopped(this.failure(step, direction, unsupportedRuleError(step)), undefined);
        if (step.kind !== 'field' || step.walker === null) continue;
        const leaves = leavesOf[i]!;
        try {
          if (side === 0) {
            const visit = visitors.readEncoded(step);
            for (const leaf of leaves) values[leaf.index] = visit(values[leaf.index] as Buffer | null, leaf.info);
          } else {
            const write = visitors.write(step);
            if (write === undefined) return this.stopped(missWrite(step), undefined);
            const visit = write.visitEncoded;
            for (const leaf of leaves) {
              const at = leaf.index;
              // Encrypted by an earlier write step: that step's output is the base64 text.
              if (base64[at] === 1) {
                values[at] = Buffer.from(values[at]!.toString('base64'), 'latin1');
                base64[at] = 0;
              }
              const ciphertext = visit(values[at] ?? null, leaf.info);
              values[at] = ciphertext;
              if (ciphertext !== null && leaf.info.kind === 'string') base64[at] = 1;
            }
          }
        } catch (err) {
          return this.stopped(this.failure(step, direction, err), undefined);
        }
        if (visitors.missStep !== undefined) return this.stopped(this.missRead(), undefined);
      }
    }
    return splicer.splice(payload, state, spliced.prefix);
  }

  private fieldSteps(steps: readonly Step[], value: unknown, direction: RuleDirection, skipped: ReadonlySet<Step>): unknown {
    const visitors = this.visitors;
    // Values a tolerant step decrypted in this record (only allocated when the plan has such a step).
    let peeled: Set<unknown> | undefined;
    for (const step of steps) {
      if (step.tolerant === true) peeled ??= new Set();
      if (skipped.has(step)) continue;
      if (isCelStep(step)) {
        // In list order between the ENCRYPT steps: before one it sees plaintext, after it ciphertext.
        try {
          if (step.cel.type === 'CEL') checkCondition(step, step.cel, value);
          else value = runCelField(step, step.cel, value);
        } catch (err) {
          return this.stopped(this.failure(step, direction, err), value);
        }
        continue;
      }
      if (step.kind === 'unsupported') return this.stopped(this.failure(step, direction, unsupportedRuleError(step)), value);
      if (step.kind !== 'field' || step.walker === null) continue;
      try {
        if (direction === 'write') {
          const write = visitors.write(step);
          if (write === undefined) return this.stopped(missWrite(step), value);
          value = step.walker(value, write.visit);
        } else {
          value = step.walker(value, visitors.read(step, peeled));
        }
      } catch (err) {
        return this.stopped(this.failure(step, direction, err), value);
      }
      if (visitors.missStep !== undefined) return this.stopped(this.missRead(), value);
    }
    return value;
  }

  private payloadSteps(steps: readonly Step[], payload: Buffer, direction: RuleDirection, skipped: ReadonlySet<Step>): Buffer {
    const visitors = this.visitors;
    for (const step of steps) {
      if (skipped.has(step)) continue;
      if (step.kind === 'unsupported') return this.stopped(this.failure(step, direction, unsupportedRuleError(step)), payload);
      if (step.kind !== 'payload') continue;
      try {
        if (direction === 'write') {
          const write = visitors.write(step);
          if (write === undefined) return this.stopped(missWrite(step), payload);
          payload = write.visit(payload, PAYLOAD_FIELD) as Buffer;
        } else {
          payload = visitors.read(step)(payload, PAYLOAD_FIELD) as Buffer;
        }
      } catch (err) {
        return this.stopped(this.failure(step, direction, err), payload);
      }
      if (visitors.missStep !== undefined) return this.stopped(this.missRead(), payload);
    }
    return payload;
  }

  /** Notes why the transform stops (the caller returns it) and hands back `result` to return meanwhile. */
  private stopped<T>(outcome: Outcome, result: T): T {
    this.stop = outcome;
    return result;
  }

  /** A step's failure; a DEK miss met earlier in the walk comes first (fetching it may change what follows). */
  private failure(step: Step, direction: RuleDirection, err: unknown): Outcome {
    if (this.visitors.missStep !== undefined) return this.missRead();
    return isTransient(err) ? { kind: 'failed', error: err } : ruleFailure(step, direction, err, this.policy);
  }

  private missRead(): Outcome {
    const step = this.visitors.missStep!;
    return { kind: 'dek-miss', step, dek: step.dek, version: this.visitors.missVersion };
  }
}

function missWrite(step: FieldStep | PayloadStep): Outcome {
  return { kind: 'dek-miss', step, dek: step.dek, version: undefined };
}
