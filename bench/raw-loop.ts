/**
 * The practical ceiling: the same field work written directly against avsc and node's crypto, with no
 * registry, rules, plans, framing checks or error handling. Keys are node KeyObjects made once.
 *   AES256_GCM field: base64(IV(12) | ciphertext | tag(16)), fresh random IV per field.
 *   AES256_SIV field: base64(V(16) | AES-CTR ciphertext), RFC 5297 with one empty associated data
 *   component (how Confluent's clients call it); node has no SIV, so S2V's CMAC is AES-CBC here.
 */
import avro from 'avsc';
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { CUSTOMER_SCHEMA, type Customer } from './customer.js';

export type RecordFn = (framed: Buffer) => Buffer;

const IV = 12;
const TAG = 16;
const BLOCK = 16;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

function framePrefix(id: number): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeInt32BE(id, 1);
  return prefix;
}

export class RawGcm {
  readonly #key: KeyObject;
  constructor(key: Buffer) {
    this.#key = createSecretKey(key);
  }

  encrypt(text: string): string {
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = cipher.update(text, 'utf8');
    cipher.final();
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  decrypt(field: string): Buffer {
    const bytes = Buffer.from(field, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
    const plaintext = decipher.update(bytes.subarray(IV, bytes.length - TAG));
    decipher.final();
    return plaintext;
  }
}

/** x * block in GF(2^128) (RFC 5297 dbl). */
function double(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((block[i]! << 1) | (i + 1 < BLOCK ? block[i + 1]! >>> 7 : 0)) & 0xff;
  if (block[0]! & 0x80) out[BLOCK - 1]! ^= 0x87;
  return out;
}

function xor16(target: Buffer, at: number, mask: Buffer): void {
  for (let i = 0; i < BLOCK; i++) target[at + i]! ^= mask[i]!;
}

/** AES-SIV-CMAC-512 encryption with the associated data fixed to one empty component. */
export class RawSiv {
  readonly #macKey: KeyObject;
  readonly #ctrKey: KeyObject;
  readonly #sub1: Buffer;
  readonly #sub2: Buffer;
  /** S2V state after the associated data: dbl(CMAC(0^128)) xor CMAC(""). */
  readonly #state: Buffer;
  /** dbl(state), the mask for plaintexts shorter than a block. */
  readonly #stateDbl: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 64) throw new Error('AES256_SIV key must be 64 bytes');
    this.#macKey = createSecretKey(key.subarray(0, 32));
    this.#ctrKey = createSecretKey(key.subarray(32));
    const ecb = createCipheriv('aes-256-ecb', this.#macKey, null).setAutoPadding(false);
    const l = ecb.update(Buffer.alloc(BLOCK));
    this.#sub1 = double(l);
    this.#sub2 = double(this.#sub1);
    const state = double(this.#mac(Buffer.alloc(BLOCK), BLOCK));
    xor16(state, 0, this.#mac(Buffer.alloc(BLOCK), 0));
    this.#state = state;
    this.#stateDbl = double(state);
  }

  /** CMAC of the first `len` bytes of `buf`, which has room for the padding; masks `buf` in place. */
  #mac(buf: Buffer, len: number): Buffer {
    const complete = len > 0 && len % BLOCK === 0;
    const end = complete ? len : (Math.floor(len / BLOCK) + 1) * BLOCK;
    if (complete) xor16(buf, end - BLOCK, this.#sub1);
    else {
      buf[len] = 0x80;
      buf.fill(0, len + 1, end);
      xor16(buf, end - BLOCK, this.#sub2);
    }
    const cbc = createCipheriv('aes-256-cbc', this.#macKey, ZERO_BLOCK).setAutoPadding(false);
    const out = cbc.update(buf.subarray(0, end));
    return out.subarray(end - BLOCK);
  }

  encrypt(plaintext: Buffer): Buffer {
    const len = plaintext.length;
    let v: Buffer;
    if (len >= BLOCK) {
      const t = Buffer.allocUnsafe(len + BLOCK);
      plaintext.copy(t);
      xor16(t, len - BLOCK, this.#state);
      v = this.#mac(t, len);
    } else {
      const t = Buffer.allocUnsafe(BLOCK);
      const d = this.#stateDbl;
      // Short plaintext: dbl(D) xor (P | 10*), then CMAC over that one complete block.
      for (let i = 0; i < BLOCK; i++) t[i] = d[i]! ^ (i < len ? plaintext[i]! : i === len ? 0x80 : 0);
      v = this.#mac(t, BLOCK);
    }
    const q = Buffer.from(v);
    q[8]! &= 0x7f;
    q[12]! &= 0x7f;
    const body = createCipheriv('aes-256-ctr', this.#ctrKey, q).update(plaintext);
    return Buffer.concat([v, body]);
  }
}

export interface RawKeys {
  readonly gcmKey: Buffer;
  readonly sivKey: Buffer;
}

export type PathName = 'plain->gcm' | 'gcm->plain' | 'gcm->siv';

/** One record's work for `path`: framed source value in, framed target value out. */
export function rawRecordFn(path: PathName, keys: RawKeys, targetId: number): RecordFn {
  const type = avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema);
  const prefix = framePrefix(targetId);
  const gcm = new RawGcm(keys.gcmKey);
  const siv = new RawSiv(keys.sivKey);
  let field: (text: string) => string;
  switch (path) {
    case 'plain->gcm':
      field = (text) => gcm.encrypt(text);
      break;
    case 'gcm->plain':
      field = (text) => gcm.decrypt(text).toString('utf8');
      break;
    case 'gcm->siv':
      field = (text) => siv.encrypt(gcm.decrypt(text)).toString('base64');
      break;
  }
  return (framed) => {
    if (framed[0] !== 0) throw new Error('not a v0 Confluent frame');
    const customer = type.fromBuffer(framed.subarray(5)) as Customer;
    customer.name = field(customer.name);
    customer.email = field(customer.email);
    return Buffer.concat([prefix, type.toBuffer(customer)]);
  };
}

/** Plain framed Customer values (the source of the plain -> GCM path). */
export function encodePlain(records: readonly Customer[], schemaId: number): Buffer[] {
  const type = avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema);
  const prefix = framePrefix(schemaId);
  return records.map((r) => Buffer.concat([prefix, type.toBuffer(r)]));
}
