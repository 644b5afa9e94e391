import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBase64Bytes, encodeBase64 } from '../../../src/crypto/base64.js';
import { expectRecryptError } from './helpers.js';

describe('base64', () => {
  it('encodes standard base64 with padding', () => {
    expect(encodeBase64(Buffer.from('hello world'))).toBe('aGVsbG8gd29ybGQ=');
    expect(encodeBase64(new Uint8Array([0xfb, 0xff]))).toBe('+/8=');
    expect(encodeBase64(new Uint8Array(0))).toBe('');
  });

  it('encodes a Uint8Array view with an offset', () => {
    const backing = new Uint8Array([1, 2, 0xfb, 0xff]);
    expect(encodeBase64(backing.subarray(2))).toBe('+/8=');
  });

  it('encodes only the view of a Buffer slice (Buffer fast path), from a pooled slab too', () => {
    const slab = Buffer.from([1, 2, 0xfb, 0xff, 3]);
    expect(encodeBase64(slab.subarray(2, 4))).toBe('+/8=');
    const pooled = Buffer.allocUnsafe(10).fill(0xfb); // small allocUnsafe: a view into Node's shared pool
    expect(pooled.byteOffset === 0 && pooled.buffer.byteLength === 10).toBe(false);
    expect(encodeBase64(pooled.subarray(1, 3))).toBe('+/s=');
  });

  it('round-trips any bytes and agrees with Buffer (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it.each([
    ['a character outside the alphabet', 'aGVs*G8='],
    ['url-safe letters', 'a-_sbG8='],
    ['whitespace', 'aGVs bG8='],
    ['a newline', 'aGVsbG8=\n'],
    ['missing padding', 'aGVsbG8'],
    ['one character too many', 'aGVsbG8=a'],
    ['padding in the middle', 'aG=sbG8='],
    ['three padding characters', 'aG==='],
    ['only padding', '===='],
    ['a lone data character', 'a==='],
    ['non-ASCII', 'aGVsbG8é'],
  ])('rejects %s with CRYPTO_BAD_CIPHERTEXT', (_name, text) => {
    expectRecryptError(() => decodeBase64(text), 'CRYPTO_BAD_CIPHERTEXT');
  });

  it('accepts the empty string as zero bytes', () => {
    expect(decodeBase64('').length).toBe(0);
  });

  it('rejects arbitrary strings that are not canonical base64 (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        let decoded: Buffer | undefined;
        try {
          decoded = decodeBase64(text);
        } catch {
          return;
        }
        // Whatever is accepted must be exactly what a standard encoder could have produced.
        expect(text.length % 4).toBe(0);
        expect(decoded.toString('base64').replace(/=+$/, '').length).toBe(text.replace(/=+$/, '').length);
      }),
    );
  });

  describe('decodeBase64Bytes (the text as ASCII bytes) agrees with decodeBase64', () => {
    const outcome = (decode: () => Buffer): string => {
      try {
        return `ok ${decode().toString('hex')}`;
      } catch (err) {
        return `error ${(err as { code?: string }).code ?? '?'}`;
      }
    };
    const same = (text: string) => {
      expect(outcome(() => decodeBase64Bytes(Buffer.from(text, 'latin1')))).toBe(outcome(() => decodeBase64(text)));
    };

    it('on encoded bytes of every length (property), also from a view with an offset', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(decodeBase64Bytes(Buffer.from(text, 'latin1')).equals(Buffer.from(bytes))).toBe(true);
        const padded = Buffer.from(`xx${text}`, 'latin1').subarray(2);
        expect(decodeBase64Bytes(padded).equals(Buffer.from(bytes))).toBe(true);
      }));
    });

    it.each(['', 'aGVs*G8=', 'a-_sbG8=', 'aGVs bG8=', 'aGVsbG8=\n', 'aGVsbG8', 'aGVsbG8=a', 'aG=sbG8=', 'aG===', '====', 'a===', '=AAA', 'AA=A', 'QQ==', 'QUE=', 'aGVsbG8\u00e9'])(
      'on %j', (text) => same(text),
    );

    it('on arbitrary text (property): accepts and rejects the same, decodes the same', () => {
      // Bytes are what a payload holds: only characters that are one latin1 byte.
      fc.assert(fc.property(fc.string({ maxLength: 40 }).filter((t) => [...t].every((c) => c.charCodeAt(0) < 256)), (text) => same(text)));
      fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9+/=]{0,24}$/), (text) => same(text)));
    });
  });
});

