/**
 * Proves that a KEK's KMS key exists and can wrap, before anything that names it is registered: a
 * random value is wrapped and unwrapped back through the KMS driver and compared. A KEK registered
 * with a mistyped key id cannot be changed by Confluent's registry once a DEK exists, and every rule
 * that names the right id then fails with KEK_MISMATCH; so `run` and `plan --check-kms` check first.
 *
 * The probe value is random, never logged, and wiped after use. Errors name the KEK, the kms type and
 * the key id (not secrets) and keep the driver's error code (KMS_KEY_NOT_FOUND, KMS_ACCESS_DENIED...,
 * or the transient KMS_UNAVAILABLE).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { KmsDriverRegistry, KmsProps } from '../kms/kms-driver.js';
import type { DekRegistryApi, Kek, RuleSet, SchemaInfo } from '../registry/types.js';
import { ENCRYPT_RULE_TYPES, resolveEncryptionParams, selectRules, type EncryptionParams } from '../rules/index.js';
import { isRecryptError, RecryptError } from '../util/errors.js';
import { kmsKeyIdsFor, kmsPropsFor, runWithKeyIds, type KmsAttemptHook } from './kek-kms.js';

const PROBE_BYTES = 32;

export const WRONG_KEY_RUNBOOK = 'docs/operations.md, "KEK registered with the wrong key id"';

export interface KekCheck {
  readonly kek: string;
  readonly kmsType: string;
  readonly kmsKeyId: string;
  /**
   * `registered`: the KEK exists and its key wraps; `new`: the rule's key wraps (the KEK would be
   * created); `shared`: the registry wraps, nothing to probe; `unverified`: the KEK exists and matches
   * but the KMS did not answer (transient, `code`): nothing would be registered, so the job may start
   * and meet the outage where it retries anyway.
   */
  readonly status: 'registered' | 'new' | 'shared' | 'unverified';
  readonly code?: string;
}

export interface KekCheckDeps {
  readonly dekRegistry: Pick<DekRegistryApi, 'getKek'>;
  readonly kms: KmsDriverRegistry;
  /** Base KMS props; each KEK's kmsProps override them. */
  readonly kmsProps?: KmsProps;
  readonly onAttempt?: KmsAttemptHook;
}

/**
 * Wraps and unwraps a random value with `kek` over `keyIds` (in order, as DEK creation does). Throws a
 * RecryptError with the driver's code and a message naming the KEK and key id.
 */
export async function probeKmsKey(kms: KmsDriverRegistry, kek: Kek, keyIds: readonly string[], props: KmsProps, onAttempt: KmsAttemptHook = () => undefined): Promise<void> {
  const probe = randomBytes(PROBE_BYTES);
  let back: Uint8Array | undefined;
  try {
    const wrapped = await runWithKeyIds(kms, kek, keyIds, props, 'wrap', probe, onAttempt);
    back = await runWithKeyIds(kms, kek, keyIds, props, 'unwrap', wrapped, onAttempt);
    if (back.length !== probe.length || !timingSafeEqual(back, probe)) {
      throw new RecryptError('KMS_UNWRAP_FAILED', 'the unwrapped probe differs from the wrapped one');
    }
  } catch (err) {
    const code = isRecryptError(err) ? err.code : 'INTERNAL';
    const reason = isRecryptError(err) ? err.message : 'the KMS driver failed';
    // Driver messages name the key id already; others get it added.
    const where = keyIds.every((id) => reason.includes(id)) ? '' : ` (${kek.kmsType} key ${keyIds.join(', ')})`;
    throw new RecryptError(code, `KMS check of KEK ${kek.name}${where} failed: ${reason}`, {
      ...(isRecryptError(err) ? { transient: err.transient } : {}),
    });
  } finally {
    probe.fill(0);
    back?.fill(0);
  }
}

/**
 * Checks one rule's KEK without registering anything: a registered KEK must match the rule (else
 * KEK_MISMATCH, naming both key ids and the runbook) and its keys must wrap; an unregistered one must
 * be creatable from the rule (else KEK_NOT_FOUND) and the rule's primary key id itself must wrap (an
 * alternate that works would hide a mistyped primary, which is what the KEK would be registered with).
 */
export async function checkKek(deps: KekCheckDeps, params: EncryptionParams): Promise<KekCheck> {
  const base = deps.kmsProps ?? {};
  const name = params.kekName;
  const registered = await deps.dekRegistry.getKek(name, false);
  if (registered !== null) {
    if ((params.kmsType !== undefined && params.kmsType !== registered.kmsType) || (params.kmsKeyId !== undefined && params.kmsKeyId !== registered.kmsKeyId)) {
      throw new RecryptError('KEK_MISMATCH',
        `KEK ${name} is registered with ${registered.kmsType} key ${registered.kmsKeyId}, the rule names ${params.kmsType ?? registered.kmsType} key ${params.kmsKeyId ?? registered.kmsKeyId}; `
        + `if the registered key id is the wrong one, see ${WRONG_KEY_RUNBOOK}`);
    }
    const summary = { kek: name, kmsType: registered.kmsType, kmsKeyId: registered.kmsKeyId };
    if (registered.shared) return { ...summary, status: 'shared' };
    try {
      await probeKmsKey(deps.kms, registered, kmsKeyIdsFor(registered, params.alternateKmsKeyIds, base), kmsPropsFor(base, registered), deps.onAttempt);
    } catch (err) {
      // A KMS outage at start must not stop a job whose KEK is already in place: its pipeline retries
      // transient KMS failures with backoff. A KEK still to be created stays refused (nothing proven).
      if (isRecryptError(err) && err.transient) return { ...summary, status: 'unverified', code: err.code };
      throw err;
    }
    return { ...summary, status: 'registered' };
  }
  if (params.kmsType === undefined || params.kmsKeyId === undefined) {
    throw new RecryptError('KEK_NOT_FOUND', `KEK ${name} is not registered and the rule lacks encrypt.kms.type / encrypt.kms.key.id to register it`);
  }
  const candidate: Kek = { name, kmsType: params.kmsType, kmsKeyId: params.kmsKeyId, shared: false };
  await probeKmsKey(deps.kms, candidate, [params.kmsKeyId], kmsPropsFor(base, candidate), deps.onAttempt);
  return { kek: name, kmsType: params.kmsType, kmsKeyId: params.kmsKeyId, status: 'new' };
}

/** The parameters of every ENCRYPT / ENCRYPT_PAYLOAD rule that runs on write, one per KEK and key. */
export function writeEncryptionParams(ruleSet: RuleSet | undefined, schema: Pick<SchemaInfo, 'metadata'> | undefined): EncryptionParams[] {
  const out = new Map<string, EncryptionParams>();
  for (const phase of ['domain', 'encoding'] as const) {
    for (const { rule } of selectRules(ruleSet, 'write', { phase }).rules) {
      if (rule.type === undefined || !ENCRYPT_RULE_TYPES.has(rule.type)) continue;
      const params = resolveEncryptionParams(rule, schema);
      const key = `${params.kekName}\u0000${params.kmsType ?? ''}\u0000${params.kmsKeyId ?? ''}`;
      if (!out.has(key)) out.set(key, params);
    }
  }
  return [...out.values()];
}

/**
 * Checks the KEK of every rule that encrypts on write (see checkKek); nothing is registered. `passed`
 * (optional) remembers the checks that passed, so that a job over many topics probes each key once.
 */
export async function checkRuleSetKeks(
  deps: KekCheckDeps, ruleSet: RuleSet | undefined, schema: Pick<SchemaInfo, 'metadata'> | undefined, passed?: Map<string, KekCheck>,
): Promise<KekCheck[]> {
  const out: KekCheck[] = [];
  for (const params of writeEncryptionParams(ruleSet, schema)) {
    const key = `${params.kekName}\u0000${params.kmsType ?? ''}\u0000${params.kmsKeyId ?? ''}\u0000${params.alternateKmsKeyIds.join(',')}`;
    const seen = passed?.get(key);
    const check = seen ?? (await checkKek(deps, params));
    if (check.status !== 'unverified') passed?.set(key, check);
    out.push(check);
  }
  return out;
}
