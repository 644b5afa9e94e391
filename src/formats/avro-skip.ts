/**
 * Skipping over encoded Avro without decoding it: a cursor over a payload and a compiled skipper per
 * type. The splicer (avro-splice.ts) skips what no rule selects; the validator checks a payload's
 * structure before avsc reads it.
 */
import { t, type Type } from './avro-types.js';

/** Thrown by the scanner on malformed input; caught by scan(). */
export const MALFORMED = Symbol('malformed');

export class Cursor {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  /** A zig-zag varint as a number (exact to 2^53; lengths and indexes are far below). */
  long(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    let n = b & 0x7f;
    let scale = 128;
    while (b & 0x80) {
      if (scale > 2 ** 63) throw MALFORMED;
      b = buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      scale *= 128;
    }
    if (this.pos > buf.length) throw MALFORMED;
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  skipVarint(): void {
    const buf = this.buf;
    let i = 0;
    while (buf[this.pos++]! & 0x80) if (++i > 9) throw MALFORMED;
    if (this.pos > buf.length) throw MALFORMED;
  }

  skip(n: number): void {
    if (n < 0) throw MALFORMED;
    this.pos += n;
    if (this.pos > this.buf.length) throw MALFORMED;
  }
}

export type Skip = (c: Cursor) => void;
const skipNothing: Skip = () => undefined;

/**
 * Most items of a zero-size type (null, a record of nulls) one block may hold in strict mode: they take
 * no bytes, so nothing else bounds a garbled count, and avsc would try to build an array that long.
 */
const MAX_ZERO_SIZE_ITEMS = 1 << 20;

/**
 * A skipper for any Avro type; null for a type this module does not know (no splicer then). `strict`
 * (the validator) walks blocks item by item even when their byte size is given, checks that size, and
 * bounds zero-size items; the splicer trusts block sizes, as the Avro spec allows for skipping.
 */
export function skipperFor(type: Type, records: Map<Type, { fn: Skip }>, strict = false): Skip | null {
  const a = t(type);
  switch (a.typeName) {
    case 'null':
      return skipNothing;
    case 'boolean':
      return (c) => c.skip(1);
    case 'int':
    case 'long':
    case 'enum':
      return (c) => c.skipVarint();
    case 'float':
      return (c) => c.skip(4);
    case 'double':
      return (c) => c.skip(8);
    case 'string':
    case 'bytes':
      return (c) => c.skip(c.long());
    case 'fixed': {
      const size = a.size ?? -1;
      return size < 0 ? null : (c) => c.skip(size);
    }
    case 'array':
    case 'map': {
      const item = skipperFor((a.itemsType ?? a.valuesType)!, records, strict);
      if (item === null) return null;
      const isMap = a.typeName === 'map';
      const items = (c: Cursor, count: number): void => {
        for (let left = count; left > 0; left--) {
          const before = c.pos;
          if (isMap) c.skip(c.long());
          item(c);
          // Items of a zero-size type take no bytes: a count of 2^62 of them must not spin. Any other
          // item takes a byte at least, so the end of the payload bounds the loop.
          if (c.pos === before) {
            if (strict && count > MAX_ZERO_SIZE_ITEMS) throw MALFORMED;
            break;
          }
        }
      };
      return (c) => {
        for (;;) {
          const count = c.long();
          if (count === 0) return;
          if (count > 0) {
            items(c, count);
            continue;
          }
          // A negative count is followed by the block's size in bytes.
          const size = c.long();
          if (!strict) {
            c.skip(size);
            continue;
          }
          const end = c.pos + size;
          items(c, -count);
          if (c.pos !== end) throw MALFORMED;
        }
      };
    }
    case 'union:wrapped':
    case 'union:unwrapped': {
      const branches = (a.types ?? []).map((b) => skipperFor(b, records, strict));
      if (branches.some((b) => b === null)) return null;
      return (c) => {
        const branch = branches[c.long()];
        if (branch === undefined) throw MALFORMED;
        branch!(c);
      };
    }
    case 'record':
    case 'error': {
      const known = records.get(type);
      if (known) return (c) => known.fn(c);
      const holder = { fn: skipNothing };
      records.set(type, holder); // before the fields: records may refer to themselves
      const fields = (a.fields ?? []).map((f) => skipperFor(f.type, records, strict));
      if (fields.some((f) => f === null)) return null;
      const fns = fields as Skip[];
      holder.fn = (c) => {
        for (let i = 0; i < fns.length; i++) fns[i]!(c);
      };
      return holder.fn;
    }
    default:
      return null;
  }
}

/**
 * A structural check of a payload against a type, run before avsc decodes it: avsc does not bound its
 * reads by the buffer, so a garbled block count can make it loop or allocate until the process dies.
 * Returns null when the payload is well-formed, else a value-free reason (formats/common.ts). Null
 * validator when the type holds something this module does not know.
 */
export function compileAvroValidator(type: Type): ((payload: Buffer) => string | null) | null {
  const skip = skipperFor(type, new Map(), true);
  if (skip === null) return null;
  const c = new Cursor();
  return (payload) => {
    c.buf = payload;
    c.pos = 0;
    try {
      skip(c);
      return c.pos === payload.length ? null : c.pos > payload.length ? 'truncated buffer' : 'trailing data';
    } catch (err) {
      if (err !== MALFORMED) throw err;
      return c.pos > payload.length ? 'truncated buffer' : 'malformed value';
    } finally {
      c.buf = EMPTY;
    }
  };
}

const EMPTY = Buffer.alloc(0);
