/**
 * Protobuf schemas: `.proto` source text and its references parsed into one protobufjs root, and the
 * message the wire format's message indexes select.
 *
 * Imports resolve through the references (reference name = import path); `confluent/meta.proto`,
 * `confluent/type/decimal.proto` and the `google/protobuf/*.proto` well-known files work without a
 * reference. The message comes from the wire format's message indexes: `[0]` is the first top-level
 * message of the file, `[1, 0]` the first message nested in the second one (map entries do not count).
 */
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import type { SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import { schemaError } from './common.js';
import { CONFLUENT_META_PROTO, looksLikeSerializedDescriptor, protoTextFromDescriptor } from './protobuf-descriptor-text.js';
import type { ResolvedReferences } from './types.js';


const DECIMAL_PROTO = `syntax = "proto3";
package confluent.type;
message Decimal {
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
`;

const BUILTIN_SOURCES: ReadonlyMap<string, string> = new Map([
  ['confluent/meta.proto', CONFLUENT_META_PROTO],
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

/** The name the main file's reflection objects carry (`obj.filename`). */
export const MAIN_PROTO_FILE = '<schema>';
const MAIN_FILE = MAIN_PROTO_FILE;

/** protobufjs stamps `parse.filename` on the top-level objects it parses (not in its typings). */
const parser = protobuf.parse as typeof protobuf.parse & { filename: string | null };

export interface Parsed {
  root: protobuf.Root;
  /** The main file's top-level messages in declaration order. */
  topLevel: protobuf.Type[];
  /** The main file as parsed: its package and imports (what a FileDescriptorProto needs beyond the root). */
  main: { text: string; package: string | undefined; imports: string[]; weakImports: string[] };
}

export function parseProto(schema: SchemaInfo, refs: ResolvedReferences): Parsed {
  const root = new protobuf.Root();
  const loaded = new Set<string>();
  let main: Parsed['main'] | undefined;
  const parseFile = (name: string, stored: string): void => {
    loaded.add(name);
    const source = textOf(name, stored);
    let result: protobuf.IParserResult;
    try {
      parser.filename = name;
      result = protobuf.parse(source, root, { keepCase: true });
    } catch (err) {
      throw schemaError('Protobuf', `${name === MAIN_FILE ? 'schema' : name}: ${errMessage(err)}`, err);
    } finally {
      parser.filename = null;
    }
    if (name === MAIN_FILE) main = { text: source, package: result.package, imports: result.imports ?? [], weakImports: result.weakImports ?? [] };
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
  try {
    parseFile(MAIN_FILE, schema.schema);
  } catch (err) {
    throw withRegistryPlace(err, schema);
  }
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
  return { root, topLevel, main: main as Parsed['main'] };
}

/**
 * `.proto` text as stored, or the text of a base64 FileDescriptorProto: Confluent's Python and Java
 * serdes register descriptors, and a Confluent registry may hand them back.
 */
function textOf(name: string, stored: string): string {
  if (!looksLikeSerializedDescriptor(stored)) return stored;
  try {
    return protoTextFromDescriptor(stored);
  } catch (err) {
    if (name === MAIN_FILE) throw err;
    throw schemaError('Protobuf', `${name}: ${errMessage(err)}`, err);
  }
}

/**
 * A schema fetched from a registry (a RegisteredSchema) carries its subject, version and id: a schema
 * that does not parse is refused naming them (never its content).
 */
function withRegistryPlace(err: unknown, schema: SchemaInfo): unknown {
  const { subject, version, id } = schema as SchemaInfo & { subject?: unknown; version?: unknown; id?: unknown };
  const place = [
    typeof subject === 'string' ? `subject ${subject}` : '',
    typeof version === 'number' ? `version ${version}` : '',
    typeof id === 'number' ? `schema id ${id}` : '',
  ].filter((p) => p !== '').join(', ');
  if (place === '' || !(err instanceof RecryptError)) return err;
  return new RecryptError(err.code, `${place}: ${err.message}`, { cause: err });
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function selectMessage(parsed: Parsed, indexes: readonly number[]): protobuf.Type {
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
