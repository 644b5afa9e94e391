import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatGuid, normalizeGuid, parseGuid } from '../../../src/wire/guid.js';
import { expectRecryptError, hex } from '../crypto/helpers.js';

describe('schema GUIDs', () => {
  it('formats 16 bytes as lowercase 8-4-4-4-12', () => {
    expect(formatGuid(hex('89d4a1ac 9dc3 4a5e 8b0e 0f1eABCDEF01'))).toBe('89d4a1ac-9dc3-4a5e-8b0e-0f1eabcdef01');
  });

  it('parses any case and normalizes to lowercase', () => {
    expect(parseGuid('89D4A1AC-9DC3-4A5E-8B0E-0F1EABCDEF01').toString('hex')).toBe('89d4a1ac9dc34a5e8b0e0f1eabcdef01');
    expect(normalizeGuid('89D4A1AC-9DC3-4A5E-8B0E-0F1EABCDEF01')).toBe('89d4a1ac-9dc3-4a5e-8b0e-0f1eabcdef01');
  });

  it('round-trips bytes (property) and matches crypto.randomUUID text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(parseGuid(formatGuid(bytes)).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
    const uuid = crypto.randomUUID();
    expect(formatGuid(parseGuid(uuid))).toBe(uuid);
  });

  it.each(['', '89d4a1ac9dc34a5e8b0e0f1eabcdef01', '89d4a1ac-9dc3-4a5e-8b0e-0f1eabcdef0', '89d4a1ac-9dc3-4a5e-8b0e-0f1eabcdef0g', '{89d4a1ac-9dc3-4a5e-8b0e-0f1eabcdef01}'])(
    'rejects %j with WIRE_BAD_HEADER',
    (text) => {
      expectRecryptError(() => parseGuid(text), 'WIRE_BAD_HEADER');
    },
  );

  it('rejects a byte length other than 16', () => {
    expectRecryptError(() => formatGuid(Buffer.alloc(15)), 'WIRE_BAD_HEADER');
  });
});
