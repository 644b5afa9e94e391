/**
 * The plaintext guard: before a DLQ record goes out, look for every tagged plaintext value of the source
 * record in the outgoing key, value, header names and header values.
 *
 * Two checks, both must pass:
 * - Bytes: each value of at least MIN_SCAN_BYTES bytes, in each of its obvious encodings: UTF-8 (raw
 *   bytes for bytes fields), standard and URL-safe base64 at all three alignments (so a value inside a
 *   longer base64 text is found too), lower and upper case hex, JSON string escaping (as is and with
 *   non-ASCII as \uXXXX), percent-encoding, and for bytes the Latin-1 code points as UTF-8 (Avro's JSON
 *   encoding of bytes). Shorter values match by chance in any payload (a two-letter country code is
 *   in most records), so they are left to the next check.
 * - Structure: when the outgoing value is a framed record of the writer schema, it is decoded again and
 *   no tagged field may hold a known plaintext value, whatever its length.
 *
 * A hit names where (key, value, header name) and which encoding, never the value.
 */
import type { Codec, FieldWalker } from '../formats/index.js';
import type { OutputRecord } from '../util/records.js';
import { decodeFrame, VALUE_SCHEMA_ID_HEADER } from '../wire/index.js';
import type { Plaintext } from './types.js';

/** Values shorter than this are not searched for in raw bytes (see above); the structural check covers them. */
export const MIN_SCAN_BYTES = 4;

export interface GuardHit {
  /** `key`, `value`, `header-name` or `header:<name>`. */
  readonly where: string;
  /** Which encoding of the value matched, or `field` for the structural check. */
  readonly encoding: string;
}

/** How to decode the outgoing value again for the structural check. */
export interface GuardStructure {
  readonly codec: Codec;
  readonly tagged: FieldWalker | null;
  readonly messageIndexes: boolean;
}

interface Needle {
  readonly bytes: Buffer;
  readonly encoding: string;
}

const B64_URL = (s: string): string => s.replace(/\+/g, '-').replace(/\//g, '_');

/**
 * The base64 characters that depend only on `value`'s bytes when it sits at byte offset `shift` (0..2)
 * of a longer text: characters mixing in bits of neighbouring bytes are cut off.
 */
function base64Core(value: Buffer, shift: number): string {
  const padded = Buffer.concat([Buffer.alloc(shift), value]);
  const text = padded.toString('base64').replace(/=+$/, '');
  const first = Math.ceil((shift * 8) / 6);
  const last = Math.floor(((shift + value.length) * 8) / 6); // exclusive
  return text.slice(first, last);
}

function jsonEscaped(text: string): string[] {
  const plain = JSON.stringify(text).slice(1, -1);
  // eslint-disable-next-line no-control-regex
  const ascii = plain.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [plain, ascii];
}

function needlesFor(value: Plaintext): Needle[] {
  const raw = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (raw.length < MIN_SCAN_BYTES) return [];
  const out: Needle[] = [{ bytes: raw, encoding: 'utf8' }];
  for (let shift = 0; shift < 3; shift++) {
    const core = base64Core(raw, shift);
    if (core.length === 0) continue;
    out.push({ bytes: Buffer.from(core), encoding: 'base64' });
    const url = B64_URL(core);
    if (url !== core) out.push({ bytes: Buffer.from(url), encoding: 'base64url' });
  }
  const hex = raw.toString('hex');
  out.push({ bytes: Buffer.from(hex), encoding: 'hex' }, { bytes: Buffer.from(hex.toUpperCase()), encoding: 'hex' });
  const text = typeof value === 'string' ? value : raw.toString('latin1');
  if (typeof value !== 'string') out.push({ bytes: Buffer.from(text, 'utf8'), encoding: 'latin1-utf8' });
  for (const escaped of jsonEscaped(text)) out.push({ bytes: Buffer.from(escaped, 'utf8'), encoding: 'json' });
  if (typeof value === 'string') {
    let percent: string | undefined;
    try {
      percent = encodeURIComponent(value);
    } catch {
      percent = undefined; // lone surrogates: not URL-encodable, nothing to look for
    }
    if (percent !== undefined) out.push({ bytes: Buffer.from(percent), encoding: 'percent' });
  }
  const seen = new Set<string>();
  return out.filter((n) => {
    const key = n.bytes.toString('latin1');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function regions(record: OutputRecord): Array<{ where: string; bytes: Buffer }> {
  const out: Array<{ where: string; bytes: Buffer }> = [];
  if (record.key !== null) out.push({ where: 'key', bytes: record.key });
  if (record.value !== null) out.push({ where: 'value', bytes: record.value });
  for (const h of record.headers) {
    out.push({ where: 'header-name', bytes: Buffer.from(h.key, 'utf8') });
    out.push({ where: `header:${h.key}`, bytes: h.value });
  }
  return out;
}

function sameValue(a: unknown, b: Plaintext): boolean {
  if (typeof a === 'string') return typeof b === 'string' ? a === b : Buffer.from(a, 'utf8').equals(b);
  if (a instanceof Uint8Array) {
    const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
    return Buffer.compare(a, bytes) === 0;
  }
  return false;
}

/** Decodes the outgoing value and compares every tagged field with the known plaintexts. */
function structuralHit(record: OutputRecord, plaintexts: readonly Plaintext[], structure: GuardStructure): GuardHit | undefined {
  if (record.value === null || record.value.length === 0 || structure.tagged === null) return undefined;
  const header = record.headers.find((h) => h.key === VALUE_SCHEMA_ID_HEADER)?.value;
  let decoded: unknown;
  try {
    const frame = decodeFrame(record.value, { header, messageIndexes: structure.messageIndexes });
    decoded = structure.codec.decode(frame.payload);
  } catch {
    // What we built does not decode: it cannot be checked, so it does not go out.
    return { where: 'value', encoding: 'undecodable' };
  }
  let hit: GuardHit | undefined;
  structure.tagged(decoded, (v) => {
    if (hit === undefined && v !== null && v !== undefined && plaintexts.some((p) => sameValue(v, p))) hit = { where: 'value', encoding: 'field' };
    return v;
  });
  return hit;
}

/** The first place the record carries a tagged plaintext value, or undefined when it is clean. */
export function findPlaintext(record: OutputRecord, plaintexts: readonly Plaintext[], structure?: GuardStructure): GuardHit | undefined {
  const values = plaintexts.filter((p) => p.length > 0);
  if (values.length === 0) return undefined;
  const places = regions(record);
  for (const value of values) {
    for (const needle of needlesFor(value)) {
      for (const place of places) {
        if (place.bytes.indexOf(needle.bytes) !== -1) return { where: place.where, encoding: needle.encoding };
      }
    }
  }
  return structure === undefined ? undefined : structuralHit(record, values, structure);
}
