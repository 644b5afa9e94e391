/**
 * KEK and DEK lifecycle (CSFLE-NOTES sections 3 and 5): get or create KEKs (kek-cache.ts) and DEKs in
 * the DEK Registry, rotate DEKs by expiry, settle 409 races, unwrap each DEK once per process and hand
 * out FieldCiphers. The only owner of DEK caches; every KMS call goes through the one walk over a KEK's
 * key ids (kek-kms.ts).
 *
 * Hot path: `peekWrite` / `peekRead` are synchronous cache lookups; on `undefined` the caller awaits
 * `dekForWrite` / `dekForRead`, which fill the caches. Concurrent misses on one DEK share one promise;
 * misses on different DEKs run independently; failures are not cached.
 *
 * Never logs or throws key material: log fields and error messages carry KEK names, subjects, versions
 * and error codes only.
 */
import { cipherFromDekProto as defaultCipherFromDekProto, newDekMaterial as defaultNewDekMaterial } from '../crypto/dek-proto.js';
import type { FieldCipher } from '../crypto/types.js';
import type { KmsDriverRegistry, KmsProps } from '../kms/kms-driver.js';
import type { Dek, DekAlgorithm, DekRegistryApi, Kek, RuleSet, SchemaInfo } from '../registry/types.js';
import type { DekRef } from '../model/index.js';
import type { EncryptionParams } from '../rules/encryption-params.js';
import { errorCodeOf, isRecryptError, RecryptError } from '../util/errors.js';
import { Lru } from '../util/lru.js';
import { SingleFlight } from '../util/single-flight.js';
import { NO_LOGGER, NO_METRICS, trackedWith, type KeysLogger, type KeysMetricsHook, type TrackedCall } from './hooks.js';
import { KekCache } from './kek-cache.js';
import { base64ToBytes, wipe } from './dek-bytes.js';
import { checkRuleSetKeks, type KekCheck } from './kek-check.js';
import { kmsKeyIdsFor, kmsPropsFor, runWithKeyIds, type KmsOperation } from './kek-kms.js';
import { checkMembersLatest, findGroupDek, registerAtMembers, verifyGroupAtStart, type GroupDekAccess } from './group-deks.js';
import { NO_JOIN_GROUPS, type JoinGroup, type JoinGroups } from './join-groups.js';
import { dekCacheKey, dekRefOf, isDekExpired, latestCacheKey } from './key-ids.js';

// The hook types live in hooks.ts (kek-cache.ts shares them); re-exported for importers of this module.
export type { KeysLogFields, KeysLogger, KeysMetric, KeysMetricLabels, KeysMetricsHook } from './hooks.js';

/** How DEK material is made and used; the crypto/ implementation unless a test injects another. */
export interface DekCrypto {
  newDekMaterial(algorithm: DekAlgorithm): Uint8Array;
  cipherFromDekProto(algorithm: DekAlgorithm, proto: Uint8Array): FieldCipher;
}

export interface DekManagerOptions {
  readonly dekRegistry: DekRegistryApi;
  readonly kms: KmsDriverRegistry;
  /** Epoch ms; injectable for rotation tests. */
  readonly clock?: () => number;
  /** How long a write trusts its cached "latest DEK" (and a cached KEK) before asking again. */
  readonly latestTtlMs?: number;
  /** Bound on cached DEK ciphers (LRU). */
  readonly maxCachedDeks?: number;
  /** Base KMS configuration; each KEK's kmsProps override it. */
  readonly kmsProps?: KmsProps;
  readonly logger?: KeysLogger;
  readonly metrics?: KeysMetricsHook;
  readonly dekCrypto?: DekCrypto;
  /** Join groups: a ref whose scope names one shares its DEKs across the group's subjects (group-deks.ts). */
  readonly joinGroups?: JoinGroups;
}

export interface WriteDek {
  readonly version: number;
  readonly cipher: FieldCipher;
}

export const DEFAULT_LATEST_TTL_MS = 5 * 60_000;
export const DEFAULT_MAX_CACHED_DEKS = 10_000;

interface LatestPointer {
  readonly version: number;
  readonly dekTs: number;
  readonly fetchedAt: number;
  /** Rotation was attempted and failed: keep serving this (expired) DEK until the TTL runs out. */
  readonly rotationDeferred: boolean;
}

/** A ref names the KEK and algorithm of the params it travels with; anything else is a caller's bug. */
function assertRefMatches(ref: DekRef, params: EncryptionParams): void {
  if (ref.kekName !== params.kekName || ref.algorithm !== params.algorithm) {
    throw new RecryptError('INTERNAL', `DEK ref (KEK ${ref.kekName}, ${ref.algorithm}) does not match its rule's params`);
  }
}

function isConflict(err: unknown): boolean {
  return isRecryptError(err) && err.code === 'REGISTRY_CONFLICT';
}

export class DekManager {
  readonly #registry: DekRegistryApi;
  readonly #kms: KmsDriverRegistry;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #baseProps: KmsProps;
  readonly #log: KeysLogger;
  readonly #count: KeysMetricsHook;
  readonly #crypto: DekCrypto;
  readonly #groups: JoinGroups;

  readonly #ciphers: Lru<string, FieldCipher>;
  readonly #latest: Lru<string, LatestPointer>;
  readonly #keks: KekCache;
  readonly #tracked: TrackedCall;
  readonly #checkedKeks = new Map<string, KekCheck>();

  readonly #writeFlights = new SingleFlight<string, WriteDek>();
  readonly #readFlights = new SingleFlight<string, FieldCipher>();
  readonly #cipherFlights = new SingleFlight<string, FieldCipher>();

  constructor(options: DekManagerOptions) {
    const ttl = options.latestTtlMs ?? DEFAULT_LATEST_TTL_MS;
    const max = options.maxCachedDeks ?? DEFAULT_MAX_CACHED_DEKS;
    if (!Number.isFinite(ttl) || ttl < 0) throw new RecryptError('CONFIG_INVALID', 'latestTtlMs must be >= 0');
    if (!Number.isInteger(max) || max < 1) throw new RecryptError('CONFIG_INVALID', 'maxCachedDeks must be a positive integer');
    this.#registry = options.dekRegistry;
    this.#kms = options.kms;
    this.#now = options.clock ?? Date.now;
    this.#ttl = ttl;
    this.#baseProps = Object.freeze({ ...(options.kmsProps ?? {}) });
    this.#log = options.logger ?? NO_LOGGER;
    this.#count = options.metrics ?? NO_METRICS;
    this.#crypto = options.dekCrypto ?? { newDekMaterial: defaultNewDekMaterial, cipherFromDekProto: defaultCipherFromDekProto };
    this.#groups = options.joinGroups ?? NO_JOIN_GROUPS;
    this.#ciphers = new Lru(max);
    this.#latest = new Lru(max);
    this.#tracked = trackedWith(this.#count);
    this.#keks = new KekCache({ registry: this.#registry, now: this.#now, ttlMs: ttl, tracked: this.#tracked });
  }

  // ---------------------------------------------------------------- KEKs

  /** The registered KEK for `params.kekName`, cached, created from the rule when `create` (see kek-cache.ts). */
  getOrCreateKek(params: EncryptionParams, options: { create: boolean }): Promise<Kek> {
    return this.#keks.getOrCreate(params, options);
  }

  /**
   * Before anything names them in a registry: every KEK the rules encrypt with on write is registered
   * and matches, or can be created from the rule; and its KMS key wraps and unwraps a probe. Registers
   * nothing (see kek-check.ts).
   */
  checkKeks(ruleSet: RuleSet | undefined, schema: Pick<SchemaInfo, 'metadata'> | undefined): Promise<KekCheck[]> {
    return checkRuleSetKeks({
      dekRegistry: { getKek: (name) => this.#keks.fetch(name) }, kms: this.#kms, kmsProps: this.#baseProps,
      onAttempt: (op, kmsType, ok) => this.#count(op === 'wrap' ? 'kms_wrap' : 'kms_unwrap', { outcome: ok ? 'ok' : 'error', kmsType }),
    }, ruleSet, schema, this.#checkedKeks);
  }

  // ---------------------------------------------------------------- write

  /**
   * Cached cipher for writing under `params` for `subject`, or undefined when the async path must run:
   * nothing cached, the cached latest DEK is older than the TTL, or (with expiry) it has expired.
   */
  peekWrite(ref: DekRef, params: EncryptionParams): WriteDek | undefined {
    if (!this.#keks.matchesSeen(params)) return undefined;
    if (params.expiryDays === 0) {
      const cipher = this.#ciphers.get(dekCacheKey(ref, 1));
      return cipher === undefined ? undefined : { version: 1, cipher };
    }
    const pointer = this.#latest.get(latestCacheKey(ref));
    if (pointer === undefined) return undefined;
    const now = this.#now();
    if (now - pointer.fetchedAt >= this.#ttl) return undefined;
    if (!pointer.rotationDeferred && isDekExpired(pointer.dekTs, params.expiryDays, now)) return undefined;
    const cipher = this.#ciphers.get(dekCacheKey(ref, pointer.version));
    return cipher === undefined ? undefined : { version: pointer.version, cipher };
  }

  /**
   * The DEK of `ref` to encrypt with (`params`: how to reach or create its KEK, and the expiry). No expiry: version 1, created if missing. Expiry N days: the latest
   * version, rotated (version + 1) when expired; if rotating fails but an older DEK exists, warns and
   * keeps the older one. A 409 on create means another writer won: theirs is used.
   */
  async dekForWrite(ref: DekRef, params: EncryptionParams): Promise<WriteDek> {
    assertRefMatches(ref, params);
    const hit = this.peekWrite(ref, params);
    if (hit !== undefined) return hit;
    const key = `${params.expiryDays}\u0000${latestCacheKey(ref)}`;
    const dek = await this.#writeFlights.run(key, () => this.#loadWrite(ref, params));
    // A joined flight may have been started by a rule naming other kms ids for the same KEK.
    this.#keks.assertMatchesSeen(params);
    return dek;
  }

  /**
   * A group ref (its scope names a join group) is created and rotated at the group's anchor subject and
   * then registered under every member (group-deks.ts) before its cipher is cached under the ref.
   */
  async #loadWrite(ref: DekRef, params: EncryptionParams): Promise<WriteDek> {
    const group = this.#groups.byScope(ref.scope);
    const subject = group?.anchor ?? ref.scope;
    const kek = await this.getOrCreateKek(params, { create: true });
    if (params.expiryDays === 0) {
      let dek = await this.#getDek(kek.name, subject, 1, params.algorithm, false);
      let fresh: FieldCipher | undefined;
      if (dek === null) {
        ({ dek, cipher: fresh } = await this.#createDek(kek, params, subject, 1));
      }
      const cipher = fresh ?? (await this.#cipherFor(kek, params, dekRefOf(params, subject), dek));
      if (group !== undefined) await this.#shareWithGroup(group, kek, params, ref, dek, cipher, false);
      return { version: dek.version, cipher };
    }

    const latest = await this.#getDek(kek.name, subject, -1, params.algorithm, false);
    let dek: Dek;
    let cipher: FieldCipher | undefined;
    let rotationDeferred = false;
    if (latest !== null && !isDekExpired(latest.ts, params.expiryDays, this.#now())) {
      dek = latest;
    } else {
      const newVersion = latest === null ? 1 : latest.version + 1;
      try {
        ({ dek, cipher } = await this.#createDek(kek, params, subject, newVersion));
      } catch (err) {
        if (latest === null) throw err;
        this.#log.warn('DEK rotation failed; keeping the current DEK', {
          kekName: kek.name,
          subject,
          version: latest.version,
          newVersion,
          code: errorCodeOf(err),
        });
        dek = latest;
        rotationDeferred = true;
      }
    }
    cipher ??= await this.#cipherFor(kek, params, dekRefOf(params, subject), dek);
    if (group !== undefined) await this.#shareWithGroup(group, kek, params, ref, dek, cipher, true);
    this.#latest.set(latestCacheKey(ref), {
      version: dek.version,
      dekTs: dek.ts,
      fetchedAt: this.#now(),
      rotationDeferred,
    });
    return { version: dek.version, cipher };
  }

  /**
   * Generates, wraps and registers DEK `version`. Returns the registered DEK and, when ours won, its
   * cipher (built from the material in hand: no unwrap). On 409 fetches the winner's DEK instead.
   */
  async #createDek(kek: Kek, params: EncryptionParams, subject: string, version: number): Promise<{ dek: Dek; cipher?: FieldCipher }> {
    let material: Uint8Array | undefined;
    let encryptedKeyMaterial: string | undefined;
    try {
      if (!kek.shared) {
        material = this.#crypto.newDekMaterial(params.algorithm);
        const wrapped = await this.#kmsRun(kek, params, 'wrap', material);
        encryptedKeyMaterial = Buffer.from(wrapped).toString('base64');
      }
      let created: Dek;
      try {
        created = await this.#registerDek(kek, params, subject, version, encryptedKeyMaterial);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const winner = await this.#getDek(kek.name, subject, version, params.algorithm, false);
        if (winner === null) {
          throw new RecryptError(
            'DEK_NOT_FOUND',
            `DEK version ${version} of KEK ${kek.name} for subject ${subject} conflicted on create but cannot be fetched`,
          );
        }
        return { dek: winner };
      }
      if (material === undefined) return { dek: created };
      const key = dekCacheKey(dekRefOf(params, subject), created.version);
      const cipher = this.#crypto.cipherFromDekProto(params.algorithm, material);
      this.#ciphers.set(key, cipher);
      return { dek: created, cipher };
    } finally {
      wipe(material);
    }
  }

  /** The anchor's `dek` registered under every member (and, with expiry, no member ahead of it); then cached under the group ref. */
  async #shareWithGroup(group: JoinGroup, kek: Kek, params: EncryptionParams, ref: DekRef, dek: Dek, cipher: FieldCipher, expiring: boolean): Promise<void> {
    const access = this.#groupAccess(kek, params);
    await registerAtMembers(group, dek, access);
    if (expiring) await checkMembersLatest(group, dek, access);
    this.#ciphers.set(dekCacheKey(ref, dek.version), cipher);
  }

  /** Before a run, registering nothing: JOIN_GROUP_DIVERGED when a subject of `ref`'s join group holds DEK material it cannot share. */
  async checkJoinGroup(ref: DekRef, params: EncryptionParams): Promise<void> {
    assertRefMatches(ref, params);
    const group = this.#groups.byScope(ref.scope);
    const kek = group === undefined ? null : await this.#keks.fetch(params.kekName);
    // No KEK yet: no DEK of it anywhere.
    if (group !== undefined && kek !== null) await verifyGroupAtStart(group, params.expiryDays > 0, this.#groupAccess(kek, params));
  }

  #groupAccess(kek: Kek, params: EncryptionParams): GroupDekAccess {
    return {
      kekName: kek.name, algorithm: params.algorithm,
      getDek: (subject, version, deleted) => this.#getDek(kek.name, subject, version, params.algorithm, deleted),
      createDek: (subject, version, encryptedKeyMaterial) => this.#registerDek(kek, params, subject, version, encryptedKeyMaterial),
      unwrap: (dek) => this.#unwrapDek(kek, params, dek),
    };
  }

  // ---------------------------------------------------------------- read

  /** Cached cipher for DEK `version` of `ref` (0 means 1), or undefined. */
  peekRead(ref: DekRef, version: number): FieldCipher | undefined {
    return this.#ciphers.get(dekCacheKey(ref, version));
  }

  /**
   * The cipher for exactly DEK `version` (from a ciphertext prefix; 1 without expiry; 0 is read as 1,
   * as the Confluent clients do). Never creates keys; fetches with deleted=true so soft-deleted DEKs
   * still decrypt. DEK_NOT_FOUND when the version does not exist (permanent).
   */
  async dekForRead(ref: DekRef, params: EncryptionParams, version: number): Promise<FieldCipher> {
    assertRefMatches(ref, params);
    const group = this.#groups.byScope(ref.scope);
    const subject = group?.anchor ?? ref.scope;
    const v = version === 0 ? 1 : version;
    if (!Number.isInteger(v) || v < 1) {
      throw new RecryptError('DEK_NOT_FOUND', `DEK version ${String(version)} is not a valid version`);
    }
    const key = dekCacheKey(ref, v);
    const hit = this.#ciphers.get(key);
    if (hit !== undefined) {
      this.#keks.assertMatchesSeen(params);
      return hit;
    }
    const cipher = await this.#readFlights.run(key, async () => {
      const kek = await this.getOrCreateKek(params, { create: false });
      const dek = group === undefined
        ? await this.#getDek(kek.name, subject, v, params.algorithm, true)
        : await findGroupDek(group, v, this.#groupAccess(kek, params));
      if (dek === null) {
        const where = group === undefined ? `subject ${subject}` : `any subject of join group ${group.name}`;
        throw new RecryptError('DEK_NOT_FOUND', `DEK version ${v} of KEK ${kek.name} for ${where} (${params.algorithm}) not found`);
      }
      return this.#cipherFor(kek, params, ref, dek);
    });
    this.#keks.assertMatchesSeen(params);
    return cipher;
  }

  // ---------------------------------------------------------------- shared

  /** Cipher for a registered DEK, cached under `cacheRef` (its subject's ref, or a group ref). */
  #cipherFor(kek: Kek, params: EncryptionParams, cacheRef: DekRef, dek: Dek): Promise<FieldCipher> {
    const key = dekCacheKey(cacheRef, dek.version);
    const hit = this.#ciphers.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    return this.#cipherFlights.run(key, async () => {
      let proto: Uint8Array | undefined;
      try {
        proto = await this.#unwrapDek(kek, params, dek);
        const cipher = this.#crypto.cipherFromDekProto(params.algorithm, proto);
        this.#ciphers.set(key, cipher);
        return cipher;
      } finally {
        wipe(proto);
      }
    });
  }

  /** A registered DEK's plaintext material: its keyMaterial (shared KEK, no KMS call) or one KMS unwrap. The caller wipes it. */
  async #unwrapDek(kek: Kek, params: EncryptionParams, dek: Dek): Promise<Uint8Array> {
    if (dek.keyMaterial !== undefined && dek.keyMaterial !== null && dek.keyMaterial !== '') {
      return base64ToBytes(dek.keyMaterial, 'DEK keyMaterial');
    }
    if (dek.encryptedKeyMaterial !== undefined && dek.encryptedKeyMaterial !== null && dek.encryptedKeyMaterial !== '') {
      return this.#kmsRun(kek, params, 'unwrap', base64ToBytes(dek.encryptedKeyMaterial, 'DEK encryptedKeyMaterial'));
    }
    throw new RecryptError('CRYPTO_BAD_KEY', `DEK version ${dek.version} of KEK ${kek.name} for subject ${dek.subject} has no key material`);
  }

  #kmsRun(kek: Kek, params: EncryptionParams, operation: KmsOperation, input: Uint8Array): Promise<Uint8Array> {
    const keyIds = kmsKeyIdsFor(kek, params.alternateKmsKeyIds, this.#baseProps);
    const props = kmsPropsFor(this.#baseProps, kek);
    return runWithKeyIds(this.#kms, kek, keyIds, props, operation, input, (op, kmsType, ok) =>
      this.#count(op === 'wrap' ? 'kms_wrap' : 'kms_unwrap', { outcome: ok ? 'ok' : 'error', kmsType }),
    );
  }

  /** POST a DEK (a shared KEK's without material: the registry makes it); REGISTRY_CONFLICT on 409. */
  #registerDek(kek: Kek, params: EncryptionParams, subject: string, version: number, encryptedKeyMaterial: string | undefined): Promise<Dek> {
    const request = { subject, version, algorithm: params.algorithm, ...(encryptedKeyMaterial === undefined ? {} : { encryptedKeyMaterial }) };
    return this.#tracked('registry_create_dek', () => this.#registry.createDek(kek.name, request));
  }

  #getDek(kekName: string, subject: string, version: number, algorithm: DekAlgorithm, deleted: boolean): Promise<Dek | null> {
    return this.#tracked('registry_get_dek', () => this.#registry.getDek(kekName, subject, version, algorithm, deleted));
  }

  /** Drops every cached KEK, DEK cipher and latest pointer (e.g. after a KEK was rotated by an operator). */
  clear(): void {
    this.#ciphers.clear();
    this.#latest.clear();
    this.#keks.clear();
    this.#checkedKeks.clear();
  }
}
