/**
 * `recrypt rewrap-deks`: re-wraps every DEK of a KEK (all subjects, algorithms and versions, soft-deleted
 * ones included) under another KMS key, without touching topic data: the DEK bytes stay the same, only
 * their wrapping changes. Each DEK is unwrapped with the current key, wrapped with the new one, and the
 * new ciphertext is unwrapped again and compared to the original bytes (and parsed as a DEK of its
 * algorithm) before anything is written; after writing, the stored material is read back and compared.
 *
 * Confluent's DEK Registry has no "update DEK" and its PUT /keks/{name} cannot change kmsType or
 * kmsKeyId. Worse, every Confluent client (and recrypt) refuses a KEK whose kmsKeyId differs from an
 * `encrypt.kms.key.id` named by the rule of the record's writer schema, and existing records keep their
 * writer schema forever. So there are three modes:
 *
 * - in-place (new key id = the KEK's key id, e.g. after a key rotation inside the KMS): each DEK is
 *   re-written with Confluent's `POST .../deks/{subject}?rewrap=true`, as Confluent's RewrapDeks tool
 *   does. The KEK record is not changed.
 * - alternate (default for another key of the same kms type; Confluent compatible): the new key id is
 *   first ADDED to the KEK's `encrypt.alternate.kms.key.ids` (PUT kmsProps; additive, so every DEK stays
 *   readable throughout), then each DEK is re-written with `rewrap=true`. The KEK keeps its kmsKeyId, so
 *   rules naming it still match; every client tries the old key first and, once it is disabled, the new
 *   one. After this the old key can be disabled.
 * - switch (`--switch`, or another kms type): the KEK record itself moves to the new kmsType/kmsKeyId.
 *   Only the dev registry can do that (its dev-only `x-recrypt-rekey` endpoint writes every DEK and then
 *   the KEK in one atomic commit). Refused when a registered rule pins another kms key id or type for
 *   the KEK, since readers of records written under it would then fail.
 *
 * The KMS work on each DEK (unwrap under the current key and its alternates, wrap under the new key,
 * verify) is keys/' DekRewrapper; the registry writes are typed calls of the DEK registry client.
 *
 * A KEK that has no DEK at all (soft-deleted ones included) protects no data: this is a KEK that a run
 * registered with a mistyped key id before it could wrap anything. `--switch` corrects it even where a
 * rule pins the old key (no record can hold ciphertext under it), once the new key has wrapped and
 * unwrapped a probe: atomically on the dev registry, else (Confluent) by deleting the DEK-less KEK
 * (soft, then permanent, which Confluent allows only while no DEK references it) and creating it again.
 *
 * Idempotent: a DEK that already unwraps under the new key is left as it is (an interrupted run is
 * finished by running again). Never logs or returns key material.
 */
import { describeDek, DekRewrapper, kmsPropsFor, probeKmsKey, type KmsDriverRegistry, type KmsProps } from '../keys/index.js';
import { isRegistryError, type DekRegistryClient } from '../registry/index.js';
import type { Dek, DekAlgorithm, Kek, SchemaInfo } from '../registry/types.js';
import { ENCRYPT_ALTERNATE_KMS_KEY_IDS, ENCRYPT_KEK_NAME, ENCRYPT_KMS_KEY_ID, ENCRYPT_KMS_TYPE, ENCRYPT_RULE_TYPES, parseKeyIdList, ruleParameter } from '../rules/index.js';
import { errorCodeOf, isRecryptError, isTransient, RecryptError } from '../util/errors.js';

const ALGORITHMS: readonly DekAlgorithm[] = ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'];

export type RewrapMode = 'in-place' | 'alternate' | 'switch';

export interface RewrapOptions {
  readonly dekRegistry: DekRegistryClient;
  readonly kms: KmsDriverRegistry;
  /** Base KMS props (e.g. the local-kms secret); the KEK's kmsProps override them. */
  readonly kmsProps: KmsProps;
  readonly kekName: string;
  readonly newKmsKeyId: string;
  /** Default: the KEK's kms type. */
  readonly newKmsType?: string;
  /** Move the KEK record itself (dev registry only). */
  readonly switchPrimary?: boolean;
  readonly dryRun?: boolean;
  /** Lists the schemas whose rules might pin the KEK's key (for the switch safety check). */
  readonly schemas?: SchemaLister;
  readonly onDek?: (entry: RewrapEntry) => void;
}

export interface SchemaLister {
  getAllSubjects(deleted?: boolean): Promise<string[]>;
  getAllVersions(subject: string, deleted?: boolean): Promise<number[]>;
  getVersion(subject: string, version: number, deleted?: boolean): Promise<SchemaInfo>;
}

export interface RewrapEntry {
  readonly subject: string;
  readonly algorithm: DekAlgorithm;
  readonly version: number;
  readonly deleted: boolean;
  status: 'rewrapped' | 'would-rewrap' | 'already-new-key' | 'failed';
  error?: string;
}

export interface RewrapResult {
  readonly kek: string;
  readonly mode: RewrapMode;
  readonly dryRun: boolean;
  readonly from: { readonly kmsType: string; readonly kmsKeyId: string };
  readonly to: { readonly kmsType: string; readonly kmsKeyId: string };
  readonly deks: readonly RewrapEntry[];
  /** What was done to the KEK record, in order. */
  readonly kekUpdates: readonly string[];
  readonly ok: boolean;
}

/** One DEK version of the KEK. */
interface DekId {
  readonly subject: string;
  readonly algorithm: DekAlgorithm;
  readonly version: number;
}

export async function rewrapDeks(options: RewrapOptions): Promise<RewrapResult> {
  const { dekRegistry, kekName, newKmsKeyId } = options;
  const kek = await dekRegistry.getKek(kekName, false);
  if (kek === null) throw new RecryptError('KEK_NOT_FOUND', `KEK ${kekName} is not registered (or is soft-deleted)`);
  if (kek.shared) throw new RecryptError('CONFIG_INVALID', `KEK ${kekName} is shared: the registry wraps its DEKs itself; rewrap-deks handles non-shared KEKs`);
  const newType = options.newKmsType ?? kek.kmsType;
  const mode: RewrapMode = newType === kek.kmsType && newKmsKeyId === kek.kmsKeyId ? 'in-place'
    : options.switchPrimary === true || newType !== kek.kmsType ? 'switch' : 'alternate';
  const dryRun = options.dryRun === true;
  const kekUpdates: string[] = [];
  // Another kms type starts from empty kmsProps: the old ones (credentials, alternates) belong to the old KMS.
  const target: Kek = { ...kek, kmsType: newType, kmsKeyId: newKmsKeyId, kmsProps: newType === kek.kmsType ? withoutAlternate(kek.kmsProps, newKmsKeyId) ?? {} : {} };

  if (mode === 'switch' && (await listDeks(dekRegistry, kekName)).length === 0) return switchDeklessKek(options, kek, target, dryRun);
  if (mode === 'switch' && options.schemas !== undefined) await assertNoPinnedRule(options.schemas, kek, target);
  if (mode === 'alternate' && !dryRun) {
    // Additive: the new key becomes a fallback before any DEK is wrapped under it.
    const alternates = parseKeyIdList(kek.kmsProps?.[ENCRYPT_ALTERNATE_KMS_KEY_IDS]);
    if (!alternates.includes(newKmsKeyId)) {
      const kmsProps = { ...(kek.kmsProps ?? {}), [ENCRYPT_ALTERNATE_KMS_KEY_IDS]: [...alternates, newKmsKeyId].join(',') };
      await dekRegistry.updateKek(kekName, { kmsProps });
      kekUpdates.push(`added the new key to ${ENCRYPT_ALTERNATE_KMS_KEY_IDS}`);
    }
  }

  const rewrapper = new DekRewrapper(options, kek, target);
  const entries: RewrapEntry[] = [];
  const pending: Array<{ entry: RewrapEntry; encryptedKeyMaterial: string }> = [];
  for (const ref of await listDeks(dekRegistry, kekName)) {
    const dek = await dekRegistry.getDek(kekName, ref.subject, ref.version, ref.algorithm, true);
    if (dek === null) continue;
    const entry: RewrapEntry = { ...ref, deleted: dek.deleted === true, status: 'failed' };
    entries.push(entry);
    try {
      const rewrapped = await rewrapper.rewrap(dek, mode === 'in-place');
      if (rewrapped === null) {
        entry.status = 'already-new-key';
        if (mode === 'switch') pending.push({ entry, encryptedKeyMaterial: dek.encryptedKeyMaterial! });
      } else if (dryRun) {
        entry.status = 'would-rewrap';
      } else if (mode === 'switch') {
        pending.push({ entry, encryptedKeyMaterial: rewrapped });
        entry.status = 'would-rewrap';
      } else {
        await writeRewrapped(dekRegistry, dek, rewrapped);
        entry.status = 'rewrapped';
      }
    } catch (err) {
      if (isTransient(err)) throw err;
      entry.status = 'failed';
      entry.error = errorCodeOf(err);
    }
    options.onDek?.(entry);
  }

  const failed = entries.some((e) => e.status === 'failed');
  if (mode === 'switch' && !dryRun && !failed) {
    // Every DEK and then the KEK record, atomically (dev registry extension).
    await switchKek(dekRegistry, target, pending.map((p) => ({ ...refOf(p.entry), encryptedKeyMaterial: p.encryptedKeyMaterial })));
    for (const p of pending) if (p.entry.status === 'would-rewrap') p.entry.status = 'rewrapped';
    kekUpdates.push('moved the KEK record to the new key (dev registry x-recrypt-rekey, one atomic commit with the DEKs)');
  }
  // Verification pass: every DEK, as stored now, unwraps under the new key to a valid DEK.
  if (!dryRun && !failed) {
    for (const ref of await listDeks(dekRegistry, kekName)) {
      const dek = await dekRegistry.getDek(kekName, ref.subject, ref.version, ref.algorithm, true);
      if (dek === null) continue;
      if (!(await rewrapper.unwrapsUnderNew(dek))) {
        const entry = entries.find((e) => e.subject === ref.subject && e.algorithm === ref.algorithm && e.version === ref.version);
        const missed: RewrapEntry = entry ?? { ...ref, deleted: dek.deleted === true, status: 'failed' };
        missed.status = 'failed';
        missed.error = entry === undefined ? 'created during the run: run rewrap-deks again' : 'does not unwrap under the new key';
        if (entry === undefined) entries.push(missed);
      }
    }
  }
  return {
    kek: kekName, mode, dryRun,
    from: { kmsType: kek.kmsType, kmsKeyId: kek.kmsKeyId },
    to: { kmsType: newType, kmsKeyId: newKmsKeyId },
    deks: entries, kekUpdates,
    ok: !entries.some((e) => e.status === 'failed'),
  };
}

/**
 * Moves a KEK without DEKs to the new key: nothing is wrapped under the old key, so no reader can be
 * left behind. The new key must first wrap and unwrap a probe (a second typo must not pass).
 */
async function switchDeklessKek(options: RewrapOptions, kek: Kek, target: Kek, dryRun: boolean): Promise<RewrapResult> {
  const { dekRegistry } = options;
  await probeKmsKey(options.kms, target, [target.kmsKeyId], kmsPropsFor(options.kmsProps, target));
  const kekUpdates = [`the new key wraps and unwraps a probe; the KEK has no DEK`];
  const pinned = options.schemas === undefined ? [] : await pinnedRules(options.schemas, kek, target);
  if (pinned.length > 0) {
    kekUpdates.push(`${pinned.length} registered rule(s) still name the old key (${pinned.slice(0, 5).join('; ')}${pinned.length > 5 ? '; ...' : ''}): `
      + 'no record holds ciphertext under this KEK; register the corrected rules (the next run of the job does) before producers use those versions');
  }
  if (dryRun) kekUpdates.push('would move the KEK record to the new key');
  else kekUpdates.push(`moved the KEK record to the new key (${await moveDeklessKek(dekRegistry, target)})`);
  return {
    kek: kek.name, mode: 'switch', dryRun,
    from: { kmsType: kek.kmsType, kmsKeyId: kek.kmsKeyId },
    to: { kmsType: target.kmsType, kmsKeyId: target.kmsKeyId },
    deks: [], kekUpdates, ok: true,
  };
}

/** The dev registry's atomic move with no DEKs; where that endpoint does not exist, delete and create. */
async function moveDeklessKek(client: DekRegistryClient, target: Kek): Promise<string> {
  try {
    await switchKek(client, target, []);
    return 'dev registry x-recrypt-rekey';
  } catch (err) {
    if (!(isRecryptError(err) && err.code === 'REGISTRY_INVALID' && isRegistryError(err.cause))) throw err;
  }
  // Confluent refuses both deletes while a DEK references the KEK: a DEK created meanwhile stops this.
  await client.deleteKek(target.name, false);
  await client.deleteKek(target.name, true);
  await client.createKek({
    name: target.name, kmsType: target.kmsType, kmsKeyId: target.kmsKeyId, shared: false,
    ...(target.kmsProps && Object.keys(target.kmsProps).length > 0 ? { kmsProps: target.kmsProps } : {}),
    ...(target.doc ? { doc: target.doc } : {}),
  });
  return 'deleted and created again: this registry cannot change a KEK\'s key id';
}

function refOf(d: DekId): DekId {
  return { subject: d.subject, algorithm: d.algorithm, version: d.version };
}

function withoutAlternate(props: Record<string, string> | undefined, keyId: string): Record<string, string> | undefined {
  if (props === undefined) return undefined;
  const alternates = parseKeyIdList(props[ENCRYPT_ALTERNATE_KMS_KEY_IDS]).filter((k) => k !== keyId);
  const out = { ...props };
  if (alternates.length > 0) out[ENCRYPT_ALTERNATE_KMS_KEY_IDS] = alternates.join(',');
  else delete out[ENCRYPT_ALTERNATE_KMS_KEY_IDS];
  return out;
}

/** Every DEK of the KEK: subjects x algorithms x versions, soft-deleted included. */
export async function listDeks(client: DekRegistryClient, kekName: string): Promise<DekId[]> {
  const out: DekId[] = [];
  for (const subject of await client.listDekSubjects(kekName, true)) {
    for (const algorithm of ALGORITHMS) {
      let versions: number[];
      try {
        versions = await client.listDekVersions(kekName, subject, algorithm, true);
      } catch (err) {
        if (isRegistryError(err) && err.status === 404) continue;
        throw err;
      }
      for (const version of versions) out.push({ subject, algorithm, version });
    }
  }
  return out;
}

/** Confluent's `POST /keks/{name}/deks/{subject}?rewrap=true`, keeping the DEK's deleted flag; read back. */
async function writeRewrapped(client: DekRegistryClient, dek: Dek, encryptedKeyMaterial: string): Promise<void> {
  const deleted = dek.deleted === true;
  await client.rewrapDek(dek.kekName, { subject: dek.subject, version: dek.version, algorithm: dek.algorithm, encryptedKeyMaterial, deleted });
  const stored = await client.getDek(dek.kekName, dek.subject, dek.version, dek.algorithm, true);
  if (stored === null || stored.encryptedKeyMaterial !== encryptedKeyMaterial) {
    throw new RecryptError('REGISTRY_INVALID', `the registry did not store the re-wrapped DEK ${describeDek(dek)} (does it support rewrap=true?)`);
  }
  if ((stored.deleted === true) !== deleted) {
    throw new RecryptError('REGISTRY_INVALID', `the registry changed the deleted flag of DEK ${describeDek(dek)}`);
  }
}

async function switchKek(client: DekRegistryClient, target: Kek, deks: Array<DekId & { encryptedKeyMaterial: string }>): Promise<void> {
  try {
    await client.rekeyKek(target.name, { kmsType: target.kmsType, kmsKeyId: target.kmsKeyId, ...(target.kmsProps ? { kmsProps: target.kmsProps } : {}), deks });
  } catch (err) {
    if (isRegistryError(err) && (err.status === 404 || err.status === 405)) {
      throw new RecryptError('REGISTRY_INVALID', 'this registry cannot move a KEK to another key (Confluent\'s cannot; only recrypt\'s dev registry can): use the alternate mode (same kms type, without --switch)', { cause: err });
    }
    throw err;
  }
}

/** Refuses a switch that would make the KEK disagree with a rule that names its kms type or key id. */
async function assertNoPinnedRule(schemas: SchemaLister, kek: Kek, target: Kek): Promise<void> {
  const pinned = await pinnedRules(schemas, kek, target);
  if (pinned.length > 0) {
    throw new RecryptError('KEK_MISMATCH',
      `cannot move KEK ${kek.name}: ${pinned.length} registered rule(s) name its current kms key (${pinned.slice(0, 5).join('; ')}${pinned.length > 5 ? '; ...' : ''}); `
      + 'readers of records written under them would refuse the moved KEK. Use the alternate mode (same kms type, without --switch)');
  }
}

/** Registered ENCRYPT rules of the KEK that name another kms type or key id than the target's. */
async function pinnedRules(schemas: SchemaLister, kek: Kek, target: Kek): Promise<string[]> {
  const pinned: string[] = [];
  for (const subject of await schemas.getAllSubjects(false)) {
    for (const version of await schemas.getAllVersions(subject, false)) {
      const schema = await schemas.getVersion(subject, version, false);
      const rules = [...(schema.ruleSet?.domainRules ?? []), ...(schema.ruleSet?.encodingRules ?? [])];
      for (const rule of rules) {
        if (rule.type === undefined || !ENCRYPT_RULE_TYPES.has(rule.type)) continue;
        if (ruleParameter(rule, schema, ENCRYPT_KEK_NAME) !== kek.name) continue;
        const keyId = ruleParameter(rule, schema, ENCRYPT_KMS_KEY_ID)?.trim();
        const type = ruleParameter(rule, schema, ENCRYPT_KMS_TYPE)?.trim();
        if ((keyId && keyId !== target.kmsKeyId) || (type && type !== target.kmsType)) pinned.push(`${subject} v${version} rule ${rule.name}`);
      }
    }
  }
  return pinned;
}
