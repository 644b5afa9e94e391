/** Cache keys for DEKs. NUL cannot occur in KEK names or subjects that a registry accepts. */
import { dekRefOf, type DekRef } from '../model/index.js';

export { dekRefOf };

/** One DEK: a ref and a version (0 is read as 1, as the Confluent clients do). */
export function dekCacheKey(ref: DekRef, version: number): string {
  return `${ref.kekName}\u0000${ref.scope}\u0000${version === 0 ? 1 : version}\u0000${ref.algorithm}`;
}

/** The latest-version pointer of a ref. */
export function latestCacheKey(ref: DekRef): string {
  return `${ref.kekName}\u0000${ref.scope}\u0000${ref.algorithm}`;
}

export const MILLIS_PER_DAY = 86_400_000;

/** CSFLE-NOTES section 5: expired when (now - ts) / 86400000 >= N (N > 0). */
export function isDekExpired(dekTs: number, expiryDays: number, now: number): boolean {
  return expiryDays > 0 && (now - dekTs) / MILLIS_PER_DAY >= expiryDays;
}
