/**
 * DEK Registry REST client (`/dek-registry/v1`, shared/CSFLE-NOTES.md sections 5 and 6), implementing
 * DekRegistryApi plus the calls the tooling needs (listing, updating, deleting, undeleting).
 *
 * No caching here: keys/ owns the KEK and DEK caches, their TTLs and single-flight. DEK responses may
 * carry `keyMaterial` (plaintext DEK bytes for shared KEKs): never log a Dek.
 */
import { RegistryHttpClient, seg, type RegistryHttpOptions } from './http-client.js';
import { isRegistryError } from './registry-error.js';
import type { CreateDekRequest, CreateKekRequest, Dek, DekAlgorithm, DekRegistryApi, Kek } from './types.js';

const BASE = '/dek-registry/v1/keks';

/** A DEK version re-wrapped under another KMS key: same DEK bytes, new encryptedKeyMaterial. */
export interface RewrappedDek {
  readonly subject: string;
  readonly version: number;
  readonly algorithm: DekAlgorithm;
  readonly encryptedKeyMaterial: string;
  /** The DEK's soft-deleted flag, kept as it is. */
  readonly deleted: boolean;
}

/** recrypt's dev-registry-only move of a KEK to another key, with every DEK re-wrapped under it. */
export interface RekeyKekRequest {
  readonly kmsType: string;
  readonly kmsKeyId: string;
  readonly kmsProps?: Record<string, string>;
  readonly deks: ReadonlyArray<Omit<RewrappedDek, 'deleted'>>;
}

export interface UpdateKekRequest {
  kmsProps?: Record<string, string>;
  doc?: string;
  shared?: boolean;
}

interface KekResponse {
  name?: string;
  kmsType?: string;
  kmsKeyId?: string;
  kmsProps?: Record<string, string>;
  doc?: string;
  shared?: boolean;
  ts?: number;
  deleted?: boolean;
}

interface DekResponse {
  kekName?: string;
  subject?: string;
  version?: number;
  algorithm?: DekAlgorithm;
  encryptedKeyMaterial?: string;
  keyMaterial?: string;
  ts?: number;
  deleted?: boolean;
}

function toKek(data: KekResponse, name: string): Kek {
  const kek: Kek = {
    name: data.name ?? name,
    kmsType: data.kmsType ?? '',
    kmsKeyId: data.kmsKeyId ?? '',
    shared: data.shared === true,
  };
  if (data.kmsProps !== undefined && data.kmsProps !== null) kek.kmsProps = data.kmsProps;
  if (data.doc !== undefined && data.doc !== null) kek.doc = data.doc;
  if (typeof data.ts === 'number') kek.ts = data.ts;
  if (data.deleted !== undefined) kek.deleted = data.deleted === true;
  return kek;
}

function toDek(data: DekResponse, kekName: string, subject: string, algorithm: DekAlgorithm): Dek {
  const dek: Dek = {
    kekName: data.kekName ?? kekName,
    subject: data.subject ?? subject,
    version: data.version ?? 1,
    algorithm: data.algorithm ?? algorithm,
    ts: typeof data.ts === 'number' ? data.ts : 0,
  };
  if (typeof data.encryptedKeyMaterial === 'string' && data.encryptedKeyMaterial !== '') dek.encryptedKeyMaterial = data.encryptedKeyMaterial;
  if (typeof data.keyMaterial === 'string' && data.keyMaterial !== '') dek.keyMaterial = data.keyMaterial;
  if (data.deleted !== undefined) dek.deleted = data.deleted === true;
  return dek;
}

async function nullOn404<T>(work: Promise<T>): Promise<T | null> {
  try {
    return await work;
  } catch (err) {
    if (isRegistryError(err) && err.status === 404) return null;
    throw err;
  }
}

export class DekRegistryClient implements DekRegistryApi {
  readonly http: RegistryHttpClient;

  constructor(options: RegistryHttpOptions | { http: RegistryHttpClient }) {
    this.http = 'http' in options ? options.http : new RegistryHttpClient(options);
  }

  /** GET /keks: KEK names. */
  listKeks(deleted = false): Promise<string[]> {
    return this.http.request<string[]>('GET', BASE, { query: { deleted } });
  }

  /**
   * GET /keks/{name}; null when not found (or soft-deleted and `deleted` is false). A `context` (`.ctx`,
   * see contextOfSubject) looks the KEK up in that Schema Registry context (`?context=`), as Confluent's clients do.
   */
  async getKek(name: string, deleted = false, context?: string): Promise<Kek | null> {
    const data = await nullOn404(this.http.request<KekResponse>('GET', `${BASE}/${seg(name)}`, { query: { deleted, context } }));
    return data === null ? null : toKek(data, name);
  }

  /** POST /keks (`?context=` as for getKek). Throws REGISTRY_CONFLICT (409, error_code 40971) when it exists, even if identical. */
  async createKek(request: CreateKekRequest, context?: string): Promise<Kek> {
    const body: CreateKekRequest = { name: request.name, kmsType: request.kmsType, kmsKeyId: request.kmsKeyId, shared: request.shared === true };
    if (request.kmsProps !== undefined) body.kmsProps = request.kmsProps;
    if (request.doc !== undefined) body.doc = request.doc;
    const data = await this.http.request<KekResponse>('POST', BASE, { body, query: { context } });
    return toKek(data, request.name);
  }

  /** PUT /keks/{name}: changes kmsProps, doc or shared. */
  async updateKek(name: string, update: UpdateKekRequest): Promise<Kek> {
    const data = await this.http.request<KekResponse>('PUT', `${BASE}/${seg(name)}`, { body: update });
    return toKek(data, name);
  }

  /** DELETE /keks/{name}: soft delete, or permanent (which needs a soft delete first). */
  async deleteKek(name: string, permanent = false): Promise<void> {
    await this.http.request<unknown>('DELETE', `${BASE}/${seg(name)}`, { query: { permanent } });
  }

  /** POST /keks/{name}/undelete */
  async undeleteKek(name: string): Promise<void> {
    await this.http.request<unknown>('POST', `${BASE}/${seg(name)}/undelete`);
  }

  /** GET /keks/{name}/deks: the subjects that have DEKs under this KEK. */
  listDekSubjects(kekName: string, deleted = false): Promise<string[]> {
    return this.http.request<string[]>('GET', `${BASE}/${seg(kekName)}/deks`, { query: { deleted } });
  }

  /** GET /keks/{name}/deks/{subject}/versions */
  listDekVersions(kekName: string, subject: string, algorithm?: DekAlgorithm, deleted = false): Promise<number[]> {
    return this.http.request<number[]>('GET', `${BASE}/${seg(kekName)}/deks/${seg(subject)}/versions`, {
      query: { algorithm, deleted },
    });
  }

  /** GET /keks/{name}/deks/{subject}/versions/{v} (-1 = latest); null when the KEK or DEK is not found. */
  async getDek(kekName: string, subject: string, version: number, algorithm: DekAlgorithm, deleted = false): Promise<Dek | null> {
    const path = `${BASE}/${seg(kekName)}/deks/${seg(subject)}/versions/${seg(version)}`;
    const data = await nullOn404(this.http.request<DekResponse>('GET', path, { query: { algorithm, deleted } }));
    return data === null ? null : toDek(data, kekName, subject, algorithm);
  }

  /**
   * POST /keks/{name}/deks/{subject} (falling back to /keks/{name}/deks on 405, for older
   * registries). Throws REGISTRY_CONFLICT (409) when that version exists. Without
   * encryptedKeyMaterial only a shared KEK works: the registry generates the DEK.
   */
  async createDek(kekName: string, request: CreateDekRequest): Promise<Dek> {
    const algorithm = request.algorithm ?? 'AES256_GCM';
    const body: CreateDekRequest = { subject: request.subject, version: request.version ?? 1, algorithm };
    if (request.encryptedKeyMaterial !== undefined) body.encryptedKeyMaterial = request.encryptedKeyMaterial;
    let data: DekResponse;
    try {
      data = await this.http.request<DekResponse>('POST', `${BASE}/${seg(kekName)}/deks/${seg(request.subject)}`, { body });
    } catch (err) {
      if (!(isRegistryError(err) && err.status === 405)) throw err;
      data = await this.http.request<DekResponse>('POST', `${BASE}/${seg(kekName)}/deks`, { body });
    }
    return toDek(data, kekName, request.subject, algorithm);
  }

  /**
   * POST /keks/{name}/deks/{subject}?rewrap=true (Confluent's RewrapDeks tool): replaces the
   * encryptedKeyMaterial of an existing DEK version, keeping its deleted flag. The answer is not used:
   * callers read the DEK back to see what was stored.
   */
  async rewrapDek(kekName: string, dek: RewrappedDek): Promise<void> {
    const { subject, version, algorithm, encryptedKeyMaterial, deleted } = dek;
    await this.http.request<unknown>('POST', `${BASE}/${seg(kekName)}/deks/${seg(subject)}`, {
      query: { rewrap: true },
      body: { subject, version, algorithm, encryptedKeyMaterial, deleted },
    });
  }

  /**
   * POST /keks/{name}/x-recrypt-rekey: recrypt's dev registry only (Confluent's cannot change a KEK's
   * kmsType or kmsKeyId): writes every given DEK and then the KEK record in one atomic commit. Other
   * registries answer 404 or 405.
   */
  async rekeyKek(name: string, request: RekeyKekRequest): Promise<void> {
    const { kmsType, kmsKeyId, kmsProps, deks } = request;
    await this.http.request<unknown>('POST', `${BASE}/${seg(name)}/x-recrypt-rekey`, {
      body: { kmsType, kmsKeyId, ...(kmsProps ? { kmsProps } : {}), deks },
    });
  }

  /** DELETE /keks/{name}/deks/{subject}: every version of the DEK. */
  async deleteDek(kekName: string, subject: string, algorithm?: DekAlgorithm, permanent = false): Promise<void> {
    await this.http.request<unknown>('DELETE', `${BASE}/${seg(kekName)}/deks/${seg(subject)}`, { query: { algorithm, permanent } });
  }

  /** DELETE /keks/{name}/deks/{subject}/versions/{v} */
  async deleteDekVersion(kekName: string, subject: string, version: number, algorithm?: DekAlgorithm, permanent = false): Promise<void> {
    await this.http.request<unknown>('DELETE', `${BASE}/${seg(kekName)}/deks/${seg(subject)}/versions/${seg(version)}`, {
      query: { algorithm, permanent },
    });
  }

  /** POST /keks/{name}/deks/{subject}/undelete */
  async undeleteDek(kekName: string, subject: string, algorithm?: DekAlgorithm): Promise<void> {
    await this.http.request<unknown>('POST', `${BASE}/${seg(kekName)}/deks/${seg(subject)}/undelete`, { query: { algorithm } });
  }

  /** POST /keks/{name}/deks/{subject}/versions/{v}/undelete */
  async undeleteDekVersion(kekName: string, subject: string, version: number, algorithm?: DekAlgorithm): Promise<void> {
    await this.http.request<unknown>('POST', `${BASE}/${seg(kekName)}/deks/${seg(subject)}/versions/${seg(version)}/undelete`, {
      query: { algorithm },
    });
  }
}
