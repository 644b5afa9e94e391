/** Small helpers shared by the crypto, wire and kms unit tests. */
import { expect } from 'vitest';
import { isRecryptError, type ErrorCode, type RecryptError } from '../../../src/util/errors.js';

/** Hex with optional whitespace (RFC vectors are printed in 32-bit groups). */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Runs fn, asserts it throws a RecryptError with the code, and returns the error for further checks. */
export function expectRecryptError(fn: () => unknown, code: ErrorCode): RecryptError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isRecryptError(thrown), `expected RecryptError ${code}, got ${String(thrown)}`).toBe(true);
  const err = thrown as RecryptError;
  expect(err.code).toBe(code);
  return err;
}

/** Same as expectRecryptError for async functions. */
export async function expectRecryptErrorAsync(fn: () => Promise<unknown>, code: ErrorCode): Promise<RecryptError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  expect(isRecryptError(thrown), `expected RecryptError ${code}, got ${String(thrown)}`).toBe(true);
  const err = thrown as RecryptError;
  expect(err.code).toBe(code);
  return err;
}

/** A copy of buf with one bit flipped. */
export function flipBit(buf: Uint8Array, byteIndex: number, bit = 0): Buffer {
  const out = Buffer.from(buf);
  out[byteIndex]! ^= 1 << bit;
  return out;
}
