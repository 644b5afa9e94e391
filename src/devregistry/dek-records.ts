/**
 * The DEK Registry's records as its endpoints read them: KEKs and DEK versions looked up in the store
 * (soft-deleted ones only when asked for), and the bodies returned for them. For a shared KEK a DEK's
 * body carries its plaintext `keyMaterial`, unwrapped through the KMS on every read as Confluent's
 * server does: plaintext DEKs are never stored.
 */
import type { KmsDriver } from '../kms/kms-driver.js';
import type { DekAlgorithm } from '../registry/types.js';
import { ApiError, dekGenerationFailed, keyNotFound } from './http.js';
import { checkName } from './dek-requests.js';
import { plainKekName } from './kek-context.js';
import { dekKey, type DekRecord, type KekRecord, type Store } from './store.js';

/** How the dev registry reaches a KMS: a driver per kms type. */
export interface KmsLookup {
  get(kmsType: string): KmsDriver;
}

export function kekBody(kek: KekRecord): Record<string, unknown> {
  return {
    name: plainKekName(kek.name),
    kmsType: kek.kmsType,
    kmsKeyId: kek.kmsKeyId,
    kmsProps: kek.kmsProps,
    ...(kek.doc === undefined ? {} : { doc: kek.doc }),
    shared: kek.shared,
    ts: kek.ts,
    deleted: kek.deleted,
  };
}

export function sameKek(a: KekRecord, b: KekRecord): boolean {
  return (
    a.kmsType === b.kmsType &&
    a.kmsKeyId === b.kmsKeyId &&
    JSON.stringify(Object.entries(a.kmsProps).sort()) === JSON.stringify(Object.entries(b.kmsProps).sort()) &&
    (a.doc ?? null) === (b.doc ?? null) &&
    a.shared === b.shared
  );
}

export class DekRecords {
  constructor(private readonly store: Store, private readonly kms: KmsLookup) {}

  kek(name: string, deleted: boolean): KekRecord | undefined {
    const k = this.store.keks.get(name);
    return k !== undefined && (!k.deleted || deleted) ? k : undefined;
  }

  /** The KEK by store name (kek-context.ts), else 404/40470 (a bad name: 422/42271). */
  requireKek(name: string, deleted: boolean): KekRecord {
    checkName(plainKekName(name));
    const k = this.kek(name, deleted);
    if (k === undefined) throw keyNotFound(name);
    return k;
  }

  /** Versions of one DEK, ascending. */
  dekVersions(kekName: string, subject: string, algorithm: DekAlgorithm, deleted: boolean): DekRecord[] {
    const out: DekRecord[] = [];
    for (const d of this.store.deks.values()) {
      if (d.kekName === kekName && d.subject === subject && d.algorithm === algorithm && (!d.deleted || deleted)) out.push(d);
    }
    return out.sort((a, b) => a.version - b.version);
  }

  findDek(kekName: string, subject: string, algorithm: DekAlgorithm, version: number | 'latest', deleted: boolean): DekRecord | undefined {
    if (version === 'latest') return this.dekVersions(kekName, subject, algorithm, deleted).pop();
    const d = this.store.deks.get(dekKey(kekName, subject, algorithm, version));
    return d !== undefined && (!d.deleted || deleted) ? d : undefined;
  }

  /** The KMS driver of the KEK's kms type, else 500/50070. */
  driverFor(k: KekRecord): KmsDriver {
    try {
      return this.kms.get(k.kmsType);
    } catch {
      throw dekGenerationFailed(`no KMS driver for kms type ${k.kmsType}`);
    }
  }

  /** The DEK as returned: for a shared KEK with its plaintext `keyMaterial`, unwrapped through the KMS. */
  async dekBody(d: DekRecord, k: KekRecord): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = {
      kekName: plainKekName(d.kekName),
      subject: d.subject,
      version: d.version,
      algorithm: d.algorithm,
      encryptedKeyMaterial: d.encryptedKeyMaterial,
      ts: d.ts,
      deleted: d.deleted,
    };
    if (k.shared) {
      try {
        const raw = await this.driverFor(k).unwrap(k.kmsKeyId, Buffer.from(d.encryptedKeyMaterial, 'base64'), k.kmsProps);
        body['keyMaterial'] = Buffer.from(raw).toString('base64');
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw dekGenerationFailed('the KMS could not unwrap the DEK');
      }
    }
    return body;
  }
}
