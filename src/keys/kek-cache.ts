/**
 * The KEKs a DekManager has seen: fetched from the DEK Registry (or registered from a rule that names
 * kmsType and kmsKeyId), cached for the TTL, one fetch per KEK at a time (single-flight), and checked
 * against every rule that names them: a rule whose kms type or key id differs from the registered
 * KEK's is KEK_MISMATCH (Confluent's clients refuse it too). A KEK's kms type and key id never change
 * in the registry, so a KEK seen once can be checked synchronously on the hot path.
 */
import type { DekRegistryApi, Kek } from '../registry/types.js';
import type { EncryptionParams } from '../rules/encryption-params.js';
import { isRecryptError, RecryptError } from '../util/errors.js';
import { SingleFlight } from '../util/single-flight.js';
import type { TrackedCall } from './hooks.js';

export interface KekCacheOptions {
  readonly registry: Pick<DekRegistryApi, 'getKek' | 'createKek'>;
  readonly now: () => number;
  /** How long a cached KEK is trusted before it is fetched again. */
  readonly ttlMs: number;
  readonly tracked: TrackedCall;
}

interface CachedKek {
  readonly kek: Kek;
  readonly fetchedAt: number;
}

/** KEK_MISMATCH when the rule names another kms type or key id than the registered KEK's. */
export function assertKekMatchesRule(kek: Kek, params: EncryptionParams): void {
  if (params.kmsType !== undefined && params.kmsType !== kek.kmsType) {
    throw new RecryptError(
      'KEK_MISMATCH',
      `KEK ${kek.name} is registered with kms type ${kek.kmsType}, the rule says ${params.kmsType}`,
    );
  }
  if (params.kmsKeyId !== undefined && params.kmsKeyId !== kek.kmsKeyId) {
    throw new RecryptError('KEK_MISMATCH', `KEK ${kek.name} is registered with a different kms key id than the rule's`);
  }
}

export class KekCache {
  readonly #options: KekCacheOptions;
  readonly #keks = new Map<string, CachedKek>();
  readonly #flights = new SingleFlight<string, Kek>();

  constructor(options: KekCacheOptions) {
    this.#options = options;
  }

  /**
   * The registered KEK for `params.kekName`. When missing and `create` is set and the rule names
   * kmsType and kmsKeyId, registers it (non-shared); a 409 means another writer won: fetch theirs.
   * KEK_NOT_FOUND when missing and not creatable; KEK_MISMATCH when the rule's kmsType / kmsKeyId
   * differ from the registered KEK's.
   */
  async getOrCreate(params: EncryptionParams, options: { create: boolean }): Promise<Kek> {
    const cached = this.#keks.get(params.kekName);
    if (cached !== undefined && this.#options.now() - cached.fetchedAt < this.#options.ttlMs) {
      assertKekMatchesRule(cached.kek, params);
      return cached.kek;
    }
    const flightKey = `${options.create ? 'c' : 'g'}\u0000${params.kekName}`;
    const kek = await this.#flights.run(flightKey, () => this.#load(params, options.create));
    assertKekMatchesRule(kek, params);
    return kek;
  }

  /** The registry's KEK (not soft-deleted), fetched and counted, not cached. */
  fetch(name: string): Promise<Kek | null> {
    return this.#options.tracked('registry_get_kek', () => this.#options.registry.getKek(name, false));
  }

  /** KEK_MISMATCH when a KEK seen before differs from the rule's kms type / key id. */
  assertMatchesSeen(params: EncryptionParams): void {
    const cached = this.#keks.get(params.kekName);
    if (cached !== undefined) assertKekMatchesRule(cached.kek, params);
  }

  /** Synchronous: a KEK was seen before and matches the rule's kms type / key id. */
  matchesSeen(params: EncryptionParams): boolean {
    const cached = this.#keks.get(params.kekName);
    if (cached === undefined) return false;
    return (
      (params.kmsType === undefined || params.kmsType === cached.kek.kmsType) &&
      (params.kmsKeyId === undefined || params.kmsKeyId === cached.kek.kmsKeyId)
    );
  }

  clear(): void {
    this.#keks.clear();
  }

  async #load(params: EncryptionParams, create: boolean): Promise<Kek> {
    const name = params.kekName;
    let kek = await this.fetch(name);
    if (kek === null) {
      if (!create) {
        throw new RecryptError('KEK_NOT_FOUND', `KEK ${name} is not registered`);
      }
      if (params.kmsType === undefined || params.kmsKeyId === undefined) {
        throw new RecryptError(
          'KEK_NOT_FOUND',
          `KEK ${name} is not registered and the rule lacks encrypt.kms.type / encrypt.kms.key.id to register it`,
        );
      }
      const request = { name, kmsType: params.kmsType, kmsKeyId: params.kmsKeyId, shared: false };
      try {
        kek = await this.#options.tracked('registry_create_kek', () => this.#options.registry.createKek(request));
      } catch (err) {
        if (!(isRecryptError(err) && err.code === 'REGISTRY_CONFLICT')) throw err;
        kek = await this.fetch(name);
        if (kek === null) {
          throw new RecryptError('KEK_NOT_FOUND', `KEK ${name} conflicted on create but cannot be fetched (soft-deleted?)`);
        }
      }
    }
    this.#keks.set(name, { kek, fetchedAt: this.#options.now() });
    return kek;
  }
}
