/**
 * Avro codec on avsc compiled types.
 *
 * Value representation (what decode returns and encode accepts):
 * - records: avsc record instances (plain objects are accepted by encode);
 * - unions: avsc `wrapUnions: 'auto'`, as Confluent's JS serde: a union is unwrapped (the bare value)
 *   when its branches have distinct JS shapes (e.g. ["null","string"], ["null", Record]), and wrapped
 *   (`{"ns.Record": value}`, `{"string": "x"}`) when two branches share a shape (two records, int and
 *   long, record and map, ...);
 * - bytes and fixed: Buffer;
 * - long: a JS number when it is a safe integer, a bigint otherwise (lossless over the full int64 range;
 *   plain avsc would refuse such values), accepted back by encode in both forms.
 *
 * Inline tags are the field attribute `"confluent:tags"`; full names are `namespace.Record.field` (the
 * record's avsc full name, as Confluent's serdes use). Referenced schemas (Confluent schema references)
 * are parsed first into the same name registry, so the main schema can use their named types.
 */
import avro from 'avsc';
import type { SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import {
  asBuffer,
  combineKinds,
  decodeError,
  encodeError,
  EMPTY_TAGS,
  fieldInfo,
  hasOwn,
  schemaError,
  tagList,
  withKind,
} from './common.js';
import { compileAvroValidator } from './avro-splice.js';
import type { Codec, FieldInfo, FieldKind, FieldVisitor, FieldWalker, ResolvedReferences } from './types.js';

type Type = avro.Type;
type Walk = (value: unknown, visit: FieldVisitor) => unknown;

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(n: number): void;
}

interface AvroField {
  readonly name: string;
  readonly type: Type;
}

// avsc's runtime shapes that its typings leave out.
interface AnyType {
  readonly typeName: string;
  readonly name?: string;
  readonly branchName?: string;
  readonly fields?: readonly AvroField[];
  readonly itemsType?: Type;
  readonly valuesType?: Type;
  readonly types?: readonly Type[];
}
const t = (type: Type): AnyType => type as unknown as AnyType;

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

/** avsc's union bucket of a type (see avsc getTypeBucket). */
function typeBucket(type: Type): string {
  switch (t(type).typeName) {
    case 'double':
    case 'float':
    case 'int':
    case 'long':
      return 'number';
    case 'bytes':
    case 'fixed':
      return 'buffer';
    case 'enum':
      return 'string';
    case 'map':
    case 'error':
    case 'record':
      return 'object';
    default:
      return t(type).typeName;
  }
}

/** The bucket of a decoded value; the counterpart of typeBucket for unwrapped unions. */
function valueBucket(val: unknown): string {
  if (val === null) return 'null';
  const k = typeof val;
  if (k === 'object') {
    if (Array.isArray(val)) return 'array';
    if (val instanceof Uint8Array) return 'buffer';
    return 'object';
  }
  return k === 'bigint' ? 'number' : k;
}

function isLongSchema(s: unknown): boolean {
  return s === 'long' || (isObject(s) && s['type'] === 'long');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------
// Parsing

interface Parsed {
  readonly root: Type;
  /** Inline tags by record type, then field name. */
  readonly tags: Map<Type, Map<string, readonly string[]>>;
}

function parseAvro(schema: SchemaInfo, refs: ResolvedReferences): Parsed {
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

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Codec

export interface AvroCodec extends Codec {
  readonly schemaType: 'AVRO';
  /** The compiled avsc type (for resolution and tests). */
  readonly avroType: Type;
  /** Throws FORMAT_DECODE when a payload does not scan under the schema (checked before avsc reads it). */
  check(payload: Buffer): void;
  /** The field infos of a record type reachable from the root, in field order. */
  recordFields(recordType: Type): readonly FieldInfo[] | undefined;
}

const isRecordType = (type: Type): boolean => t(type).typeName === 'record' || t(type).typeName === 'error';

function leafKind(type: Type): FieldKind {
  const name = t(type).typeName;
  return name === 'string' ? 'string' : name === 'bytes' ? 'bytes' : 'other';
}

/** Leaf types reachable from a field type without entering a record (through unions, arrays, maps). */
function leafTypes(type: Type, out: Type[] = []): Type[] {
  const a = t(type);
  if (isRecordType(type)) return out;
  if (a.types !== undefined) for (const b of a.types) leafTypes(b, out);
  else if (a.itemsType !== undefined) leafTypes(a.itemsType, out);
  else if (a.valuesType !== undefined) leafTypes(a.valuesType, out);
  else out.push(type);
  return out;
}

/** Records reachable from a type without entering a record. */
function childRecords(type: Type, out: Set<Type>): Set<Type> {
  const a = t(type);
  if (isRecordType(type)) out.add(type);
  else if (a.types !== undefined) for (const b of a.types) childRecords(b, out);
  else if (a.itemsType !== undefined) childRecords(a.itemsType, out);
  else if (a.valuesType !== undefined) childRecords(a.valuesType, out);
  return out;
}

class AvroCodecImpl implements AvroCodec {
  readonly schemaType = 'AVRO' as const;
  readonly avroType: Type;
  /** Every record reachable from the root, in first-seen order, with its field infos. */
  private readonly records = new Map<Type, readonly FieldInfo[]>();
  private readonly allFields: readonly FieldInfo[];
  private readonly validate: ((payload: Buffer) => string | null) | null;

  constructor(parsed: Parsed) {
    this.avroType = parsed.root;
    this.validate = compileAvroValidator(parsed.root);
    const visit = (type: Type): void => {
      for (const r of childRecords(type, new Set())) {
        if (this.records.has(r)) continue;
        const fields = t(r).fields ?? [];
        const byField = parsed.tags.get(r);
        const infos: FieldInfo[] = [];
        this.records.set(r, infos); // before recursing: records may refer to themselves
        for (const f of fields) {
          const kinds = leafTypes(f.type)
            .filter((l) => t(l).typeName !== 'null')
            .map(leafKind);
          infos.push(fieldInfo(f.name, `${t(r).name ?? ''}.${f.name}`, byField?.get(f.name) ?? EMPTY_TAGS, combineKinds(kinds)));
        }
        Object.freeze(infos);
        for (const f of fields) visit(f.type);
      }
    };
    visit(parsed.root);
    this.allFields = Object.freeze([...this.records.values()].flat());
  }

  decode(payload: Buffer): unknown {
    this.check(payload);
    try {
      return this.avroType.fromBuffer(payload);
    } catch (err) {
      throw decodeError('Avro', err);
    }
  }

  encode(value: unknown): Buffer {
    try {
      return this.avroType.toBuffer(value);
    } catch (err) {
      throw encodeError('Avro', err);
    }
  }

  fields(): readonly FieldInfo[] {
    return this.allFields;
  }

  /** Refuses a payload that does not scan under the schema, before avsc reads it (see compileAvroValidator). */
  check(payload: Buffer): void {
    const problem = this.validate?.(payload) ?? null;
    if (problem !== null) throw decodeError('Avro', new Error(problem));
  }

  recordFields(recordType: Type): readonly FieldInfo[] | undefined {
    return this.records.get(recordType);
  }

  compileWalker(select: (field: FieldInfo) => boolean): FieldWalker | null {
    // Which records hold a selected field, directly or through records they contain (fixpoint, so
    // recursive types terminate).
    const selected = new Map<Type, boolean[]>();
    const needs = new Map<Type, boolean>();
    for (const [r, infos] of this.records) {
      const sel = infos.map((i) => select(i));
      selected.set(r, sel);
      needs.set(r, sel.includes(true));
    }
    const children = new Map<Type, Set<Type>>();
    for (const r of this.records.keys()) {
      const set = new Set<Type>();
      for (const f of t(r).fields ?? []) childRecords(f.type, set);
      children.set(r, set);
    }
    for (let changed = true; changed; ) {
      changed = false;
      for (const [r, set] of children) {
        if (needs.get(r) === true) continue;
        for (const c of set) {
          if (needs.get(c) === true) {
            needs.set(r, true);
            changed = true;
            break;
          }
        }
      }
    }

    const holders = new Map<Type, { fn: Walk; done: boolean }>();
    const recordWalker = (r: Type): Walk | null => {
      if (needs.get(r) !== true) return null;
      const existing = holders.get(r);
      if (existing !== undefined) return existing.done ? existing.fn : (v, visit) => existing.fn(v, visit);
      const holder = { fn: ((v: unknown) => v) as Walk, done: false };
      holders.set(r, holder);
      const infos = this.records.get(r) ?? [];
      const sel = selected.get(r) ?? [];
      const steps: Step[] = [];
      (t(r).fields ?? []).forEach((f, i) => {
        const info = sel[i] === true ? (infos[i] ?? null) : null;
        const walk = typeWalker(f.type, info);
        if (walk === null) return;
        // A plain leaf field (not a union, array or map) is visited inline.
        const plain = info !== null && !isRecordType(f.type) && t(f.type).types === undefined && t(f.type).itemsType === undefined && t(f.type).valuesType === undefined;
        steps.push({ name: f.name, leaf: plain ? withKind(info, leafKind(f.type)) : null, walk });
      });
      holder.fn = recordWalk(steps);
      holder.done = true;
      return holder.fn;
    };

    const typeWalker = (type: Type, info: FieldInfo | null): Walk | null => {
      const a = t(type);
      if (isRecordType(type)) return recordWalker(type);
      switch (a.typeName) {
        case 'array':
          return arrayWalk(typeWalker(a.itemsType as Type, info));
        case 'map':
          return mapWalk(typeWalker(a.valuesType as Type, info));
        case 'union:wrapped':
          return wrappedUnionWalk(a.types ?? [], info, typeWalker);
        case 'union:unwrapped':
          return unwrappedUnionWalk(a.types ?? [], info, typeWalker);
        default:
          return info === null ? null : leafWalk(withKind(info, t(type).typeName === 'null' ? info.kind : leafKind(type)));
      }
    };

    const root = typeWalker(this.avroType, null);
    return root;
  }
}

/** One field of a record walk: a direct visit of a string/bytes/other leaf, or a nested walk. */
type Step = { readonly name: string; readonly leaf: FieldInfo | null; readonly walk: Walk };

/**
 * A record walk compiled to straight-line code (`r["name"] = visit(r["name"], info0); ...`): per record
 * only the selected fields are touched, with no loop or per-field closure on the hot path.
 */
function recordWalk(steps: readonly Step[]): Walk {
  const lines: string[] = [];
  steps.forEach((s, i) => {
    const key = JSON.stringify(s.name);
    if (s.leaf === null) lines.push(`r[${key}] = walks[${i}](r[${key}], visit);`);
    else if (s.leaf.kind === 'bytes') lines.push(`r[${key}] = asBuffer(visit(r[${key}], infos[${i}]));`);
    else lines.push(`r[${key}] = visit(r[${key}], infos[${i}]);`);
  });
  const body = `return function walkRecord(r, visit) {\n  if (r === null || typeof r !== 'object') return r;\n  ${lines.join('\n  ')}\n  return r;\n};`;
  const make = new Function('walks', 'infos', 'asBuffer', body) as (w: Walk[], i: (FieldInfo | null)[], a: typeof asBuffer) => Walk;
  return make(
    steps.map((s) => s.walk),
    steps.map((s) => s.leaf),
    asBuffer,
  );
}

function arrayWalk(inner: Walk | null): Walk | null {
  if (inner === null) return null;
  return (v, visit) => {
    if (!Array.isArray(v)) return v;
    for (let i = 0; i < v.length; i++) v[i] = inner(v[i], visit);
    return v;
  };
}

function mapWalk(inner: Walk | null): Walk | null {
  if (inner === null) return null;
  return (v, visit) => {
    if (v === null || typeof v !== 'object') return v;
    const m = v as Record<string, unknown>;
    for (const k of Object.keys(m)) m[k] = inner(m[k], visit);
    return m;
  };
}

function leafWalk(info: FieldInfo): Walk {
  if (info.kind === 'bytes') return (v, visit) => asBuffer(visit(v, info));
  return (v, visit) => visit(v, info);
}

type TypeWalker = (type: Type, info: FieldInfo | null) => Walk | null;

function wrappedUnionWalk(types: readonly Type[], info: FieldInfo | null, typeWalker: TypeWalker): Walk | null {
  const branches: { name: string; walk: Walk }[] = [];
  let nullWalk: Walk | null = null;
  for (const b of types) {
    const walk = typeWalker(b, info);
    if (walk === null) continue;
    if (t(b).typeName === 'null') nullWalk = walk;
    else branches.push({ name: t(b).branchName ?? '', walk });
  }
  if (branches.length === 0 && nullWalk === null) return null;
  return (v, visit) => {
    if (v === null || v === undefined) return nullWalk === null ? v : nullWalk(v, visit);
    if (typeof v !== 'object') return v;
    const w = v as Record<string, unknown>;
    for (const b of branches) {
      if (w[b.name] !== undefined && hasOwn(w, b.name)) {
        w[b.name] = b.walk(w[b.name], visit);
        return w;
      }
    }
    return w;
  };
}

function unwrappedUnionWalk(types: readonly Type[], info: FieldInfo | null, typeWalker: TypeWalker): Walk | null {
  const byBucket = new Map<string, Walk>();
  for (const b of types) {
    const walk = typeWalker(b, info);
    if (walk !== null) byBucket.set(typeBucket(b), walk);
  }
  if (byBucket.size === 0) return null;
  if (byBucket.size === 1) {
    const [[bucket, walk]] = [...byBucket] as [[string, Walk]];
    return (v, visit) => (valueBucket(v) === bucket ? walk(v, visit) : v);
  }
  return (v, visit) => {
    const walk = byBucket.get(valueBucket(v));
    return walk === undefined ? v : walk(v, visit);
  };
}

/** Compiles an Avro schema (with its already-fetched references). Throws RecryptError FORMAT_SCHEMA. */
export function createAvroCodec(schema: SchemaInfo, refs: ResolvedReferences = new Map()): AvroCodec {
  return new AvroCodecImpl(parseAvro(schema, refs));
}

export function isAvroCodec(codec: Codec): codec is AvroCodec {
  return codec instanceof AvroCodecImpl;
}

// ---------------------------------------------------------------------------------------------------
// Schema resolution (writer schema -> target schema)

export interface AvroResolver {
  /** True when writer and target are the same schema: values need no conversion. */
  readonly identical: boolean;
  /** Decodes bytes written with the writer schema straight into the target schema's shape. */
  decode(payload: Buffer): unknown;
  /** Converts a value decoded with the writer schema into the target schema's shape. */
  convert(value: unknown): unknown;
}

/**
 * Avro schema resolution (added fields take their defaults, removed fields are dropped, promotions,
 * aliases), from values of `writer` to values of `target`. Throws FORMAT_RESOLUTION when the schemas
 * are not compatible.
 */
export function createAvroResolver(writer: Codec, target: Codec): AvroResolver {
  if (!isAvroCodec(writer) || !isAvroCodec(target)) {
    throw new RecryptError('FORMAT_RESOLUTION', 'Avro resolution needs Avro writer and target codecs');
  }
  if (writer === target || writer.avroType.equals(target.avroType)) {
    return { identical: true, decode: (p) => target.decode(p), convert: (v) => v };
  }
  let resolver: avro.Resolver;
  try {
    resolver = target.avroType.createResolver(writer.avroType);
  } catch (err) {
    throw new RecryptError('FORMAT_RESOLUTION', `writer schema cannot be resolved to the target schema: ${errMessage(err)}`, { cause: err });
  }
  const decode = (payload: Buffer): unknown => {
    writer.check(payload);
    try {
      return target.avroType.fromBuffer(payload, resolver);
    } catch (err) {
      throw decodeError('Avro', err);
    }
  };
  return { identical: false, decode, convert: (value) => decode(writer.encode(value)) };
}
