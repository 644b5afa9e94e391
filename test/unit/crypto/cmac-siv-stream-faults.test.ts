// AesCmac and AesSiv keep persistent CBC / ECB streams. If a stream ever failed mid-message (an
// exception, or output shorter than input), its chaining state would no longer match what the code
// believes, and every later MAC or keystream would silently be wrong. This file injects such faults
// through a mocked node:crypto and checks the instance recovers with a fresh stream: the failing call
// throws, and later messages are byte-for-byte right again.
import { createCipheriv as realCreateCipheriv } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

type Fault = 'none' | 'throw-before' | 'throw-after' | 'truncate';
const faults = vi.hoisted(() => ({ cbc: 'none' as string, ecb: 'none' as string, failCreate: false, created: [] as string[] }));

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const createCipheriv = (...args: Parameters<typeof real.createCipheriv>) => {
    const cipher = real.createCipheriv(...args);
    const mode = String(args[0]).slice(-3);
    if (mode !== 'cbc' && mode !== 'ecb') return cipher;
    if (faults.failCreate) {
      faults.failCreate = false;
      throw new Error('injected create failure');
    }
    faults.created.push(mode);
    const update = cipher.update.bind(cipher) as (data: Uint8Array) => Buffer;
    return Object.assign(cipher, {
      update(data: Uint8Array): Buffer {
        const fault = faults[mode];
        faults[mode] = 'none';
        if (fault === 'throw-before') throw new Error('injected');
        const out = update(data);
        if (fault === 'throw-after') throw new Error('injected');
        if (fault === 'truncate') return out.subarray(0, out.length - 16);
        return out;
      },
    });
  };
  return { ...real, createCipheriv, default: { ...real, createCipheriv } };
});

const { AesCmac } = await import('../../../src/crypto/aes-cmac.js');
const { AesSiv } = await import('../../../src/crypto/aes-siv.js');

function refCmac(key: Buffer, msg: Buffer): Buffer {
  // Same construction as cmac-siv-reference.test.ts, via the unmocked cipher (fresh per message).
  const enc = (b: Buffer): Buffer => {
    const c = realCreateCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    c.setAutoPadding(false);
    return c.update(b);
  };
  const dbl = (b: Buffer): Buffer => {
    const o = Buffer.alloc(16);
    for (let i = 0; i < 15; i++) o[i] = ((b[i]! << 1) | (b[i + 1]! >>> 7)) & 0xff;
    o[15] = ((b[15]! << 1) & 0xff) ^ (b[0]! & 0x80 ? 0x87 : 0);
    return o;
  };
  const k1 = dbl(enc(Buffer.alloc(16)));
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const n = Math.max(1, Math.ceil(msg.length / 16));
  const p = Buffer.alloc(n * 16);
  msg.copy(p);
  if (!complete) p[msg.length] = 0x80;
  const mask = complete ? k1 : dbl(k1);
  for (let i = 0; i < 16; i++) p[(n - 1) * 16 + i]! ^= mask[i]!;
  let x: Buffer = Buffer.alloc(16);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < 16; i++) x[i]! ^= p[b * 16 + i]!;
    x = enc(x);
  }
  return x;
}

const FAULTS: Fault[] = ['throw-before', 'throw-after', 'truncate'];

describe('stream faults are contained', () => {
  beforeEach(() => {
    faults.cbc = 'none';
    faults.ecb = 'none';
    faults.failCreate = false;
  });

  it.each(FAULTS)('AesCmac after a %s fault: the call throws, later MACs are right', (fault) => {
    const key = Buffer.alloc(32, 0x42);
    const cmac = new AesCmac(key);
    const msgs = [Buffer.alloc(0), Buffer.alloc(40, 1), Buffer.alloc(16, 2), Buffer.alloc(70, 3)];
    for (const m of msgs) expect(cmac.mac(m).equals(refCmac(key, m))).toBe(true);
    faults.cbc = fault;
    const before = faults.created.length;
    expect(() => cmac.mac(Buffer.alloc(48, 9))).toThrow();
    expect(faults.created.length).toBe(before + 1); // a fresh stream replaced the suspect one
    for (const m of msgs) expect(cmac.mac(m).equals(refCmac(key, m))).toBe(true);
  });

  it.each(['cbc', 'ecb'] as const)('%s: when even the replacement stream cannot be created, the next message retries', (stream) => {
    const key = Buffer.alloc(64, 0x29);
    const siv = new AesSiv(key);
    const clean = new AesSiv(key);
    const pt = Buffer.alloc(45, 4);
    siv.encrypt(pt); // move the streams along
    faults[stream] = 'throw-after';
    faults.failCreate = true;
    // A different message from the last one: the stream then ends on a different chaining value.
    expect(() => siv.encrypt(Buffer.alloc(70, 8))).toThrow('injected create failure');
    expect(faults.failCreate).toBe(false);
    for (let i = 0; i < 3; i++) expect(siv.encrypt(pt).equals(clean.encrypt(pt))).toBe(true);
  });

  it.each(FAULTS)('AesSiv after a %s fault in its CMAC or ECB stream: later messages are right', (fault) => {
    const key = Buffer.alloc(64, 0x17);
    const siv = new AesSiv(key);
    const clean = new AesSiv(key); // never faulted
    const pts = [Buffer.alloc(0), Buffer.alloc(5, 1), Buffer.alloc(40, 2), Buffer.alloc(300, 3)];
    for (const stream of ['cbc', 'ecb'] as const) {
      faults[stream] = fault;
      expect(() => siv.encrypt(Buffer.alloc(33, 7), [Buffer.alloc(0)])).toThrow();
      faults[stream] = 'none';
      for (const pt of pts) {
        const ct = siv.encrypt(pt, [Buffer.alloc(0)]);
        expect(ct.equals(clean.encrypt(pt, [Buffer.alloc(0)]))).toBe(true);
        expect(siv.decrypt(ct, [Buffer.alloc(0)]).equals(pt)).toBe(true);
      }
    }
  });
});
