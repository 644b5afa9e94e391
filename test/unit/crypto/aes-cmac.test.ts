import { describe, expect, it } from 'vitest';
import { AesCmac } from '../../../src/crypto/aes-cmac.js';
import { dbl } from '../../../src/crypto/block.js';
import { expectRecryptError, hex } from './helpers.js';

// RFC 4493 section 4 (AES-128) and NIST SP 800-38B appendix D (AES-256).
const M64 = hex(`6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51
                 30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710`);

describe('dbl (GF(2^128) doubling)', () => {
  it('derives the RFC 4493 subkeys from L', () => {
    const l = hex('7df76b0c 1ab899b3 3e42f047 b91b546f');
    const k1 = dbl(l);
    expect(k1.toString('hex')).toBe('fbeed618357133667c85e08f7236a8de');
    expect(dbl(k1).toString('hex')).toBe('f7ddac306ae266ccf90bc11ee46d513b');
  });

  it('does not modify its input', () => {
    const block = Buffer.alloc(16, 0xff);
    dbl(block);
    expect(block.equals(Buffer.alloc(16, 0xff))).toBe(true);
  });
});

describe('AesCmac', () => {
  const cmac128 = new AesCmac(hex('2b7e1516 28aed2a6 abf71588 09cf4f3c'));

  it.each([
    [0, 'bb1d6929e95937287fa37d129b756746'],
    [16, '070a16b46b4d4144f79bdd9dd04a287c'],
    [40, 'dfa66747de9ae63030ca32611497c827'],
    [64, '51f0bebf7e3b9d92fc49741779363cfe'],
  ])('RFC 4493 AES-128 example, %i-byte message', (len, tag) => {
    expect(cmac128.mac(M64.subarray(0, len)).toString('hex')).toBe(tag);
  });

  it.each([
    [0, '028962f61b7bf89efc6b551f4667d983'],
    [16, '28a7023f452e8f82bd4bf28d8c37c35c'],
    [40, 'aaf3d8f1de5640c232f5b169b9c911e6'],
    [64, 'e1992190549f6ed5696a2c056c315410'],
  ])('SP 800-38B AES-256 example, %i-byte message', (len, tag) => {
    const cmac256 = new AesCmac(hex('603deb10 15ca71be 2b73aef0 857d7781 1f352c07 3b6108d7 2d9810a3 0914dff4'));
    expect(cmac256.mac(M64.subarray(0, len)).toString('hex')).toBe(tag);
  });

  it('does not modify the message', () => {
    const msg = Buffer.from(M64.subarray(0, 40));
    cmac128.mac(msg);
    expect(msg.equals(M64.subarray(0, 40))).toBe(true);
  });

  it.each([0, 15, 17, 33, 64])('rejects a %i-byte key with CRYPTO_BAD_KEY', (len) => {
    expectRecryptError(() => new AesCmac(Buffer.alloc(len)), 'CRYPTO_BAD_KEY');
  });
});
