// The AES-GCM IV pool with the real CSPRNG: uniqueness over many draws and pool refills, and the IVs
// that encrypt() writes. The refill mechanics (atomicity, no byte handed out twice) are checked with a
// deterministic fake RNG in aes-gcm-iv-pool-mocked.test.ts.
import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher, drawIv, GCM_IV_SIZE } from '../../../src/crypto/aes-gcm.js';
import { expectRecryptError } from './helpers.js';

const POOL_IVS = 341; // IVs per pool refill (4092 bytes)

describe('AES-GCM IV pool', () => {
  it('1e6 draws give 1e6 distinct IVs (about 2,900 pool refills crossed)', () => {
    const n = 1_000_000;
    const seen = new Set<string>();
    const chunk = Buffer.allocUnsafe(GCM_IV_SIZE * 1000);
    for (let done = 0; done < n; done += 1000) {
      for (let i = 0; i < 1000; i++) drawIv(chunk, i * GCM_IV_SIZE);
      for (let i = 0; i < 1000; i++) seen.add(chunk.toString('latin1', i * GCM_IV_SIZE, (i + 1) * GCM_IV_SIZE));
    }
    expect(seen.size).toBe(n);
  });

  it('writes exactly 12 bytes at the offset and nothing else', () => {
    for (let k = 0; k < 2 * POOL_IVS + 5; k++) {
      const out = Buffer.alloc(40, 0xa5);
      drawIv(out, 7);
      expect(out.subarray(0, 7).equals(Buffer.alloc(7, 0xa5))).toBe(true);
      expect(out.subarray(19).equals(Buffer.alloc(21, 0xa5))).toBe(true);
    }
  });

  it.each([
    [11, 0],
    [12, 1],
    [20, -1],
    [20, 9],
    [20, Number.NaN],
  ])('refuses a destination of %i bytes at offset %d (INTERNAL), consuming nothing', (size, offset) => {
    expectRecryptError(() => drawIv(Buffer.alloc(size), offset), 'INTERNAL');
  });

  it.each(['AES128_GCM', 'AES256_GCM'] as const)('%s encrypt: distinct IVs across refills, each output decrypts', (algorithm) => {
    const cipher = createAesGcmFieldCipher(algorithm, Buffer.alloc(algorithm === 'AES128_GCM' ? 16 : 32, 7));
    const pt = Buffer.from('same plaintext every time');
    const ivs = new Set<string>();
    const n = 3 * POOL_IVS + 17;
    for (let i = 0; i < n; i++) {
      const ct = cipher.encrypt(pt);
      ivs.add(ct.toString('hex', 0, GCM_IV_SIZE));
      expect(cipher.decrypt(ct).equals(pt)).toBe(true);
    }
    expect(ivs.size).toBe(n);
  });

  it('ciphers share the per-process pool: IVs stay distinct across keys and algorithms', () => {
    const a = createAesGcmFieldCipher('AES128_GCM', Buffer.alloc(16, 1));
    const b = createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 2));
    const ivs = new Set<string>();
    for (let i = 0; i < 2 * POOL_IVS; i++) {
      ivs.add((i % 2 === 0 ? a : b).encrypt(Buffer.alloc(3)).toString('hex', 0, GCM_IV_SIZE));
    }
    expect(ivs.size).toBe(2 * POOL_IVS);
  });
});
