/**
 * The parameters of an ENCRYPT (field) or ENCRYPT_PAYLOAD (encoding) rule (CSFLE-NOTES sections 3-5).
 * Each parameter comes from the rule's `params`, else from the schema's `metadata.properties` (the
 * Confluent clients' RuleContext.getParameter: a key present in params wins even when empty).
 */
import type { DekAlgorithm, Rule, SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';

export const ENCRYPT_KEK_NAME = 'encrypt.kek.name';
export const ENCRYPT_KMS_TYPE = 'encrypt.kms.type';
export const ENCRYPT_KMS_KEY_ID = 'encrypt.kms.key.id';
export const ENCRYPT_DEK_ALGORITHM = 'encrypt.dek.algorithm';
export const ENCRYPT_DEK_EXPIRY_DAYS = 'encrypt.dek.expiry.days';
export const ENCRYPT_ALTERNATE_KMS_KEY_IDS = 'encrypt.alternate.kms.key.ids';

export const ENCRYPT_RULE_TYPES: ReadonlySet<string> = new Set(['ENCRYPT', 'ENCRYPT_PAYLOAD']);
export const DEK_ALGORITHMS: readonly DekAlgorithm[] = ['AES128_GCM', 'AES256_GCM', 'AES256_SIV'];
export const DEFAULT_DEK_ALGORITHM: DekAlgorithm = 'AES256_GCM';
/** Upper bound on expiry days, only to reject nonsense (about 270 years). */
const MAX_EXPIRY_DAYS = 100_000;

export interface EncryptionParams {
  readonly kekName: string;
  /** Needed (with kmsKeyId) to auto-register the KEK; when set, must equal the registered KEK's. */
  readonly kmsType: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly algorithm: DekAlgorithm;
  /** 0: one DEK (version 1), no version prefix. N > 0: rotate after N days, version-prefixed ciphertext. */
  readonly expiryDays: number;
  /** Tried in order after the primary key id when the KMS fails; empty when none. */
  readonly alternateKmsKeyIds: readonly string[];
}

/** Rule params first, then the schema's metadata.properties; undefined when neither has the key. */
export function ruleParameter(rule: Rule, schema: Pick<SchemaInfo, 'metadata'> | undefined, name: string): string | undefined {
  const own = rule.params?.[name];
  if (own !== undefined && own !== null) return own;
  const prop = schema?.metadata?.properties?.[name];
  if (prop !== undefined && prop !== null) return prop;
  return undefined;
}

function invalid(rule: Rule, message: string): RecryptError {
  return new RecryptError('RULE_INVALID', `rule ${rule.name}: ${message}`);
}

function optional(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  return v === '' ? undefined : v;
}

/** Parses a comma separated key id list: trimmed, empties dropped. */
export function parseKeyIdList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Resolves and validates the encryption parameters of an ENCRYPT or ENCRYPT_PAYLOAD rule against the
 * schema that carries it. Returns a frozen object. Throws RecryptError RULE_INVALID.
 */
export function resolveEncryptionParams(rule: Rule, schema: Pick<SchemaInfo, 'metadata'> | undefined): EncryptionParams {
  if (rule.type === undefined || !ENCRYPT_RULE_TYPES.has(rule.type)) {
    throw invalid(rule, 'not an ENCRYPT or ENCRYPT_PAYLOAD rule');
  }
  const get = (name: string): string | undefined => ruleParameter(rule, schema, name);

  const kekName = get(ENCRYPT_KEK_NAME);
  if (kekName === undefined) throw invalid(rule, `${ENCRYPT_KEK_NAME} is required`);
  if (kekName.trim() === '') throw invalid(rule, `${ENCRYPT_KEK_NAME} is empty`);

  const algorithmRaw = get(ENCRYPT_DEK_ALGORITHM);
  let algorithm = DEFAULT_DEK_ALGORITHM;
  if (algorithmRaw !== undefined) {
    const a = algorithmRaw.trim();
    if (!(DEK_ALGORITHMS as readonly string[]).includes(a)) {
      throw invalid(rule, `${ENCRYPT_DEK_ALGORITHM} must be one of ${DEK_ALGORITHMS.join(', ')}`);
    }
    algorithm = a as DekAlgorithm;
  }

  const expiryRaw = get(ENCRYPT_DEK_EXPIRY_DAYS);
  let expiryDays = 0;
  if (expiryRaw !== undefined) {
    const e = expiryRaw.trim();
    if (!/^[0-9]+$/.test(e) || Number(e) > MAX_EXPIRY_DAYS) {
      throw invalid(rule, `${ENCRYPT_DEK_EXPIRY_DAYS} must be a whole number of days >= 0`);
    }
    expiryDays = Number(e);
  }

  return Object.freeze({
    kekName,
    kmsType: optional(get(ENCRYPT_KMS_TYPE)),
    kmsKeyId: optional(get(ENCRYPT_KMS_KEY_ID)),
    algorithm,
    expiryDays,
    alternateKmsKeyIds: Object.freeze(parseKeyIdList(get(ENCRYPT_ALTERNATE_KMS_KEY_IDS))),
  });
}
