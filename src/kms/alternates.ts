/**
 * `encrypt.alternate.kms.key.ids`: the primary key id first, then the alternates, in order. keys/
 * decides which ids apply to a KEK; these helpers only run one operation over them.
 *
 * Semantics (decided here, same as keys/kek-kms.ts):
 * - Every failure, transient or permanent, moves on to the next key id. Alternates exist for failover
 *   (a replica key in another region while the primary's region is down), so a transient error must
 *   not stop the walk; and a permanent error on one key (access denied there) says nothing about the
 *   next.
 * - If all fail and any failure was transient, the first transient error is thrown: retrying later
 *   can help, and the work must be retried, never dead-lettered. Otherwise the first permanent error
 *   (the primary's) is thrown.
 * - Each driver call gets the driver's own bounded retries (the registry's drivers are decorated), so
 *   one unreachable region costs at most one retry budget before failover.
 * - wrapWithAlternates wraps under the first key that works: a DEK wrapped under an alternate can only
 *   be unwrapped by that alternate, exactly as with Confluent's clients.
 */
import { isRecryptError, isTransient, RecryptError } from '../util/errors.js';
import type { KmsDriver, KmsProps } from './kms-driver.js';
import type { KmsOperation } from './kms-error.js';

export function wrapWithAlternates(driver: KmsDriver, keyIds: readonly string[], plaintext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
  return runOverKeyIds(driver, keyIds, 'wrap', (id) => driver.wrap(id, plaintext, props));
}

export function unwrapWithAlternates(driver: KmsDriver, keyIds: readonly string[], ciphertext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
  return runOverKeyIds(driver, keyIds, 'unwrap', (id) => driver.unwrap(id, ciphertext, props));
}

async function runOverKeyIds(
  driver: KmsDriver,
  keyIds: readonly string[],
  operation: KmsOperation,
  call: (keyId: string) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const ids = [...new Set(keyIds.map((id) => id.trim()).filter((id) => id !== ''))];
  if (ids.length === 0) {
    throw new RecryptError('KMS_CONFIG', `${driver.kmsType} ${operation}: no kms key id given`);
  }
  const failures: RecryptError[] = [];
  for (const id of ids) {
    try {
      return await call(id);
    } catch (err) {
      // Drivers only throw RecryptErrors; anything else is a bug and is not allowed to carry its text on.
      failures.push(isRecryptError(err) ? err : new RecryptError('INTERNAL', `${driver.kmsType} driver threw a non-RecryptError on ${operation}`));
    }
  }
  const chosen = failures.find(isTransient) ?? failures[0]!;
  if (ids.length === 1) throw chosen;
  const summary = ids.map((id, i) => `${id} -> ${failures[i]!.code}`).join(', ');
  throw new RecryptError(chosen.code, `${driver.kmsType} ${operation} failed with every kms key id: ${summary}`, {
    cause: chosen,
    transient: chosen.transient,
  });
}
