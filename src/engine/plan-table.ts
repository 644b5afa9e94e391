/**
 * The compiled plans of one record part: per topic and writer schema (and protobuf message), the
 * writer's READ side, the target's WRITE side, the conversion between the two schemas, and the format's
 * splicer when the two encode alike. The driver fills it (plans need the registry); the kernel reads it
 * synchronously.
 */
import { createValueConverter, type FieldSplicer, type SpliceState, type ValueConverter } from '../formats/index.js';
import { encodeFrame, isIdRef, type SchemaRef } from '../wire/index.js';
import { isCelStep, type Side } from './plan.js';
import type { MigrationPath } from '../rules/index.js';

export interface Plan {
  readonly read: Side;
  readonly write: Side;
  readonly convert: ValueConverter | null;
  /** Writer and target schemas that encode alike: the selected fields are rewritten in place. */
  readonly spliced: SplicedPlan | null;
  /** Set: the kernel stops after the READ rules ('migrate'); the driver runs the JSONata path, then Kernel.resume (engine/migrate.ts). */
  readonly migration?: MigrationPath;
}

export interface SplicedPlan {
  readonly splicer: FieldSplicer;
  readonly state: SpliceState;
  /** The target's wire prefix (magic byte, schema id, message indexes). */
  readonly prefix: Buffer;
}

/** The plan of the last v0-framed record (non-protobuf), by topic and schema id: most records repeat it. */
export interface LastPlan {
  readonly topic: string;
  readonly id: number;
  readonly plan: Plan;
}

export class PlanTable {
  /** Set by the kernel; cleared when a plan is added. */
  last: LastPlan | undefined;
  private readonly plans = new Map<string, Plan>();
  private readonly schemaTypes = new Map<string, string>();

  /** The writer schema's type, once its schema was loaded for this topic. */
  schemaType(topic: string, ref: SchemaRef): string | undefined {
    return this.schemaTypes.get(refKey(topic, ref));
  }

  /** `indexes`: the protobuf message indexes (undefined for the other formats). */
  get(topic: string, ref: SchemaRef, indexes: readonly number[] | undefined): Plan | undefined {
    const key = refKey(topic, ref);
    return this.plans.get(indexes === undefined ? key : `${key}\u0000${indexes.join('.')}`);
  }

  setSchemaType(topic: string, ref: SchemaRef, schemaType: string): void {
    this.last = undefined;
    this.schemaTypes.set(refKey(topic, ref), schemaType);
  }

  set(topic: string, ref: SchemaRef, indexes: readonly number[] | undefined, plan: Plan): void {
    this.last = undefined;
    const key = refKey(topic, ref);
    this.plans.set(indexes === undefined ? key : `${key}\u0000${indexes.join('.')}`, plan);
  }
}

/** Plans are per topic: the subject name strategy can give one schema id different subjects on two topics. */
export function refKey(topic: string, ref: SchemaRef): string {
  return `${topic}\u0000${isIdRef(ref) ? `id:${ref.id}` : `guid:${ref.guid}`}`;
}

/** The plan from a writer's READ side to the target's WRITE side. */
export function planOf(read: Side, write: Side, sameSchema: boolean): Plan {
  const convert = sameSchema ? null : createValueConverter(read.codec, write.codec);
  return { read, write, convert, spliced: splicedPlan(read, write) };
}

/**
 * The in-place plan, when it applies: the writer's format has a splicer for these two schemas, no
 * tolerant step (those compare decoded values across steps; the general path keeps that logic in one
 * place), and no CEL step (an expression reads decoded values, `message` the whole record).
 */
function splicedPlan(read: Side, write: Side): SplicedPlan | null {
  if (read.codec.compileSplicer === undefined) return null;
  if (read.domain.some((s) => s.tolerant === true)) return null;
  if (read.domain.some(isCelStep) || write.domain.some(isCelStep)) return null;
  const selects = (side: Side) => side.domain.map((s) => (s.kind === 'field' ? s.select : null));
  const splicer = read.codec.compileSplicer(write.codec, selects(read), selects(write));
  if (splicer === null) return null;
  return { splicer, state: splicer.newState(), prefix: encodeFrame(write.schema.id, Buffer.alloc(0), write.messageIndexes) };
}
