/**
 * What a DEK Registry request may carry, checked as Confluent's DekRegistryResource checks it: KEK and
 * DEK names, subjects, algorithms, versions, and the bodies of the write requests. Every failure is the
 * ApiError Confluent answers with (422/42271 for a bad or missing field); nothing here reads the store.
 */
import type { DekAlgorithm } from '../registry/types.js';
import { ApiError, invalidKey, MAX_VERSION } from './http.js';
import { dekKey } from './store.js';

export const ALGORITHMS: readonly DekAlgorithm[] = ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'];
export const DEFAULT_ALGORITHM: DekAlgorithm = 'AES256_GCM';
const NAME_MAX_LENGTH = 64;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

// Confluent's checkName: a letter or '_' first, then letters, digits, '_' or '-'; at most 64 chars.
export function checkName(name: string): void {
  if (name.length === 0 || name.length > NAME_MAX_LENGTH || !/^[\p{L}_][\p{L}\p{Nd}_-]*$/u.test(name)) throw invalidKey('name');
}

export function checkSubject(subject: unknown): asserts subject is string {
  // eslint-disable-next-line no-control-regex
  if (typeof subject !== 'string' || subject === '' || /[\u0000-\u001f\u007f-\u009f]/.test(subject)) throw invalidKey('subject');
}

/**
 * Query `algorithm`: absent means AES256_GCM. An unknown value fails like JAX-RS enum conversion
 * in Confluent's server (404, error_code 404).
 */
export function algorithmParam(query: URLSearchParams): DekAlgorithm {
  const raw = query.get('algorithm');
  if (raw === null || raw === '') return DEFAULT_ALGORITHM;
  if ((ALGORITHMS as readonly string[]).includes(raw)) return raw as DekAlgorithm;
  throw new ApiError(404, 404, `HTTP 404 Not Found: unknown algorithm`);
}

export function isStringMap(v: unknown): v is Record<string, string> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

export function normalizeKmsType(kmsType: string): string {
  const t = kmsType.toLowerCase();
  if (t.startsWith('aws')) return 'aws-kms';
  if (t.startsWith('azure')) return 'azure-kms';
  if (t.startsWith('gcp')) return 'gcp-kms';
  return kmsType;
}

/** POST /keks. */
export interface KekCreate {
  readonly name: string;
  readonly kmsType: string;
  readonly kmsKeyId: string;
  readonly kmsProps: Record<string, string>;
  readonly doc: string | undefined;
  readonly shared: boolean;
  readonly deleted: boolean;
}

export function readKekCreate(body: Record<string, unknown>): KekCreate {
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
  return {
    name, kmsType, kmsKeyId, kmsProps,
    doc: typeof doc === 'string' ? doc : undefined,
    shared: body['shared'] === true,
    deleted: body['deleted'] === true,
  };
}

/** PUT /keks/{name}: the fields given (null or absent: unchanged). */
export interface KekUpdate {
  readonly kmsProps: Record<string, string> | undefined;
  readonly doc: string | undefined;
  readonly shared: boolean | undefined;
}

export function readKekUpdate(body: Record<string, unknown>): KekUpdate {
  const kmsProps = body['kmsProps'];
  if (kmsProps !== undefined && kmsProps !== null && !isStringMap(kmsProps)) throw invalidKey('kmsProps');
  const doc = body['doc'];
  if (doc !== undefined && doc !== null && typeof doc !== 'string') throw invalidKey('doc');
  const shared = body['shared'];
  if (shared !== undefined && shared !== null && typeof shared !== 'boolean') throw invalidKey('shared');
  return {
    kmsProps: isStringMap(kmsProps) ? kmsProps : undefined,
    doc: typeof doc === 'string' ? doc : undefined,
    shared: typeof shared === 'boolean' ? shared : undefined,
  };
}

/** POST /keks/{name}/deks[/{subject}]. */
export interface DekCreate {
  readonly subject: string;
  readonly algorithm: DekAlgorithm;
  readonly version: number;
  /** Absent or empty: the registry generates the DEK (shared KEKs only). */
  readonly encryptedKeyMaterial: string | undefined;
  readonly deleted: boolean;
}

export function readDekCreate(body: Record<string, unknown>, pathSubject: string | undefined): DekCreate {
  const subject = pathSubject ?? body['subject'];
  checkSubject(subject);
  const algorithmRaw = body['algorithm'] ?? DEFAULT_ALGORITHM;
  if (typeof algorithmRaw !== 'string' || !(ALGORITHMS as readonly string[]).includes(algorithmRaw)) throw invalidKey('algorithm');
  const versionRaw = body['version'] ?? 1;
  if (!Number.isInteger(versionRaw) || (versionRaw as number) < 1 || (versionRaw as number) > MAX_VERSION) throw invalidKey('version');
  const material = body['encryptedKeyMaterial'];
  if (material !== undefined && material !== null && (typeof material !== 'string' || !BASE64.test(material))) {
    throw invalidKey('encryptedKeyMaterial');
  }
  return {
    subject,
    algorithm: algorithmRaw as DekAlgorithm,
    version: versionRaw as number,
    encryptedKeyMaterial: typeof material === 'string' && material !== '' ? material : undefined,
    deleted: body['deleted'] === true,
  };
}

/** POST /keks/{name}/x-recrypt-rekey (dev-registry-only, see dek-api.ts). */
export interface Rekey {
  readonly kmsType: string;
  readonly kmsKeyId: string;
  readonly kmsProps: Record<string, string> | undefined;
  /** The re-wrapped material of every DEK of the KEK, by dekKey. */
  readonly wanted: ReadonlyMap<string, string>;
}

export function readRekey(name: string, body: Record<string, unknown>): Rekey {
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
    if (typeof material !== 'string' || material === '' || !BASE64.test(material)) throw invalidKey('encryptedKeyMaterial');
    wanted.set(dekKey(name, e['subject'], algorithm, version as number), material);
  }
  return { kmsType, kmsKeyId, kmsProps: isStringMap(kmsProps) ? kmsProps : undefined, wanted };
}
