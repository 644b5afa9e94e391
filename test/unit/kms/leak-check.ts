// Canary checks: a thrown error (message, toString, cause chain, and everything util.inspect shows)
// must not contain the DEK bytes or a secret in any usual encoding.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { expect } from 'vitest';

/** A Tink AesGcmKey proto (`1a 20` + 32 key bytes) with random, recognisable key bytes. */
export function canaryDek(): Buffer {
  return Buffer.concat([Buffer.from([0x1a, 0x20]), randomBytes(32)]);
}

function encodings(value: Buffer | string): string[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const out = [bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64'), bytes.toString('base64url')];
  if (typeof value === 'string') out.push(value);
  else out.push(bytes.toString('latin1'));
  if (bytes.length > 8) {
    // The key bytes alone (proto header stripped), in case something decodes the proto.
    const inner = bytes.subarray(2);
    out.push(inner.toString('hex'), inner.toString('base64'), inner.toString('base64url'));
  }
  // Base64 of a suffix/prefix shifted by one or two bytes never matches a plain search; cover the
  // stable middle of each base64 alignment too.
  for (let shift = 0; shift < 3 && bytes.length > 12; shift++) {
    const b64 = bytes.subarray(shift).toString('base64');
    out.push(b64.slice(4, Math.max(8, b64.length - 8)));
  }
  return out.filter((s) => s.length >= 8);
}

/** Renders everything about an error that could end up in a log. */
export function renderError(err: unknown): string {
  const parts: string[] = [inspect(err, { depth: 12, showHidden: true, maxStringLength: Infinity, maxArrayLength: Infinity })];
  let current: unknown = err;
  for (let i = 0; i < 10 && current instanceof Error; i++) {
    parts.push(current.message, String(current), current.stack ?? '');
    try {
      parts.push(JSON.stringify(current));
    } catch {
      // circular: inspect covered it
    }
    current = current.cause;
  }
  return parts.join('\n');
}

export function expectNoLeak(err: unknown, ...values: (Buffer | string)[]): void {
  const text = renderError(err);
  for (const value of values) {
    for (const encoded of encodings(value)) {
      expect(text.includes(encoded), `error text contains a secret (as ${encoded.slice(0, 6)}…)`).toBe(false);
    }
  }
}

/** Awaits a promise that must reject; returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
