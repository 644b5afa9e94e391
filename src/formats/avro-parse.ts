/**
 * Parsing an Avro schema (with its already-fetched references) into avsc types: a lossless long (a
 * number while safe, a bigint beyond), unions that accept it, and each record's inline
 * `confluent:tags` collected by field name.
 */
import avro from 'avsc';
import type { SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import { schemaError, tagList } from './common.js';
import { typeBucket, type Type } from './avro-types.js';
import type { ResolvedReferences } from './types.js';

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(n: number): void;
}

// ---------------------------------------------------------------------------------------------------
// Lossless long: numbers while safe, bigint beyond. Same typeName ('long') as avsc's own long, so avsc
// resolution, union bucketing and schema export treat it exactly like a long.

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const FLOAT_EXACT = 2 ** 52;
const FLOAT_EXACT_N = 2n ** 52n;

function isValidLong(val: unknown): boolean {
  return (typeof val === 'number' && Number.isSafeInteger(val)) || (typeof val === 'bigint' && val >= MIN_LONG && val <= MAX_LONG);
}

function readBigLong(tap: Tap, start: number): number | bigint {
  const buf = tap.buf;
  let pos = start;
  let u = 0n;
  let shift = 0n;
  let b: number | undefined;
  do {
    b = buf[pos++];
    if (b === undefined) {
      tap.pos = pos; // past the end: avsc reports a truncated buffer
      return 0;
    }
    u |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80 && shift < 70n);
  if (b & 0x80 || u >> 64n !== 0n) throw new Error('invalid long');
  tap.pos = pos;
  const v = (u >> 1n) ^ -(u & 1n);
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

function writeBigLong(tap: Tap, v: bigint): void {
  const buf = tap.buf;
  let pos = tap.pos;
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  while (u >= 0x80n) {
    buf[pos++] = Number(u & 0x7fn) | 0x80; // writes past the end are dropped; avsc then grows and retries
    u >>= 7n;
  }
  buf[pos++] = Number(u);
  tap.pos = pos;
}

const AvscLongType = avro.types.LongType as unknown as new () => object;

class LosslessLongType extends AvscLongType {
  _check(val: unknown, _flags: unknown, hook?: (val: unknown, type: unknown) => void): boolean {
    const ok = isValidLong(val);
    if (!ok && hook) hook(val, this);
    return ok;
  }

  _read(tap: Tap): number | bigint {
    const start = tap.pos;
    const n = tap.readLong();
    // Up to 7 varint bytes hold < 2^49: avsc's float arithmetic is exact there.
    return tap.pos - start <= 7 ? n : readBigLong(tap, start);
  }

  _write(tap: Tap, val: unknown): void {
    // avsc's writeLong zig-zags in float arithmetic: exact only while |n| < 2^52.
    if (typeof val === 'number' && Number.isSafeInteger(val)) {
      if (val > -FLOAT_EXACT && val < FLOAT_EXACT) tap.writeLong(val);
      else writeBigLong(tap, BigInt(val));
    } else if (typeof val === 'bigint' && val >= MIN_LONG && val <= MAX_LONG) {
      if (val > -FLOAT_EXACT_N && val < FLOAT_EXACT_N) tap.writeLong(Number(val));
      else writeBigLong(tap, val);
    } else {
      throw new Error('invalid long');
    }
  }
}

const AvscUnwrappedUnionType = avro.types.UnwrappedUnionType as unknown as new (types: Type[], opts: unknown) => object;
const baseGetIndex = (avro.types.UnwrappedUnionType.prototype as unknown as { _getIndex(val: unknown): number | undefined })._getIndex;

/** Unwrapped union whose long branch also takes bigint values. */
class LosslessUnwrappedUnionType extends AvscUnwrappedUnionType {
  _getIndex(val: unknown): number | undefined {
    return baseGetIndex.call(this, typeof val === 'bigint' ? 0 : val);
  }
}


function isLongSchema(s: unknown): boolean {
  return s === 'long' || (isObject(s) && s['type'] === 'long');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------
// Parsing

export interface Parsed {
  readonly root: Type;
  /** Inline tags by record type, then field name. */
  readonly tags: Map<Type, Map<string, readonly string[]>>;
}

export function parseAvro(schema: SchemaInfo, refs: ResolvedReferences): Parsed {
  const tags = new Map<Type, Map<string, readonly string[]>>();
  const inProgress = new Set<object>();
  const longType = new LosslessLongType() as unknown as Type;

  const typeHook = (s: unknown, opts: avro.ForSchemaOptions): Type | undefined => {
    if (isLongSchema(s)) return longType;
    if (Array.isArray(s) && s.some(isLongSchema)) {
      // Decide wrapping like avsc's 'auto', and let the unwrapped form accept bigint longs.
      const types = s.map((b) => avro.Type.forSchema(b as avro.Schema, opts));
      const seen = new Set<string>();
      let ambiguous = false;
      for (const b of types) {
        const bucket = typeBucket(b);
        if (seen.has(bucket)) ambiguous = true;
        seen.add(bucket);
      }
      return ambiguous
        ? (new avro.types.WrappedUnionType(types as unknown as avro.Schema, opts) as unknown as Type)
        : (new LosslessUnwrappedUnionType(types, opts) as unknown as Type);
    }
    if (isObject(s) && (s['type'] === 'record' || s['type'] === 'error') && !inProgress.has(s)) {
      inProgress.add(s);
      const type = avro.Type.forSchema(s as avro.Schema, opts);
      const byField = new Map<string, readonly string[]>();
      const fields = Array.isArray(s['fields']) ? (s['fields'] as unknown[]) : [];
      for (const f of fields) {
        if (isObject(f) && typeof f['name'] === 'string' && f['confluent:tags'] !== undefined) {
          byField.set(f['name'], tagList(f['confluent:tags']));
        }
      }
      tags.set(type, byField);
      return type;
    }
    return undefined;
  };

  let registry: Record<string, Type> = {};
  const parse = (text: string, what: string, reg: Record<string, Type>): Type => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw schemaError('Avro', `${what} is not JSON`, err);
    }
    inProgress.clear();
    return avro.Type.forSchema(json as avro.Schema, { registry: reg, typeHook, wrapUnions: 'auto' });
  };

  // References may depend on each other in any order: parse what can be parsed until nothing changes.
  let pending = [...refs.entries()];
  while (pending.length > 0) {
    const failed: typeof pending = [];
    let lastError: unknown;
    for (const [name, ref] of pending) {
      const attempt = { ...registry };
      try {
        parse(ref.schema, `reference ${name}`, attempt);
        registry = attempt;
      } catch (err) {
        if (err instanceof RecryptError) throw err;
        failed.push([name, ref]);
        lastError = err;
      }
    }
    if (failed.length === pending.length) {
      throw schemaError('Avro', `reference ${failed[0]?.[0] ?? ''} does not parse: ${errMessage(lastError)}`, lastError);
    }
    pending = failed;
  }
  try {
    return { root: parse(schema.schema, 'schema', registry), tags };
  } catch (err) {
    if (err instanceof RecryptError) throw err;
    throw schemaError('Avro', errMessage(err), err);
  }
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
