/**
 * Field surgery on encoded Protobuf: find the selected string and bytes fields by walking the wire format
 * (tags, and length-delimited frames only where a selected leaf can be below), then write a payload with
 * their new values, every other byte copied as it is and the length prefix of every enclosing message
 * rewritten for the new sizes (ciphertext is longer than plaintext).
 *
 * Unlike Avro's, a payload's leaves are not at fixed places: repeated fields, maps and absent fields make
 * their number vary per record. So scan records events in payload order (a leaf, a nested frame, an
 * absent implicit leaf to insert at the end of its message) and fills the splicer's `read` and `write`
 * leaf lists for this record; the engine reads them right after scan (its per-record path is synchronous,
 * one splicer and state per plan). A payload that does not scan (groups, a selected field with another
 * wire type, a singular selected field or message twice in one message, malformed bytes, also inside an
 * untagged nested message, frames nested deeper than MAX_DEPTH) is left to the general path, which
 * decides and reports.
 */
import { compileProtobufPlan, type LeafAction, type MessagePlan, type PlannedCodec } from './protobuf-splice-plan.js';
import { base64Size, writeLeafValue } from './base64-writer.js';
import { copyRange, varintSize, writeVarint } from './protobuf-splice-bytes.js';
import type { FieldSelect, FieldSplicer, SelectedLeaf, SpliceState } from './types.js';

const MAX_DEPTH = 100;
/** A message's presence mask is one 32-bit integer. */
const MAX_SLOTS = 31;

const LEAF = 0;
const FRAME = 1;
const INSERT = 2;

/** Protobuf's scratch space: the events of the payload scanned last. */
export class ProtobufSpliceState implements SpliceState {
  values: unknown[] = [];
  base64 = new Uint8Array(16);
  /** Events: kind; the length prefix's start (an insert's position); the value's (frame content's) start and end. */
  kind = new Uint8Array(16);
  start = new Int32Array(16);
  from = new Int32Array(16);
  to = new Int32Array(16);
  /** Per frame event, the index past its last descendant event. */
  close = new Int32Array(16);
  /** Per event, its growth (a frame's includes its descendants); per frame, its content's growth. */
  growth = new Int32Array(16);
  content = new Int32Array(16);
  /** Per leaf (present or inserted), its action and new size. */
  actions: LeafAction[] = [];
  sizes = new Int32Array(16);
  events = 0;
  leaves = 0;

  /** Room for one more event and one more leaf. */
  reserve(): void {
    if (this.events < this.kind.length && this.leaves < this.sizes.length) return;
    const n = this.kind.length * 2;
    const grow = <T extends Uint8Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.kind = grow(this.kind);
    this.start = grow(this.start);
    this.from = grow(this.from);
    this.to = grow(this.to);
    this.close = grow(this.close);
    this.growth = grow(this.growth);
    this.content = grow(this.content);
    this.sizes = grow(this.sizes);
    this.base64 = grow(this.base64);
  }
}

/** Per selector, the leaves it selects in the record scanned last (objects reused across records). */
class LeafLists {
  readonly lists: SelectedLeaf[][];
  private readonly counts: number[];

  constructor(selectors: number) {
    this.lists = Array.from({ length: selectors }, () => []);
    this.counts = new Array<number>(selectors).fill(0);
  }

  reset(): void {
    for (let s = 0; s < this.lists.length; s++) this.counts[s] = 0;
  }

  add(selector: number, index: number, info: SelectedLeaf['info']): void {
    const list = this.lists[selector]!;
    const n = this.counts[selector]!;
    const existing = list[n] as { index: number; info: SelectedLeaf['info'] } | undefined;
    if (existing !== undefined) {
      existing.index = index;
      existing.info = info;
    } else list.push({ index, info });
    this.counts[selector] = n + 1;
  }

  finish(): void {
    for (let s = 0; s < this.lists.length; s++) this.lists[s]!.length = this.counts[s]!;
  }
}

const EMPTY = Buffer.alloc(0);

class Splicer implements FieldSplicer<ProtobufSpliceState> {
  private readonly readLists: LeafLists;
  private readonly writeLists: LeafLists;
  private buf: Buffer = EMPTY;
  private pos = 0;
  private scanned = 0;

  constructor(private readonly root: MessagePlan, readSelectors: number, writeSelectors: number) {
    this.readLists = new LeafLists(readSelectors);
    this.writeLists = new LeafLists(writeSelectors);
  }

  get read(): readonly (readonly SelectedLeaf[])[] {
    return this.readLists.lists;
  }

  get write(): readonly (readonly SelectedLeaf[])[] {
    return this.writeLists.lists;
  }

  /** The leaves of the record scanned last (their number varies per record). */
  get leafCount(): number {
    return this.scanned;
  }

  newState(): ProtobufSpliceState {
    return new ProtobufSpliceState();
  }

  scan(payload: Buffer, state: ProtobufSpliceState): boolean {
    state.events = 0;
    state.leaves = 0;
    this.readLists.reset();
    this.writeLists.reset();
    this.buf = payload;
    this.pos = 0;
    try {
      if (!this.scanMessage(this.root, payload.length, state, 0)) return false;
    } finally {
      this.buf = EMPTY;
    }
    state.base64.fill(0, 0, state.leaves);
    state.values.length = state.leaves;
    this.readLists.finish();
    this.writeLists.finish();
    this.scanned = state.leaves;
    return true;
  }

  /** A varint of at most 32 bits (tags, lengths) at this.pos; -1 when malformed or beyond 2^31 - 1. */
  private varint32(end: number): number {
    const buf = this.buf;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= end) return -1;
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value <= 0x7fffffff ? value : -1;
    }
    return -1;
  }

  /** Skips one field's value by its wire type; false when it does not skip (groups, malformed). */
  private skip(wireType: number, end: number): boolean {
    switch (wireType) {
      case 0: {
        const buf = this.buf;
        for (let i = 0; i < 10; i++) {
          if (this.pos >= end) return false;
          if (buf[this.pos++]! < 0x80) return true;
        }
        return false;
      }
      case 1:
        this.pos += 8;
        return this.pos <= end;
      case 2: {
        const length = this.varint32(end);
        if (length < 0) return false;
        this.pos += length;
        return this.pos <= end;
      }
      case 5:
        this.pos += 4;
        return this.pos <= end;
      default:
        return false;
    }
  }

  private scanMessage(plan: MessagePlan, end: number, st: ProtobufSpliceState, depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    let seen = 0;
    while (this.pos < end) {
      const tag = this.varint32(end);
      if (tag < 8) return false;
      const wireType = tag & 7;
      const action = plan.get(tag >>> 3);
      if (action === undefined) {
        if (!this.skip(wireType, end)) return false;
        continue;
      }
      if (wireType !== 2) return false;
      const start = this.pos;
      const length = this.varint32(end);
      if (length < 0 || this.pos + length > end) return false;
      if (action.slot >= 0) {
        const bit = 1 << action.slot;
        if ((seen & bit) !== 0) return false;
        seen |= bit;
      }
      const from = this.pos;
      const to = from + length;
      if (action.kind === 'leaf') {
        this.addLeaf(st, action, LEAF, start, from, to);
        this.pos = to;
      } else if (action.kind === 'check') {
        if (!this.scanMessage(action.plan, to, st, depth + 1)) return false;
      } else {
        st.reserve();
        const e = st.events++;
        st.kind[e] = FRAME;
        st.start[e] = start;
        st.from[e] = from;
        st.to[e] = to;
        if (!this.scanMessage(action.plan, to, st, depth + 1)) return false;
        // A frame with nothing to change inside keeps its bytes: it is copied with the rest.
        if (st.events === e + 1) st.events = e;
        else st.close[e] = st.events;
      }
    }
    if (this.pos !== end) return false;
    const implicit = plan.implicit;
    for (let i = 0; i < implicit.length; i++) {
      const leaf = implicit[i]!;
      if ((seen & (1 << leaf.slot)) === 0) this.addLeaf(st, leaf, INSERT, end, end, end);
    }
    return true;
  }

  private addLeaf(st: ProtobufSpliceState, action: LeafAction, kind: number, start: number, from: number, to: number): void {
    st.reserve();
    const e = st.events++;
    st.kind[e] = kind;
    st.start[e] = start;
    st.from[e] = from;
    st.to[e] = to;
    const leaf = st.leaves++;
    st.values[leaf] = kind === INSERT ? EMPTY : this.buf.subarray(from, to);
    st.actions[leaf] = action;
    for (const s of action.readSelectors) this.readLists.add(s, leaf, action.readInfo);
    for (const s of action.writeSelectors) this.writeLists.add(s, leaf, action.writeInfo);
  }

  splice(payload: Buffer, st: ProtobufSpliceState, prefix: Buffer): Buffer | undefined {
    const { values, base64, sizes, actions, kind, start, from, to, close, growth, content } = st;
    for (let leaf = 0; leaf < st.leaves; leaf++) {
      const v = values[leaf];
      const bytes = actions[leaf]!.bytes;
      if (typeof v === 'string') {
        if (bytes) return undefined;
        sizes[leaf] = Buffer.byteLength(v, 'utf8');
      } else if (v instanceof Uint8Array) {
        if (base64[leaf] === 1) {
          if (bytes) return undefined;
          sizes[leaf] = base64Size(v.length);
        } else sizes[leaf] = v.length;
      } else return undefined;
    }
    // Growth per event, last to first, so a frame's children are done before it.
    const n = st.events;
    let leaf = st.leaves;
    for (let e = n - 1; e >= 0; e--) {
      const k = kind[e]!;
      if (k === FRAME) {
        let inner = 0;
        for (let c = e + 1; c < close[e]!; c = kind[c] === FRAME ? close[c]! : c + 1) inner += growth[c]!;
        content[e] = inner;
        growth[e] = inner + varintSize(to[e]! - from[e]! + inner) - (from[e]! - start[e]!);
      } else {
        const size = sizes[--leaf]!;
        const encoded = varintSize(size) + size;
        growth[e] = k === LEAF ? encoded - (to[e]! - start[e]!) : actions[leaf]!.tag.length + encoded;
      }
    }
    let total = prefix.length + payload.length;
    for (let e = 0; e < n; e = kind[e] === FRAME ? close[e]! : e + 1) total += growth[e]!;

    const out = Buffer.allocUnsafe(total);
    let pos = copyRange(prefix, 0, prefix.length, out, 0);
    let copied = 0;
    leaf = 0;
    for (let e = 0; e < n; e++) {
      pos = copyRange(payload, copied, start[e]!, out, pos);
      const k = kind[e]!;
      if (k === FRAME) {
        pos = writeVarint(out, pos, to[e]! - from[e]! + content[e]!);
        copied = from[e]!;
        continue;
      }
      if (k === INSERT) {
        const tag = actions[leaf]!.tag;
        out.set(tag, pos);
        pos += tag.length;
        copied = start[e]!;
      } else copied = to[e]!;
      const size = sizes[leaf]!;
      pos = writeVarint(out, pos, size);
      pos = writeLeafValue(out, pos, values[leaf] as string | Uint8Array, size, base64[leaf] === 1);
      leaf++;
    }
    copyRange(payload, copied, payload.length, out, pos);
    return out;
  }
}

/**
 * Compiles a splicer for payloads written with `read`'s message and rewritten under `write`'s (which must
 * encode alike), for the rules' field selectors on each side. Null when the shortcut does not apply.
 */
export function compileProtobufSplicer(
  read: PlannedCodec, write: PlannedCodec, readSelects: readonly (FieldSelect | null)[], writeSelects: readonly (FieldSelect | null)[],
): FieldSplicer | null {
  const compiled = compileProtobufPlan(read, write, readSelects, writeSelects);
  if (compiled === null || compiled.maxSlots > MAX_SLOTS) return null;
  return new Splicer(compiled.root, compiled.readSelectors, compiled.writeSelectors);
}
