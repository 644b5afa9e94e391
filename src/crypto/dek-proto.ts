/**
 * DEK material as Confluent stores it: a serialized Tink key proto (these bytes are what a KMS wraps).
 *   AesGcmKey { uint32 version = 1; bytes key_value = 3; }  -> 1a 10|20 <key>   (version 0 omitted)
 *   AesSivKey { uint32 version = 1; bytes key_value = 2; }  -> 12 40 <64 bytes>
 * The reader follows protobuf rules (any field order, explicit `08 00`, unknown fields skipped, last
 * key_value wins) so protos written by any Tink version parse; the writer emits the canonical bytes.
 */
import { randomBytes } from 'node:crypto';
import type { DekAlgorithm } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import { createAesGcmFieldCipher } from './aes-gcm.js';
import { createAesSivFieldCipher } from './aes-siv.js';
import { rememberDekMaterial } from './thread-material.js';
import type { FieldCipher } from './types.js';

interface KeyFormat {
  keySize: number;
  /** Field number of key_value in the Tink proto. */
  keyField: number;
}

const FORMATS: Readonly<Record<DekAlgorithm, KeyFormat>> = {
  AES128_GCM: { keySize: 16, keyField: 3 },
  AES256_GCM: { keySize: 32, keyField: 3 },
  AES256_SIV: { keySize: 64, keyField: 2 },
};

const VERSION_FIELD = 1;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function formatOf(algorithm: DekAlgorithm): KeyFormat {
  const format = Object.hasOwn(FORMATS, algorithm) ? FORMATS[algorithm] : undefined;
  if (format === undefined) {
    throw new RecryptError('CRYPTO_UNKNOWN_ALGORITHM', `unknown DEK algorithm ${JSON.stringify(String(algorithm))}`);
  }
  return format;
}

/** Raw key size in bytes of a DEK algorithm. */
export function dekKeySize(algorithm: DekAlgorithm): number {
  return formatOf(algorithm).keySize;
}

/** A fresh random key as serialized Tink proto: the bytes to wrap with the KEK. */
export function newDekMaterial(algorithm: DekAlgorithm): Buffer {
  const { keySize, keyField } = formatOf(algorithm);
  // keySize < 128, so tag and length are one byte each.
  const proto = Buffer.allocUnsafe(2 + keySize);
  proto[0] = (keyField << 3) | WIRE_LEN;
  proto[1] = keySize;
  randomBytes(keySize).copy(proto, 2);
  return proto;
}

/** Builds the field cipher for unwrapped DEK material. CRYPTO_BAD_KEY when the proto or size is wrong. */
export function cipherFromDekProto(algorithm: DekAlgorithm, proto: Uint8Array): FieldCipher {
  const { keySize, keyField } = formatOf(algorithm);
  const key = readKeyValue(proto, keyField);
  if (key.length !== keySize) {
    throw new RecryptError('CRYPTO_BAD_KEY', `${algorithm} DEK key must be ${keySize} bytes, got ${key.length}`);
  }
  const cipher = algorithm === 'AES256_SIV' ? createAesSivFieldCipher(key) : createAesGcmFieldCipher(algorithm, key);
  // The engine's worker threads rebuild the cipher from the proto (thread-material.ts), when a pool runs in this process.
  rememberDekMaterial(cipher, algorithm, proto);
  return cipher;
}

/** Returns key_value as a view into proto (no copy: the cipher copies it into a KeyObject). */
function readKeyValue(proto: Uint8Array, keyField: number): Uint8Array {
  const reader = { buf: proto, pos: 0 };
  let key: Uint8Array | undefined;
  while (reader.pos < proto.length) {
    const tag = readVarint(reader);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) bad('field number 0');
    if (field === VERSION_FIELD) {
      if (wire !== WIRE_VARINT) bad('version has the wrong wire type');
      if (readVarint(reader) !== 0) bad('unsupported key version');
    } else if (field === keyField) {
      if (wire !== WIRE_LEN) bad('key_value has the wrong wire type');
      key = readBytes(reader);
    } else {
      skipField(reader, wire);
    }
  }
  if (key === undefined) bad('key_value missing');
  return key;
}

interface Reader {
  buf: Uint8Array;
  pos: number;
}

/**
 * Unsigned varint of up to 10 bytes, as protobuf allows. Precision above 2^53 is lost, which does not
 * matter: such values are only ever skipped (unknown fields) or rejected (lengths, versions).
 */
function readVarint(r: Reader): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.buf.length) bad('truncated varint');
    const b = r.buf[r.pos++]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return value;
    scale *= 128;
  }
  return bad('varint too long');
}

function readBytes(r: Reader): Uint8Array {
  const len = readVarint(r);
  if (len > r.buf.length - r.pos) bad('truncated field');
  const out = r.buf.subarray(r.pos, r.pos + len);
  r.pos += len;
  return out;
}

function skipField(r: Reader, wire: number): void {
  switch (wire) {
    case WIRE_VARINT:
      readVarint(r);
      return;
    case WIRE_LEN:
      readBytes(r);
      return;
    case WIRE_FIXED64:
    case WIRE_FIXED32: {
      const n = wire === WIRE_FIXED64 ? 8 : 4;
      if (n > r.buf.length - r.pos) bad('truncated field');
      r.pos += n;
      return;
    }
    default:
      bad('unsupported wire type'); // groups (3, 4) never appear in Tink key protos
  }
}

function bad(what: string): never {
  throw new RecryptError('CRYPTO_BAD_KEY', `DEK key proto is malformed: ${what}`);
}
