/**
 * Field surgery on JSON text: find the selected string values in a payload without parsing the rest
 * into objects, then write a payload with their new values, every other byte copied as it is.
 *
 * The general path parses the whole document, walks it and stringifies it again. When the selected
 * fields sit at fixed paths of properties and array items (json-splice-plan.ts), a byte scanner
 * (json-scan.ts) follows those paths, checks the grammar of everything it skips, and records where each
 * selected value is and its UTF-8 (unescaped). A new value is written as JSON.stringify writes it
 * (ciphertext as base64 text), an untouched one as it was. Whitespace outside the values is kept, so the
 * output is byte-equal to the general path's only when the input was compact; parsed, they are equal.
 * A payload that is not UTF-8, has a duplicate or unexpected value on a planned path, an array longer
 * than its plan's slots, or nests too deep does not scan, and the general path reports it.
 */
import { isUtf8 } from 'node:buffer';
import { base64Size, writeBase64 } from './base64-writer.js';
import { EMPTY_BUFFER, JsonCursor, MALFORMED, MAX_DEPTH } from './json-scan.js';
import { compileSplicePlan, type ArrayPlan, type ObjectPlan, type PlanSide, type ValuePlan } from './json-splice-plan.js';
import type { FieldSplicer, SelectedLeaf, SpliceState } from './types.js';

/** JSON's scratch space: where each leaf is in the payload scanned last (-1: absent), and in which order. */
export interface JsonSpliceState extends SpliceState {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** The values as scanned: a leaf whose value is still this one is copied as it was. */
  readonly scanned: unknown[];
  /** Leaf indexes in payload order; `found` of them are set. */
  readonly order: Int32Array;
  found: number;
}

export type JsonSplicer = FieldSplicer<JsonSpliceState>;

/** The splicer for payloads of `read`'s schema rewritten under `write`'s, or null when it does not apply. */
export function compileJsonSplicer(read: PlanSide, write: PlanSide): JsonSplicer | null {
  const plan = compileSplicePlan(read, write);
  return plan === null ? null : new Splicer(plan.root, plan.leafCount, plan.read, plan.write);
}

const QUOTE = 0x22;
const NULL_TEXT = Buffer.from('null', 'latin1');

class Splicer implements JsonSplicer {
  private readonly cursor = new JsonCursor();
  /** Per leaf in payload order: the bytes to write, or null to write the value raw between quotes / as base64. */
  private readonly pieces: (Buffer | null)[];

  constructor(
    private readonly root: ObjectPlan,
    readonly leafCount: number,
    readonly read: readonly (readonly SelectedLeaf[])[],
    readonly write: readonly (readonly SelectedLeaf[])[],
  ) {
    this.pieces = new Array<Buffer | null>(leafCount).fill(null);
  }

  newState(): JsonSpliceState {
    const n = this.leafCount;
    return {
      starts: new Int32Array(n).fill(-1), ends: new Int32Array(n), scanned: new Array<unknown>(n).fill(null),
      order: new Int32Array(n), found: 0, values: new Array<unknown>(n).fill(null), base64: new Uint8Array(n),
    };
  }

  scan(payload: Buffer, state: JsonSpliceState): boolean {
    state.base64.fill(0);
    state.starts.fill(-1);
    state.values.fill(null);
    state.scanned.fill(null);
    state.found = 0;
    // The general path decodes with a fatal UTF-8 decoder that drops a byte order mark.
    if (payload.length >= 3 && payload[0] === 0xef && payload[1] === 0xbb && payload[2] === 0xbf) return false;
    if (!isUtf8(payload)) return false;
    const c = this.cursor;
    c.buf = payload;
    c.pos = 0;
    try {
      this.value(this.root, state, 0);
      return c.ws() === -1;
    } catch (err) {
      if (err === MALFORMED) return false;
      throw err;
    } finally {
      c.buf = EMPTY_BUFFER;
    }
  }

  private value(plan: ValuePlan, state: JsonSpliceState, depth: number): void {
    const c = this.cursor;
    const buf = c.buf;
    const b = c.ws();
    const start = c.pos;
    if (b === 0x6e) {
      // null: a leaf keeps it (the walker leaves null alone), an object plan has nothing below.
      c.literal();
      if (plan.kind === 'leaf') this.found(state, plan.index, start, c.pos, null);
      return;
    }
    if (plan.kind === 'leaf') {
      if (b !== QUOTE) throw MALFORMED;
      c.string();
      const value = c.escaped ? Buffer.from(JSON.parse(buf.toString('utf8', start, c.pos)) as string, 'utf8') : buf.subarray(start + 1, c.pos - 1);
      this.found(state, plan.index, start, c.pos, value);
      return;
    }
    if (depth >= MAX_DEPTH) throw MALFORMED;
    if (plan.kind === 'array') {
      this.array(plan, state, depth);
      return;
    }
    if (b !== 0x7b) throw MALFORMED;
    c.pos++;
    if (c.ws() === 0x7d) {
      c.pos++;
      return;
    }
    let seen = 0;
    for (;;) {
      if (c.ws() !== QUOTE) throw MALFORMED;
      const keyStart = c.pos;
      c.string();
      const k = c.escaped ? plan.names.indexOf(JSON.parse(buf.toString('utf8', keyStart, c.pos)) as string) : matchKey(plan, buf, keyStart + 1, c.pos - 1);
      c.expect(0x3a);
      if (k < 0) c.skipValue(depth + 1);
      else {
        // JSON.parse keeps the last of duplicate keys: the general path decides which value counts.
        if ((seen & (1 << k)) !== 0) throw MALFORMED;
        seen |= 1 << k;
        this.value(plan.children[k]!, state, depth + 1);
      }
      const sep = c.ws();
      c.pos++;
      if (sep === 0x7d) return;
      if (sep !== 0x2c) throw MALFORMED;
    }
  }

  /** An array at pos: each item by its slot's plan; more items than slots do not scan. */
  private array(plan: ArrayPlan, state: JsonSpliceState, depth: number): void {
    const c = this.cursor;
    if (c.ws() !== 0x5b) throw MALFORMED;
    c.pos++;
    if (c.ws() === 0x5d) {
      c.pos++;
      return;
    }
    const slots = plan.slots;
    for (let k = 0; ; k++) {
      if (k >= slots.length) throw MALFORMED;
      this.value(slots[k]!, state, depth + 1);
      const sep = c.ws();
      c.pos++;
      if (sep === 0x5d) return;
      if (sep !== 0x2c) throw MALFORMED;
    }
  }

  private found(state: JsonSpliceState, leaf: number, start: number, end: number, value: Buffer | null): void {
    state.starts[leaf] = start;
    state.ends[leaf] = end;
    state.values[leaf] = value;
    state.scanned[leaf] = value;
    state.order[state.found++] = leaf;
  }

  splice(payload: Buffer, state: JsonSpliceState, prefix: Buffer): Buffer | undefined {
    const { starts, ends, values, scanned, base64, order, found } = state;
    // A leaf absent from the payload stays absent (its value is still null).
    for (let i = 0; i < this.leafCount; i++) if (starts[i]! < 0 && values[i] !== null && values[i] !== undefined) return undefined;
    const pieces = this.pieces;
    let total = prefix.length + payload.length;
    for (let k = 0; k < found; k++) {
      const i = order[k]!;
      const v = values[i];
      let size: number;
      pieces[k] = null;
      if (v === scanned[i]) size = ends[i]! - starts[i]!;
      else if (v === null || v === undefined) {
        pieces[k] = NULL_TEXT;
        size = 4;
      } else if (typeof v === 'string') {
        pieces[k] = Buffer.from(JSON.stringify(v), 'utf8');
        size = pieces[k]!.length;
      } else if (!(v instanceof Uint8Array)) return undefined;
      else if (base64[i] === 1) size = 2 + base64Size(v.length);
      else if (needsEscape(v)) {
        // What the general path writes: the plaintext decoded as UTF-8, then JSON.stringify.
        pieces[k] = Buffer.from(JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.length).toString('utf8')), 'utf8');
        size = pieces[k]!.length;
      } else size = v.length + 2;
      total += size - (ends[i]! - starts[i]!);
    }
    const out = Buffer.allocUnsafe(total);
    let pos = copyRange(prefix, 0, prefix.length, out, 0);
    let from = 0;
    for (let k = 0; k < found; k++) {
      const i = order[k]!;
      pos = copyRange(payload, from, starts[i]!, out, pos);
      from = ends[i]!;
      const v = values[i];
      const piece = pieces[k];
      if (piece !== null && piece !== undefined) pos = copyRange(piece, 0, piece.length, out, pos);
      else if (v === scanned[i]) pos = copyRange(payload, starts[i]!, from, out, pos);
      else {
        out[pos++] = QUOTE;
        if (base64[i] === 1) pos = writeBase64(v as Uint8Array, out, pos);
        else {
          out.set(v as Uint8Array, pos);
          pos += (v as Uint8Array).length;
        }
        out[pos++] = QUOTE;
      }
    }
    copyRange(payload, from, payload.length, out, pos);
    pieces.fill(null);
    return out;
  }
}

/** The key's bytes against the plan's names (keys without escapes); -1 when none matches. */
function matchKey(plan: ObjectPlan, buf: Buffer, from: number, to: number): number {
  const length = to - from;
  const names = plan.nameBytes;
  outer: for (let k = 0; k < names.length; k++) {
    const name = names[k]!;
    if (name.length !== length) continue;
    for (let j = 0; j < length; j++) if (name[j] !== buf[from + j]) continue outer;
    return k;
  }
  return -1;
}

/** Whether JSON.stringify would write these UTF-8 bytes other than as they are: `"`, `\`, control characters, or bytes that are not UTF-8. */
function needsEscape(v: Uint8Array): boolean {
  let high = false;
  for (let j = 0; j < v.length; j++) {
    const b = v[j]!;
    if (b < 0x20 || b === QUOTE || b === 0x5c) return true;
    if (b >= 0x80) high = true;
  }
  return high && !isUtf8(v);
}

/** src[from, to) to out[pos]; returns the end. A byte loop for short runs, where Buffer#copy's argument handling costs more than the move. */
function copyRange(src: Uint8Array, from: number, to: number, out: Buffer, pos: number): number {
  if (to - from > 64) {
    out.set(src.subarray(from, to), pos);
    return pos + to - from;
  }
  for (let i = from; i < to; i++) out[pos++] = src[i]!;
  return pos;
}

