/**
 * A worker thread's plans: per driver (one record part of one topic route), a PlanTable compiled from
 * the same plain inputs the driver compiled its own from (protocol.ts PlanMessage): the writer's READ
 * side, the target's WRITE side with the driver's resolved DEK scope, and planOf. Codecs are compiled
 * once per (schema, message) here, as schema-store.ts does on the main thread.
 */
import { createCodec, type Codec } from '../../formats/index.js';
import { RecryptError } from '../../util/errors.js';
import { compileSide, type Side } from '../plan.js';
import { planOf, PlanTable } from '../plan-table.js';
import type { LoadedSchema } from '../schema-store.js';
import type { DriverMessage, PlanMessage } from './protocol.js';

interface DriverPlans {
  readonly driver: DriverMessage;
  readonly table: PlanTable;
  readonly writeSides: Map<string, Side>;
}

export class ThreadPlans {
  private readonly drivers = new Map<number, DriverPlans>();
  private readonly codecs = new Map<string, Codec>();

  addDriver(message: DriverMessage): void {
    this.drivers.set(message.driver, { driver: message, table: new PlanTable(), writeSides: new Map() });
  }

  /** The plan table of a driver; INTERNAL when the driver never announced itself (a protocol bug). */
  table(driver: number): PlanTable {
    return this.of(driver).table;
  }

  addPlan(message: PlanMessage): void {
    const plans = this.of(message.driver);
    const { topic, ref, indexes, writer, readSubject, writeIndexes } = message;
    const read = compileSide(writer, this.codec(writer, indexes), 'read', readSubject, indexes);
    const target = plans.driver.target;
    plans.table.setSchemaType(topic, ref, writer.schemaType);
    plans.table.set(topic, ref, indexes, planOf(read, this.writeSide(plans, writeIndexes), writer.id === target.id));
  }

  private writeSide(plans: DriverPlans, indexes: readonly number[] | undefined): Side {
    const key = indexes?.join('.') ?? '';
    let side = plans.writeSides.get(key);
    if (side === undefined) {
      const { target, targetSubject, writeScope } = plans.driver;
      // As the driver's targetSide: a protobuf target's codec defaults to its first message.
      const codec = this.codec(target, target.schemaType === 'PROTOBUF' ? indexes ?? [0] : undefined);
      side = compileSide(target, codec, 'write', targetSubject, indexes, () => writeScope);
      plans.writeSides.set(key, side);
    }
    return side;
  }

  private codec(schema: LoadedSchema, indexes: readonly number[] | undefined): Codec {
    const key = `${schema.id}/${indexes?.join('.') ?? ''}`;
    let codec = this.codecs.get(key);
    if (codec === undefined) {
      codec = createCodec(schema.info, schema.references, indexes ? { messageIndexes: indexes } : {});
      this.codecs.set(key, codec);
    }
    return codec;
  }

  private of(driver: number): DriverPlans {
    const plans = this.drivers.get(driver);
    if (plans === undefined) throw new RecryptError('INTERNAL', `engine thread: driver ${driver} unknown`);
    return plans;
  }
}
