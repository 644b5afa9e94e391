/**
 * `.proto` text -> base64 FileDescriptorProto: what Confluent's Schema Registry answers to
 * `?format=serialized` for a Protobuf schema, and what its Python, Java and JS Protobuf serdes build
 * their message descriptors from. The text and its references are parsed as recrypt parses them
 * (protobuf-schema.ts), then the main file's messages, enums and services are described as protoc would:
 * fully qualified type names (`.pkg.Msg`), map fields as repeated `XxxEntry` messages with `map_entry`,
 * proto3 `optional` as a synthetic oneof, json_name set, reserved and extension ranges end-exclusive,
 * `(confluent.*_meta)` options (tags) as the meta extension. `extend` blocks of the text are not described
 * (no serde reads them); the way back is protobuf-descriptor-text.ts.
 */
import protobuf from 'protobufjs';
import type { SchemaInfo } from '../model/index.js';
import { schemaError } from './common.js';
import { fileDescriptorType, lowerCamel } from './protobuf-descriptor-text.js';
import { MAIN_PROTO_FILE, parseProto } from './protobuf-schema.js';
import type { ResolvedReferences } from './types.js';

type Obj = Record<string, unknown>;

const SCALARS: ReadonlySet<string> = new Set([
  'double', 'float', 'int64', 'uint64', 'int32', 'fixed64', 'fixed32', 'bool', 'string', 'bytes', 'uint32', 'sfixed32', 'sfixed64', 'sint32', 'sint64',
]);

/** The schema (text or already a descriptor) as a base64 FileDescriptorProto named `fileName`. */
export function serializedDescriptor(schema: SchemaInfo, refs: ResolvedReferences, fileName = 'default'): string {
  const parsed = parseProto(schema, refs);
  const syntax = /^\s*syntax\s*=\s*["']proto3["']/m.test(parsed.main.text) ? 'proto3' : 'proto2';
  const pkg = parsed.main.package;
  const pkgNs = pkg === undefined ? parsed.root : parsed.root.lookup(pkg);
  const inMain = (o: protobuf.ReflectionObject): boolean => o.filename === MAIN_PROTO_FILE;
  const top = pkgNs instanceof protobuf.Namespace || pkgNs instanceof protobuf.Root ? pkgNs.nestedArray.filter(inMain) : [];
  const deps = [...parsed.main.imports, ...parsed.main.weakImports];
  const file: Obj = {
    name: fileName,
    ...(pkg === undefined ? {} : { package: pkg }),
    dependency: deps,
    weakDependency: parsed.main.weakImports.map((_, i) => parsed.main.imports.length + i),
    messageType: top.filter((o): o is protobuf.Type => o instanceof protobuf.Type).map((t) => describeMessage(t, syntax)),
    enumType: top.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).map(describeEnum),
    service: top.filter((o): o is protobuf.Service => o instanceof protobuf.Service).map(describeService),
    ...(syntax === 'proto3' ? { syntax } : {}),
  };
  const fileOptions = optionsOf(pkgNs instanceof protobuf.ReflectionObject ? pkgNs.parsedOptions : undefined, 'file');
  if (fileOptions !== undefined) file['options'] = fileOptions;
  const type = fileDescriptorType();
  try {
    return Buffer.from(type.encode(type.fromObject(file)).finish()).toString('base64');
  } catch (err) {
    throw schemaError('Protobuf', `cannot describe the schema as a FileDescriptorProto: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

function describeMessage(type: protobuf.Type, syntax: string): Obj {
  const realOneofs = type.oneofsArray.filter((o) => !isSynthetic(o));
  const oneofs = [...realOneofs, ...type.oneofsArray.filter(isSynthetic)];
  const nested: Obj[] = [];
  const fields: Obj[] = [];
  for (const field of type.fieldsArray) {
    if (field instanceof protobuf.MapField) {
      const entry = `${upperCamel(field.name)}Entry`;
      nested.push({
        name: entry,
        field: [
          { name: 'key', number: 1, label: 'LABEL_OPTIONAL', jsonName: 'key', ...typeOf(field, field.keyType) },
          { name: 'value', number: 2, label: 'LABEL_OPTIONAL', jsonName: 'value', ...typeOf(field, field.type) },
        ],
        options: { mapEntry: true },
      });
      fields.push({
        name: field.name, number: field.id, label: 'LABEL_REPEATED', type: 'TYPE_MESSAGE', typeName: `${type.fullName}.${entry}`,
        jsonName: lowerCamel(field.name), ...withOptions(optionsOf(field.parsedOptions, 'field')),
      });
    } else {
      fields.push(describeField(field, syntax, oneofs));
    }
  }
  for (const obj of type.nestedArray) {
    if (obj instanceof protobuf.Type) nested.push(describeMessage(obj, syntax));
  }
  const out: Obj = {
    name: type.name,
    field: fields,
    nestedType: nested,
    enumType: type.nestedArray.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).map(describeEnum),
    oneofDecl: oneofs.map((o) => ({ name: o.name })),
    extensionRange: (type.extensions ?? []).map(([start, end]) => ({ start, end: (end ?? start ?? 0) + 1 })),
    ...reserved(type.reserved, 1),
    ...withOptions(optionsOf(type.parsedOptions, 'message')),
  };
  return out;
}

function describeField(field: protobuf.Field, syntax: string, oneofs: protobuf.OneOf[]): Obj {
  const proto3Optional = field.options?.['proto3_optional'] === true;
  const out: Obj = {
    name: field.name,
    number: field.id,
    label: field.repeated ? 'LABEL_REPEATED' : field.required ? 'LABEL_REQUIRED' : 'LABEL_OPTIONAL',
    jsonName: typeof field.options?.['json_name'] === 'string' ? field.options['json_name'] : lowerCamel(field.name),
    ...typeOf(field, field.type),
  };
  if (field.partOf !== null) out['oneofIndex'] = oneofs.indexOf(field.partOf);
  if (proto3Optional) out['proto3Optional'] = true;
  const dflt = field.options?.['default'] as unknown;
  if (syntax === 'proto2' && dflt !== undefined) out['defaultValue'] = typeof dflt === 'boolean' ? String(dflt) : String(dflt);
  return { ...out, ...withOptions(optionsOf(field.parsedOptions, 'field')) };
}

function typeOf(field: protobuf.Field, type: string): Obj {
  if (SCALARS.has(type)) return { type: `TYPE_${type.toUpperCase()}` };
  const resolved = field.parent?.lookupTypeOrEnum(type);
  if (resolved === undefined || resolved === null) throw schemaError('Protobuf', `field ${field.name}: type ${type} does not resolve`);
  return { type: resolved instanceof protobuf.Enum ? 'TYPE_ENUM' : 'TYPE_MESSAGE', typeName: resolved.fullName };
}

function describeEnum(e: protobuf.Enum): Obj {
  const valueOptions = (e as protobuf.Enum & { valuesOptions?: Record<string, Record<string, unknown>> }).valuesOptions ?? {};
  return {
    name: e.name,
    value: Object.entries(e.values).map(([name, number]) => ({ name, number, ...withOptions(plainOptions(valueOptions[name], 'enumValue')) })),
    ...reserved(e.reserved, 0),
    ...withOptions(optionsOf(e.parsedOptions, 'enum') ?? plainOptions(e.options, 'enum')),
  };
}

function describeService(s: protobuf.Service): Obj {
  return {
    name: s.name,
    method: s.methodsArray.map((m) => {
      m.resolve();
      return {
        name: m.name,
        inputType: m.resolvedRequestType?.fullName ?? m.requestType,
        outputType: m.resolvedResponseType?.fullName ?? m.responseType,
        ...(m.requestStream === true ? { clientStreaming: true } : {}),
        ...(m.responseStream === true ? { serverStreaming: true } : {}),
      };
    }),
  };
}

function reserved(list: Array<number[] | string> | undefined, exclusiveEnd: 0 | 1): Obj {
  const ranges = (list ?? []).filter((r): r is number[] => Array.isArray(r)).map(([start, end]) => ({ start, end: (end ?? start ?? 0) + exclusiveEnd }));
  const names = (list ?? []).filter((r): r is string => typeof r === 'string');
  return { ...(ranges.length > 0 ? { reservedRange: ranges } : {}), ...(names.length > 0 ? { reservedName: names } : {}) };
}

type MetaKind = 'file' | 'message' | 'field' | 'enum' | 'enumValue';
const META_OPTION: Readonly<Record<MetaKind, string>> = {
  file: 'confluent.file_meta', message: 'confluent.message_meta', field: 'confluent.field_meta', enum: 'confluent.enum_meta', enumValue: 'confluent.enum_value_meta',
};

/** protobufjs' parsed options (a list of single-key objects, in source order) as an Options object. */
function optionsOf(parsed: unknown, kind: MetaKind): Obj | undefined {
  if (!Array.isArray(parsed)) return undefined;
  const merged: Obj = {};
  for (const entry of parsed as Obj[]) Object.assign(merged, entry);
  return plainOptions(merged, kind);
}

/**
 * `snake_name = value` options and `(confluent.X_meta)` values (aggregate or `(confluent.X_meta).tags`
 * form) as a descriptor Options object; options that are not descriptor.proto's are left out.
 */
function plainOptions(options: Obj | undefined, kind: MetaKind): Obj | undefined {
  if (options === undefined) return undefined;
  const out: Obj = {};
  const metaName = `(${META_OPTION[kind]})`;
  const meta: { doc?: string; params: Record<string, string>; tags: string[] } = { params: {}, tags: [] };
  let hasMeta = false;
  for (const [key, value] of Object.entries(options)) {
    if (key === 'proto3_optional' || key === 'default' || key === 'json_name') continue;
    if (key === metaName) {
      hasMeta = true;
      addMeta(meta, value as Obj);
    } else if (key.startsWith(`${metaName}.`)) {
      hasMeta = true;
      addMeta(meta, { [key.slice(metaName.length + 1).split('.')[0] ?? '']: value });
    } else if (!key.startsWith('(')) {
      out[lowerCamel(key)] = value;
    }
  }
  if (hasMeta) out[`.${META_OPTION[kind]}`] = { ...(meta.doc === undefined ? {} : { doc: meta.doc }), params: meta.params, tags: meta.tags };
  return Object.keys(out).length > 0 ? out : undefined;
}

function addMeta(meta: { doc?: string; params: Record<string, string>; tags: string[] }, value: Obj): void {
  if (typeof value['doc'] === 'string') meta.doc = value['doc'];
  const tags = value['tags'];
  for (const t of Array.isArray(tags) ? tags : tags === undefined ? [] : [tags]) meta.tags.push(String(t));
  const params = value['params'];
  for (const p of Array.isArray(params) ? params : params === undefined ? [] : [params]) {
    const { key, value: v } = p as Obj;
    if (key !== undefined) meta.params[String(key)] = String(v ?? '');
  }
}

function withOptions(options: Obj | undefined): Obj {
  return options === undefined ? {} : { options };
}

function isSynthetic(o: protobuf.OneOf): boolean {
  return o.fieldsArray.length === 1 && o.fieldsArray[0]?.options?.['proto3_optional'] === true;
}

/** protoc's map entry name: the field name in UpperCamelCase plus `Entry`. */
function upperCamel(name: string): string {
  const camel = lowerCamel(name);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}
