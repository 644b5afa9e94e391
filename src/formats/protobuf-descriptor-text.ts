/**
 * A FileDescriptorProto (what Confluent's Python and Java Protobuf serdes register, base64-encoded, and
 * what `?format=serialized` returns) printed back as `.proto` source text, the form recrypt parses and the
 * dev registry stores. The descriptor is decoded with protobufjs' own copy of descriptor.proto plus
 * confluent/meta.proto, so `(confluent.file_meta)`, `(confluent.message_meta)`, `(confluent.field_meta)`
 * (tags!), `(confluent.enum_meta)` and `(confluent.enum_value_meta)` survive as aggregate options.
 *
 * Printed: syntax, package, imports (public/weak), file/message/field/enum options protobufjs knows,
 * messages (nested, map entries as `map<K, V>`, oneofs, proto3 `optional`, reserved, extension ranges),
 * enums, services, `extend` blocks. Other custom options (extensions of the Options messages that are not
 * Confluent's) are not in descriptor.proto and are dropped; they never change the wire format. Groups and
 * editions are refused (FORMAT_SCHEMA).
 */
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { schemaError } from './common.js';

/** confluent/meta.proto as Confluent publishes it (extension number 1088 on every Options message). */
export const CONFLUENT_META_PROTO = `syntax = "proto3";
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

const require = createRequire(import.meta.url);
let descriptorTypes: protobuf.Type | undefined;

/** google.protobuf.FileDescriptorProto with the Confluent meta extensions declared (built once). */
export function fileDescriptorType(): protobuf.Type {
  if (descriptorTypes === undefined) {
    const root = new protobuf.Root();
    root.addJSON((require('protobufjs/google/protobuf/descriptor.json') as protobuf.INamespace).nested ?? {});
    protobuf.parse(CONFLUENT_META_PROTO, root, { keepCase: true });
    root.resolveAll();
    descriptorTypes = root.lookupType('google.protobuf.FileDescriptorProto');
  }
  return descriptorTypes;
}

/** Standard base64 with padding and nothing else: how every Confluent client sends a descriptor. */
export function looksLikeSerializedDescriptor(schema: string): boolean {
  const s = schema.trim();
  return s.length > 0 && s.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s);
}

type Obj = Record<string, unknown>;
const META_KEYS: Readonly<Record<string, string>> = {
  file: 'confluent.file_meta',
  message: 'confluent.message_meta',
  field: 'confluent.field_meta',
  enum: 'confluent.enum_meta',
  enumValue: 'confluent.enum_value_meta',
};

/** base64 FileDescriptorProto -> `.proto` text. FORMAT_SCHEMA when it is not one. */
export function protoTextFromDescriptor(base64: string): string {
  let file: Obj;
  try {
    const bytes = Buffer.from(base64.trim(), 'base64');
    checkWireStructure(bytes);
    const type = fileDescriptorType();
    file = type.toObject(type.decode(bytes), { enums: String, longs: String, arrays: true, objects: true }) as Obj;
  } catch (err) {
    throw schemaError('Protobuf', `the schema is neither .proto text nor a serialized FileDescriptorProto (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (typeof file['edition'] === 'string' && file['edition'] !== 'EDITION_UNKNOWN' && file['syntax'] === 'editions') {
    throw schemaError('Protobuf', 'descriptors of protobuf editions are not supported');
  }
  const syntax = file['syntax'] === 'proto3' ? 'proto3' : 'proto2';
  const out: string[] = [`syntax = "${syntax}";`];
  if (typeof file['package'] === 'string' && file['package'] !== '') out.push(`package ${file['package']};`);
  const deps = list<string>(file['dependency']);
  const publicDeps = new Set(list<number>(file['publicDependency']));
  const weakDeps = new Set(list<number>(file['weakDependency']));
  if (deps.length > 0) out.push('');
  deps.forEach((dep, i) => out.push(`import ${publicDeps.has(i) ? 'public ' : weakDeps.has(i) ? 'weak ' : ''}${quote(dep)};`));
  const fileOptions = optionLines(obj(file['options']), META_KEYS['file']!);
  if (fileOptions.length > 0) out.push('', ...fileOptions.map((o) => `option ${o};`));
  const printer = new Printer(syntax);
  for (const message of list<Obj>(file['messageType'])) out.push('', ...printer.message(message, ''));
  for (const e of list<Obj>(file['enumType'])) out.push('', ...printer.enumeration(e, ''));
  for (const service of list<Obj>(file['service'])) out.push('', ...printer.service(service));
  out.push(...printer.extensions(list<Obj>(file['extension']), ''));
  return `${out.join('\n')}\n`;
}

/** protobufjs reads a string past the end of its buffer without complaint: walk the top-level fields first. */
function checkWireStructure(bytes: Uint8Array): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 0) throw new Error(`invalid field number 0 at offset ${reader.pos}`);
    reader.skipType(tag & 7);
  }
  if (reader.pos !== reader.len) throw new Error('truncated');
}

class Printer {
  constructor(private readonly syntax: 'proto2' | 'proto3') {}

  message(m: Obj, indent: string): string[] {
    const inner = `${indent}  `;
    const body: string[] = [];
    for (const o of optionLines(obj(m['options']), META_KEYS['message']!)) body.push(`${inner}option ${o};`);
    const nested = list<Obj>(m['nestedType']);
    const mapEntries = new Map<string, Obj>();
    for (const n of nested) if (obj(n['options'])['mapEntry'] === true) mapEntries.set(String(n['name']), n);
    const fields = list<Obj>(m['field']);
    const oneofs = list<Obj>(m['oneofDecl']);
    const printedOneofs = new Set<number>();
    for (const f of fields) {
      const oneof = f['oneofIndex'];
      if (typeof oneof === 'number' && f['proto3Optional'] !== true) {
        if (printedOneofs.has(oneof)) continue;
        printedOneofs.add(oneof);
        const decl = oneofs[oneof] ?? {};
        body.push(`${inner}oneof ${String(decl['name'])} {`);
        for (const o of optionLines(obj(decl['options']), '')) body.push(`${inner}  option ${o};`);
        for (const member of fields.filter((x) => x['oneofIndex'] === oneof && x['proto3Optional'] !== true)) {
          body.push(`${inner}  ${this.field(member, mapEntries, true)}`);
        }
        body.push(`${inner}}`);
      } else {
        body.push(`${inner}${this.field(f, mapEntries, false)}`);
      }
    }
    for (const n of nested) if (!mapEntries.has(String(n['name'])) || !isMapEntryUse(n, m)) body.push(...this.message(n, inner));
    for (const e of list<Obj>(m['enumType'])) body.push(...this.enumeration(e, inner));
    body.push(...this.extensions(list<Obj>(m['extension']), inner));
    const ranges = list<Obj>(m['extensionRange']).map((r) => range(Number(r['start']), Number(r['end']) - 1));
    if (ranges.length > 0) body.push(`${inner}extensions ${ranges.join(', ')};`);
    body.push(...reservedLines(list<Obj>(m['reservedRange']), list<string>(m['reservedName']), inner, 1));
    return [`${indent}message ${String(m['name'])} {`, ...body, `${indent}}`];
  }

  field(f: Obj, mapEntries: ReadonlyMap<string, Obj>, inOneof: boolean): string {
    const name = String(f['name']);
    const entry = f['type'] === 'TYPE_MESSAGE' && f['label'] === 'LABEL_REPEATED' ? mapEntries.get(lastSegment(String(f['typeName']))) : undefined;
    let type: string;
    let label = '';
    if (entry !== undefined) {
      const [key, value] = [1, 2].map((n) => list<Obj>(entry['field']).find((x) => x['number'] === n) ?? {});
      type = `map<${typeName(key ?? {})}, ${typeName(value ?? {})}>`;
    } else {
      type = typeName(f);
      if (f['label'] === 'LABEL_REPEATED') label = 'repeated ';
      else if (f['label'] === 'LABEL_REQUIRED') label = 'required ';
      else if (!inOneof && (this.syntax === 'proto2' || f['proto3Optional'] === true)) label = 'optional ';
    }
    const options = optionLines(obj(f['options']), META_KEYS['field']!);
    if (typeof f['defaultValue'] === 'string') options.unshift(`default = ${defaultLiteral(f)}`);
    const jsonName = f['jsonName'];
    if (typeof jsonName === 'string' && jsonName !== lowerCamel(name)) options.push(`json_name = ${quote(jsonName)}`);
    return `${label}${type} ${name} = ${String(f['number'])}${options.length > 0 ? ` [${options.join(', ')}]` : ''};`;
  }

  enumeration(e: Obj, indent: string): string[] {
    const inner = `${indent}  `;
    const body: string[] = optionLines(obj(e['options']), META_KEYS['enum']!).map((o) => `${inner}option ${o};`);
    for (const v of list<Obj>(e['value'])) {
      const options = optionLines(obj(v['options']), META_KEYS['enumValue']!);
      body.push(`${inner}${String(v['name'])} = ${String(v['number'] ?? 0)}${options.length > 0 ? ` [${options.join(', ')}]` : ''};`);
    }
    body.push(...reservedLines(list<Obj>(e['reservedRange']), list<string>(e['reservedName']), inner, 0));
    return [`${indent}enum ${String(e['name'])} {`, ...body, `${indent}}`];
  }

  service(s: Obj): string[] {
    const body = optionLines(obj(s['options']), '').map((o) => `  option ${o};`);
    for (const m of list<Obj>(s['method'])) {
      const input = `${m['clientStreaming'] === true ? 'stream ' : ''}${String(m['inputType'])}`;
      const output = `${m['serverStreaming'] === true ? 'stream ' : ''}${String(m['outputType'])}`;
      body.push(`  rpc ${String(m['name'])}(${input}) returns (${output});`);
    }
    return [`service ${String(s['name'])} {`, ...body, '}'];
  }

  extensions(fields: Obj[], indent: string): string[] {
    const byExtendee = new Map<string, Obj[]>();
    for (const f of fields) byExtendee.set(String(f['extendee']), [...(byExtendee.get(String(f['extendee'])) ?? []), f]);
    const out: string[] = [];
    for (const [extendee, members] of byExtendee) {
      out.push(`${indent}extend ${extendee} {`, ...members.map((f) => `${indent}  ${this.field(f, new Map(), false)}`), `${indent}}`);
    }
    return out;
  }
}

/** A map entry is printed as `map<K, V>` only where a repeated field of this message uses it. */
function isMapEntryUse(entry: Obj, parent: Obj): boolean {
  return list<Obj>(parent['field']).some((f) => f['label'] === 'LABEL_REPEATED' && lastSegment(String(f['typeName'])) === entry['name']);
}

function typeName(f: Obj): string {
  const t = String(f['type'] ?? '');
  if (t === 'TYPE_MESSAGE' || t === 'TYPE_ENUM') return String(f['typeName']);
  if (t === 'TYPE_GROUP') throw schemaError('Protobuf', `field ${String(f['name'])}: groups are not supported`);
  if (!t.startsWith('TYPE_')) throw schemaError('Protobuf', `field ${String(f['name'])} has no type`);
  return t.slice('TYPE_'.length).toLowerCase();
}

function defaultLiteral(f: Obj): string {
  const value = String(f['defaultValue']);
  if (f['type'] === 'TYPE_STRING') return quote(value);
  if (f['type'] === 'TYPE_BYTES') return `"${value}"`; // already C-escaped in the descriptor
  return value;
}

function reservedLines(ranges: Obj[], names: string[], indent: string, exclusiveEnd: 0 | 1): string[] {
  const out: string[] = [];
  if (ranges.length > 0) out.push(`${indent}reserved ${ranges.map((r) => range(Number(r['start']), Number(r['end']) - exclusiveEnd)).join(', ')};`);
  if (names.length > 0) out.push(`${indent}reserved ${names.map(quote).join(', ')};`);
  return out;
}

function range(start: number, end: number): string {
  if (end >= 536870911) return `${start} to max`;
  return start === end ? String(start) : `${start} to ${end}`;
}

/** Options of descriptor.proto whose values are enum names (printed bare); every other string is quoted. */
const ENUM_OPTIONS = new Set(['optimizeFor', 'ctype', 'jstype', 'retention', 'idempotencyLevel']);

/** `name = value` option assignments: the known scalar options, then the Confluent meta as an aggregate. */
function optionLines(options: Obj, metaKey: string): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key.startsWith('.') || key === 'uninterpretedOption' || key === 'features' || key === 'mapEntry') continue;
    if (typeof value === 'boolean' || typeof value === 'number') out.push(`${snake(key)} = ${String(value)}`);
    else if (typeof value === 'string') out.push(`${snake(key)} = ${ENUM_OPTIONS.has(key) ? value : quote(value)}`);
  }
  const meta = metaKey === '' ? undefined : options[`.${metaKey}`];
  if (meta !== undefined && meta !== null) {
    const m = meta as { doc?: unknown; params?: Record<string, unknown>; tags?: unknown };
    const parts: string[] = [];
    if (typeof m.doc === 'string' && m.doc !== '') parts.push(`doc: ${quote(m.doc)}`);
    for (const [k, v] of Object.entries(m.params ?? {})) parts.push(`params { key: ${quote(k)} value: ${quote(String(v))} }`);
    const tags = list<string>(m.tags);
    if (tags.length > 0) parts.push(`tags: [${tags.map(quote).join(', ')}]`);
    if (parts.length > 0) out.push(`(${metaKey}) = { ${parts.join(' ')} }`);
  }
  return out;
}

function snake(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** protoc's default json_name: lowerCamelCase of the field name. */
export function lowerCamel(name: string): string {
  return name.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** A proto string literal: the UTF-8 text as is, quotes, backslashes and control characters escaped. */
export function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\\' || c === '"') return `\\${c}`;
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`;
  })}"`;
}

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}
