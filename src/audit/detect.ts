/**
 * Is this field value CSFLE ciphertext? Decided from its shape alone, without keys (CSFLE-NOTES
 * section 2): string fields hold standard base64 (with padding) of the ciphertext, bytes fields the raw
 * ciphertext; AES-GCM ciphertext is at least IV(12) + tag(16) = 28 bytes, AES-SIV at least SIV(16);
 * with `encrypt.dek.expiry.days` > 0 a 0x00 | int32 BE version prefix comes first.
 *
 * A shape check cannot tell ciphertext from a plaintext that happens to be long, valid base64; it does
 * catch what matters in practice: names, e-mails, numbers, free text, JSON. Never returns or logs the
 * value itself.
 */
import type { DekAlgorithm } from '../registry/types.js';

export const GCM_MIN_CIPHERTEXT = 12 + 16;
export const SIV_MIN_CIPHERTEXT = 16;
const PREFIX_SIZE = 5;

export type PlaintextReason =
  | 'not-base64'
  | 'too-short'
  | 'no-version-prefix'
  | 'not-string-or-bytes'
  | 'no-encrypt-rule';

export type Classification =
  | { readonly kind: 'null' }
  | { readonly kind: 'ciphertext'; readonly version: number }
  | { readonly kind: 'plaintext'; readonly reason: PlaintextReason };

export const NULL_VALUE: Classification = Object.freeze({ kind: 'null' });
const CIPHERTEXT_V1: Classification = Object.freeze({ kind: 'ciphertext', version: 1 });
const REASONS = new Map<PlaintextReason, Classification>(
  (['not-base64', 'too-short', 'no-version-prefix', 'not-string-or-bytes', 'no-encrypt-rule'] as const).map((r) => [r, Object.freeze({ kind: 'plaintext', reason: r })]),
);

export function plaintext(reason: PlaintextReason): Classification {
  return REASONS.get(reason)!;
}

export function minCiphertextSize(algorithm: DekAlgorithm): number {
  return algorithm === 'AES256_SIV' ? SIV_MIN_CIPHERTEXT : GCM_MIN_CIPHERTEXT;
}

/** Classifies the ciphertext bytes of a field (decoded base64 for strings, the raw value for bytes). */
export function classifyBytes(bytes: Uint8Array, algorithm: DekAlgorithm, versioned: boolean): Classification {
  const min = minCiphertextSize(algorithm);
  if (!versioned) return bytes.length >= min ? CIPHERTEXT_V1 : plaintext('too-short');
  if (bytes.length < PREFIX_SIZE + min) return plaintext(bytes.length >= PREFIX_SIZE && bytes[0] === 0 ? 'too-short' : 'no-version-prefix');
  if (bytes[0] !== 0) return plaintext('no-version-prefix');
  const version = ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
  // Versions are positive int32s; 0 is read as 1 by the clients.
  if (version > 0x7fffffff) return plaintext('no-version-prefix');
  return version <= 1 ? CIPHERTEXT_V1 : { kind: 'ciphertext', version };
}

const B64 = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') B64[c.charCodeAt(0)] = 1;

/** Strict standard base64 with padding: length % 4 == 0, alphabet only, `=` only as the last 1-2 chars. */
export function isStrictBase64(text: string): boolean {
  const len = text.length;
  if (len % 4 !== 0) return false;
  let end = len;
  if (len > 0 && text.charCodeAt(len - 1) === 0x3d) end = text.charCodeAt(len - 2) === 0x3d ? len - 2 : len - 1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || B64[c] === 0) return false;
  }
  return true;
}

/** A field value against one ENCRYPT rule's parameters. */
export function classifyValue(value: unknown, algorithm: DekAlgorithm, versioned: boolean): Classification {
  if (value === null || value === undefined) return NULL_VALUE;
  if (typeof value === 'string') {
    if (!isStrictBase64(value)) return plaintext('not-base64');
    return classifyBytes(Buffer.from(value, 'base64'), algorithm, versioned);
  }
  if (value instanceof Uint8Array) return classifyBytes(value, algorithm, versioned);
  return plaintext('not-string-or-bytes');
}
