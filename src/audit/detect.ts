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
  | 'no-encrypt-rule'
  /** The field carries a tag (e.g. PII) but no ENCRYPT rule of the writer or latest schema selects it. */
  | 'tagged-no-rule';

export type Classification =
  | { readonly kind: 'null' }
  | { readonly kind: 'ciphertext'; readonly version: number }
  | { readonly kind: 'plaintext'; readonly reason: PlaintextReason };

export const NULL_VALUE: Classification = Object.freeze({ kind: 'null' });
const CIPHERTEXT_V1: Classification = Object.freeze({ kind: 'ciphertext', version: 1 });
const REASONS = new Map<PlaintextReason, Classification>(
  (['not-base64', 'too-short', 'no-version-prefix', 'not-string-or-bytes', 'no-encrypt-rule', 'tagged-no-rule'] as const).map((r) => [r, Object.freeze({ kind: 'plaintext', reason: r })]),
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
  return fromPrefix(bytes);
}

/** The DEK version of a prefix whose size was checked: 0x00 | int32 BE (0 reads as 1, as the clients do). */
function fromPrefix(head: Uint8Array): Classification {
  if (head[0] !== 0) return plaintext('no-version-prefix');
  const version = ((head[1]! << 24) | (head[2]! << 16) | (head[3]! << 8) | head[4]!) >>> 0;
  if (version > 0x7fffffff) return plaintext('no-version-prefix');
  return version <= 1 ? CIPHERTEXT_V1 : { kind: 'ciphertext', version };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict standard base64 with padding: length % 4 == 0, alphabet only, `=` only as the last 1-2 chars. */
export function isStrictBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text);
}

/** A field value against one ENCRYPT rule's parameters. */
export function classifyValue(value: unknown, algorithm: DekAlgorithm, versioned: boolean): Classification {
  if (value === null || value === undefined) return NULL_VALUE;
  if (typeof value === 'string') {
    if (!isStrictBase64(value)) return plaintext('not-base64');
    // Only the length and (with expiry) the first 5 bytes matter: decode no more than that.
    const len = value.length;
    const pads = len === 0 ? 0 : value.charCodeAt(len - 1) === 0x3d ? (value.charCodeAt(len - 2) === 0x3d ? 2 : 1) : 0;
    const size = (len / 4) * 3 - pads;
    if (!versioned) return size >= minCiphertextSize(algorithm) ? CIPHERTEXT_V1 : plaintext('too-short');
    const head = Buffer.from(value.slice(0, 8), 'base64');
    if (size < PREFIX_SIZE + minCiphertextSize(algorithm)) return plaintext(size >= PREFIX_SIZE && head[0] === 0 ? 'too-short' : 'no-version-prefix');
    return fromPrefix(head);
  }
  if (value instanceof Uint8Array) return classifyBytes(value, algorithm, versioned);
  return plaintext('not-string-or-bytes');
}
