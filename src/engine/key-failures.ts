/**
 * Which permanent failures are about a KEY, not about the record being transformed (issue 21, defect 2).
 *
 * A record failure (tampered ciphertext, a value of the wrong type) concerns that record alone: the
 * rule's onFailure action (ERROR, NONE, DLQ) applies and the next record may well succeed. A key failure
 * concerns every record that needs the key: sending each of them to the DLQ (or, with NONE, skipping the
 * rule) only turns a configuration error into a silent, complete diversion. So a key failure halts the
 * record's partition with its own code, whatever the rule's action.
 *
 * The key codes, and why:
 * - KEK_NOT_FOUND, KEK_MISMATCH: the DEK registry's KEK is missing or differs from the rule's kms type /
 *   key id; no record can be encrypted (or decrypted) under that rule until an operator fixes it.
 * - KMS_ACCESS_DENIED, KMS_KEY_NOT_FOUND, KMS_KEY_DISABLED: the KMS refuses the key for everyone.
 * - KMS_CONFIG, KMS_UNSUPPORTED_TYPE: the KMS driver is not configured (or absent) for the KEK's type.
 * - KMS_UNWRAP_FAILED: the registry's wrapped DEK does not unwrap under its KEK. The record only chose
 *   the DEK version; the DEK itself is unusable for every record under it.
 * - CRYPTO_BAD_KEY, CRYPTO_UNKNOWN_ALGORITHM: the DEK material (or its algorithm) from the registry is
 *   unusable; records do not carry DEK material.
 * - REGISTRY_AUTH: the registry refused recrypt's credentials while fetching a KEK or DEK.
 *
 * Deliberately NOT key failures (they stay record failures and take the rule's action):
 * - CRYPTO_DECRYPT, CRYPTO_BAD_CIPHERTEXT: the record's ciphertext fails authentication or is not
 *   ciphertext (tampered, garbled, or plaintext in a tagged field). The key is fine for other records.
 * - DEK_NOT_FOUND on read: the DEK version comes from the record's ciphertext prefix, which a garbled
 *   record can name wrongly. (The write DEK depends on the rule and target subject only: the engine halts on any
 *   permanent failure to get it, whatever the code.)
 * - RULE_UNSUPPORTED_FIELD_TYPE, FORMAT_*, WIRE_*: the record's shape or bytes.
 * If a key goes bad in a way that looks like record failures (e.g. every DEK version deleted), the
 * DLQ circuit breaker (dlq.maxRatio over dlq.window) halts the job instead.
 */
import type { RuleDirection } from '../rules/index.js';
import { RecryptError, type ErrorCode } from '../util/errors.js';
import type { Step } from './plan.js';

export const KEY_FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KEK_NOT_FOUND', 'KEK_MISMATCH',
  'KMS_ACCESS_DENIED', 'KMS_KEY_NOT_FOUND', 'KMS_KEY_DISABLED', 'KMS_CONFIG', 'KMS_UNSUPPORTED_TYPE', 'KMS_UNWRAP_FAILED',
  'CRYPTO_BAD_KEY', 'CRYPTO_UNKNOWN_ALGORITHM',
  'REGISTRY_AUTH',
]);

/** Key failures that only say "this key does not exist": a tolerant read step (plan.ts) may skip them. */
export const KEY_ABSENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['KEK_NOT_FOUND', 'DEK_NOT_FOUND', 'REGISTRY_NOT_FOUND']);

export function isKeyFailure(err: unknown): boolean {
  return err instanceof RecryptError && !err.transient && KEY_FAILURE_CODES.has(err.code);
}


/**
 * The halt of a record whose rule's key cannot be used: the error's own code, whatever the rule's
 * onFailure (reported as the ERROR action taken), so the operator sees the key problem, not a DLQ.
 */
export function keyHalt(step: Step, direction: RuleDirection, error: RecryptError): RecryptError {
  return new RecryptError(
    error.code,
    `rule ${step.rule.name} (${direction}): its key cannot be used, so the partition halts whatever onFailure says (${step.onFailure}): ${error.message}`,
    { cause: error },
  );
}
