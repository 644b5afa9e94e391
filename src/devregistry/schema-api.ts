/**
 * Schema Registry endpoints of the dev registry: what Confluent's clients call (subjects, versions,
 * ids, GUIDs, metadata lookup, config), with Confluent's status codes and error bodies.
 *
 * Semantics kept from Confluent: ids are global and increasing, and the same schema (type, text,
 * references, metadata, ruleSet) has the same id and GUID under every subject; registering a schema
 * without metadata or ruleSet inherits them from the subject's latest version; registering what is
 * already there returns the existing id. Not enforced: compatibility levels (stored and returned
 * only), modes, contexts, config defaults/overrides of metadata and rule sets.
 */
import { randomUUID } from 'node:crypto';
import { stableStringify } from '../registry/stable-json.js';
import type { RuleSet, SchemaMetadata, SchemaReference, SchemaType } from '../registry/types.js';
import {
  ApiError,
  boolParam,
  invalidCompatibility,
  invalidSchema,
  invalidSubject,
  invalidVersion,
  readObject,
  schemaNotFound,
  sendJson,
  sendText,
  subjectCompatibilityNotConfigured,
  subjectNotFound,
  subjectNotSoftDeleted,
  subjectSoftDeleted,
  versionNotFound,
  versionNotSoftDeleted,
  versionSoftDeleted,
  type Router,
} from './http.js';
import type { SchemaRecord, Store, VersionRecord } from './store.js';

const SCHEMA_TYPES: readonly SchemaType[] = ['AVRO', 'PROTOBUF', 'JSON'];
const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];
const DEFAULT_COMPATIBILITY = 'BACKWARD';
const MAX_VERSION = 2 ** 31 - 1;

interface SchemaDraft {
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
  metadata: SchemaMetadata | undefined;
  ruleSet: RuleSet | undefined;
}

// ---------------------------------------------------------------------------------------------
// validation

function checkSubject(subject: string): void {
  // eslint-disable-next-line no-control-regex
  if (subject === '' || /[\u0000-\u001f\u007f-\u009f]/.test(subject)) throw invalidSubject(subject);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseSchemaType(value: unknown): SchemaType {
  if (value === undefined || value === null) return 'AVRO';
  if (typeof value === 'string' && (SCHEMA_TYPES as readonly string[]).includes(value.toUpperCase())) {
    return value.toUpperCase() as SchemaType;
  }
  throw invalidSchema(`invalid schema type ${JSON.stringify(value)}`);
}

function parseReferences(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidSchema('references must be an array');
  return value.map((ref: unknown) => {
    if (!isPlainObject(ref) || typeof ref['name'] !== 'string' || typeof ref['subject'] !== 'string' || !Number.isInteger(ref['version'])) {
      throw invalidSchema('each reference needs a name, a subject and an integer version');
    }
    return { name: ref['name'], subject: ref['subject'], version: ref['version'] as number };
  });
}

function parseMetadata(value: unknown): SchemaMetadata | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw invalidSchema('metadata must be an object');
  const out: SchemaMetadata = {};
  const { tags, properties, sensitive } = value;
  if (tags !== undefined && tags !== null) {
    if (!isPlainObject(tags) || !Object.values(tags).every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))) {
      throw invalidSchema('metadata.tags must map paths to string arrays');
    }
    out.tags = tags as Record<string, string[]>;
  }
  if (properties !== undefined && properties !== null) {
    if (!isPlainObject(properties) || !Object.values(properties).every((p) => typeof p === 'string')) {
      throw invalidSchema('metadata.properties must map names to strings');
    }
    out.properties = properties as Record<string, string>;
  }
  if (sensitive !== undefined && sensitive !== null) {
    if (!Array.isArray(sensitive) || !sensitive.every((x) => typeof x === 'string')) throw invalidSchema('metadata.sensitive must be strings');
    out.sensitive = sensitive as string[];
  }
  return out;
}

const RULE_KINDS = ['TRANSFORM', 'CONDITION'];
const RULE_MODES = ['WRITE', 'READ', 'WRITEREAD', 'UPGRADE', 'DOWNGRADE', 'UPDOWN'];

function parseRuleSet(value: unknown): RuleSet | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw invalidRuleSet('ruleSet must be an object');
  const out: RuleSet = {};
  for (const kind of ['migrationRules', 'domainRules', 'encodingRules'] as const) {
    const rules = value[kind];
    if (rules === undefined || rules === null) continue;
    if (!Array.isArray(rules)) throw invalidRuleSet(`${kind} must be an array`);
    const names = new Set<string>();
    for (const rule of rules as unknown[]) {
      if (!isPlainObject(rule)) throw invalidRuleSet('a rule must be an object');
      const name = rule['name'];
      if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw invalidRuleSet('rule name is missing or invalid');
      if (names.has(name)) throw invalidRuleSet(`duplicate rule name ${name}`);
      names.add(name);
      if (rule['kind'] !== undefined && rule['kind'] !== null && !RULE_KINDS.includes(String(rule['kind']))) throw invalidRuleSet(`rule ${name}: invalid kind`);
      if (rule['mode'] !== undefined && rule['mode'] !== null && !RULE_MODES.includes(String(rule['mode']))) throw invalidRuleSet(`rule ${name}: invalid mode`);
      if (rule['type'] !== undefined && rule['type'] !== null && typeof rule['type'] !== 'string') throw invalidRuleSet(`rule ${name}: invalid type`);
      const params = rule['params'];
      if (params !== undefined && params !== null && (!isPlainObject(params) || !Object.values(params).every((p) => typeof p === 'string'))) {
        throw invalidRuleSet(`rule ${name}: params must map names to strings`);
      }
    }
    // Confluent's server fills in a rule's defaults (kind TRANSFORM, mode WRITEREAD, disabled false)
    // and returns them; its JS serde skips a rule whose mode is missing, so the defaults matter.
    out[kind] = (rules as Array<Record<string, unknown>>).map((rule) => ({
      ...rule,
      kind: rule['kind'] ?? 'TRANSFORM',
      mode: rule['mode'] ?? (kind === 'migrationRules' ? 'UPGRADE' : 'WRITEREAD'),
      disabled: rule['disabled'] ?? false,
    })) as RuleSet['domainRules'];
  }
  if (typeof value['enableAt'] === 'string') out.enableAt = value['enableAt'];
  return out;
}

function invalidRuleSet(detail: string): ApiError {
  return new ApiError(422, 42210, `Invalid ruleSet: ${detail}`);
}

/** Light syntax checks: Avro and JSON Schema must be JSON; Protobuf must be non-empty text. */
function canonicalSchema(schemaType: SchemaType, schema: string): string {
  if (schema.trim() === '') throw invalidSchema('empty schema');
  if (schemaType === 'PROTOBUF') return schema.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema);
  } catch {
    throw invalidSchema(`${schemaType} schema is not valid JSON`);
  }
  if (schemaType === 'AVRO') checkAvroShape(parsed);
  else if (typeof parsed !== 'boolean' && !isPlainObject(parsed)) throw invalidSchema('JSON schema must be an object or a boolean');
  return JSON.stringify(parsed);
}

function checkAvroShape(node: unknown, depth = 0): void {
  if (depth > 64) throw invalidSchema('Avro schema nests too deeply');
  if (typeof node === 'string') return; // a primitive or a named type reference
  if (Array.isArray(node)) {
    for (const branch of node) checkAvroShape(branch, depth + 1);
    return;
  }
  if (!isPlainObject(node)) throw invalidSchema('Avro schema must be a string, an array or an object');
  const type = node['type'];
  if (typeof type !== 'string' && !Array.isArray(type) && !isPlainObject(type)) throw invalidSchema('Avro schema object needs a type');
  switch (type) {
    case 'record':
    case 'error': {
      if (typeof node['name'] !== 'string' || node['name'] === '') throw invalidSchema('Avro record needs a name');
      const fields = node['fields'];
      if (!Array.isArray(fields)) throw invalidSchema('Avro record needs fields');
      for (const field of fields as unknown[]) {
        if (!isPlainObject(field) || typeof field['name'] !== 'string' || field['type'] === undefined) {
          throw invalidSchema('each Avro field needs a name and a type');
        }
        checkAvroShape(field['type'], depth + 1);
      }
      return;
    }
    case 'enum':
      if (typeof node['name'] !== 'string' || !Array.isArray(node['symbols'])) throw invalidSchema('Avro enum needs a name and symbols');
      return;
    case 'fixed':
      if (typeof node['name'] !== 'string' || !Number.isInteger(node['size'])) throw invalidSchema('Avro fixed needs a name and a size');
      return;
    case 'array':
      if (node['items'] === undefined) throw invalidSchema('Avro array needs items');
      checkAvroShape(node['items'], depth + 1);
      return;
    case 'map':
      if (node['values'] === undefined) throw invalidSchema('Avro map needs values');
      checkAvroShape(node['values'], depth + 1);
      return;
    default:
      // a primitive, a logical type on a primitive, a named type reference, or a nested schema
      if (typeof type === 'string' && type === '') throw invalidSchema('empty Avro type');
      if (typeof type !== 'string') checkAvroShape(type, depth + 1);
  }
}

function contentKey(d: SchemaDraft): string {
  return stableStringify({
    schemaType: d.schemaType,
    schema: canonicalSchema(d.schemaType, d.schema),
    references: d.references,
    metadata: d.metadata ?? null,
    ruleSet: d.ruleSet ?? null,
  });
}

/** Version path parameter: "latest" or -1 (latest), else 1..2^31-1; anything else is 42202. */
function parseVersionId(raw: string): number | 'latest' {
  if (raw === 'latest' || raw === '-1') return 'latest';
  if (!/^[0-9]+$/.test(raw)) throw invalidVersion(raw);
  const n = Number(raw);
  if (n < 1 || n > MAX_VERSION) throw invalidVersion(raw);
  return n;
}

// ---------------------------------------------------------------------------------------------
// responses

function schemaFields(rec: SchemaRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rec.schemaType !== 'AVRO') out['schemaType'] = rec.schemaType;
  out['schema'] = rec.schema;
  if (rec.references.length > 0) out['references'] = rec.references;
  if (rec.metadata !== undefined) out['metadata'] = rec.metadata;
  if (rec.ruleSet !== undefined) out['ruleSet'] = rec.ruleSet;
  return out;
}

function subjectVersionBody(store: Store, v: VersionRecord): Record<string, unknown> {
  const rec = store.schemasById.get(v.id) as SchemaRecord;
  return { subject: v.subject, version: v.version, id: rec.id, guid: rec.guid, ...schemaFields(rec) };
}

// ---------------------------------------------------------------------------------------------
// queries

function liveVersions(store: Store, subject: string, includeDeleted: boolean): VersionRecord[] {
  const versions = store.versionsOf(subject);
  if (versions === undefined) return [];
  return [...versions.values()].filter((v) => includeDeleted || !v.deleted).sort((a, b) => a.version - b.version);
}

function requireVersion(store: Store, subject: string, rawVersion: string, includeDeleted: boolean): VersionRecord {
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

function readDraft(body: Record<string, unknown>): { draft: Partial<SchemaDraft>; schemaGiven: boolean } {
  const schema = body['schema'];
  if (schema !== undefined && schema !== null && typeof schema !== 'string') throw invalidSchema('schema must be a string');
  const draft: Partial<SchemaDraft> = {
    schemaType: parseSchemaType(body['schemaType']),
    references: parseReferences(body['references']),
    metadata: parseMetadata(body['metadata']),
    ruleSet: parseRuleSet(body['ruleSet']),
  };
  const schemaGiven = typeof schema === 'string' && schema.trim() !== '';
  if (schemaGiven) draft.schema = schema;
  return { draft, schemaGiven };
}

function checkReferences(store: Store, refs: SchemaReference[]): void {
  for (const ref of refs) {
    const versions = store.versionsOf(ref.subject);
    const v = versions === undefined ? undefined : ref.version === -1 ? [...versions.values()].filter((x) => !x.deleted).pop() : versions.get(ref.version);
    if (v === undefined) throw invalidSchema(`reference ${ref.name} points to ${ref.subject} version ${ref.version}, which does not exist`);
  }
}

function sameSchemaText(rec: SchemaRecord, d: SchemaDraft): boolean {
  return (
    rec.schemaType === d.schemaType &&
    canonicalSchema(rec.schemaType, rec.schema) === canonicalSchema(d.schemaType, d.schema) &&
    stableStringify(rec.references) === stableStringify(d.references)
  );
}

// ---------------------------------------------------------------------------------------------
// routes

export function addSchemaRoutes(router: Router, store: Store): void {
  router.add('GET', '/', async ({ res }) => sendJson(res, 200, {}));

  router.add('GET', '/schemas/types', async ({ res }) => sendJson(res, 200, ['JSON', 'PROTOBUF', 'AVRO']));

  router.add('GET', '/subjects', async ({ res, query }) => {
    const deleted = boolParam(query, 'deleted');
    const prefix = query.get('subjectPrefix') ?? '';
    const subjects = [...store.subjects.keys()]
      .filter((s) => s.startsWith(prefix) && liveVersions(store, s, deleted).length > 0)
      .sort();
    sendJson(res, 200, subjects);
  });

  // register
  router.add('POST', '/subjects/:subject/versions', async ({ req, res, params }) => {
    const subject = params['subject'] as string;
    checkSubject(subject);
    const body = await readObject(req);
    const { draft, schemaGiven } = readDraft(body);
    const result = await store.exclusive(async () => {
      const undeleted = liveVersions(store, subject, false);
      const previous = undeleted[undeleted.length - 1];
      const previousRec = previous === undefined ? undefined : (store.schemasById.get(previous.id) as SchemaRecord);
      if (!schemaGiven) {
        if (previousRec === undefined) throw invalidSchema('empty schema');
        draft.schema = previousRec.schema;
        draft.schemaType = previousRec.schemaType;
        draft.references = previousRec.references;
      }
      // Confluent: a schema registered without metadata or ruleSet takes the previous version's.
      const full: SchemaDraft = {
        schemaType: draft.schemaType as SchemaType,
        schema: draft.schema as string,
        references: draft.references ?? [],
        metadata: draft.metadata ?? previousRec?.metadata,
        ruleSet: draft.ruleSet ?? previousRec?.ruleSet,
      };
      const key = contentKey(full);
      checkReferences(store, full.references);
      const existingId = store.idByContent.get(key);
      if (existingId !== undefined) {
        const already = undeleted.find((v) => v.id === existingId);
        if (already !== undefined) return subjectVersionBody(store, already);
      }
      const ops: Parameters<Store['commit']>[0] = [];
      let id = existingId;
      if (id === undefined) {
        id = store.nextId;
        const rec: SchemaRecord = {
          id,
          guid: randomUUID(),
          schemaType: full.schemaType,
          schema: full.schema,
          references: full.references,
          contentKey: key,
          ...(full.metadata === undefined ? {} : { metadata: full.metadata }),
          ...(full.ruleSet === undefined ? {} : { ruleSet: full.ruleSet }),
        };
        ops.push({ op: 'schema', rec });
      }
      const all = liveVersions(store, subject, true);
      const version = (all[all.length - 1]?.version ?? 0) + 1;
      const vrec: VersionRecord = { subject, version, id, deleted: false };
      ops.push({ op: 'version', rec: vrec });
      await store.commit(ops);
      return subjectVersionBody(store, vrec);
    });
    sendJson(res, 200, result);
  });

  // lookup: is this schema registered under the subject?
  router.add('POST', '/subjects/:subject', async ({ req, res, params, query }) => {
    const subject = params['subject'] as string;
    checkSubject(subject);
    const body = await readObject(req);
    const { draft, schemaGiven } = readDraft(body);
    if (!schemaGiven) throw invalidSchema('empty schema');
    const d = draft as SchemaDraft;
    canonicalSchema(d.schemaType, d.schema);
    const deleted = boolParam(query, 'deleted');
    const versions = liveVersions(store, subject, deleted);
    if (liveVersions(store, subject, true).length === 0 || versions.length === 0) throw subjectNotFound(subject);
    // newest first; metadata and ruleSet must match when the request carries them
    for (const v of [...versions].reverse()) {
      const rec = store.schemasById.get(v.id) as SchemaRecord;
      if (!sameSchemaText(rec, d)) continue;
      if (d.metadata !== undefined && stableStringify(d.metadata) !== stableStringify(rec.metadata ?? null)) continue;
      if (d.ruleSet !== undefined && stableStringify(d.ruleSet) !== stableStringify(rec.ruleSet ?? null)) continue;
      sendJson(res, 200, subjectVersionBody(store, v));
      return;
    }
    throw schemaNotFound();
  });

  router.add('DELETE', '/subjects/:subject', async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const permanent = boolParam(query, 'permanent');
    const result = await store.exclusive(async () => {
      const all = liveVersions(store, subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      if (permanent) {
        if (all.some((v) => !v.deleted)) throw subjectNotSoftDeleted(subject);
        await store.commit(all.map((v) => ({ op: 'version-remove' as const, subject, version: v.version })));
        return all.map((v) => v.version);
      }
      const live = all.filter((v) => !v.deleted);
      if (live.length === 0) throw subjectSoftDeleted(subject);
      await store.commit(live.map((v) => ({ op: 'version' as const, rec: { ...v, deleted: true } })));
      return live.map((v) => v.version);
    });
    sendJson(res, 200, result);
  });

  router.add('GET', '/subjects/:subject/versions', async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const versions = liveVersions(store, subject, boolParam(query, 'deleted'));
    if (versions.length === 0) throw subjectNotFound(subject);
    sendJson(res, 200, versions.map((v) => v.version));
  });

  router.add('GET', '/subjects/:subject/versions/:version', async ({ res, params, query }) => {
    const v = requireVersion(store, params['subject'] as string, params['version'] as string, boolParam(query, 'deleted'));
    sendJson(res, 200, subjectVersionBody(store, v));
  });

  router.add('GET', '/subjects/:subject/versions/:version/schema', async ({ res, params, query }) => {
    const v = requireVersion(store, params['subject'] as string, params['version'] as string, boolParam(query, 'deleted'));
    sendText(res, 200, (store.schemasById.get(v.id) as SchemaRecord).schema);
  });

  router.add('GET', '/subjects/:subject/versions/:version/referencedby', async ({ res, params }) => {
    const subject = params['subject'] as string;
    const v = requireVersion(store, subject, params['version'] as string, true);
    const ids = new Set<number>();
    for (const versions of store.subjects.values()) {
      for (const other of versions.values()) {
        if (other.deleted) continue;
        const rec = store.schemasById.get(other.id) as SchemaRecord;
        if (rec.references.some((r) => r.subject === subject && r.version === v.version)) ids.add(rec.id);
      }
    }
    sendJson(res, 200, [...ids].sort((a, b) => a - b));
  });

  router.add('DELETE', '/subjects/:subject/versions/:version', async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const raw = params['version'] as string;
    const permanent = boolParam(query, 'permanent');
    const result = await store.exclusive(async () => {
      const version = parseVersionId(raw);
      const all = liveVersions(store, subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const target = version === 'latest' ? all.filter((v) => !v.deleted).pop() : all.find((v) => v.version === version);
      if (target === undefined) throw versionNotFound(raw);
      if (permanent) {
        if (!target.deleted) throw versionNotSoftDeleted(subject, target.version);
        await store.commit([{ op: 'version-remove', subject, version: target.version }]);
      } else {
        if (target.deleted) throw versionSoftDeleted(subject, target.version);
        await store.commit([{ op: 'version', rec: { ...target, deleted: true } }]);
      }
      return target.version;
    });
    sendJson(res, 200, result);
  });

  // the latest version whose metadata.properties contain every key=value pair
  router.add('GET', '/subjects/:subject/metadata', async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const keys = query.getAll('key');
    const values = query.getAll('value');
    if (keys.length !== values.length) throw new ApiError(422, 422, 'key and value parameters must pair up');
    const deleted = boolParam(query, 'deleted');
    const versions = liveVersions(store, subject, deleted);
    if (liveVersions(store, subject, true).length === 0) throw subjectNotFound(subject);
    for (const v of [...versions].reverse()) {
      const props = (store.schemasById.get(v.id) as SchemaRecord).metadata?.properties;
      if (props === undefined) continue;
      if (keys.every((k, i) => props[k] === values[i])) {
        sendJson(res, 200, subjectVersionBody(store, v));
        return;
      }
    }
    throw schemaNotFound();
  });

  // by id and by GUID
  const byId = (raw: string): SchemaRecord => {
    if (!/^[0-9]+$/.test(raw)) throw schemaNotFound(raw);
    const rec = store.schemasById.get(Number(raw));
    if (rec === undefined || !isReferenced(store, rec.id)) throw schemaNotFound(Number(raw));
    return rec;
  };

  router.add('GET', '/schemas/ids/:id', async ({ res, params }) => {
    const rec = byId(params['id'] as string);
    sendJson(res, 200, { ...schemaFields(rec), guid: rec.guid });
  });

  router.add('GET', '/schemas/ids/:id/schema', async ({ res, params }) => {
    sendText(res, 200, byId(params['id'] as string).schema);
  });

  router.add('GET', '/schemas/ids/:id/versions', async ({ res, params, query }) => {
    const rec = byId(params['id'] as string);
    sendJson(res, 200, usages(store, rec.id, boolParam(query, 'deleted')));
  });

  router.add('GET', '/schemas/ids/:id/subjects', async ({ res, params, query }) => {
    const rec = byId(params['id'] as string);
    sendJson(res, 200, [...new Set(usages(store, rec.id, boolParam(query, 'deleted')).map((u) => u.subject))].sort());
  });

  router.add('GET', '/schemas/guids/:guid', async ({ res, params }) => {
    const guid = params['guid'] as string;
    const id = store.idByGuid.get(guid);
    const rec = id === undefined ? undefined : store.schemasById.get(id);
    if (rec === undefined || !isReferenced(store, rec.id)) throw schemaNotFound(guid);
    // `id` is an extension: Confluent answers without it
    sendJson(res, 200, { ...schemaFields(rec), guid: rec.guid, id: rec.id });
  });

  // config (compatibility stored and reported, not enforced)
  router.add('GET', '/config', async ({ res }) => {
    sendJson(res, 200, globalConfig(store));
  });
  router.add('PUT', '/config', async ({ req, res }) => {
    const body = await readObject(req);
    const config = parseConfigUpdate(body);
    await store.exclusive(() => store.commit([{ op: 'config', subject: null, config: toStoredConfig(config) }]));
    sendJson(res, 200, config);
  });
  router.add('DELETE', '/config', async ({ res }) => {
    const previous = globalConfig(store);
    await store.exclusive(() => store.commit([{ op: 'config', subject: null, config: null }]));
    sendJson(res, 200, previous);
  });
  router.add('GET', '/config/:subject', async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const config = store.configs.get(subject);
    if (config === undefined) {
      if (boolParam(query, 'defaultToGlobal')) {
        sendJson(res, 200, globalConfig(store));
        return;
      }
      throw subjectCompatibilityNotConfigured(subject);
    }
    sendJson(res, 200, config);
  });
  router.add('PUT', '/config/:subject', async ({ req, res, params }) => {
    const subject = params['subject'] as string;
    checkSubject(subject);
    const body = await readObject(req);
    const config = parseConfigUpdate(body);
    await store.exclusive(() => store.commit([{ op: 'config', subject, config: toStoredConfig(config) }]));
    sendJson(res, 200, config);
  });
  router.add('DELETE', '/config/:subject', async ({ res, params }) => {
    const subject = params['subject'] as string;
    const previous = store.configs.get(subject);
    if (previous === undefined) throw subjectNotFound(subject);
    await store.exclusive(() => store.commit([{ op: 'config', subject, config: null }]));
    sendJson(res, 200, previous);
  });

  router.add('GET', '/mode', async ({ res }) => sendJson(res, 200, { mode: 'READWRITE' }));
  router.add('GET', '/mode/:subject', async ({ res }) => sendJson(res, 200, { mode: 'READWRITE' }));

  // compatibility checks always pass (not enforced by the dev registry)
  router.add('POST', '/compatibility/subjects/:subject/versions/:version', async ({ req, res, params }) => {
    const subject = params['subject'] as string;
    const body = await readObject(req);
    readDraft(body);
    requireVersion(store, subject, params['version'] as string, false);
    sendJson(res, 200, { is_compatible: true });
  });
  router.add('POST', '/compatibility/subjects/:subject/versions', async ({ req, res }) => {
    readDraft(await readObject(req));
    sendJson(res, 200, { is_compatible: true });
  });
}

function isReferenced(store: Store, id: number): boolean {
  for (const versions of store.subjects.values()) for (const v of versions.values()) if (v.id === id) return true;
  return false;
}

function usages(store: Store, id: number, includeDeleted: boolean): Array<{ subject: string; version: number }> {
  const out: Array<{ subject: string; version: number }> = [];
  for (const versions of store.subjects.values()) {
    for (const v of versions.values()) if (v.id === id && (includeDeleted || !v.deleted)) out.push({ subject: v.subject, version: v.version });
  }
  return out.sort((a, b) => a.subject.localeCompare(b.subject) || a.version - b.version);
}

function globalConfig(store: Store): Record<string, unknown> {
  return store.configs.get('') ?? { compatibilityLevel: DEFAULT_COMPATIBILITY };
}

/** PUT /config body: `compatibility` (validated) plus passthrough settings. */
function parseConfigUpdate(body: Record<string, unknown>): Record<string, unknown> {
  const level = body['compatibility'] ?? body['compatibilityLevel'];
  if (level !== undefined && level !== null && (typeof level !== 'string' || !COMPATIBILITY_LEVELS.includes(level.toUpperCase()))) {
    throw invalidCompatibility(String(level));
  }
  const out: Record<string, unknown> = { ...body };
  delete out['compatibilityLevel'];
  if (typeof level === 'string') out['compatibility'] = level.toUpperCase();
  return out;
}

function toStoredConfig(update: Record<string, unknown>): Record<string, unknown> {
  const stored: Record<string, unknown> = { ...update };
  if (stored['compatibility'] !== undefined) {
    stored['compatibilityLevel'] = stored['compatibility'];
    delete stored['compatibility'];
  }
  return stored;
}
