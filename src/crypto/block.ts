/**
 * 128-bit block helpers shared by CMAC and S2V (RFC 4493, RFC 5297). Kept apart so both files use the
 * exact same doubling: a subtle bug here breaks interop silently, and RFC vectors test it in one place.
 */

export const BLOCK_SIZE = 16;

/** Polynomial x^128 + x^7 + x^2 + x + 1, reduced into the low byte when the top bit shifts out. */
const R_B = 0x87;

/** Multiplication by x in GF(2^128), big-endian bit order (RFC 5297 `dbl`). Returns a new block. */
export function dbl(block: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(BLOCK_SIZE);
  const carry = (block[0]! & 0x80) !== 0;
  for (let i = 0; i < BLOCK_SIZE - 1; i++) {
    out[i] = ((block[i]! << 1) | (block[i + 1]! >>> 7)) & 0xff;
  }
  out[BLOCK_SIZE - 1] = ((block[BLOCK_SIZE - 1]! << 1) & 0xff) ^ (carry ? R_B : 0);
  return out;
}

/** target[offset..offset+16) ^= mask, in place. */
export function xorBlockInto(target: Uint8Array, offset: number, mask: Uint8Array): void {
  for (let i = 0; i < BLOCK_SIZE; i++) {
    target[offset + i]! ^= mask[i]!;
  }
}

/** Node cipher name for a raw AES key, e.g. `aes-256-cbc`; undefined for a size AES does not have. */
export function aesCipherName(keyLength: number, mode: 'cbc' | 'ctr' | 'ecb'): string | undefined {
  switch (keyLength) {
    case 16:
      return `aes-128-${mode}`;
    case 24:
      return `aes-192-${mode}`;
    case 32:
      return `aes-256-${mode}`;
    default:
      return undefined;
  }
}
