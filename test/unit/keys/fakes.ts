/**
 * Test doubles at the keys/ boundary: an in-memory DEK Registry with Confluent's semantics (404 -> null,
 * 409 on any duplicate create, 422 when a non-shared KEK gets a DEK without encryptedKeyMaterial,
 * version -1 = latest, soft-deleted DEKs visible only with deleted=true, shared KEKs get registry-made
 * key material) and a KMS registry that counts calls around real drivers.
 */
import { newDekMaterial } from '../../../src/crypto/dek-proto.js';
import type { KmsDriver, KmsDriverRegistry, KmsProps } from '../../../src/kms/kms-driver.js';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import type { CreateDekRequest, CreateKekRequest, Dek, DekAlgorithm, DekRegistryApi, Kek } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';

export const SECRET = 'mysecret';

export interface GetDekCall {
  kekName: string;
  subject: string;
  version: number;
  algorithm: DekAlgorithm;
  deleted: boolean | undefined;
}

type Hook = (method: string, args: unknown[]) => Promise<void> | void;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeDekRegistry implements DekRegistryApi {
  readonly keks = new Map<string, Kek>();
  readonly deks = new Map<string, Dek>();
  readonly getDekCalls: GetDekCall[] = [];
  readonly createDekRequests: Array<{ kekName: string; request: CreateDekRequest }> = [];
  readonly calls: Record<string, number> = { getKek: 0, createKek: 0, getDek: 0, createDek: 0 };
  conflicts = 0;
  /** Runs before each call (after the call is counted): delay, fail, or inspect. */
  hook: Hook | undefined;
  readonly #kms = new LocalKmsDriver({ secret: SECRET });

  constructor(private readonly clock: () => number = Date.now) {}

  static dekKey(kekName: string, subject: string, algorithm: DekAlgorithm, version: number): string {
    return `${kekName}|${subject}|${algorithm}|${version}`;
  }

  async getKek(name: string, deleted?: boolean): Promise<Kek | null> {
    this.calls['getKek']! += 1;
    await tick();
    await this.hook?.('getKek', [name, deleted]);
    const kek = this.keks.get(name);
    if (kek === undefined || (kek.deleted === true && deleted !== true)) return null;
    return { ...kek };
  }

  async createKek(request: CreateKekRequest): Promise<Kek> {
    this.calls['createKek']! += 1;
    await tick();
    await this.hook?.('createKek', [request]);
    if (this.keks.has(request.name)) {
      this.conflicts++;
      throw new RecryptError('REGISTRY_CONFLICT', `KEK ${request.name} already exists`);
    }
    const kek: Kek = { ...request, shared: request.shared ?? false, ts: this.clock(), deleted: false };
    this.keks.set(request.name, kek);
    return { ...kek };
  }

  async getDek(kekName: string, subject: string, version: number, algorithm: DekAlgorithm, deleted?: boolean): Promise<Dek | null> {
    this.calls['getDek']! += 1;
    this.getDekCalls.push({ kekName, subject, version, algorithm, deleted });
    await tick();
    await this.hook?.('getDek', [kekName, subject, version, algorithm, deleted]);
    const visible = (d: Dek | undefined): d is Dek => d !== undefined && (d.deleted !== true || deleted === true);
    if (version === -1) {
      let best: Dek | undefined;
      for (const d of this.deks.values()) {
        if (d.kekName === kekName && d.subject === subject && d.algorithm === algorithm && visible(d)) {
          if (best === undefined || d.version > best.version) best = d;
        }
      }
      return best === undefined ? null : { ...best };
    }
    const d = this.deks.get(FakeDekRegistry.dekKey(kekName, subject, algorithm, version));
    return visible(d) ? { ...d } : null;
  }

  async createDek(kekName: string, request: CreateDekRequest): Promise<Dek> {
    this.calls['createDek']! += 1;
    this.createDekRequests.push({ kekName, request: { ...request } });
    await tick();
    await this.hook?.('createDek', [kekName, request]);
    const kek = this.keks.get(kekName);
    if (kek === undefined) throw new RecryptError('REGISTRY_NOT_FOUND', `KEK ${kekName} not found`);
    const algorithm = request.algorithm ?? 'AES256_GCM';
    const version = request.version ?? 1;
    const key = FakeDekRegistry.dekKey(kekName, request.subject, algorithm, version);
    if (this.deks.has(key)) {
      this.conflicts++;
      throw new RecryptError('REGISTRY_CONFLICT', 'DEK already exists');
    }
    let encryptedKeyMaterial = request.encryptedKeyMaterial;
    let keyMaterial: string | undefined;
    if (kek.shared) {
      if (encryptedKeyMaterial === undefined) {
        const material = newDekMaterial(algorithm);
        keyMaterial = material.toString('base64');
        encryptedKeyMaterial = Buffer.from(await this.#kms.wrap(kek.kmsKeyId, material, {})).toString('base64');
      }
    } else if (encryptedKeyMaterial === undefined) {
      throw new RecryptError('REGISTRY_INVALID', 'a non-shared KEK needs encryptedKeyMaterial (422)');
    }
    const dek: Dek = { kekName, subject: request.subject, version, algorithm, encryptedKeyMaterial, ts: this.clock(), deleted: false };
    this.deks.set(key, { ...dek, ...(keyMaterial === undefined ? {} : { keyMaterial }) });
    return { ...dek, ...(keyMaterial === undefined ? {} : { keyMaterial }) };
  }

  /** Test helper: store a DEK as another client would have. */
  put(dek: Dek): void {
    this.deks.set(FakeDekRegistry.dekKey(dek.kekName, dek.subject, dek.algorithm, dek.version), { ...dek });
  }

  softDelete(kekName: string, subject: string, algorithm: DekAlgorithm, version: number): void {
    const d = this.deks.get(FakeDekRegistry.dekKey(kekName, subject, algorithm, version));
    if (d) d.deleted = true;
  }
}

export interface KmsCall {
  op: 'wrap' | 'unwrap';
  kmsType: string;
  keyId: string;
}

/** Wraps drivers and counts every call. `failKeyIds` make a key id fail with `failWith`. */
export class CountingKms implements KmsDriverRegistry {
  readonly calls: KmsCall[] = [];
  readonly failKeyIds = new Set<string>();
  failWith: () => Error = () => new RecryptError('KMS_UNAVAILABLE', 'simulated outage');
  /** Runs before each unwrap (e.g. to delay). */
  beforeUnwrap: (() => Promise<void>) | undefined;
  readonly #drivers = new Map<string, KmsDriver>();

  constructor(drivers: KmsDriver[] = [new LocalKmsDriver({ secret: SECRET })]) {
    for (const d of drivers) this.#drivers.set(d.kmsType, d);
  }

  count(op: 'wrap' | 'unwrap'): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  get(kmsType: string): KmsDriver {
    const driver = this.#drivers.get(kmsType);
    if (driver === undefined) throw new RecryptError('KMS_UNSUPPORTED_TYPE', `no driver for ${kmsType}`);
    return {
      kmsType,
      wrap: async (keyId: string, plaintext: Uint8Array, props: KmsProps) => {
        this.calls.push({ op: 'wrap', kmsType, keyId });
        if (this.failKeyIds.has(keyId)) throw this.failWith();
        return driver.wrap(keyId, plaintext, props);
      },
      unwrap: async (keyId: string, ciphertext: Uint8Array, props: KmsProps) => {
        this.calls.push({ op: 'unwrap', kmsType, keyId });
        await this.beforeUnwrap?.();
        if (this.failKeyIds.has(keyId)) throw this.failWith();
        return driver.unwrap(keyId, ciphertext, props);
      },
    };
  }
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class ManualClock {
  constructor(public now = Date.UTC(2024, 0, 1)) {}
  readonly fn = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}
