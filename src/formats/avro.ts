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
import { combineKinds, decodeError, encodeError, EMPTY_TAGS, fieldInfo } from './common.js';
import { compileAvroValidator } from './avro-skip.js';
import { compileAvroSplicer } from './avro-splice.js';
import { errMessage, parseAvro, type Parsed } from './avro-parse.js';
import { childRecords, leafKind, leafTypes, t, type Type } from './avro-types.js';
import { compileAvroWalker } from './avro-walk.js';
import type { Codec, FieldInfo, FieldSelect, FieldSplicer, FieldWalker, ResolvedReferences } from './types.js';

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
    return compileAvroWalker(this.avroType, this.records, select);
  }

  /** The in-place rewrite (avro-splice.ts), when the target is Avro and encodes alike. */
  compileSplicer(target: Codec, readSelects: readonly (FieldSelect | null)[], writeSelects: readonly (FieldSelect | null)[]): FieldSplicer | null {
    return isAvroCodec(target) ? compileAvroSplicer(this, target, readSelects, writeSelects) : null;
  }
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
