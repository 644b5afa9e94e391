/**
 * The Schema Registry's records as its endpoints read them: a subject's versions (soft-deleted ones
 * only when asked for), one version by id or "latest", where a schema id is used, whether references
 * resolve, the config in force, and the bodies returned for them, as Confluent's server shapes them.
 */
import { stableStringify } from '../registry/stable-json.js';
import type { SchemaReference } from '../registry/types.js';
import { invalidSchema, subjectNotFound, versionNotFound } from './http.js';
import { parseVersionId } from './http.js';
import { schemaForFormat } from './schema-format.js';
import { canonicalSchema, type SchemaDraft } from './schema-requests.js';
import type { SchemaRecord, Store, VersionRecord } from './store.js';

const DEFAULT_COMPATIBILITY = 'BACKWARD';

/** A schema's fields in a response; `format` is the request's `?format=` (serialized: a Protobuf descriptor). */
export function schemaFields(rec: SchemaRecord, store?: Store, format: string | null = null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rec.schemaType !== 'AVRO') out['schemaType'] = rec.schemaType;
  out['schema'] = store === undefined ? rec.schema : schemaForFormat(store, rec, format);
  if (rec.references.length > 0) out['references'] = rec.references;
  if (rec.metadata !== undefined) out['metadata'] = rec.metadata;
  if (rec.ruleSet !== undefined) out['ruleSet'] = rec.ruleSet;
  return out;
}

export function subjectVersionBody(store: Store, v: VersionRecord, format: string | null = null): Record<string, unknown> {
  const rec = store.schemasById.get(v.id) as SchemaRecord;
  return { subject: v.subject, version: v.version, id: rec.id, guid: rec.guid, ...schemaFields(rec, store, format) };
}

export function liveVersions(store: Store, subject: string, includeDeleted: boolean): VersionRecord[] {
  const versions = store.versionsOf(subject);
  if (versions === undefined) return [];
  return [...versions.values()].filter((v) => includeDeleted || !v.deleted).sort((a, b) => a.version - b.version);
}

export function requireVersion(store: Store, subject: string, rawVersion: string, includeDeleted: boolean): VersionRecord {
  const version = parseVersionId(rawVersion);
  const all = liveVersions(store, subject, true);
  if (all.length === 0) throw subjectNotFound(subject);
  const visible = all.filter((v) => includeDeleted || !v.deleted);
  if (version === 'latest') {
    const latest = visible[visible.length - 1];
    if (latest === undefined) throw subjectNotFound(subject);
    return latest;
  }
  const found = visible.find((v) => v.version === version);
  if (found === undefined) throw versionNotFound(version);
  return found;
}

export function checkReferences(store: Store, refs: SchemaReference[]): void {
  for (const ref of refs) {
    const versions = store.versionsOf(ref.subject);
    const v = versions === undefined ? undefined : ref.version === -1 ? [...versions.values()].filter((x) => !x.deleted).pop() : versions.get(ref.version);
    if (v === undefined) throw invalidSchema(`reference ${ref.name} points to ${ref.subject} version ${ref.version}, which does not exist`);
  }
}

export function sameSchemaText(rec: SchemaRecord, d: SchemaDraft): boolean {
  return (
    rec.schemaType === d.schemaType &&
    canonicalSchema(rec.schemaType, rec.schema) === canonicalSchema(d.schemaType, d.schema) &&
    stableStringify(rec.references) === stableStringify(d.references)
  );
}

export function isReferenced(store: Store, id: number): boolean {
  for (const versions of store.subjects.values()) for (const v of versions.values()) if (v.id === id) return true;
  return false;
}

export function usages(store: Store, id: number, includeDeleted: boolean): Array<{ subject: string; version: number }> {
  const out: Array<{ subject: string; version: number }> = [];
  for (const versions of store.subjects.values()) {
    for (const v of versions.values()) if (v.id === id && (includeDeleted || !v.deleted)) out.push({ subject: v.subject, version: v.version });
  }
  return out.sort((a, b) => a.subject.localeCompare(b.subject) || a.version - b.version);
}

export function globalConfig(store: Store): Record<string, unknown> {
  return store.configs.get('') ?? { compatibilityLevel: DEFAULT_COMPATIBILITY };
}

/** A config update as stored: `compatibility` kept as `compatibilityLevel`. */
export function toStoredConfig(update: Record<string, unknown>): Record<string, unknown> {
  const stored: Record<string, unknown> = { ...update };
  if (stored['compatibility'] !== undefined) {
    stored['compatibilityLevel'] = stored['compatibility'];
    delete stored['compatibility'];
  }
  return stored;
}
