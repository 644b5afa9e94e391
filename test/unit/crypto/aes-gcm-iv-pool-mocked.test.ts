// The AES-GCM IV pool's refill mechanics under a deterministic fake RNG: every byte the RNG ever
// produced is numbered, so a byte handed out twice (or skipped into a partial refill) shows up exactly.
// This file mocks node:crypto's randomFillSync and node:v8's snapshot probe; module state is per file.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const rng = vi.hoisted(() => ({
  /** Fill with a big-endian byte counter (the n-th byte ever produced is n mod 256 in a 4-byte ramp). */
  next: 0,
  calls: [] as number[],
  failNext: false,
  /** Write half the bytes, then throw: a refill that dies midway. */
  failMidway: false,
  buildingSnapshot: false,
}));

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const randomFillSync = <T extends NodeJS.ArrayBufferView>(buf: T, offset = 0, size?: number): T => {
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const end = size === undefined ? bytes.length : offset + size;
    rng.calls.push(end - offset);
    if (rng.failNext) {
      rng.failNext = false;
      throw new Error('RNG failure');
    }
    // Each 4-byte group holds a 32-bit serial number: unique over the whole test.
    for (let i = offset; i < end; i += 4) {
      const serial = rng.next++;
      for (let j = 0; j < 4 && i + j < end; j++) bytes[i + j] = (serial >>> (24 - 8 * j)) & 0xff;
      if (rng.failMidway && i - offset >= (end - offset) / 2) {
        rng.failMidway = false;
        throw new Error('RNG failure midway');
      }
    }
    return buf;
  };
  return { ...real, randomFillSync, default: { ...real, randomFillSync } };
});

vi.mock('node:v8', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:v8')>();
  const startupSnapshot = { ...real.startupSnapshot, isBuildingSnapshot: () => rng.buildingSnapshot };
  return { ...real, startupSnapshot, default: { ...real, startupSnapshot } };
});

const { drawIv, GCM_IV_SIZE } = await import('../../../src/crypto/aes-gcm.js');

const POOL_BYTES = 341 * 12;

function draw(): Buffer {
  const out = Buffer.allocUnsafe(GCM_IV_SIZE);
  drawIv(out, 0);
  return out;
}

/** Draws until the pool is empty: the next draw refills. */
function exhaust(): void {
  const calls = rng.calls.length;
  while (rng.calls.length === calls) draw(); // first IV of a fresh pool
  for (let i = 1; i < 341; i++) draw();
}

/** Serial numbers of the three 4-byte groups of an IV. */
function serials(iv: Buffer): number[] {
  return [iv.readUInt32BE(0), iv.readUInt32BE(4), iv.readUInt32BE(8)];
}

describe('AES-GCM IV pool refills (fake RNG)', () => {
  beforeEach(() => {
    rng.calls = [];
    rng.failNext = false;
    rng.failMidway = false;
    rng.buildingSnapshot = false;
  });

  it('hands out every RNG byte at most once, in order, and refills once per 341 IVs', () => {
    const seen = new Set<number>();
    let previous = -1;
    const draws = 10 * 341 + 5;
    for (let i = 0; i < draws; i++) {
      for (const s of serials(draw())) {
        expect(seen.has(s)).toBe(false);
        expect(s).toBeGreaterThan(previous);
        seen.add(s);
        previous = s;
      }
    }
    expect(rng.calls.length).toBe(11);
    expect(rng.calls.every((n) => n === POOL_BYTES)).toBe(true);
  });

  it('a refill that throws hands out nothing; the next draw refills from scratch', () => {
    exhaust();
    const lastGood = rng.next;
    rng.failNext = true;
    expect(() => draw()).toThrow('RNG failure');
    rng.failMidway = true;
    expect(() => draw()).toThrow('RNG failure midway');
    expect(rng.next).toBeGreaterThan(lastGood); // the midway failure did write bytes...
    const after = serials(draw());
    // ...but none of them is handed out: the IV comes from the start of the third, complete refill.
    expect(after[0]).toBe(rng.next - POOL_BYTES / 4);
    expect(after).toEqual([after[0], after[0]! + 1, after[0]! + 2]);
    expect(rng.calls.slice(-3)).toEqual([POOL_BYTES, POOL_BYTES, POOL_BYTES]);
  });

  it('while building a startup snapshot, no pool is filled: each IV comes from its own RNG call', () => {
    exhaust();
    rng.calls = [];
    rng.buildingSnapshot = true;
    for (let i = 0; i < 5; i++) draw();
    expect(rng.calls).toEqual([12, 12, 12, 12, 12]);
    rng.buildingSnapshot = false;
    draw();
    expect(rng.calls.at(-1)).toBe(POOL_BYTES);
  });
});
