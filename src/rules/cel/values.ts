/**
 * The CEL value model: how a decoded record (recrypt's codecs) becomes CEL input, and how a CEL_FIELD
 * result goes back into its leaf. It follows what Confluent's JS serializer hands the executor where JS
 * and Go agree, and Go where they do not (docs/design/data-contract-rules.md section 1.13):
 * - records (avsc instances, protobufjs messages, JSON objects) become plain objects, i.e. CEL maps keyed
 *   by field name. JS fails on avsc instances and protobuf-es messages ("Unsupported input"), and a
 *   CONDITION then passes; Go evaluates them. We evaluate them, as Go does.
 * - JS numbers stay numbers (CEL double, as in the JS client); bigints (Avro longs beyond 2^53) are int;
 *   protobufjs Longs become int, or uint when unsigned (Go's proto uint64).
 * - bytes (Buffer) are CEL bytes; arrays are lists; Maps and plain objects are maps; null stays null.
 * Nothing here is per-schema: one pass over the value, only when an expression needs `message`.
 */
import { celUint, isCelError, isCelList, isCelMap, isCelUint } from '@bufbuild/cel';

interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
}

function isLong(v: object): v is LongLike {
  const l = v as Partial<LongLike>;
  return typeof l.low === 'number' && typeof l.high === 'number' && typeof l.unsigned === 'boolean';
}

function longToBigint(l: LongLike): bigint {
  const lo = BigInt(l.low >>> 0);
  const hi = BigInt(l.high >>> 0);
  const u = (hi << 32n) | lo;
  return l.unsigned ? u : BigInt.asIntN(64, u);
}

/** Nesting deeper than this is cut off (null): decoded records are trees; this only guards a cycle. */
const MAX_DEPTH = 64;

/** A decoded value as CEL input. */
export function toCel(value: unknown): unknown {
  return convert(value, 0);
}

function convert(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return value;
    case 'object':
      break;
    default:
      return null;
  }
  if (depth > MAX_DEPTH) return null;
  const next = depth + 1;
  if (value instanceof Uint8Array) return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map((v) => convert(v, next));
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(k, convert(v, next));
    return out;
  }
  if (isLong(value)) {
    const n = longToBigint(value);
    return value.unsigned ? celUint(n) : n;
  }
  const out: Record<string, unknown> = {};
  // for...in: protobufjs messages keep unset fields' defaults on their prototype (as Go's proto getters
  // do); their reflection (`$type`) and methods are not fields.
  for (const key in value) {
    if (key.startsWith('$')) continue;
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'function' || v === undefined) continue;
    out[key] = convert(v, next);
  }
  return out;
}

/** The binding of a leaf value for CEL_FIELD's `value` (the same model; leaves are primitives). */
export const leafToCel = toCel;

/** Marks a CEL result that does not fit the leaf it would replace. */
export const DOES_NOT_FIT: unique symbol = Symbol('does not fit');

/**
 * A CEL_FIELD transform's result as the leaf's new value, in the leaf's own representation (the type the
 * codec holds: string, Buffer, number, bigint, protobufjs Long's number, boolean), or DOES_NOT_FIT. The
 * JS client would hand a mismatched value to the encoder (an unactioned serialization error); a rule
 * failure is what Go gives.
 */
export function fromCelLeaf(result: unknown, original: unknown, kind: 'string' | 'bytes' | 'other'): unknown {
  if (isCelError(result) || isCelMap(result) || isCelList(result)) return DOES_NOT_FIT;
  if (result === null) return null;
  if (kind === 'string') return typeof result === 'string' ? result : DOES_NOT_FIT;
  if (kind === 'bytes') return result instanceof Uint8Array ? Buffer.from(result.buffer, result.byteOffset, result.byteLength) : DOES_NOT_FIT;
  const numeric = isCelUint(result) ? result.value : result;
  switch (typeof original) {
    case 'boolean':
      return typeof numeric === 'boolean' ? numeric : DOES_NOT_FIT;
    case 'string':
      return typeof numeric === 'string' ? numeric : DOES_NOT_FIT;
    case 'number':
      if (typeof numeric === 'number') return numeric;
      if (typeof numeric === 'bigint' && numeric >= BigInt(Number.MIN_SAFE_INTEGER) && numeric <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(numeric);
      return DOES_NOT_FIT;
    case 'bigint':
      if (typeof numeric === 'bigint') return numeric;
      return typeof numeric === 'number' && Number.isSafeInteger(numeric) ? BigInt(numeric) : DOES_NOT_FIT;
    case 'object': {
      // A protobufjs Long leaf: the result as the same {low, high, unsigned} shape, which the codec writes.
      if (original === null || !isLong(original)) return DOES_NOT_FIT;
      const n = typeof numeric === 'bigint' ? numeric : typeof numeric === 'number' && Number.isSafeInteger(numeric) ? BigInt(numeric) : undefined;
      if (n === undefined) return DOES_NOT_FIT;
      const unsigned = original.unsigned;
      if (unsigned ? n < 0n || n >= 1n << 64n : n < -(1n << 63n) || n >= 1n << 63n) return DOES_NOT_FIT;
      const bits = BigInt.asUintN(64, n);
      return { low: Number(BigInt.asIntN(32, bits & 0xffffffffn)), high: Number(BigInt.asIntN(32, bits >> 32n)), unsigned };
    }
    default:
      return DOES_NOT_FIT;
  }
}

/**
 * The CEL_FIELD `typeName` of a leaf (STRING, BYTES, INT, LONG, FLOAT, DOUBLE, BOOLEAN), or null when the
 * leaf is not a primitive (an enum symbol, a fixed, a record...), which the executors leave alone.
 * FieldInfo carries string/bytes/other only, so the other primitives are named from the value: a
 * boolean is BOOLEAN, a bigint or Long is LONG, an integral number INT, any other number DOUBLE.
 */
export function leafTypeName(value: unknown, kind: 'string' | 'bytes' | 'other'): string | null {
  if (kind === 'string') return typeof value === 'string' ? 'STRING' : null;
  if (kind === 'bytes') return value instanceof Uint8Array ? 'BYTES' : null;
  switch (typeof value) {
    case 'boolean':
      return 'BOOLEAN';
    case 'bigint':
      return 'LONG';
    case 'number':
      return Number.isInteger(value) ? 'INT' : 'DOUBLE';
    case 'object':
      return value !== null && isLong(value) ? 'LONG' : null;
    default:
      // An Avro enum symbol is a string on an 'other' leaf: not a primitive.
      return null;
  }
}
