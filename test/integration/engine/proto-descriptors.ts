// Confluent's JS Protobuf serdes ask the registry for `?format=serialized` (a base64 FileDescriptorProto)
// and build their message descriptors from it; Confluent's Schema Registry converts `.proto` text on the
// fly, recrypt's dev registry returns the text. For the compatibility tests this file converts the text
// (parsed with protobufjs) into a FileDescriptorProto, and `startSerializedFormatProxy` puts the
// conversion in front of the dev registry. Supports what the tests use: proto3 scalars, nested and
// top-level messages, enums, repeated, map fields, oneofs, and `(confluent.field_meta)` tags.
import { create, createFileRegistry, setExtension, toBinary, type DescMessage, type FileRegistry, type MessageInitShape } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label, FieldDescriptorProto_Type as T, FieldDescriptorProtoSchema, FieldOptionsSchema,
  FileDescriptorProtoSchema, type DescriptorProtoSchema, type EnumDescriptorProtoSchema, type FieldDescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';

type MessageInit = MessageInitShape<typeof DescriptorProtoSchema>;
type EnumInit = MessageInitShape<typeof EnumDescriptorProtoSchema>;
type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;
import { field_meta, file_confluent_meta, MetaSchema } from '@confluentinc/schemaregistry/dist/confluent/meta_pb.js';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const SCALARS: Record<string, T> = {
  double: T.DOUBLE, float: T.FLOAT, int64: T.INT64, uint64: T.UINT64, int32: T.INT32, fixed64: T.FIXED64,
  fixed32: T.FIXED32, bool: T.BOOL, string: T.STRING, bytes: T.BYTES, uint32: T.UINT32, sfixed32: T.SFIXED32,
  sfixed64: T.SFIXED64, sint32: T.SINT32, sint64: T.SINT64,
};

function tagsOf(field: protobuf.Field): string[] {
  const out: string[] = [];
  for (const opt of (field.parsedOptions as Record<string, unknown>[] | undefined) ?? []) {
    const meta = opt['(confluent.field_meta)'] as { tags?: unknown } | undefined;
    if (meta?.tags !== undefined) out.push(...(Array.isArray(meta.tags) ? meta.tags as string[] : [meta.tags as string]));
  }
  const flat = field.options?.['(confluent.field_meta).tags'] as unknown;
  if (out.length === 0 && flat !== undefined) out.push(...(Array.isArray(flat) ? flat as string[] : [flat as string]));
  return out;
}

function entryName(field: string): string {
  return `${field.split('_').map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : '')).join('')}Entry`;
}

function typeRef(field: protobuf.Field, type: string): { type: T; typeName?: string } {
  const scalar = SCALARS[type];
  if (scalar !== undefined) return { type: scalar };
  const resolved = field.parent?.lookupTypeOrEnum(type);
  if (!resolved) throw new Error(`unresolved type ${type}`);
  return { type: resolved instanceof protobuf.Enum ? T.ENUM : T.MESSAGE, typeName: resolved.fullName };
}

function fieldProto(field: protobuf.Field, oneofs: string[]): FieldDescriptorProto {
  const proto = create(FieldDescriptorProtoSchema, {
    name: field.name, number: field.id, jsonName: field.name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
    label: field.repeated || field.map ? Label.REPEATED : Label.OPTIONAL,
    ...typeRef(field, field.type),
    ...(field.partOf ? { oneofIndex: oneofs.indexOf(field.partOf.name) } : {}),
    // proto3 `optional`: a synthetic oneof, marked so that readers give the field presence, not a oneof.
    ...(isProto3Optional(field) ? { proto3Optional: true } : {}),
  });
  const tags = tagsOf(field);
  if (tags.length > 0) {
    proto.options = create(FieldOptionsSchema);
    setExtension(proto.options, field_meta, create(MetaSchema, { tags }));
  }
  return proto;
}

function enumProto(e: protobuf.Enum): EnumInit {
  return { name: e.name, value: Object.entries(e.values).map(([name, number]) => ({ name, number })) };
}

function isProto3Optional(field: protobuf.Field): boolean {
  return field.options?.['proto3_optional'] === true;
}

function messageProto(type: protobuf.Type): MessageInit {
  // As protoc: the synthetic oneofs of proto3 `optional` fields come after the real ones.
  const synthetic = (o: protobuf.OneOf) => o.fieldsArray.length === 1 && isProto3Optional(o.fieldsArray[0]!);
  const oneofs = [...type.oneofsArray.filter((o) => !synthetic(o)), ...type.oneofsArray.filter(synthetic)].map((o) => o.name);
  const fields: FieldInit[] = [];
  const nested: MessageInit[] = [];
  for (const field of type.fieldsArray) {
    if (field instanceof protobuf.MapField) {
      const name = entryName(field.name);
      nested.push({
        name, options: { mapEntry: true },
        field: [
          { name: 'key', number: 1, jsonName: 'key', label: Label.OPTIONAL, type: SCALARS[field.keyType]! },
          { name: 'value', number: 2, jsonName: 'value', label: Label.OPTIONAL, ...typeRef(field, field.type) },
        ],
      });
      fields.push(create(FieldDescriptorProtoSchema, {
        name: field.name, number: field.id, jsonName: field.name, label: Label.REPEATED, type: T.MESSAGE,
        typeName: `${type.fullName}.${name}`,
      }));
    } else {
      fields.push(fieldProto(field, oneofs));
    }
  }
  for (const obj of type.nestedArray) {
    if (obj instanceof protobuf.Type) nested.push(messageProto(obj));
  }
  return {
    name: type.name, field: fields, nestedType: nested,
    enumType: type.nestedArray.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).map(enumProto),
    oneofDecl: oneofs.map((name) => ({ name })),
  };
}

/** `.proto` text (importing at most confluent/meta.proto) -> FileDescriptorProto, as protoc would build it. */
export function fileDescriptorFromText(text: string, fileName = 'schema.proto'): FileDescriptorProto {
  const root = new protobuf.Root();
  root.addJSON({ confluent: { nested: { Meta: { fields: { tags: { rule: 'repeated', type: 'string', id: 3 } } } } } });
  const parsed = protobuf.parse(text.replace(/^import\s+"confluent\/meta\.proto";$/m, ''), root, { keepCase: true });
  // Custom options need their extension declared; protobufjs keeps them as parsedOptions regardless.
  root.resolveAll();
  const pkgNs: protobuf.NamespaceBase = parsed.package ? root.lookup(parsed.package) as protobuf.Namespace : root;
  const topTypes = pkgNs.nestedArray.filter((o): o is protobuf.Type => o instanceof protobuf.Type);
  return create(FileDescriptorProtoSchema, {
    name: fileName, syntax: 'proto3', ...(parsed.package ? { package: parsed.package } : {}),
    dependency: /import\s+"confluent\/meta\.proto"/.test(text) ? ['confluent/meta.proto'] : [],
    messageType: topTypes.map(messageProto),
    enumType: pkgNs.nestedArray.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).map(enumProto),
  });
}

export function serializedSchema(text: string): string {
  return Buffer.from(toBinary(FileDescriptorProtoSchema, fileDescriptorFromText(text))).toString('base64');
}

/** A registry of the messages of a `.proto` text, for building protobuf-es messages to serialize. */
export function messageRegistry(text: string): FileRegistry {
  return createFileRegistry(fileDescriptorFromText(text), (dep) => (dep === 'confluent/meta.proto' ? file_confluent_meta : undefined));
}

export function messageDesc(registry: FileRegistry, typeName: string): DescMessage {
  const desc = registry.getMessage(typeName);
  if (!desc) throw new Error(`no message ${typeName}`);
  return desc;
}

export interface Proxy {
  readonly url: string;
  close(): Promise<void>;
}

/** A proxy in front of `target` that answers `format=serialized` with base64 FileDescriptorProtos. */
export async function startSerializedFormatProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const serialized = (req.url ?? '').includes('format=serialized');
      const up = request({
        host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: upstream.host },
      }, (upRes) => {
        const body: Buffer[] = [];
        upRes.on('data', (c: Buffer) => body.push(c));
        upRes.on('end', () => {
          let out = Buffer.concat(body);
          if (serialized && upRes.statusCode === 200) {
            const json = JSON.parse(out.toString('utf8')) as { schemaType?: string; schema?: string };
            // recrypt's dev registry answers format=serialized itself now (a descriptor, base64): pass it on
            if (json.schemaType === 'PROTOBUF' && typeof json.schema === 'string' && !/^[A-Za-z0-9+/]+={0,2}$/.test(json.schema)) {
              json.schema = serializedSchema(json.schema);
              out = Buffer.from(JSON.stringify(json));
            }
          }
          const headers = { ...upRes.headers, 'content-length': String(out.length) };
          res.writeHead(upRes.statusCode ?? 500, headers);
          res.end(out);
        });
      });
      up.on('error', () => { res.writeHead(502); res.end(); });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
