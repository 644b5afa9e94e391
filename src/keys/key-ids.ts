/** Cache keys for DEKs and KEKs. NUL cannot occur in KEK names or subjects that a registry accepts. */
import type { DekAlgorithm } from '../registry/types.js';

export function dekCacheKey(kekName: string, subject: string, version: number, algorithm: DekAlgorithm): string {
  return `${kekName}\u0000${subject}\u0000${version}\u0000${algorithm}`;
}

export function latestCacheKey(kekName: string, subject: string, algorithm: DekAlgorithm): string {
  return `${kekName}\u0000${subject}\u0000${algorithm}`;
}

export const MILLIS_PER_DAY = 86_400_000;

/** CSFLE-NOTES section 5: expired when (now - ts) / 86400000 >= N (N > 0). */
export function isDekExpired(dekTs: number, expiryDays: number, now: number): boolean {
  return expiryDays > 0 && (now - dekTs) / MILLIS_PER_DAY >= expiryDays;
}
