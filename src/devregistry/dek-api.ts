/**
 * DEK Registry endpoints of the dev registry (`/dek-registry/v1/keks...`), following Confluent's
 * DekRegistryResource and DekRegistry: KEKs and versioned DEKs per (KEK, subject, algorithm), soft
 * and permanent delete, undelete, and shared KEKs whose DEKs the registry generates, wraps through
 * the KMS driver of the KEK's kmsType and returns with `keyMaterial`. Plaintext DEKs are never stored:
 * for a shared KEK, `keyMaterial` is unwrapped again on every read, as Confluent's server does.
 *
 * Status codes: POST returns 200; DELETE and undelete 204; not found 404/40470; exists 409/40971
 * (also for an identical request); bad name or missing key material 422/42271; KEK still referenced
 * by DEKs 422/42272; KMS failure while generating 500/50070.
 */
import type { KmsDriver } from '../kms/kms-driver.js';
import type { DekAlgorithm } from '../registry/types.js';
import {
  ApiError,
  boolParam,
  dekGenerationFailed,
  invalidKey,
  invalidVersion,
  keyAlreadyExists,
  keyNotFound,
  keyNotSoftDeleted,
  keyReferenceExists,
  keySoftDeleted,
  readObject,
  sendJson,
  type RequestContext,
  type Router,
} from './http.js';
import { dekKey, type DekRecord, type KekRecord, type Store } from './store.js';

const ALGORITHMS: readonly DekAlgorithm[] = ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'];
const DEFAULT_ALGORITHM: DekAlgorithm = 'AES256_GCM';
const NAME_MAX_LENGTH = 64;
const MAX_VERSION = 2 ** 31 - 1;

/** How the dev registry reaches a KMS: a driver per kms type. */
export interface KmsLookup {
  get(kmsType: string): KmsDriver;
}

/** Generates a DEK as a serialized Tink key proto (the bytes a KMS wraps). */
export type DekMaterialFactory = (algorithm: DekAlgorithm) => Uint8Array;

// Confluent's checkName: a letter or '_' first, then letters, digits, '_' or '-'; at most 64 chars.
function checkName(name: string): void {
  if (name.length === 0 || name.length > NAME_MAX_LENGTH || !/^[\p{L}_][\p{L}\p{Nd}_-]*$/u.test(name)) throw invalidKey('name');
}

function checkSubject(subject: unknown): asserts subject is string {
  // eslint-disable-next-line no-control-regex
  if (typeof subject !== 'string' || subject === '' || /[\u0000-\u001f\u007f-\u009f]/.test(subject)) throw invalidKey('subject');
}

/**
 * Query `algorithm`: absent means AES256_GCM. An unknown value fails like JAX-RS enum conversion
 * in Confluent's server (404, error_code 404).
 */
function algorithmParam(query: URLSearchParams): DekAlgorithm {
  const raw = query.get('algorithm');
  if (raw === null || raw === '') return DEFAULT_ALGORITHM;
  if ((ALGORITHMS as readonly string[]).includes(raw)) return raw as DekAlgorithm;
  throw new ApiError(404, 404, `HTTP 404 Not Found: unknown algorithm`);
}

function parseVersionId(raw: string): number | 'latest' {
  if (raw === 'latest' || raw === '-1') return 'latest';
  if (!/^[0-9]+$/.test(raw)) throw invalidVersion(raw);
  const n = Number(raw);
  if (n < 1 || n > MAX_VERSION) throw invalidVersion(raw);
  return n;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

function normalizeKmsType(kmsType: string): string {
  const t = kmsType.toLowerCase();
  if (t.startsWith('aws')) return 'aws-kms';
  if (t.startsWith('azure')) return 'azure-kms';
  if (t.startsWith('gcp')) return 'gcp-kms';
  return kmsType;
}

function kekBody(kek: KekRecord): Record<string, unknown> {
  return {
    name: kek.name,
    kmsType: kek.kmsType,
    kmsKeyId: kek.kmsKeyId,
    kmsProps: kek.kmsProps,
    ...(kek.doc === undefined ? {} : { doc: kek.doc }),
    shared: kek.shared,
    ts: kek.ts,
    deleted: kek.deleted,
  };
}

function sameKek(a: KekRecord, b: KekRecord): boolean {
  return (
    a.kmsType === b.kmsType &&
    a.kmsKeyId === b.kmsKeyId &&
    JSON.stringify(Object.entries(a.kmsProps).sort()) === JSON.stringify(Object.entries(b.kmsProps).sort()) &&
    (a.doc ?? null) === (b.doc ?? null) &&
    a.shared === b.shared
  );
}

export function addDekRoutes(router: Router, store: Store, kms: KmsLookup, newDekMaterial: DekMaterialFactory): void {
  const P = '/dek-registry/v1/keks';

  const kek = (name: string, deleted: boolean): KekRecord | undefined => {
    const k = store.keks.get(name);
    return k !== undefined && (!k.deleted || deleted) ? k : undefined;
  };

  const requireKek = (name: string, deleted: boolean): KekRecord => {
    checkName(name);
    const k = kek(name, deleted);
    if (k === undefined) throw keyNotFound(name);
    return k;
  };

  /** Versions of one DEK, ascending. */
  const dekVersions = (kekName: string, subject: string, algorithm: DekAlgorithm, deleted: boolean): DekRecord[] => {
    const out: DekRecord[] = [];
    for (const d of store.deks.values()) {
      if (d.kekName === kekName && d.subject === subject && d.algorithm === algorithm && (!d.deleted || deleted)) out.push(d);
    }
    return out.sort((a, b) => a.version - b.version);
  };

  const findDek = (kekName: string, subject: string, algorithm: DekAlgorithm, version: number | 'latest', deleted: boolean): DekRecord | undefined => {
    if (version === 'latest') return dekVersions(kekName, subject, algorithm, deleted).pop();
    const d = store.deks.get(dekKey(kekName, subject, algorithm, version));
    return d !== undefined && (!d.deleted || deleted) ? d : undefined;
  };

  const driverFor = (k: KekRecord): KmsDriver => {
    try {
      return kms.get(k.kmsType);
    } catch {
      throw dekGenerationFailed(`no KMS driver for kms type ${k.kmsType}`);
    }
  };

  /** The DEK as returned: for a shared KEK with its plaintext `keyMaterial`, unwrapped through the KMS. */
  const dekBody = async (d: DekRecord, k: KekRecord): Promise<Record<string, unknown>> => {
    const body: Record<string, unknown> = {
      kekName: d.kekName,
      subject: d.subject,
      version: d.version,
      algorithm: d.algorithm,
      encryptedKeyMaterial: d.encryptedKeyMaterial,
      ts: d.ts,
      deleted: d.deleted,
    };
    if (k.shared) {
      try {
        const raw = await driverFor(k).unwrap(k.kmsKeyId, Buffer.from(d.encryptedKeyMaterial, 'base64'), k.kmsProps);
        body['keyMaterial'] = Buffer.from(raw).toString('base64');
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw dekGenerationFailed('the KMS could not unwrap the DEK');
      }
    }
    return body;
  };

  // ---- KEKs

  router.add('GET', P, async ({ res, query }) => {
    const deleted = boolParam(query, 'deleted');
    sendJson(res, 200, [...store.keks.values()].filter((k) => !k.deleted || deleted).map((k) => k.name).sort());
  });

  router.add('POST', P, async ({ req, res }) => {
    const body = await readObject(req);
    const name = body['name'];
    if (typeof name !== 'string') throw invalidKey('name');
    checkName(name);
    const kmsKeyId = body['kmsKeyId'];
    const kmsType = body['kmsType'];
    if (typeof kmsKeyId !== 'string' || kmsKeyId === '') throw invalidKey('kmsKeyId');
    if (typeof kmsType !== 'string' || kmsType === '') throw invalidKey('kmsType');
    const kmsProps = body['kmsProps'] ?? {};
    if (!isStringMap(kmsProps)) throw invalidKey('kmsProps');
    const doc = body['doc'];
    if (doc !== undefined && doc !== null && typeof doc !== 'string') throw invalidKey('doc');
    const shared = body['shared'] === true;
    const requestDeleted = body['deleted'] === true;
    const result = await store.exclusive(async () => {
      const candidate: KekRecord = {
        name,
        kmsType: normalizeKmsType(kmsType),
        kmsKeyId,
        kmsProps: { ...kmsProps },
        ...(typeof doc === 'string' ? { doc } : {}),
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
    sendJson(res, 200, kekBody(requireKek(params['name'] as string, boolParam(query, 'deleted'))));
  });

  router.add('PUT', `${P}/:name`, async ({ req, res, params }) => {
    const name = params['name'] as string;
    checkName(name);
    const body = await readObject(req);
    const kmsProps = body['kmsProps'];
    if (kmsProps !== undefined && kmsProps !== null && !isStringMap(kmsProps)) throw invalidKey('kmsProps');
    const doc = body['doc'];
    if (doc !== undefined && doc !== null && typeof doc !== 'string') throw invalidKey('doc');
    const shared = body['shared'];
    if (shared !== undefined && shared !== null && typeof shared !== 'boolean') throw invalidKey('shared');
    const result = await store.exclusive(async () => {
      const old = kek(name, false);
      if (old === undefined) throw keyNotFound(name);
      const updated: KekRecord = {
        ...old,
        kmsProps: isStringMap(kmsProps) ? { ...kmsProps } : old.kmsProps,
        shared: typeof shared === 'boolean' ? shared : old.shared,
        ts: Date.now(),
      };
      if (typeof doc === 'string') updated.doc = doc;
      if (sameKek(old, updated)) return old;
      await store.commit([{ op: 'kek', rec: updated }]);
      return updated;
    });
    sendJson(res, 200, kekBody(result));
  });

  router.add('DELETE', `${P}/:name`, async ({ res, params, query }) => {
    const name = params['name'] as string;
    const permanent = boolParam(query, 'permanent');
    await store.exclusive(async () => {
      const k = requireKek(name, true);
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

  router.add('POST', `${P}/:name/undelete`, async ({ res, params }) => {
    const name = params['name'] as string;
    await store.exclusive(async () => {
      const k = requireKek(name, true);
      if (k.deleted) await store.commit([{ op: 'kek', rec: { ...k, deleted: false, ts: Date.now() } }]);
    });
    sendJson(res, 204, undefined);
  });

  // ---- DEKs

  router.add('GET', `${P}/:name/deks`, async ({ res, params, query }) => {
    const name = params['name'] as string;
    const deleted = boolParam(query, 'deleted');
    requireKek(name, deleted);
    const subjects = new Set<string>();
    for (const d of store.deks.values()) if (d.kekName === name && (!d.deleted || deleted)) subjects.add(d.subject);
    sendJson(res, 200, [...subjects].sort());
  });

  const createDek = async (ctx: RequestContext, pathSubject: string | undefined): Promise<void> => {
    const name = ctx.params['name'] as string;
    checkName(name);
    const body = await readObject(ctx.req);
    const subject = pathSubject ?? body['subject'];
    checkSubject(subject);
    const algorithmRaw = body['algorithm'] ?? DEFAULT_ALGORITHM;
    if (typeof algorithmRaw !== 'string' || !(ALGORITHMS as readonly string[]).includes(algorithmRaw)) throw invalidKey('algorithm');
    const algorithm = algorithmRaw as DekAlgorithm;
    const versionRaw = body['version'] ?? 1;
    if (!Number.isInteger(versionRaw) || (versionRaw as number) < 1 || (versionRaw as number) > MAX_VERSION) throw invalidKey('version');
    const version = versionRaw as number;
    const material = body['encryptedKeyMaterial'];
    if (material !== undefined && material !== null && (typeof material !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(material))) {
      throw invalidKey('encryptedKeyMaterial');
    }
    const requestDeleted = body['deleted'] === true;
    // Confluent's `rewrap=true` (its RewrapDeks tool): replace the encryptedKeyMaterial of an existing
    // version (re-wrapped under the KEK's current key) instead of answering 409.
    const rewrap = boolParam(ctx.query, 'rewrap');

    const result = await store.exclusive(async () => {
      const k = kek(name, requestDeleted);
      if (k === undefined) throw keyNotFound(name);
      const old = store.deks.get(dekKey(name, subject, algorithm, version));
      let encryptedKeyMaterial = typeof material === 'string' && material !== '' ? material : undefined;
      if (encryptedKeyMaterial === undefined && !k.shared) throw invalidKey('encryptedKeyMaterial');
      if (rewrap && old !== undefined && k.shared && encryptedKeyMaterial !== undefined) throw keyAlreadyExists(subject);
      if (old !== undefined && !rewrap) {
        // Confluent: 409 unless this undeletes an equivalent soft-deleted DEK
        if (old.deleted === requestDeleted || encryptedKeyMaterial === undefined || old.encryptedKeyMaterial !== encryptedKeyMaterial) {
          throw keyAlreadyExists(subject);
        }
      }
      if (encryptedKeyMaterial === undefined) {
        const driver = driverFor(k);
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
    sendJson(ctx.res, 200, await dekBody(result.rec, result.k));
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
  router.add('POST', `${P}/:name/x-recrypt-rekey`, async ({ req, res, params }) => {
    const name = params['name'] as string;
    checkName(name);
    const body = await readObject(req);
    const kmsType = body['kmsType'];
    const kmsKeyId = body['kmsKeyId'];
    if (typeof kmsType !== 'string' || kmsType === '') throw invalidKey('kmsType');
    if (typeof kmsKeyId !== 'string' || kmsKeyId === '') throw invalidKey('kmsKeyId');
    const kmsProps = body['kmsProps'];
    if (kmsProps !== undefined && kmsProps !== null && !isStringMap(kmsProps)) throw invalidKey('kmsProps');
    const deks = body['deks'];
    if (!Array.isArray(deks)) throw invalidKey('deks');
    const wanted = new Map<string, string>();
    for (const d of deks as unknown[]) {
      const e = d as Record<string, unknown> | null;
      if (e === null || typeof e !== 'object') throw invalidKey('deks');
      checkSubject(e['subject']);
      const algorithm = e['algorithm'];
      const version = e['version'];
      const material = e['encryptedKeyMaterial'];
      if (typeof algorithm !== 'string' || !(ALGORITHMS as readonly string[]).includes(algorithm)) throw invalidKey('algorithm');
      if (!Number.isInteger(version) || (version as number) < 1 || (version as number) > MAX_VERSION) throw invalidKey('version');
      if (typeof material !== 'string' || material === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(material)) throw invalidKey('encryptedKeyMaterial');
      wanted.set(dekKey(name, e['subject'], algorithm, version as number), material);
    }
    const result = await store.exclusive(async () => {
      const k = kek(name, false);
      if (k === undefined) throw keyNotFound(name);
      if (k.shared) throw invalidKey('shared');
      const current = [...store.deks.entries()].filter(([, d]) => d.kekName === name);
      if (current.length !== wanted.size || current.some(([key]) => !wanted.has(key))) {
        throw new ApiError(409, 40971, `the DEKs of ${name} changed since they were listed`);
      }
      const updated: KekRecord = {
        ...k, kmsType: normalizeKmsType(kmsType), kmsKeyId, kmsProps: isStringMap(kmsProps) ? { ...kmsProps } : k.kmsProps, ts: Date.now(),
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
    const name = params['name'] as string;
    const subject = params['subject'] as string;
    checkName(name);
    checkSubject(subject);
    const version = parseVersionId(rawVersion);
    const algorithm = algorithmParam(query);
    const deleted = boolParam(query, 'deleted');
    const k = requireKek(name, deleted);
    const d = findDek(name, subject, algorithm, version, deleted);
    if (d === undefined) throw keyNotFound(subject);
    sendJson(res, 200, await dekBody(d, k));
  };

  router.add('GET', `${P}/:name/deks/:subject`, (ctx) => getDek(ctx, '1'));
  router.add('GET', `${P}/:name/deks/:subject/versions/:version`, (ctx) => getDek(ctx, ctx.params['version'] as string));

  router.add('GET', `${P}/:name/deks/:subject/versions`, async ({ res, params, query }) => {
    const name = params['name'] as string;
    const subject = params['subject'] as string;
    checkSubject(subject);
    const deleted = boolParam(query, 'deleted');
    requireKek(name, deleted);
    sendJson(res, 200, dekVersions(name, subject, algorithmParam(query), deleted).map((d) => d.version));
  });

  router.add('DELETE', `${P}/:name/deks/:subject`, async ({ res, params, query }) => {
    const name = params['name'] as string;
    const subject = params['subject'] as string;
    checkSubject(subject);
    const algorithm = algorithmParam(query);
    const permanent = boolParam(query, 'permanent');
    await store.exclusive(async () => {
      requireKek(name, true);
      const all = dekVersions(name, subject, algorithm, true);
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
    const name = params['name'] as string;
    const subject = params['subject'] as string;
    checkSubject(subject);
    const version = parseVersionId(params['version'] as string);
    const algorithm = algorithmParam(query);
    const permanent = boolParam(query, 'permanent');
    await store.exclusive(async () => {
      requireKek(name, true);
      const d = findDek(name, subject, algorithm, version, true);
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
    const name = params['name'] as string;
    const subject = params['subject'] as string;
    checkSubject(subject);
    const algorithm = algorithmParam(query);
    await store.exclusive(async () => {
      const k = requireKek(name, true);
      const all = dekVersions(name, subject, algorithm, true);
      if (all.length === 0) throw keyNotFound(subject);
      if (k.deleted) throw keySoftDeleted(name);
      const dead = all.filter((d) => d.deleted);
      await store.commit(dead.map((d) => ({ op: 'dek' as const, rec: { ...d, deleted: false } })));
    });
    sendJson(res, 204, undefined);
  });

  router.add('POST', `${P}/:name/deks/:subject/versions/:version/undelete`, async ({ res, params, query }) => {
    const name = params['name'] as string;
    const subject = params['subject'] as string;
    checkSubject(subject);
    const version = parseVersionId(params['version'] as string);
    const algorithm = algorithmParam(query);
    await store.exclusive(async () => {
      const k = requireKek(name, true);
      const d = findDek(name, subject, algorithm, version, true);
      if (d === undefined) throw keyNotFound(subject);
      if (k.deleted) throw keySoftDeleted(name);
      if (d.deleted) await store.commit([{ op: 'dek', rec: { ...d, deleted: false } }]);
    });
    sendJson(res, 204, undefined);
  });
}
