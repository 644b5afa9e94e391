/**
 * Helpers shared by the format codecs: value-free errors, tag lists, field kinds.
 *
 * Library errors (avsc, protobufjs, JSON.parse) often quote the offending value in their message, so
 * decode/encode errors never carry the library message or the library error as `cause`; only a short
 * reason from a fixed list of value-free phrases survives.
 */
import { RecryptError } from '../util/errors.js';
import type { FieldInfo, FieldKind } from './types.js';

/** Value-free phrases that library errors may start with; anything else becomes a generic reason. */
const SAFE_REASONS: readonly RegExp[] = [
  /^truncated buffer/,
  /^trailing data/,
  /^invalid union index/,
  /^invalid wire type/,
  /^index out of range/,
  /^illegal wire type/,
  /^invalid varint encoding/,
  /^invalid long/,
  /^potential precision loss/,
  /^Unexpected end of JSON input/,
  /^Unexpected token/,
  /^missing required/,
];

export function safeReason(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  for (const re of SAFE_REASONS) {
    const m = re.exec(message);
    if (m !== null) return m[0];
  }
  return 'malformed value';
}

export function decodeError(what: string, err: unknown): RecryptError {
  return new RecryptError('FORMAT_DECODE', `${what} payload does not decode with its writer schema (${safeReason(err)})`);
}

export function encodeError(what: string, err: unknown): RecryptError {
  return new RecryptError('FORMAT_ENCODE', `value does not encode as ${what} with the target schema (${safeReason(err)})`);
}

/** Schema errors may carry the library error: schema text is not record data. */
export function schemaError(what: string, detail: string, cause?: unknown): RecryptError {
  return new RecryptError('FORMAT_SCHEMA', `${what} schema is invalid or unsupported: ${detail}`, cause === undefined ? {} : { cause });
}

/** Normalizes a `confluent:tags`-like attribute (array of strings, or a single string) to a frozen list. */
export function tagList(raw: unknown): readonly string[] {
  if (typeof raw === 'string') return Object.freeze([raw]);
  if (!Array.isArray(raw)) return EMPTY_TAGS;
  const out: string[] = [];
  for (const t of raw) if (typeof t === 'string' && !out.includes(t)) out.push(t);
  return out.length === 0 ? EMPTY_TAGS : Object.freeze(out);
}

export const EMPTY_TAGS: readonly string[] = Object.freeze([]);

export function fieldInfo(name: string, fullName: string, inlineTags: readonly string[], kind: FieldKind): FieldInfo {
  return Object.freeze({ name, fullName, inlineTags, kind });
}

/** The same field seen through a leaf of another kind (e.g. the string branch of a union). */
export function withKind(info: FieldInfo, kind: FieldKind): FieldInfo {
  return info.kind === kind ? info : fieldInfo(info.name, info.fullName, info.inlineTags, kind);
}

/** Static kind of a field from the kinds of the leaves it can hold (null excluded). */
export function combineKinds(kinds: Iterable<FieldKind>): FieldKind {
  let result: FieldKind | undefined;
  for (const k of kinds) {
    if (result === undefined) result = k;
    else if (result !== k) return 'other';
  }
  return result ?? 'other';
}

/** Visitors may hand back a Uint8Array for a bytes field; codecs want a Buffer. */
export function asBuffer(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

export const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);
