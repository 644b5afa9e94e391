/**
 * The messages between the engine's driver (main thread, pool.ts) and its worker threads
 * (thread-main.ts). Everything here is plain data (structured clone); record bytes travel as one
 * transferred ArrayBuffer per slice each way. DEK material travels only in KeyUpdate, as Tink protos.
 */
import type { DekAlgorithm, DekRef } from '../../model/index.js';
import type { RecordPart, SchemaRef } from '../../wire/index.js';
import type { EngineStats } from '../kernel/visitors.js';
import type { LoadedSchema } from '../schema-store.js';

/** A driver (one record part of one topic route) as its threads compile its plans. */
export interface DriverMessage {
  readonly kind: 'driver';
  readonly driver: number;
  readonly target: LoadedSchema;
  readonly targetSubject: string;
  /** The target subject's DEK scope on write (the driver's writeScopeOf resolved: join groups). */
  readonly writeScope: string;
}

/** A plan the driver compiled: the thread compiles the same one from the same inputs. */
export interface PlanMessage {
  readonly kind: 'plan';
  readonly driver: number;
  readonly topic: string;
  readonly ref: SchemaRef;
  /** The writer's protobuf message indexes (undefined for the other formats). */
  readonly indexes: readonly number[] | undefined;
  readonly writer: LoadedSchema;
  readonly readSubject: string;
  /** The target side's protobuf message indexes (undefined unless the target is protobuf). */
  readonly writeIndexes: readonly number[] | undefined;
}

export interface ReadKey {
  readonly key: string;
  readonly algorithm: DekAlgorithm;
  readonly proto: Uint8Array;
}

export interface WriteKeyUpdate {
  readonly key: string;
  /** null: the driver has no write DEK for the ref now (a thread then misses, and the main thread decides). */
  readonly dek: { readonly version: number; readonly algorithm: DekAlgorithm; readonly proto: Uint8Array } | null;
}

export interface KeyUpdate {
  readonly kind: 'keys';
  readonly reads: readonly ReadKey[];
  readonly writes: readonly WriteKeyUpdate[];
}

/** Records of one driver's part: bytes[offsets[i], offsets[i + 1]) is record i's part, topics[topicIndex[i]] its topic. */
export interface SliceMessage {
  readonly kind: 'slice';
  readonly id: number;
  readonly driver: number;
  readonly part: RecordPart;
  readonly topics: readonly string[];
  readonly topicIndex: Int32Array;
  readonly offsets: Int32Array;
  readonly bytes: ArrayBuffer;
}

export type ToThread = DriverMessage | PlanMessage | KeyUpdate | SliceMessage;

/**
 * A slice's results: record i's new part is bytes[offsets[i], offsets[i] + lengths[i]) when lengths[i]
 * >= 0; -1: not ok in the thread (a miss, a rule failure, a failure), so the main thread runs it.
 */
export interface SliceDone {
  readonly kind: 'done';
  readonly id: number;
  readonly lengths: Int32Array;
  readonly offsets: Int32Array;
  readonly dropHeader: Uint8Array;
  readonly bytes: ArrayBuffer;
  readonly stats: EngineStats;
}

export type FromThread = SliceDone;

/** A DekRef as a string (its write DEK's key in a thread's keyring). */
export function refString(ref: DekRef): string {
  return `${ref.kekName}\u0000${ref.scope}\u0000${ref.algorithm}`;
}

/** One DEK version of a ref as a string (0 is read as 1, as keys/'s cache does). */
export function readString(ref: DekRef, version: number): string {
  return `${refString(ref)}\u0000${version === 0 ? 1 : version}`;
}
