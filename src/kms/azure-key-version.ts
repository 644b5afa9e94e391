/**
 * The `azure:v1:` prefix of Confluent's Azure Key Vault driver (its Go and JS clients, July 2026): Key
 * Vault's RSA ciphertext does not say which key version made it, so with
 * `encrypt.azure.key.version.save=true` (a KEK kmsProps entry, or the client's config) a wrapped DEK is
 * `azure:v1:` + the 32-hex-character key version + `:` + the raw ciphertext, and unwrapping targets that
 * version even after the key was rotated. Readers look for the prefix whatever the setting says: a DEK
 * wrapped while it was on stays readable after it is turned off, and one wrapped without it has no prefix.
 */

/** The kmsProps / config entry that turns the prefix on (`true`, any case). */
export const AZURE_KEY_VERSION_SAVE = 'encrypt.azure.key.version.save';

const PREFIX = Buffer.from('azure:v1:', 'ascii');
const VERSION_LENGTH = 32;
const HEADER_LENGTH = PREFIX.length + VERSION_LENGTH + 1;
const COLON = 0x3a;

/** Key Vault key versions are 32 hex characters; only those fit the fixed-width prefix. */
export function isPrefixableVersion(version: string): boolean {
  return version.length === VERSION_LENGTH && /^[0-9a-fA-F]+$/.test(version);
}

/** `azure:v1:<version>:<ciphertext>`; the caller checks the version with isPrefixableVersion first. */
export function withKeyVersion(version: string, ciphertext: Uint8Array): Uint8Array {
  return Buffer.concat([PREFIX, Buffer.from(version, 'ascii'), Buffer.from([COLON]), ciphertext]);
}

export type SplitCiphertext =
  | { readonly kind: 'plain'; readonly ciphertext: Uint8Array }
  | { readonly kind: 'versioned'; readonly version: string; readonly ciphertext: Uint8Array }
  /** The prefix is there but its version is not 32 hex characters: tampered or corrupted. */
  | { readonly kind: 'bad-version' };

/** Splits a wrapped DEK into the version recorded in its prefix (if any) and the Key Vault ciphertext. */
export function splitKeyVersion(wrapped: Uint8Array): SplitCiphertext {
  const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (bytes.length < HEADER_LENGTH || !bytes.subarray(0, PREFIX.length).equals(PREFIX) || bytes[HEADER_LENGTH - 1] !== COLON) {
    return { kind: 'plain', ciphertext: wrapped };
  }
  const version = bytes.subarray(PREFIX.length, PREFIX.length + VERSION_LENGTH).toString('latin1');
  // The version goes into a URL path: never let a tampered value carry '/' or '?' there.
  if (!isPrefixableVersion(version)) return { kind: 'bad-version' };
  return { kind: 'versioned', version, ciphertext: bytes.subarray(HEADER_LENGTH) };
}

/** True when the props ask for the prefix on wrap. */
export function keyVersionSaveEnabled(value: string | undefined): boolean {
  return value !== undefined && value.trim().toLowerCase() === 'true';
}
