/**
 * Compiled walks over protobufjs message instances: for the fields a selector picks, a function that
 * hands each value to the visitor and writes the result back in place. Messages without a selected
 * field anywhere below them are skipped whole; recursive messages share one walker.
 *
 * Visited like Confluent's serdes: a oneof member (also proto3 `optional`) only when set, an unset
 * singular scalar as its default ("" / empty bytes), map values as the entry's `value` field.
 */
import protobuf from 'protobufjs';
import { asBuffer, hasOwn } from './common.js';
import type { FieldEntry, MessageFields } from './protobuf-fields.js';
import type { FieldInfo, FieldVisitor, FieldWalker } from './types.js';

type Walk = (value: unknown, visit: FieldVisitor) => unknown;

/** The walker of `root` over the fields `select` picks, or null when it picks none reachable from it. */
export function compileProtobufWalker(messages: MessageFields, root: protobuf.Type, select: (field: FieldInfo) => boolean): FieldWalker | null {
  const children = new Map<protobuf.Type, Set<protobuf.Type>>();
  const needs = new Map<protobuf.Type, boolean>();
  for (const [type, entries] of messages) {
    const set = new Set<protobuf.Type>();
    let direct = false;
    for (const e of entries) {
      if (e.field.resolvedType instanceof protobuf.Type) set.add(e.field.resolvedType);
      if (e.valueInfo !== undefined) {
        if (select(e.valueInfo) || (e.keyInfo !== undefined && select(e.keyInfo))) direct = true;
      } else if (e.field.resolvedType === null && select(e.info)) {
        direct = true;
      }
    }
    children.set(type, set);
    needs.set(type, direct);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const [type, set] of children) {
      if (needs.get(type) === true) continue;
      for (const c of set) {
        if (needs.get(c) === true) {
          needs.set(type, true);
          changed = true;
          break;
        }
      }
    }
  }

  const holders = new Map<protobuf.Type, { fn: Walk; done: boolean }>();
  const messageWalker = (type: protobuf.Type): Walk | null => {
    if (needs.get(type) !== true) return null;
    const existing = holders.get(type);
    if (existing !== undefined) return existing.done ? existing.fn : (v, visit) => existing.fn(v, visit);
    const holder = { fn: ((v: unknown) => v) as Walk, done: false };
    holders.set(type, holder);
    const steps: Walk[] = [];
    for (const e of messages.get(type) ?? []) {
      const step = fieldStep(e, select, messageWalker);
      if (step !== null) steps.push(step);
    }
    const n = steps.length;
    holder.fn = (v, visit) => {
      if (v === null || typeof v !== 'object') return v;
      for (let i = 0; i < n; i++) (steps[i] as Walk)(v, visit);
      return v;
    };
    holder.done = true;
    return holder.fn;
  };
  return messageWalker(root);
}

/** A walk step over one field of a message; mutates the message in place and returns it. */
function fieldStep(e: FieldEntry, select: (f: FieldInfo) => boolean, messageWalker: (t: protobuf.Type) => Walk | null): Walk | null {
  const { field } = e;
  const name = field.name;
  const message = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;

  if (e.valueInfo !== undefined && e.keyInfo !== undefined) {
    const valueWalk = message !== null ? messageWalker(message) : select(e.valueInfo) ? leaf(e.valueInfo) : null;
    const keyWalk = select(e.keyInfo) ? leaf(e.keyInfo) : null;
    if (valueWalk === null && keyWalk === null) return null;
    return (msg, visit) => {
      const m = (msg as Record<string, unknown>)[name];
      if (m === null || typeof m !== 'object') return msg;
      const map = m as Record<string, unknown>;
      if (valueWalk !== null) for (const k of Object.keys(map)) map[k] = valueWalk(map[k], visit);
      if (keyWalk !== null) {
        const rekeyed: Record<string, unknown> = {};
        for (const k of Object.keys(map)) rekeyed[String(keyWalk(k, visit))] = map[k];
        (msg as Record<string, unknown>)[name] = rekeyed;
      }
      return msg;
    };
  }

  const walk = message !== null ? messageWalker(message) : select(e.info) ? leaf(e.info) : null;
  if (walk === null) return null;
  if (field.repeated) {
    return (msg, visit) => {
      const arr = (msg as Record<string, unknown>)[name];
      if (Array.isArray(arr)) for (let i = 0; i < arr.length; i++) arr[i] = walk(arr[i], visit);
      return msg;
    };
  }
  if (message !== null) {
    return (msg, visit) => {
      const v = (msg as Record<string, unknown>)[name];
      if (v !== null && v !== undefined) walk(v, visit);
      return msg;
    };
  }
  if (field.partOf !== null) {
    // oneof member (also proto3 `optional`): only when set, like Confluent's serdes.
    return (msg, visit) => {
      const r = msg as Record<string, unknown>;
      if (hasOwn(r, name) && r[name] !== null && r[name] !== undefined) r[name] = walk(r[name], visit);
      return msg;
    };
  }
  // Singular scalar: unset reads the default ("" / empty bytes), visited like Confluent's serdes do. The
  // result is written back only when it differs, so an identity visit leaves the encoding unchanged.
  const isBytes = e.info.kind === 'bytes';
  return (msg, visit) => {
    const r = msg as Record<string, unknown>;
    let v = r[name];
    if (isBytes && !(v instanceof Uint8Array)) v = Buffer.alloc(0);
    const out = walk(v, visit);
    if (out !== v) r[name] = out;
    return msg;
  };
}

function leaf(info: FieldInfo): Walk {
  if (info.kind === 'bytes') return (v, visit) => asBuffer(visit(v, info));
  return (v, visit) => visit(v, info);
}
