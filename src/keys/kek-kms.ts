/**
 * The one walk over a KEK's KMS key ids (CSFLE-NOTES section 3): every wrap and unwrap recrypt does,
 * for DEKs (dek-manager.ts), KMS probes (kek-check.ts) and rewraps (rewrap.ts), runs through
 * `runWithKeyIds`. The ids are the KEK's kmsKeyId, then `encrypt.alternate.kms.key.ids` in order
 * (`kmsKeyIdsFor`); the KMS props are the client's base config overlaid with the KEK's `kmsProps`.
 *
 * The rule, for wrap and unwrap alike:
 * - Every failure moves on to the next key id, a transient one (KMS_UNAVAILABLE) included. Confluent's
 *   clients do the same (their KMS wrapper tries each id and gives up after the last); alternates exist
 *   for failover (a replica key in another region while the primary's region is down), so an outage
 *   of the first key id must not stop the walk, and a refusal by one key (access denied there) says
 *   nothing about the next.
 * - The first id that succeeds wins. A wrap therefore happens under the first key that works: a DEK
 *   wrapped under an alternate is unwrapped by that alternate, exactly as with Confluent's clients.
 * - If every id fails and any failure was transient, the first transient error is thrown (its code and
 *   transient flag): retrying later can help, so the work is retried, never dead-lettered. Otherwise
 *   the first permanent error, the primary's, is thrown. With one key id that error is rethrown as it
 *   is; with several, a RecryptError of the chosen error's code and transient flag, naming each id and
 *   its error code, with the chosen error as its cause.
 * - Each driver call gets the driver's own bounded retries (the registry's drivers are decorated), so
 *   one unreachable region costs at most one retry budget before failover.
 * - Ids are trimmed, empty ones dropped and duplicates tried once; no id at all is KMS_CONFIG.
 *
 * Errors never carry key material: a driver that throws something other than a RecryptError (a bug)
 * is reported as INTERNAL without its text or cause.
 */
import type { KmsDriverRegistry, KmsProps } from '../kms/kms-driver.js';
import type { Kek } from '../registry/types.js';
import { ENCRYPT_ALTERNATE_KMS_KEY_IDS, parseKeyIdList } from '../rules/encryption-params.js';
import { isRecryptError, RecryptError } from '../util/errors.js';

export type KmsOperation = 'wrap' | 'unwrap';

/** Effective props for one KEK: base config, then the KEK's kmsProps on top. */
export function kmsPropsFor(base: KmsProps, kek: Kek): KmsProps {
  return Object.freeze({ ...base, ...(kek.kmsProps ?? {}) });
}

/**
 * Key ids to try, in order: the KEK's kmsKeyId, then alternates from (first that has any) the KEK's
 * kmsProps, the rule (or schema metadata), the client's base config. Duplicates are dropped.
 */
export function kmsKeyIdsFor(kek: Kek, ruleAlternates: readonly string[], base: KmsProps): string[] {
  let alternates = parseKeyIdList(kek.kmsProps?.[ENCRYPT_ALTERNATE_KMS_KEY_IDS]);
  if (alternates.length === 0) alternates = [...ruleAlternates];
  if (alternates.length === 0) alternates = parseKeyIdList(base[ENCRYPT_ALTERNATE_KMS_KEY_IDS]);
  return [...new Set([kek.kmsKeyId, ...alternates])];
}

/** Called once per driver call (per key id tried), e.g. to count KMS calls by outcome. */
export interface KmsAttemptHook {
  (operation: KmsOperation, kmsType: string, ok: boolean): void;
}

/** Runs one KMS operation with `kek`'s driver over `keyIds` until one succeeds (the rule above). */
export async function runWithKeyIds(
  kms: KmsDriverRegistry,
  kek: Kek,
  keyIds: readonly string[],
  props: KmsProps,
  operation: KmsOperation,
  input: Uint8Array,
  onAttempt: KmsAttemptHook = () => undefined,
): Promise<Uint8Array> {
  const ids = [...new Set(keyIds.map((id) => id.trim()).filter((id) => id !== ''))];
  if (ids.length === 0) {
    throw new RecryptError('KMS_CONFIG', `KEK ${kek.name} has no kms key id to ${operation} with`);
  }
  const driver = kms.get(kek.kmsType);
  const failures: RecryptError[] = [];
  for (const keyId of ids) {
    try {
      const out = operation === 'wrap' ? await driver.wrap(keyId, input, props) : await driver.unwrap(keyId, input, props);
      onAttempt(operation, kek.kmsType, true);
      return out;
    } catch (err) {
      onAttempt(operation, kek.kmsType, false);
      // Drivers only throw RecryptErrors; anything else is a bug and is not allowed to carry its text on.
      failures.push(isRecryptError(err) ? err : new RecryptError('INTERNAL', `${kek.kmsType} driver threw a non-RecryptError on ${operation}`));
    }
  }
  const chosen = failures.find((e) => e.transient) ?? failures[0]!;
  if (ids.length === 1) throw chosen;
  const summary = ids.map((id, i) => `${id} -> ${failures[i]!.code}`).join(', ');
  throw new RecryptError(chosen.code, `KEK ${kek.name}: ${kek.kmsType} ${operation} failed with every kms key id: ${summary}`, {
    cause: chosen,
    transient: chosen.transient,
  });
}
