/**
 * Protobuf codec on protobufjs, from `.proto` source text.
 *
 * Imports resolve through the references (reference name = import path); `confluent/meta.proto`,
 * `confluent/type/decimal.proto` and the `google/protobuf/*.proto` well-known files work without a
 * reference. The message comes from the wire format's message indexes: `[0]` is the first top-level
 * message of the file, `[1, 0]` the first message nested in the second one (map entries do not count).
 *
 * Value representation: protobufjs message instances (field names as declared), bytes as Buffer, 64-bit
 * integers as Long objects (lossless), enums as numbers, unset proto3 scalars read their default from
 * the prototype, the set member of a oneof is an own property.
 *
 * Tags: `[(confluent.field_meta).tags = "PII"]` or `[(confluent.field_meta) = { tags: ["PII"] }]`. Full
 * names: `package.Message.field` (nested: `package.Outer.Inner.field`). Map fields behave like Confluent's
 * Java serde, where a map is a repeated entry message: the values are visited as the field
 * `package.Message.<Name>Entry.value` (and keys as `.key`), whose tags come only from `metadata.tags`.
 */
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import type { SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import { asBuffer, decodeError, EMPTY_TAGS, encodeError, fieldInfo, hasOwn, schemaError, tagList } from './common.js';
import type { Codec, CodecOptions, FieldInfo, FieldKind, FieldVisitor, FieldWalker, ResolvedReferences } from './types.js';

type Walk = (value: unknown, visit: FieldVisitor) => unknown;

const META_PROTO = `syntax = "proto3";
package confluent;
import "google/protobuf/descriptor.proto";
message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
}
extend google.protobuf.FileOptions { Meta file_meta = 1088; }
extend google.protobuf.MessageOptions { Meta message_meta = 1088; }
extend google.protobuf.FieldOptions { Meta field_meta = 1088; }
extend google.protobuf.EnumOptions { Meta enum_meta = 1088; }
extend google.protobuf.EnumValueOptions { Meta enum_value_meta = 1088; }
`;

const DECIMAL_PROTO = `syntax = "proto3";
package confluent.type;
message Decimal {
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
`;

const BUILTIN_SOURCES: ReadonlyMap<string, string> = new Map([
  ['confluent/meta.proto', META_PROTO],
  ['confluent/type/decimal.proto', DECIMAL_PROTO],
]);

const require = createRequire(import.meta.url);
const JSON_WELL_KNOWN = new Set(['descriptor', 'api', 'type', 'source_context']);

/** JSON descriptor of a google/protobuf well-known file, or null. */
function wellKnownJson(path: string): protobuf.INamespace | null {
  const common = protobuf.common.get(path) as protobuf.INamespace | null;
  if (common !== null) return common;
  const m = /^google\/protobuf\/([a-z_]+)\.proto$/.exec(path);
  if (m !== null && JSON_WELL_KNOWN.has(m[1] ?? '')) {
    return require(`protobufjs/google/protobuf/${m[1] ?? ''}.json`) as protobuf.INamespace;
  }
  return null;
}

const MAIN_FILE = '<schema>';

/** protobufjs stamps `parse.filename` on the top-level objects it parses (not in its typings). */
const parser = protobuf.parse as typeof protobuf.parse & { filename: string | null };

interface Parsed {
  root: protobuf.Root;
  /** The main file's top-level messages in declaration order. */
  topLevel: protobuf.Type[];
}

function parseProto(schema: SchemaInfo, refs: ResolvedReferences): Parsed {
  const root = new protobuf.Root();
  const loaded = new Set<string>();
  const parseFile = (name: string, source: string): void => {
    loaded.add(name);
    let result: protobuf.IParserResult;
    try {
      parser.filename = name;
      result = protobuf.parse(source, root, { keepCase: true });
    } catch (err) {
      throw schemaError('Protobuf', `${name === MAIN_FILE ? 'schema' : name}: ${errMessage(err)}`, err);
    } finally {
      parser.filename = null;
    }
    for (const dep of [...(result.imports ?? []), ...(result.weakImports ?? [])]) loadImport(dep);
  };
  const loadImport = (dep: string): void => {
    if (loaded.has(dep)) return;
    const ref = refs.get(dep);
    if (ref !== undefined) return parseFile(dep, ref.schema);
    const builtin = BUILTIN_SOURCES.get(dep);
    if (builtin !== undefined) return parseFile(dep, builtin);
    const json = wellKnownJson(dep);
    if (json === null) throw schemaError('Protobuf', `import ${dep} is neither a reference nor a well-known file`);
    loaded.add(dep);
    try {
      root.addJSON(json.nested ?? {});
    } catch (err) {
      throw schemaError('Protobuf', `well-known file ${dep}: ${errMessage(err)}`, err);
    }
  };
  parseFile(MAIN_FILE, schema.schema);
  try {
    root.resolveAll();
  } catch (err) {
    throw schemaError('Protobuf', errMessage(err), err);
  }
  const topLevel: protobuf.Type[] = [];
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) {
        if (obj.filename === MAIN_FILE) topLevel.push(obj);
      } else if (obj instanceof protobuf.Namespace && !(obj instanceof protobuf.Service) && !(obj instanceof protobuf.Enum)) {
        collect(obj);
      }
    }
  };
  collect(root);
  return { root, topLevel };
}

/**
 * protobufjs' Node reader clamps a string whose length runs past the end of the payload instead of
 * failing; this reader fails, so a truncated payload is a decode error, not a silently shorter string.
 */
class StrictReader extends protobuf.BufferReader {
  override string(): string {
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    if (end > this.len) throw new RangeError('index out of range');
    this.pos = end;
    return (this.buf as Buffer).toString('utf8', start, end);
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function selectMessage(parsed: Parsed, indexes: readonly number[]): protobuf.Type {
  const [first, ...rest] = indexes.length === 0 ? [0] : indexes;
  let type = parsed.topLevel[first ?? 0];
  if (type === undefined) {
    throw schemaError('Protobuf', `message index ${first ?? 0} out of range, schema has ${parsed.topLevel.length} top-level message(s)`);
  }
  for (const i of rest) {
    const nested: protobuf.Type[] = type.nestedArray.filter((o): o is protobuf.Type => o instanceof protobuf.Type);
    const next: protobuf.Type | undefined = nested[i];
    if (next === undefined) {
      throw schemaError('Protobuf', `message index ${i} out of range, ${type.name} has ${nested.length} nested message(s)`);
    }
    type = next;
  }
  return type;
}

/** Tags from `(confluent.field_meta)`, in both the flat and the aggregate option syntax. */
function inlineTags(field: protobuf.Field): readonly string[] {
  const tags: unknown[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) tags.push(...(v as unknown[]));
    else if (v !== undefined) tags.push(v);
  };
  const parsedOptions: unknown = field.parsedOptions;
  for (const opt of Array.isArray(parsedOptions) ? (parsedOptions as unknown[]) : []) {
    const meta: unknown = (opt as Record<string, unknown>)['(confluent.field_meta)'];
    if (typeof meta === 'object' && meta !== null) add((meta as Record<string, unknown>)['tags']);
  }
  if (tags.length === 0 && field.options !== undefined) add(field.options['(confluent.field_meta).tags']);
  return tagList(tags);
}

function scalarKind(type: string): FieldKind {
  return type === 'string' ? 'string' : type === 'bytes' ? 'bytes' : 'other';
}

/** protoc's name for a map field's entry message: `my_map` -> `MyMapEntry`. */
function mapEntryName(field: string): string {
  let out = '';
  let upper = true;
  for (const ch of field) {
    if (ch === '_') {
      upper = true;
    } else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return `${out}Entry`;
}

interface FieldEntry {
  readonly field: protobuf.Field;
  /** The field itself (for a map field: the map, kind other). */
  readonly info: FieldInfo;
  /** Map fields only: the entry's key and value fields. */
  readonly keyInfo?: FieldInfo;
  readonly valueInfo?: FieldInfo;
}

export interface ProtobufCodec extends Codec {
  readonly schemaType: 'PROTOBUF';
  /** The selected message type. */
  readonly messageType: protobuf.Type;
}

class ProtobufCodecImpl implements ProtobufCodec {
  readonly schemaType = 'PROTOBUF' as const;
  readonly messageType: protobuf.Type;
  private readonly messages = new Map<protobuf.Type, readonly FieldEntry[]>();
  private readonly allFields: readonly FieldInfo[];

  constructor(messageType: protobuf.Type) {
    this.messageType = messageType;
    const visit = (type: protobuf.Type): void => {
      if (this.messages.has(type)) return;
      const entries: FieldEntry[] = [];
      this.messages.set(type, entries);
      const prefix = type.fullName.replace(/^\./, '');
      for (const field of type.fieldsArray) {
        field.resolve();
        const valueType = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
        const kind: FieldKind = field.resolvedType === null ? scalarKind(field.type) : 'other';
        if (field instanceof protobuf.MapField) {
          const entry = `${prefix}.${mapEntryName(field.name)}`;
          entries.push({
            field,
            info: fieldInfo(field.name, `${prefix}.${field.name}`, inlineTags(field), 'other'),
            keyInfo: fieldInfo('key', `${entry}.key`, EMPTY_TAGS, scalarKind(field.keyType)),
            valueInfo: fieldInfo('value', `${entry}.value`, EMPTY_TAGS, kind),
          });
        } else {
          entries.push({ field, info: fieldInfo(field.name, `${prefix}.${field.name}`, inlineTags(field), kind) });
        }
        if (valueType !== null) visit(valueType);
      }
      Object.freeze(entries);
    };
    visit(messageType);
    const infos: FieldInfo[] = [];
    for (const entries of this.messages.values()) {
      for (const e of entries) {
        infos.push(e.info);
        if (e.keyInfo !== undefined) infos.push(e.keyInfo);
        if (e.valueInfo !== undefined) infos.push(e.valueInfo);
      }
    }
    this.allFields = Object.freeze(infos);
  }

  decode(payload: Buffer): unknown {
    try {
      return this.messageType.decode(new StrictReader(payload));
    } catch (err) {
      throw decodeError('Protobuf', err);
    }
  }

  encode(value: unknown): Buffer {
    if (typeof value !== 'object' || value === null) throw encodeError('Protobuf', null);
    // verify's messages name the field and the expected type, never the value.
    const problem = this.messageType.verify(value as Record<string, unknown>);
    if (problem !== null) {
      throw new RecryptError('FORMAT_ENCODE', `value does not encode as Protobuf with the target schema (${problem})`);
    }
    try {
      const bytes = this.messageType.encode(value as Record<string, unknown>).finish();
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      throw encodeError('Protobuf', err);
    }
  }

  fields(): readonly FieldInfo[] {
    return this.allFields;
  }

  compileWalker(select: (field: FieldInfo) => boolean): FieldWalker | null {
    const children = new Map<protobuf.Type, Set<protobuf.Type>>();
    const needs = new Map<protobuf.Type, boolean>();
    for (const [type, entries] of this.messages) {
      const set = new Set<protobuf.Type>();
      let direct = false;
      for (const e of entries) {
        if (e.field.resolvedType instanceof protobuf.Type) set.add(e.field.resolvedType);
        if (e.valueInfo !== undefined) {
          if (select(e.valueInfo) || (e.keyInfo !== undefined && select(e.keyInfo))) direct = true;
        } else if (e.field.resolvedType === null && select(e.info)) {
          direct = true;
        }
      }
      children.set(type, set);
      needs.set(type, direct);
    }
    for (let changed = true; changed; ) {
      changed = false;
      for (const [type, set] of children) {
        if (needs.get(type) === true) continue;
        for (const c of set) {
          if (needs.get(c) === true) {
            needs.set(type, true);
            changed = true;
            break;
          }
        }
      }
    }

    const holders = new Map<protobuf.Type, { fn: Walk; done: boolean }>();
    const messageWalker = (type: protobuf.Type): Walk | null => {
      if (needs.get(type) !== true) return null;
      const existing = holders.get(type);
      if (existing !== undefined) return existing.done ? existing.fn : (v, visit) => existing.fn(v, visit);
      const holder = { fn: ((v: unknown) => v) as Walk, done: false };
      holders.set(type, holder);
      const steps: Walk[] = [];
      for (const e of this.messages.get(type) ?? []) {
        const step = fieldStep(e, select, messageWalker);
        if (step !== null) steps.push(step);
      }
      const n = steps.length;
      holder.fn = (v, visit) => {
        if (v === null || typeof v !== 'object') return v;
        for (let i = 0; i < n; i++) (steps[i] as Walk)(v, visit);
        return v;
      };
      holder.done = true;
      return holder.fn;
    };
    const root = messageWalker(this.messageType);
    return root;
  }
}

/** A walk step over one field of a message; mutates the message in place and returns it. */
function fieldStep(e: FieldEntry, select: (f: FieldInfo) => boolean, messageWalker: (t: protobuf.Type) => Walk | null): Walk | null {
  const { field } = e;
  const name = field.name;
  const message = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;

  if (e.valueInfo !== undefined && e.keyInfo !== undefined) {
    const valueWalk = message !== null ? messageWalker(message) : select(e.valueInfo) ? leaf(e.valueInfo) : null;
    const keyWalk = select(e.keyInfo) ? leaf(e.keyInfo) : null;
    if (valueWalk === null && keyWalk === null) return null;
    return (msg, visit) => {
      const m = (msg as Record<string, unknown>)[name];
      if (m === null || typeof m !== 'object') return msg;
      const map = m as Record<string, unknown>;
      if (valueWalk !== null) for (const k of Object.keys(map)) map[k] = valueWalk(map[k], visit);
      if (keyWalk !== null) {
        const rekeyed: Record<string, unknown> = {};
        for (const k of Object.keys(map)) rekeyed[String(keyWalk(k, visit))] = map[k];
        (msg as Record<string, unknown>)[name] = rekeyed;
      }
      return msg;
    };
  }

  const walk = message !== null ? messageWalker(message) : select(e.info) ? leaf(e.info) : null;
  if (walk === null) return null;
  if (field.repeated) {
    return (msg, visit) => {
      const arr = (msg as Record<string, unknown>)[name];
      if (Array.isArray(arr)) for (let i = 0; i < arr.length; i++) arr[i] = walk(arr[i], visit);
      return msg;
    };
  }
  if (message !== null) {
    return (msg, visit) => {
      const v = (msg as Record<string, unknown>)[name];
      if (v !== null && v !== undefined) walk(v, visit);
      return msg;
    };
  }
  if (field.partOf !== null) {
    // oneof member (also proto3 `optional`): only when set, like Confluent's serdes.
    return (msg, visit) => {
      const r = msg as Record<string, unknown>;
      if (hasOwn(r, name) && r[name] !== null && r[name] !== undefined) r[name] = walk(r[name], visit);
      return msg;
    };
  }
  // Singular scalar: unset reads the default ("" / empty bytes), visited like Confluent's serdes do. The
  // result is written back only when it differs, so an identity visit leaves the encoding unchanged.
  const isBytes = e.info.kind === 'bytes';
  return (msg, visit) => {
    const r = msg as Record<string, unknown>;
    let v = r[name];
    if (isBytes && !(v instanceof Uint8Array)) v = Buffer.alloc(0);
    const out = walk(v, visit);
    if (out !== v) r[name] = out;
    return msg;
  };
}

function leaf(info: FieldInfo): Walk {
  if (info.kind === 'bytes') return (v, visit) => asBuffer(visit(v, info));
  return (v, visit) => visit(v, info);
}

/**
 * Compiles a Protobuf schema (.proto source) for the message the indexes select. Throws RecryptError
 * FORMAT_SCHEMA.
 */
export function createProtobufCodec(schema: SchemaInfo, refs: ResolvedReferences = new Map(), options: CodecOptions = {}): ProtobufCodec {
  const parsed = parseProto(schema, refs);
  return new ProtobufCodecImpl(selectMessage(parsed, options.messageIndexes ?? [0]));
}

export function isProtobufCodec(codec: Codec): codec is ProtobufCodec {
  return codec instanceof ProtobufCodecImpl;
}
