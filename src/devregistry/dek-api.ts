/**
 * DEK Registry endpoints of the dev registry (`/dek-registry/v1/keks...`), following Confluent's
 * DekRegistryResource and DekRegistry: KEKs and versioned DEKs per (KEK, subject, algorithm), soft
 * and permanent delete, undelete, and shared KEKs whose DEKs the registry generates, wraps through
 * the KMS driver of the KEK's kmsType and returns with `keyMaterial`. Plaintext DEKs are never stored:
 * for a shared KEK, `keyMaterial` is unwrapped again on every read, as Confluent's server does.
 * Requests are checked by dek-requests.ts; records are looked up and rendered by dek-records.ts.
 *
 * Status codes: POST returns 200; DELETE and undelete 204; not found 404/40470; exists 409/40971
 * (also for an identical request); bad name or missing key material 422/42271; KEK still referenced
 * by DEKs 422/42272; KMS failure while generating 500/50070. KEKs are per Schema Registry context
 * (`?context=`, or the context of a DEK's subject): kek-context.ts.
 */
import type { DekAlgorithm } from '../registry/types.js';
import {
  ApiError,
  boolParam,
  dekGenerationFailed,
  invalidKey,
  keyAlreadyExists,
  keyNotFound,
  keyNotSoftDeleted,
  keyReferenceExists,
  keySoftDeleted,
  parseVersionId,
  readObject,
  sendJson,
  type RequestContext,
  type Router,
} from './http.js';
import {
  algorithmParam, checkName, checkSubject, normalizeKmsType, readDekCreate, readKekCreate, readKekUpdate, readRekey,
} from './dek-requests.js';
import { DekRecords, kekBody, sameKek, type KmsLookup } from './dek-records.js';
import { inKekContext, kekStoreName, kekStoreNameForSubject, plainKekName } from './kek-context.js';
import { dekKey, type DekRecord, type KekRecord, type Store } from './store.js';

export type { KmsLookup } from './dek-records.js';

/** Generates a DEK as a serialized Tink key proto (the bytes a KMS wraps). */
export type DekMaterialFactory = (algorithm: DekAlgorithm) => Uint8Array;

export function addDekRoutes(router: Router, store: Store, kms: KmsLookup, newDekMaterial: DekMaterialFactory): void {
  const P = '/dek-registry/v1/keks';
  const records = new DekRecords(store, kms);

  // ---- KEKs

  router.add('GET', P, async ({ res, query }) => {
    const deleted = boolParam(query, 'deleted');
    const context = query.get('context');
    sendJson(res, 200, [...store.keks.values()].filter((k) => (!k.deleted || deleted) && inKekContext(k.name, context)).map((k) => plainKekName(k.name)).sort());
  });

  router.add('POST', P, async ({ req, res, query }) => {
    const { name: plainName, kmsType, kmsKeyId, kmsProps, doc, shared, deleted: requestDeleted } = readKekCreate(await readObject(req));
    const name = kekStoreName(plainName, query.get('context'));
    const result = await store.exclusive(async () => {
      const candidate: KekRecord = {
        name,
        kmsType: normalizeKmsType(kmsType),
        kmsKeyId,
        kmsProps: { ...kmsProps },
        ...(doc === undefined ? {} : { doc }),
        shared,
        ts: Date.now(),
        deleted: requestDeleted,
      };
      const old = store.keks.get(name);
      // like Confluent: creating an equivalent KEK over a soft-deleted one undeletes it; else 409
      if (old !== undefined && (old.deleted === requestDeleted || !sameKek(old, candidate))) throw keyAlreadyExists(name);
      await store.commit([{ op: 'kek', rec: candidate }]);
      return candidate;
    });
    sendJson(res, 200, kekBody(result));
  });

  router.add('GET', `${P}/:name`, async ({ res, params, query }) => {
    sendJson(res, 200, kekBody(records.requireKek(kekStoreName(params['name'] as string, query.get('context')), boolParam(query, 'deleted'))));
  });

  router.add('PUT', `${P}/:name`, async ({ req, res, params, query }) => {
    const name = kekStoreName(params['name'] as string, query.get('context'));
    const { kmsProps, doc, shared } = readKekUpdate(await readObject(req));
    const result = await store.exclusive(async () => {
      const old = records.kek(name, false);
      if (old === undefined) throw keyNotFound(name);
      const updated: KekRecord = {
        ...old,
        kmsProps: kmsProps !== undefined ? { ...kmsProps } : old.kmsProps,
        shared: shared ?? old.shared,
        ts: Date.now(),
      };
      if (doc !== undefined) updated.doc = doc;
      if (sameKek(old, updated)) return old;
      await store.commit([{ op: 'kek', rec: updated }]);
      return updated;
    });
    sendJson(res, 200, kekBody(result));
  });

  router.add('DELETE', `${P}/:name`, async ({ res, params, query }) => {
    const name = kekStoreName(params['name'] as string, query.get('context'));
    const permanent = boolParam(query, 'permanent');
    await store.exclusive(async () => {
      const k = records.requireKek(name, true);
      const referencing = [...store.deks.values()].some((d) => d.kekName === name && (permanent || !d.deleted));
      if (referencing) throw keyReferenceExists(name);
      if (permanent) {
        if (!k.deleted) throw keyNotSoftDeleted(name);
        await store.commit([{ op: 'kek-remove', name }]);
      } else if (!k.deleted) {
        await store.commit([{ op: 'kek', rec: { ...k, deleted: true, ts: Date.now() } }]);
      }
    });
    sendJson(res, 204, undefined);
  });

  router.add('POST', `${P}/:name/undelete`, async ({ res, params, query }) => {
    const name = kekStoreName(params['name'] as string, query.get('context'));
    await store.exclusive(async () => {
      const k = records.requireKek(name, true);
      if (k.deleted) await store.commit([{ op: 'kek', rec: { ...k, deleted: false, ts: Date.now() } }]);
    });
    sendJson(res, 204, undefined);
  });

  // ---- DEKs

  router.add('GET', `${P}/:name/deks`, async ({ res, params, query }) => {
    const name = kekStoreName(params['name'] as string, query.get('context'));
    const deleted = boolParam(query, 'deleted');
    records.requireKek(name, deleted);
    const subjects = new Set<string>();
    for (const d of store.deks.values()) if (d.kekName === name && (!d.deleted || deleted)) subjects.add(d.subject);
    sendJson(res, 200, [...subjects].sort());
  });

  const createDek = async (ctx: RequestContext, pathSubject: string | undefined): Promise<void> => {
    checkName(ctx.params['name'] as string);
    const { subject, algorithm, version, encryptedKeyMaterial: material, deleted: requestDeleted } = readDekCreate(await readObject(ctx.req), pathSubject);
    const name = kekStoreNameForSubject(ctx.params['name'] as string, subject);
    // Confluent's `rewrap=true` (its RewrapDeks tool): replace the encryptedKeyMaterial of an existing
    // version (re-wrapped under the KEK's current key) instead of answering 409.
    const rewrap = boolParam(ctx.query, 'rewrap');

    const result = await store.exclusive(async () => {
      const k = records.kek(name, requestDeleted);
      if (k === undefined) throw keyNotFound(name);
      const old = store.deks.get(dekKey(name, subject, algorithm, version));
      let encryptedKeyMaterial = material;
      if (encryptedKeyMaterial === undefined && !k.shared) throw invalidKey('encryptedKeyMaterial');
      if (rewrap && old !== undefined && k.shared && encryptedKeyMaterial !== undefined) throw keyAlreadyExists(subject);
      if (old !== undefined && !rewrap) {
        // Confluent: 409 unless this undeletes an equivalent soft-deleted DEK
        if (old.deleted === requestDeleted || encryptedKeyMaterial === undefined || old.encryptedKeyMaterial !== encryptedKeyMaterial) {
          throw keyAlreadyExists(subject);
        }
      }
      if (encryptedKeyMaterial === undefined) {
        const driver = records.driverFor(k);
        try {
          const wrapped = await driver.wrap(k.kmsKeyId, newDekMaterial(algorithm), k.kmsProps);
          encryptedKeyMaterial = Buffer.from(wrapped).toString('base64');
        } catch {
          throw dekGenerationFailed(`the KMS could not wrap a new DEK for ${subject}`);
        }
      }
      const rec: DekRecord = { kekName: name, subject, version, algorithm, encryptedKeyMaterial, ts: Date.now(), deleted: requestDeleted };
      await store.commit([{ op: 'dek', rec }]);
      return { rec, k };
    });
    sendJson(ctx.res, 200, await records.dekBody(result.rec, result.k));
  };

  router.add('POST', `${P}/:name/deks`, (ctx) => createDek(ctx, undefined));

  /**
   * DEV-REGISTRY-ONLY EXTENSION (not in Confluent's API, whose PUT /keks/{name} cannot change kmsType or
   * kmsKeyId): moves a KEK to another KMS key, with every DEK re-wrapped under it, in ONE atomic commit
   * (DEKs first, the KEK record last). Used by `recrypt rewrap-deks --switch`. Body: {kmsType,
   * kmsKeyId, kmsProps?, deks: [{subject, algorithm, version, encryptedKeyMaterial}]}. The list must
   * name every DEK of the KEK, soft-deleted ones included, else 409 (a DEK appeared since the caller
   * listed them: list again). DEK timestamps are kept, so expiry-based rotation is not reset.
   */
  router.add('POST', `${P}/:name/x-recrypt-rekey`, async ({ req, res, params, query }) => {
    const name = kekStoreName(params['name'] as string, query.get('context'));
    const { kmsType, kmsKeyId, kmsProps, wanted } = readRekey(name, await readObject(req));
    const result = await store.exclusive(async () => {
      const k = records.kek(name, false);
      if (k === undefined) throw keyNotFound(name);
      if (k.shared) throw invalidKey('shared');
      const current = [...store.deks.entries()].filter(([, d]) => d.kekName === name);
      if (current.length !== wanted.size || current.some(([key]) => !wanted.has(key))) {
        throw new ApiError(409, 40971, `the DEKs of ${name} changed since they were listed`);
      }
      const updated: KekRecord = {
        ...k, kmsType: normalizeKmsType(kmsType), kmsKeyId, kmsProps: kmsProps !== undefined ? { ...kmsProps } : k.kmsProps, ts: Date.now(),
      };
      await store.commit([
        ...current.map(([key, d]) => ({ op: 'dek' as const, rec: { ...d, encryptedKeyMaterial: wanted.get(key)! } })),
        { op: 'kek', rec: updated },
      ]);
      return updated;
    });
    sendJson(res, 200, kekBody(result));
  });
  router.add('POST', `${P}/:name/deks/:subject`, (ctx) => createDek(ctx, ctx.params['subject']));

  const getDek = async ({ res, params, query }: RequestContext, rawVersion: string): Promise<void> => {
    checkSubject(params['subject']);
    const subject = params['subject'] as string;
    const name = kekStoreNameForSubject(params['name'] as string, subject);
    const version = parseVersionId(rawVersion);
    const algorithm = algorithmParam(query);
    const deleted = boolParam(query, 'deleted');
    const k = records.requireKek(name, deleted);
    const d = records.findDek(name, subject, algorithm, version, deleted);
    if (d === undefined) throw keyNotFound(subject);
    sendJson(res, 200, await records.dekBody(d, k));
  };

  router.add('GET', `${P}/:name/deks/:subject`, (ctx) => getDek(ctx, '1'));
  router.add('GET', `${P}/:name/deks/:subject/versions/:version`, (ctx) => getDek(ctx, ctx.params['version'] as string));

  router.add('GET', `${P}/:name/deks/:subject/versions`, async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const name = kekStoreNameForSubject(params['name'] as string, subject);
    checkSubject(subject);
    const deleted = boolParam(query, 'deleted');
    records.requireKek(name, deleted);
    sendJson(res, 200, records.dekVersions(name, subject, algorithmParam(query), deleted).map((d) => d.version));
  });

  router.add('DELETE', `${P}/:name/deks/:subject`, async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const name = kekStoreNameForSubject(params['name'] as string, subject);
    checkSubject(subject);
    const algorithm = algorithmParam(query);
    const permanent = boolParam(query, 'permanent');
    await store.exclusive(async () => {
      records.requireKek(name, true);
      const all = records.dekVersions(name, subject, algorithm, true);
      if (all.length === 0) throw keyNotFound(subject);
      if (permanent) {
        if (all.some((d) => !d.deleted)) throw keyNotSoftDeleted(subject);
        await store.commit(all.map((d) => ({ op: 'dek-remove' as const, kekName: name, subject, algorithm, version: d.version })));
      } else {
        const live = all.filter((d) => !d.deleted);
        await store.commit(live.map((d) => ({ op: 'dek' as const, rec: { ...d, deleted: true } })));
      }
    });
    sendJson(res, 204, undefined);
  });

  router.add('DELETE', `${P}/:name/deks/:subject/versions/:version`, async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const name = kekStoreNameForSubject(params['name'] as string, subject);
    checkSubject(subject);
    const version = parseVersionId(params['version'] as string);
    const algorithm = algorithmParam(query);
    const permanent = boolParam(query, 'permanent');
    await store.exclusive(async () => {
      records.requireKek(name, true);
      const d = records.findDek(name, subject, algorithm, version, true);
      if (d === undefined) throw keyNotFound(subject);
      if (permanent) {
        if (!d.deleted) throw keyNotSoftDeleted(subject);
        await store.commit([{ op: 'dek-remove', kekName: name, subject, algorithm, version: d.version }]);
      } else if (!d.deleted) {
        await store.commit([{ op: 'dek', rec: { ...d, deleted: true } }]);
      }
    });
    sendJson(res, 204, undefined);
  });

  router.add('POST', `${P}/:name/deks/:subject/undelete`, async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const name = kekStoreNameForSubject(params['name'] as string, subject);
    checkSubject(subject);
    const algorithm = algorithmParam(query);
    await store.exclusive(async () => {
      const k = records.requireKek(name, true);
      const all = records.dekVersions(name, subject, algorithm, true);
      if (all.length === 0) throw keyNotFound(subject);
      if (k.deleted) throw keySoftDeleted(name);
      const dead = all.filter((d) => d.deleted);
      await store.commit(dead.map((d) => ({ op: 'dek' as const, rec: { ...d, deleted: false } })));
    });
    sendJson(res, 204, undefined);
  });

  router.add('POST', `${P}/:name/deks/:subject/versions/:version/undelete`, async ({ res, params, query }) => {
    const subject = params['subject'] as string;
    const name = kekStoreNameForSubject(params['name'] as string, subject);
    checkSubject(subject);
    const version = parseVersionId(params['version'] as string);
    const algorithm = algorithmParam(query);
    await store.exclusive(async () => {
      const k = records.requireKek(name, true);
      const d = records.findDek(name, subject, algorithm, version, true);
      if (d === undefined) throw keyNotFound(subject);
      if (k.deleted) throw keySoftDeleted(name);
      if (d.deleted) await store.commit([{ op: 'dek', rec: { ...d, deleted: false } }]);
    });
    sendJson(res, 204, undefined);
  });
}
