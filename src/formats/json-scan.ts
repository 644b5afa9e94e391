/**
 * A byte-level reader of UTF-8 JSON text for json-splice.ts: whitespace, strings (with their escapes),
 * numbers, literals, and whole values skipped without building them. It accepts exactly what JSON.parse
 * accepts (RFC 8259 grammar; raw control characters in strings refused; UTF-8 validity is checked once
 * per payload by the caller), so a payload it passes is one the general path would parse too.
 * Errors are the MALFORMED sentinel: the splicer then leaves the payload to the general path, which reports.
 */

/** Thrown (never escapes json-splice.ts) when the text is not JSON this reader accepts. */
export const MALFORMED: unique symbol = Symbol('malformed JSON');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Deeper nesting than this is left to the general path (keeps the skip's recursion bounded). */
const MAX_DEPTH = 512;

/** 1 for the bytes a string may hold raw without ending it or needing a look: not `"`, `\` or a control character. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 256; b++) PLAIN[b] = b === QUOTE || b === BACKSLASH ? 0 : 1;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

export class JsonCursor {
  buf: Buffer = EMPTY;
  pos = 0;
  /** Whether the string read last had a backslash escape. */
  escaped = false;

  /** Skips JSON whitespace; returns the next byte (-1 at the end). */
  ws(): number {
    const buf = this.buf;
    let pos = this.pos;
    while (pos < buf.length) {
      const b = buf[pos]!;
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
        this.pos = pos;
        return b;
      }
      pos++;
    }
    this.pos = pos;
    return -1;
  }

  /** Consumes `byte` after whitespace, or throws. */
  expect(byte: number): void {
    if (this.ws() !== byte) throw MALFORMED;
    this.pos++;
  }

  /** Reads a string at pos (its opening quote); pos ends after the closing quote. Sets `escaped`. */
  string(): void {
    const buf = this.buf;
    let pos = this.pos + 1;
    let escaped = false;
    for (;;) {
      if (pos >= buf.length) throw MALFORMED;
      const b = buf[pos]!;
      if (PLAIN[b] === 1) {
        pos++;
        continue;
      }
      if (b === QUOTE) break;
      if (b !== BACKSLASH) throw MALFORMED; // a raw control character
      escaped = true;
      const e = buf[pos + 1];
      if (e === 0x75) {
        // \uXXXX: any four hex digits (JSON.parse takes lone surrogates too).
        if (pos + 6 > buf.length || HEX[buf[pos + 2]!] !== 1 || HEX[buf[pos + 3]!] !== 1 || HEX[buf[pos + 4]!] !== 1 || HEX[buf[pos + 5]!] !== 1) {
          throw MALFORMED;
        }
        pos += 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        pos += 2;
      } else throw MALFORMED;
    }
    this.pos = pos + 1;
    this.escaped = escaped;
  }

  /** Reads a number at pos (RFC 8259: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?). */
  number(): void {
    const buf = this.buf;
    let pos = this.pos;
    if (buf[pos] === 0x2d) pos++;
    if (buf[pos] === 0x30) pos++;
    else if (isDigit(buf[pos])) while (isDigit(buf[pos])) pos++;
    else throw MALFORMED;
    if (buf[pos] === 0x2e) {
      pos++;
      if (!isDigit(buf[pos])) throw MALFORMED;
      while (isDigit(buf[pos])) pos++;
    }
    if (buf[pos] === 0x65 || buf[pos] === 0x45) {
      pos++;
      if (buf[pos] === 0x2b || buf[pos] === 0x2d) pos++;
      if (!isDigit(buf[pos])) throw MALFORMED;
      while (isDigit(buf[pos])) pos++;
    }
    this.pos = pos;
  }

  /** Reads `true`, `false` or `null` at pos. */
  literal(): void {
    const buf = this.buf;
    const pos = this.pos;
    const b = buf[pos];
    const word = b === 0x74 ? TRUE : b === 0x66 ? FALSE : b === 0x6e ? NULL : undefined;
    if (word === undefined || pos + word.length > buf.length) throw MALFORMED;
    for (let i = 1; i < word.length; i++) if (buf[pos + i] !== word[i]) throw MALFORMED;
    this.pos = pos + word.length;
  }

  /** Skips one value after whitespace, checking its grammar. */
  skipValue(depth: number): void {
    const b = this.ws();
    if (b === QUOTE) this.string();
    else if (b === 0x7b) this.skipObject(depth + 1);
    else if (b === 0x5b) this.skipArray(depth + 1);
    else if (b === 0x2d || isDigit(b)) this.number();
    else this.literal();
  }

  private skipObject(depth: number): void {
    if (depth > MAX_DEPTH) throw MALFORMED;
    this.pos++;
    if (this.ws() === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.ws() !== QUOTE) throw MALFORMED;
      this.string();
      this.expect(0x3a);
      this.skipValue(depth);
      const b = this.ws();
      this.pos++;
      if (b === 0x7d) return;
      if (b !== 0x2c) throw MALFORMED;
    }
  }

  private skipArray(depth: number): void {
    if (depth > MAX_DEPTH) throw MALFORMED;
    this.pos++;
    if (this.ws() === 0x5d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipValue(depth);
      const b = this.ws();
      this.pos++;
      if (b === 0x5d) return;
      if (b !== 0x2c) throw MALFORMED;
    }
  }
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');
const NULL = Buffer.from('null', 'latin1');
const EMPTY = Buffer.alloc(0);

export { MAX_DEPTH, EMPTY as EMPTY_BUFFER };
