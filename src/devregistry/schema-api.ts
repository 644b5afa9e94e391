/**
 * Schema Registry endpoints of the dev registry: what Confluent's clients call (subjects, versions,
 * ids, GUIDs, metadata lookup, config), with Confluent's status codes and error bodies.
 *
 * Semantics kept from Confluent: ids are global and increasing, and the same schema (type, text,
 * references, metadata, ruleSet) has the same id and GUID under every subject; registering a schema
 * without metadata or ruleSet inherits them from the subject's latest version; registering what is
 * already there returns the existing id. Not enforced: compatibility levels (stored and returned
 * only), modes, per-context schema ids (ids are global, so an id names one schema in every context),
 * config defaults/overrides of metadata and rule sets. Qualified subjects (`:.ctx:subject`) are
 * subjects like any other; GET /contexts lists their contexts. Requests are checked by
 * schema-requests.ts; records are looked up and rendered by schema-records.ts; Protobuf descriptors
 * are stored as text and `?format=serialized` answered by schema-format.ts.
 */
import { randomUUID } from 'node:crypto';
import { contextOfSubject } from '../registry/index.js';
import { stableStringify } from '../registry/stable-json.js';
import type { SchemaType } from '../registry/types.js';
import {
  ApiError,
  boolParam,
  invalidSchema,
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
import {
  checkReferences, globalConfig, isReferenced, liveVersions, requireVersion, sameSchemaText, schemaFields, subjectVersionBody, toStoredConfig, usages,
} from './schema-records.js';
import { parseVersionId } from './http.js';
import { schemaForFormat, storedSchemaText } from './schema-format.js';
import { canonicalSchema, checkSubject, contentKey, parseConfigUpdate, readDraft, type SchemaDraft } from './schema-requests.js';
import type { SchemaRecord, Store, VersionRecord } from './store.js';


export function addSchemaRoutes(router: Router, store: Store): void {
  router.add('GET', '/', async ({ res }) => sendJson(res, 200, {}));

  router.add('GET', '/schemas/types', async ({ res }) => sendJson(res, 200, ['JSON', 'PROTOBUF', 'AVRO']));

  // contexts: the default one and those of the qualified subjects (`:.ctx:subject`) registered so far
  router.add('GET', '/contexts', async ({ res }) => {
    const contexts = new Set<string>(['.']);
    for (const s of store.subjects.keys()) contexts.add(contextOfSubject(s) ?? '.');
    sendJson(res, 200, [...contexts].sort());
  });

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
    if (schemaGiven) draft.schema = storedSchemaText(draft.schemaType as SchemaType, draft.schema as string, subject);
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
    d.schema = storedSchemaText(d.schemaType, d.schema, subject);
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
      sendJson(res, 200, subjectVersionBody(store, v, query.get('format')));
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
    sendJson(res, 200, subjectVersionBody(store, v, query.get('format')));
  });

  router.add('GET', '/subjects/:subject/versions/:version/schema', async ({ res, params, query }) => {
    const v = requireVersion(store, params['subject'] as string, params['version'] as string, boolParam(query, 'deleted'));
    sendText(res, 200, schemaForFormat(store, store.schemasById.get(v.id) as SchemaRecord, query.get('format')));
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
        sendJson(res, 200, subjectVersionBody(store, v, query.get('format')));
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

  router.add('GET', '/schemas/ids/:id', async ({ res, params, query }) => {
    const rec = byId(params['id'] as string);
    sendJson(res, 200, { ...schemaFields(rec, store, query.get('format')), guid: rec.guid });
  });

  router.add('GET', '/schemas/ids/:id/schema', async ({ res, params, query }) => {
    sendText(res, 200, schemaForFormat(store, byId(params['id'] as string), query.get('format')));
  });

  router.add('GET', '/schemas/ids/:id/versions', async ({ res, params, query }) => {
    const rec = byId(params['id'] as string);
    sendJson(res, 200, usages(store, rec.id, boolParam(query, 'deleted')));
  });

  router.add('GET', '/schemas/ids/:id/subjects', async ({ res, params, query }) => {
    const rec = byId(params['id'] as string);
    sendJson(res, 200, [...new Set(usages(store, rec.id, boolParam(query, 'deleted')).map((u) => u.subject))].sort());
  });

  router.add('GET', '/schemas/guids/:guid', async ({ res, params, query }) => {
    const guid = params['guid'] as string;
    const id = store.idByGuid.get(guid);
    const rec = id === undefined ? undefined : store.schemasById.get(id);
    if (rec === undefined || !isReferenced(store, rec.id)) throw schemaNotFound(guid);
    // `id` is an extension: Confluent answers without it
    sendJson(res, 200, { ...schemaFields(rec, store, query.get('format')), guid: rec.guid, id: rec.id });
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
    const { draft, schemaGiven } = readDraft(body);
    if (schemaGiven) storedSchemaText(draft.schemaType as SchemaType, draft.schema as string, subject);
    requireVersion(store, subject, params['version'] as string, false);
    sendJson(res, 200, { is_compatible: true });
  });
  router.add('POST', '/compatibility/subjects/:subject/versions', async ({ req, res, params }) => {
    const { draft, schemaGiven } = readDraft(await readObject(req));
    if (schemaGiven) storedSchemaText(draft.schemaType as SchemaType, draft.schema as string, params['subject'] as string);
    sendJson(res, 200, { is_compatible: true });
  });
}
