/**
 * What the Protobuf splicer looks for in a payload, compiled once per (writer schema, target schema,
 * selectors): per message type, the field numbers to act on (a selected string/bytes leaf; a nested
 * message or map entry with a selected leaf below it, to rewrite; any other nested message or map entry,
 * to check that its frames parse as the general path's decode needs); every other field number is skipped
 * by its wire type, so unknown fields are copied as they are.
 *
 * The leaves follow the general path (protobuf-walk.ts, the oracle): a singular proto3 string or bytes
 * field that is not on the wire is visited as "" / empty bytes (so it is encrypted and written), a oneof
 * member or proto3 `optional` only when present, a map entry's value also when the entry omits it, every
 * element of a repeated field. Returns null (the engine decodes, walks and encodes) when the writer and
 * target messages do not encode alike, or when a selector picks something the walker would treat another
 * way: a scalar or enum field, a map key, a field with an explicit default or `required`.
 */
import protobuf from 'protobufjs';
import type { FieldEntry, MessageFields } from './protobuf-fields.js';
import type { FieldInfo, FieldSelect } from './types.js';

/** A selected string or bytes field. */
export interface LeafAction {
  readonly kind: 'leaf';
  readonly bytes: boolean;
  /** Visited as empty when absent from its message (proto3 implicit presence, map entry values). */
  readonly implicit: boolean;
  /** Singular fields: bit in the message's presence mask (duplicates and absences); -1 for repeated. */
  readonly slot: number;
  /** The encoded tag (field number, wire type 2), written when an absent implicit leaf is inserted. */
  readonly tag: Buffer;
  readonly readInfo: FieldInfo;
  readonly writeInfo: FieldInfo;
  /** The read and write selectors that pick this field. */
  readonly readSelectors: readonly number[];
  readonly writeSelectors: readonly number[];
}

/**
 * A nested message (or map entry): 'message' has a selected leaf below it (its frame's length is rewritten),
 * 'check' has none (its bytes are copied, once its fields are found to parse).
 */
export interface MessageAction {
  readonly kind: 'message' | 'check';
  readonly slot: number;
  readonly plan: MessagePlan;
}

export type Action = LeafAction | MessageAction;

const DENSE_LIMIT = 1024;

export class MessagePlan {
  private readonly dense: (Action | undefined)[] = [];
  private readonly sparse = new Map<number, Action>();
  /** Implicit leaves, inserted at the end of a message frame that lacks them. */
  readonly implicit: LeafAction[] = [];
  slots = 0;

  set(fieldNumber: number, action: Action): void {
    if (fieldNumber < DENSE_LIMIT) {
      while (this.dense.length <= fieldNumber) this.dense.push(undefined);
      this.dense[fieldNumber] = action;
    } else this.sparse.set(fieldNumber, action);
    if (action.kind === 'leaf' && action.implicit) this.implicit.push(action);
  }

  get(fieldNumber: number): Action | undefined {
    return fieldNumber < this.dense.length ? this.dense[fieldNumber] : this.sparse.size === 0 ? undefined : this.sparse.get(fieldNumber);
  }
}

/** What the plan compiler needs of a Protobuf codec. */
export interface PlannedCodec {
  readonly messageType: protobuf.Type;
  readonly messages: MessageFields;
}

export interface CompiledPlan {
  readonly root: MessagePlan;
  /** The most presence slots one message uses (the splicer keeps them in one integer). */
  readonly maxSlots: number;
  readonly readSelectors: number;
  readonly writeSelectors: number;
}

type Selects = readonly (FieldSelect | null)[];

function pickers(selects: Selects, info: FieldInfo): number[] {
  const out: number[] = [];
  selects.forEach((s, i) => { if (s !== null && s(info)) out.push(i); });
  return out;
}

function tagBytes(fieldNumber: number): Buffer {
  const bytes: number[] = [];
  let v = fieldNumber * 8 + 2;
  while (v >= 128) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

const messageOf = (field: protobuf.Field): protobuf.Type | null => (field.resolvedType instanceof protobuf.Type ? field.resolvedType : null);
const hasDefault = (field: protobuf.Field): boolean => field.options?.['default'] !== undefined || field.required;

/**
 * Pairs every message type reachable from `read` with the one at the same place in `write`, when the two
 * encode alike (same field numbers, wire types, cardinality, maps, oneof membership); null otherwise.
 */
function pairTypes(read: protobuf.Type, write: protobuf.Type): Map<protobuf.Type, protobuf.Type> | null {
  const pairs = new Map<protobuf.Type, protobuf.Type>();
  const alike = (a: protobuf.Type, b: protobuf.Type): boolean => {
    const known = pairs.get(a);
    if (known !== undefined) return known === b;
    pairs.set(a, b);
    if (a.fieldsArray.length !== b.fieldsArray.length) return false;
    for (const fa of a.fieldsArray) {
      const fb = b.fieldsById[fa.id];
      if (fb === undefined) return false;
      fa.resolve();
      fb.resolve();
      const keyA = fa instanceof protobuf.MapField ? fa.keyType : null;
      const keyB = fb instanceof protobuf.MapField ? fb.keyType : null;
      if (keyA !== keyB) return false;
      if (fa.repeated !== fb.repeated || fa.packed !== fb.packed || (fa.partOf === null) !== (fb.partOf === null)) return false;
      if (hasDefault(fa) || hasDefault(fb)) {
        if (JSON.stringify(fa.options?.['default']) !== JSON.stringify(fb.options?.['default']) || fa.required !== fb.required) return false;
      }
      const ta = fa.resolvedType;
      const tb = fb.resolvedType;
      if (ta instanceof protobuf.Type || tb instanceof protobuf.Type) {
        if (!(ta instanceof protobuf.Type && tb instanceof protobuf.Type && alike(ta, tb))) return false;
      } else if ((ta instanceof protobuf.Enum) !== (tb instanceof protobuf.Enum) || (ta === null && fa.type !== fb.type)) return false;
    }
    return true;
  };
  return alike(read, write) ? pairs : null;
}

/** The plan for `read` payloads rewritten under `write`'s schema, or null when the splicer does not apply. */
export function compileProtobufPlan(read: PlannedCodec, write: PlannedCodec, readSelects: Selects, writeSelects: Selects): CompiledPlan | null {
  const pairs = pairTypes(read.messageType, write.messageType);
  if (pairs === null) return null;
  const writeEntry = (type: protobuf.Type, field: protobuf.Field): FieldEntry | undefined => {
    const wType = pairs.get(type);
    return wType === undefined ? undefined : write.messages.get(wType)?.find((e) => e.field.id === field.id);
  };

  // Which fields are selected, on either side; null when a selection is one the splicer leaves alone.
  const selected = new Map<FieldEntry, { read: number[]; write: number[]; info: 'value' | 'field' }>();
  for (const [type, entries] of read.messages) {
    for (const e of entries) {
      const w = writeEntry(type, e.field);
      if (w === undefined) return null;
      const isMap = e.valueInfo !== undefined;
      if (isMap && (pickers(readSelects, e.keyInfo!).length > 0 || pickers(writeSelects, w.keyInfo!).length > 0)) return null;
      // The walker ignores a selector on a message field or a map field itself (it walks into them).
      if (messageOf(e.field) !== null && !isMap) continue;
      const rInfo = isMap ? e.valueInfo! : e.info;
      const wInfo = isMap ? w.valueInfo! : w.info;
      const picked = { read: pickers(readSelects, rInfo), write: pickers(writeSelects, wInfo), info: isMap ? ('value' as const) : ('field' as const) };
      if (picked.read.length + picked.write.length === 0 || (isMap && messageOf(e.field) !== null)) continue;
      if (rInfo.kind === 'other' || wInfo.kind === 'other' || rInfo.kind !== wInfo.kind || hasDefault(e.field)) return null;
      selected.set(e, picked);
    }
  }

  // Message types with a selected leaf at or below them.
  const needs = new Set<protobuf.Type>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [type, entries] of read.messages) {
      if (needs.has(type)) continue;
      if (entries.some((e) => selected.has(e) || (messageOf(e.field) !== null && needs.has(messageOf(e.field)!)))) {
        needs.add(type);
        changed = true;
      }
    }
  }
  if (!needs.has(read.messageType)) return null;

  const plans = new Map<protobuf.Type, MessagePlan>();
  const planOf = (type: protobuf.Type): MessagePlan => {
    const existing = plans.get(type);
    if (existing !== undefined) return existing;
    const plan = new MessagePlan();
    plans.set(type, plan);
    for (const e of read.messages.get(type) ?? []) {
      const nested = messageOf(e.field);
      const pick = selected.get(e);
      const isMap = e.field instanceof protobuf.MapField;
      const singular = !e.field.repeated && !isMap;
      if (isMap) {
        // A map is a repeated entry message: key = 1, value = 2.
        const entry = new MessagePlan();
        if (pick !== undefined) entry.set(2, leafAction(entry, e, writeEntry(type, e.field)!, pick, true, true));
        else if (nested !== null) {
          const rewrite = needs.has(nested);
          entry.set(2, { kind: rewrite ? 'message' : 'check', slot: rewrite ? entry.slots++ : -1, plan: planOf(nested) });
        }
        const rewrite = pick !== undefined || (nested !== null && needs.has(nested));
        plan.set(e.field.id, { kind: rewrite ? 'message' : 'check', slot: -1, plan: entry });
      } else if (pick !== undefined) {
        plan.set(e.field.id, leafAction(plan, e, writeEntry(type, e.field)!, pick, singular, singular && e.field.partOf === null));
      } else if (nested !== null) {
        const rewrite = needs.has(nested);
        plan.set(e.field.id, { kind: rewrite ? 'message' : 'check', slot: singular && rewrite ? plan.slots++ : -1, plan: planOf(nested) });
      }
    }
    return plan;
  };
  const root = planOf(read.messageType);
  const maxSlots = Math.max(...[...plans.values()].map((p) => p.slots));
  return { root, maxSlots, readSelectors: readSelects.length, writeSelectors: writeSelects.length };
}

function leafAction(
  plan: MessagePlan, e: FieldEntry, w: FieldEntry, pick: { read: number[]; write: number[]; info: 'value' | 'field' }, singular: boolean, implicit: boolean,
): LeafAction {
  const readInfo = pick.info === 'value' ? e.valueInfo! : e.info;
  const writeInfo = pick.info === 'value' ? w.valueInfo! : w.info;
  return {
    kind: 'leaf', bytes: readInfo.kind === 'bytes', implicit, slot: singular ? plan.slots++ : -1,
    tag: tagBytes(pick.info === 'value' ? 2 : e.field.id), readInfo, writeInfo, readSelectors: pick.read, writeSelectors: pick.write,
  };
}
