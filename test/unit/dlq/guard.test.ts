import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAvroCodec } from '../../../src/formats/index.js';
import { findPlaintext, MIN_SCAN_BYTES } from '../../../src/dlq/guard.js';
import type { OutputRecord } from '../../../src/util/records.js';
import { encodeFrame } from '../../../src/wire/index.js';

const record = (value: Buffer | null, headers: Record<string, string | Buffer> = {}, key: Buffer | null = null): OutputRecord => ({
  topic: 'dlq', partition: 0, key, value, timestamp: 0,
  headers: Object.entries(headers).map(([k, v]) => ({ key: k, value: Buffer.isBuffer(v) ? v : Buffer.from(v) })),
});

const canary = 'Canary-7f3a9c-ünï';

describe('DLQ guard: byte scan', () => {
  it('finds a value in key, value, header names and header values', () => {
    expect(findPlaintext(record(Buffer.from(`xx${canary}yy`)), [canary])).toEqual({ where: 'value', encoding: 'utf8' });
    expect(findPlaintext(record(null, {}, Buffer.from(canary)), [canary])?.where).toBe('key');
    expect(findPlaintext(record(null, { h: `a=${canary}` }), [canary])?.where).toBe('header:h');
    expect(findPlaintext(record(null, { [canary]: 'x' }), [canary])?.where).toBe('header-name');
    expect(findPlaintext(record(Buffer.from('clean'), { h: 'clean' }), [canary])).toBeUndefined();
  });

  it('finds base64 (std and url) at every alignment inside a longer text, hex, JSON escapes and percent-encoding', () => {
    const raw = Buffer.from(canary);
    for (let pad = 0; pad < 3; pad++) {
      const b64 = Buffer.concat([Buffer.alloc(pad, 0x41), raw, Buffer.from('tail')]).toString('base64');
      expect(findPlaintext(record(Buffer.from(b64)), [canary])?.encoding, `pad ${pad}`).toBe('base64');
      const url = b64.replace(/\+/g, '-').replace(/\//g, '_');
      expect(findPlaintext(record(Buffer.from(url)), [canary]), `url pad ${pad}`).toBeDefined();
    }
    expect(findPlaintext(record(Buffer.from(raw.toString('hex').toUpperCase())), [canary])?.encoding).toBe('hex');
    expect(findPlaintext(record(Buffer.from(JSON.stringify({ v: 'a"b\u00e9-long' }))), ['a"b\u00e9-long'])?.encoding).toBe('json');
    expect(findPlaintext(record(Buffer.from('{"v":"a\\u00e9bcd"}')), ['a\u00e9bcd'])?.encoding).toBe('json');
    expect(findPlaintext(record(null, { q: `?e=${encodeURIComponent('a b@c.d')}` }), ['a b@c.d'])?.encoding).toBe('percent');
  });

  it('finds bytes values raw, as base64 and as Avro-JSON latin1 text', () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0xff]);
    expect(findPlaintext(record(Buffer.concat([Buffer.from('x'), bytes])), [bytes])?.encoding).toBe('utf8');
    expect(findPlaintext(record(Buffer.from(bytes.toString('base64'))), [bytes])?.encoding).toBe('base64');
    expect(findPlaintext(record(Buffer.from(bytes.toString('latin1'), 'utf8')), [bytes])?.encoding).toBe('latin1-utf8');
  });

  it(`skips values shorter than ${MIN_SCAN_BYTES} bytes in the byte scan, and empty values altogether`, () => {
    expect(findPlaintext(record(Buffer.from('NL-DE')), ['NL'])).toBeUndefined();
    expect(findPlaintext(record(Buffer.from('anything')), [''])).toBeUndefined();
  });
});

describe('DLQ guard: structural check', () => {
  const codec = createAvroCodec({ schema: JSON.stringify({
    type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'string' }],
  }) });
  const tagged = codec.compileWalker((f) => f.name === 'a');
  const structure = { codec, tagged, messageIndexes: false };

  it('finds a short plaintext left in a tagged field, not one in an untagged field', () => {
    const leaky = encodeFrame(1, codec.encode({ a: 'NL', b: '' }));
    expect(findPlaintext(record(leaky), ['NL'], structure)).toEqual({ where: 'value', encoding: 'field' });
    const clean = encodeFrame(1, codec.encode({ a: '', b: 'NL' }));
    expect(findPlaintext(record(clean), ['NL'], structure)).toBeUndefined();
  });

  it('blocks a value it cannot decode again', () => {
    expect(findPlaintext(record(Buffer.from([0, 0, 0, 0, 1, 0xff])), ['NL'], structure)?.encoding).toBe('undecodable');
  });
});

describe('dlq/ cannot be bypassed', () => {
  it('nothing outside src/dlq imports its internals (only src/dlq/index.js)', () => {
    const root = resolve(import.meta.dirname, '../../../src');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) { if (path !== join(root, 'dlq')) walk(path); continue; }
        if (!path.endsWith('.ts')) continue;
        for (const m of readFileSync(path, 'utf8').matchAll(/from '([^']*\/dlq\/[^']*)'/g)) {
          if (!m[1]!.endsWith('/dlq/index.js')) offenders.push(`${relative(root, path)}: ${m[1]}`);
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
