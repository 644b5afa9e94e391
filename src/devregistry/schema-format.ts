/**
 * Protobuf schemas in the two forms Confluent's registry speaks: stored as `.proto` text whether they
 * were registered as text or as a base64 FileDescriptorProto (Confluent's Python and Java Protobuf
 * serdes, and its JS serde when it auto-registers, send descriptors), and answered as a base64
 * FileDescriptorProto when a read asks for `?format=serialized` (those serdes always do).
 * Other schema types and other formats are answered as stored, as Confluent's server does for a format
 * that does not apply.
 */
import { looksLikeSerializedDescriptor, protoTextFromDescriptor, serializedDescriptor } from '../formats/index.js';
import type { SchemaInfo } from '../model/index.js';
import type { SchemaType } from '../registry/types.js';
import { invalidSchema } from './http.js';
import type { SchemaRecord, Store } from './store.js';

/**
 * The schema text to store for a register, lookup or compatibility request. A descriptor that does not
 * decode is refused with 42201 naming the subject (never the bytes).
 */
export function storedSchemaText(schemaType: SchemaType, schema: string, subject: string): string {
  if (schemaType !== 'PROTOBUF' || !looksLikeSerializedDescriptor(schema)) return schema;
  try {
    return protoTextFromDescriptor(schema);
  } catch (err) {
    throw invalidSchema(`subject ${subject}, new version: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The `schema` field of a response: the stored text, or for `format=serialized` the Protobuf descriptor. */
export function schemaForFormat(store: Store, rec: SchemaRecord, format: string | null): string {
  if (format !== 'serialized' || rec.schemaType !== 'PROTOBUF') return rec.schema;
  try {
    return serializedDescriptor({ schemaType: rec.schemaType, schema: rec.schema, references: rec.references }, resolvedReferences(store, rec));
  } catch (err) {
    throw invalidSchema(`schema id ${rec.id}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Every reference of the schema, transitively, by import name (what protobuf-schema.ts resolves with). */
function resolvedReferences(store: Store, rec: SchemaRecord): Map<string, SchemaInfo> {
  const out = new Map<string, SchemaInfo>();
  const visit = (r: SchemaRecord): void => {
    for (const ref of r.references) {
      if (out.has(ref.name)) continue;
      const versions = store.versionsOf(ref.subject);
      const v = versions === undefined ? undefined : ref.version === -1 ? [...versions.values()].filter((x) => !x.deleted).pop() : versions.get(ref.version);
      const target = v === undefined ? undefined : store.schemasById.get(v.id);
      if (target === undefined) continue; // parsing names the unresolved import
      out.set(ref.name, { schemaType: target.schemaType, schema: target.schema, references: target.references });
      visit(target);
    }
  };
  visit(rec);
  return out;
}
