/**
 * Field surgery on encoded Avro: find the selected string and bytes fields in a payload without decoding
 * the rest, then write a payload with their new values, every other byte copied as it is.
 *
 * The engine's general path decodes a whole record into objects, walks it, and encodes it again. When the
 * writer and target schemas encode alike (same Parsing Canonical Form) and every selected field is a
 * string or bytes field (optionally in a union with null) reached through record fields only, the leaves
 * sit at fixed places in the field order: a compiled list of skip and leaf operations finds them, and
 * only they become JavaScript values. Anything else (a selected field inside an array, a map or a union
 * of records; a payload that does not scan) is left to the general path, which also reports the errors.
 */
import { Cursor, MALFORMED, skipperFor, type Skip } from './avro-skip.js';
import { base64Size, writeLeafValue } from './base64-writer.js';
import { isRecordType as isRecord, t, type Type } from './avro-types.js';
import type { FieldInfo, FieldSelect as Select, FieldSplicer, SelectedLeaf, SpliceState } from './types.js';

/** What the splicer needs of an Avro codec (avro.ts's AvroCodec has it; named here to keep imports one way). */
export interface SplicedCodec {
  readonly avroType: Type;
  recordFields(recordType: Type): readonly FieldInfo[] | undefined;
}

/** Avro's scratch space: where each leaf starts and ends in the payload scanned last. */
export interface AvroSpliceState extends SpliceState {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
}

export type AvroSplicer = FieldSplicer<AvroSpliceState>;

/** How a leaf is encoded: a string or bytes, maybe as a branch of a two-branch union with null. */
interface LeafShape {
  readonly kind: 'string' | 'bytes';
  /** Union branch indexes, when the field is ["null", x] or [x, "null"]. */
  readonly nullBranch: number;
  readonly valueBranch: number;
}

function leafShape(type: Type): LeafShape | null {
  const a = t(type);
  if (a.typeName === 'string' || a.typeName === 'bytes') return { kind: a.typeName, nullBranch: -1, valueBranch: -1 };
  if ((a.typeName === 'union:unwrapped' || a.typeName === 'union:wrapped') && a.types?.length === 2) {
    const names = a.types.map((b) => t(b).typeName);
    const nullBranch = names.indexOf('null');
    const valueBranch = names.findIndex((n) => n === 'string' || n === 'bytes');
    // A wrapped union's values are {branch: value} objects: the walkers see those, not bare leaves.
    if (nullBranch >= 0 && valueBranch >= 0 && a.typeName === 'union:unwrapped') {
      return { kind: names[valueBranch] as 'string' | 'bytes', nullBranch, valueBranch };
    }
  }
  return null;
}

type Op = { readonly kind: 'leaf'; readonly leaf: number; readonly shape: LeafShape } | { readonly kind: 'skip'; readonly skip: Skip };

/**
 * Compiles a splicer for payloads written with `read`'s schema and rewritten under `write`'s (which must
 * encode alike), for the rules' field selectors on each side. Null when the shortcut does not apply.
 */
export function compileAvroSplicer(
  read: SplicedCodec, write: SplicedCodec, readSelects: readonly (Select | null)[], writeSelects: readonly (Select | null)[],
): AvroSplicer | null {
  if (read !== write && read.avroType.fingerprint('md5').compare(write.avroType.fingerprint('md5')) !== 0) return null;
  const selectedAnywhere = (r: Type, w: Type, i: number): boolean[] => {
    const ri = read.recordFields(r)?.[i];
    const wi = write.recordFields(w)?.[i];
    return [
      ...readSelects.map((s) => s !== null && ri !== undefined && s(ri)),
      ...writeSelects.map((s) => s !== null && wi !== undefined && s(wi)),
    ];
  };
  // Does any record reachable from this type (read side / write side in step) hold a selected field?
  const holdsSelected = (r: Type, w: Type, seen = new Set<Type>()): boolean => {
    if (seen.has(r)) return false;
    seen.add(r);
    const ra = t(r);
    const wa = t(w);
    if (isRecord(r)) {
      return (ra.fields ?? []).some((f, i) => selectedAnywhere(r, w, i).includes(true) || holdsSelected(f.type, wa.fields![i]!.type, seen));
    }
    if (ra.types) return ra.types.some((b, i) => holdsSelected(b, wa.types![i]!, seen));
    if (ra.itemsType) return holdsSelected(ra.itemsType, wa.itemsType!, seen);
    if (ra.valuesType) return holdsSelected(ra.valuesType, wa.valuesType!, seen);
    return false;
  };

  const ops: Op[] = [];
  const readLeaves: SelectedLeaf[][] = readSelects.map(() => []);
  const writeLeaves: SelectedLeaf[][] = writeSelects.map(() => []);
  const records = new Map<Type, { fn: Skip }>();
  let leafCount = 0;
  // Walk the root record's fields depth-first through nested record fields, in encoding order.
  const visitRecord = (r: Type, w: Type): boolean => {
    const rFields = t(r).fields ?? [];
    const wFields = t(w).fields ?? [];
    for (let i = 0; i < rFields.length; i++) {
      const rType = rFields[i]!.type;
      const wType = wFields[i]!.type;
      const selected = selectedAnywhere(r, w, i);
      if (selected.includes(true)) {
        const shape = leafShape(rType);
        if (shape === null) return false;
        const index = leafCount++;
        ops.push({ kind: 'leaf', leaf: index, shape });
        const ri = read.recordFields(r)![i]!;
        const wi = write.recordFields(w)![i]!;
        readSelects.forEach((_, s) => { if (selected[s]) readLeaves[s]!.push({ index, info: ri }); });
        writeSelects.forEach((_, s) => { if (selected[readSelects.length + s]) writeLeaves[s]!.push({ index, info: wi }); });
      } else if (isRecord(rType) && rType !== r) {
        if (!visitRecord(rType, wType)) return false;
      } else {
        if (holdsSelected(rType, wType)) return false;
        const skip = skipperFor(rType, records);
        if (skip === null) return false;
        ops.push({ kind: 'skip', skip });
      }
    }
    return true;
  };
  if (!isRecord(read.avroType) || !visitRecord(read.avroType, write.avroType)) return null;
  if (leafCount === 0) return null;
  return new Splicer(mergeSkips(ops), leafCount, readLeaves, writeLeaves);
}

/** Runs of skips become one operation. */
function mergeSkips(ops: readonly Op[]): Op[] {
  const out: Op[] = [];
  let run: Skip[] = [];
  const flush = () => {
    if (run.length === 1) out.push({ kind: 'skip', skip: run[0]! });
    else if (run.length > 1) {
      const fns = run;
      out.push({ kind: 'skip', skip: (c) => { for (let i = 0; i < fns.length; i++) fns[i]!(c); } });
    }
    run = [];
  };
  for (const op of ops) {
    if (op.kind === 'skip') run.push(op.skip);
    else {
      flush();
      out.push(op);
    }
  }
  flush();
  return out;
}


/** src[from, to) to out[pos]; returns the end. A byte loop for the short runs between fields, where Buffer#copy's argument handling costs more than the move. */
function copyRange(src: Buffer, from: number, to: number, out: Buffer, pos: number): number {
  if (to - from > 64) return pos + src.copy(out, pos, from, to);
  for (let i = from; i < to; i++) out[pos++] = src[i]!;
  return pos;
}

function varintSize(zigzagged: number): number {
  let size = 1;
  while (zigzagged >= 128) {
    zigzagged = Math.floor(zigzagged / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, pos: number, zigzagged: number): number {
  while (zigzagged >= 128) {
    out[pos++] = (zigzagged & 0x7f) | 0x80;
    zigzagged = Math.floor(zigzagged / 128);
  }
  out[pos++] = zigzagged;
  return pos;
}

class Splicer implements AvroSplicer {
  private readonly cursor = new Cursor();
  private readonly sizes: Int32Array;

  constructor(
    private readonly ops: readonly Op[],
    readonly leafCount: number,
    readonly read: readonly (readonly SelectedLeaf[])[],
    readonly write: readonly (readonly SelectedLeaf[])[],
  ) {
    this.sizes = new Int32Array(leafCount);
  }

  newState(): AvroSpliceState {
    return {
      starts: new Int32Array(this.leafCount), ends: new Int32Array(this.leafCount),
      values: new Array<unknown>(this.leafCount).fill(null), base64: new Uint8Array(this.leafCount),
    };
  }

  scan(payload: Buffer, state: AvroSpliceState): boolean {
    const c = this.cursor;
    c.buf = payload;
    c.pos = 0;
    const { starts, ends, values } = state;
    state.base64.fill(0);
    try {
      for (const op of this.ops) {
        if (op.kind === 'skip') {
          op.skip(c);
          continue;
        }
        const { shape } = op;
        starts[op.leaf] = c.pos;
        if (shape.nullBranch >= 0) {
          const branch = c.long();
          if (branch === shape.nullBranch) {
            values[op.leaf] = null;
            ends[op.leaf] = c.pos;
            continue;
          }
          if (branch !== shape.valueBranch) return false;
        }
        const length = c.long();
        const from = c.pos;
        c.skip(length);
        values[op.leaf] = payload.subarray(from, c.pos);
        ends[op.leaf] = c.pos;
      }
      // Trailing bytes: the general path reports them.
      return c.pos === payload.length;
    } catch (err) {
      if (err === MALFORMED) return false;
      throw err;
    } finally {
      c.buf = EMPTY;
    }
  }

  splice(payload: Buffer, state: AvroSpliceState, prefix: Buffer): Buffer | undefined {
    const { starts, ends, values, base64 } = state;
    const sizes = this.sizes;
    let total = prefix.length + payload.length;
    let leaf = 0;
    for (const op of this.ops) {
      if (op.kind === 'skip') continue;
      const v = values[leaf];
      let size: number;
      if (v === null || v === undefined) {
        if (op.shape.nullBranch < 0) return undefined;
        size = -1;
      } else if (typeof v === 'string') {
        if (op.shape.kind !== 'string') return undefined;
        size = Buffer.byteLength(v, 'utf8');
      } else {
        if (!(v instanceof Uint8Array)) return undefined;
        if (base64[leaf] === 1) {
          if (op.shape.kind !== 'string') return undefined;
          size = base64Size(v.length);
        } else size = v.length;
      }
      sizes[leaf] = size;
      const branchBytes = op.shape.nullBranch >= 0 ? 1 : 0; // branch indexes 0 and 1 zig-zag to one byte
      total += size < 0 ? branchBytes : branchBytes + varintSize(size * 2) + size;
      total -= ends[leaf]! - starts[leaf]!;
      leaf++;
    }
    const out = Buffer.allocUnsafe(total);
    let pos = copyRange(prefix, 0, prefix.length, out, 0);
    let from = 0;
    leaf = 0;
    for (const op of this.ops) {
      if (op.kind === 'skip') continue;
      pos = copyRange(payload, from, starts[leaf]!, out, pos);
      const size = sizes[leaf]!;
      if (size < 0) out[pos++] = op.shape.nullBranch * 2;
      else {
        if (op.shape.nullBranch >= 0) out[pos++] = op.shape.valueBranch * 2;
        pos = writeVarint(out, pos, size * 2);
        pos = writeLeafValue(out, pos, values[leaf] as string | Uint8Array, size, base64[leaf] === 1);
      }
      from = ends[leaf]!;
      leaf++;
    }
    copyRange(payload, from, payload.length, out, pos);
    return out;
  }
}

const EMPTY = Buffer.alloc(0);
