/**
 * JSON Schema nodes as the walk sees them: flattened (the schemas that all apply to one value, `$ref`
 * and `allOf` expanded, their properties, items and oneOf/anyOf groups gathered), their static kind,
 * and the structural match of a value against a schema that decides oneOf / anyOf branches (types,
 * const/enum, required, declared property types, additionalProperties: false; not full validation).
 */
import { combineKinds, hasOwn } from './common.js';
import { isNode, type Node, type SchemaSet } from './json-schema-set.js';
import type { FieldKind } from './types.js';

export interface Flat {
  /** The conjunct schemas ($ref and allOf expanded; booleans dropped). */
  readonly conjuncts: readonly Node[];
  readonly props: ReadonlyMap<string, readonly Node[]>;
  readonly items: readonly Node[];
  readonly tuples: readonly (readonly Node[])[];
  /** oneOf / anyOf groups, decided per value. */
  readonly choices: readonly { readonly kind: 'oneOf' | 'anyOf'; readonly branches: readonly Node[] }[];
  readonly types: ReadonlySet<string>;
  readonly enumLike: boolean;
  readonly key: string;
}

const nodeIds = new WeakMap<object, number>();
let nextNodeId = 1;
function nodeId(n: object): number {
  let id = nodeIds.get(n);
  if (id === undefined) {
    id = nextNodeId++;
    nodeIds.set(n, id);
  }
  return id;
}

const flatCache = new WeakMap<object, Flat>();

/** The flattened view of `nodes` (cached per single schema object). Throws FORMAT_SCHEMA for a `$ref` that does not resolve. */
export function flatten(set: SchemaSet, nodes: readonly unknown[]): Flat {
  const single = nodes.length === 1 && isNode(nodes[0]) ? nodes[0] : null;
  if (single !== null) {
    const hit = flatCache.get(single);
    if (hit !== undefined) return hit;
  }
  const flat = flattenUncached(set, nodes);
  if (single !== null) flatCache.set(single, flat);
  return flat;
}

function flattenUncached(set: SchemaSet, nodes: readonly unknown[]): Flat {
  const conjuncts: Node[] = [];
  const seen = new Set<object>();
  const add = (n: unknown): void => {
    if (!isNode(n) || seen.has(n)) return;
    seen.add(n);
    conjuncts.push(n);
    if (typeof n['$ref'] === 'string') add(set.resolve(n['$ref'], n));
    if (Array.isArray(n['allOf'])) for (const b of n['allOf']) add(b);
  };
  for (const n of nodes) add(n);

  const props = new Map<string, Node[]>();
  const items: Node[] = [];
  const tuples: Node[][] = [];
  const choices: { kind: 'oneOf' | 'anyOf'; branches: Node[] }[] = [];
  const types = new Set<string>();
  let enumLike = false;
  for (const c of conjuncts) {
    if (isNode(c['properties'])) {
      for (const [name, s] of Object.entries(c['properties'])) {
        if (!isNode(s)) continue;
        const list = props.get(name);
        if (list === undefined) props.set(name, [s]);
        else list.push(s);
      }
    }
    const it = c['items'];
    if (isNode(it)) items.push(it);
    else if (Array.isArray(it)) tuples.push(it.filter(isNode));
    if (Array.isArray(c['prefixItems'])) tuples.push(c['prefixItems'].filter(isNode));
    for (const kind of ['oneOf', 'anyOf'] as const) {
      const b = c[kind];
      if (Array.isArray(b) && b.length > 0) choices.push({ kind, branches: b.filter(isNode) });
    }
    const ty = c['type'];
    if (typeof ty === 'string') types.add(ty);
    else if (Array.isArray(ty)) for (const x of ty) if (typeof x === 'string') types.add(x);
    if (c['enum'] !== undefined || c['const'] !== undefined) enumLike = true;
  }
  const key = conjuncts
    .map(nodeId)
    .sort((a, b) => a - b)
    .join(',');
  return { conjuncts, props, items, tuples, choices, types, enumLike, key };
}

/** Static kind of a property: the kinds of the leaves its value can be (through refs, combinators, items). */
export function kindOf(set: SchemaSet, nodes: readonly Node[], depth = 0): FieldKind {
  if (depth > 16) return 'other';
  const f = flatten(set, nodes);
  const kinds: FieldKind[] = [];
  if (f.enumLike) kinds.push('other');
  for (const ty of f.types) {
    if (ty === 'string') kinds.push('string');
    else if (ty !== 'null' && ty !== 'object' && ty !== 'array') kinds.push('other');
  }
  for (const c of f.choices) for (const b of c.branches) kinds.push(kindOf(set, [b], depth + 1));
  if (f.items.length > 0) kinds.push(kindOf(set, f.items, depth + 1));
  return combineKinds(kinds);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  return t === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : t;
}

/** Whether `value` structurally matches `schema` (for oneOf / anyOf). */
export function matches(set: SchemaSet, schema: unknown, value: unknown, depth = 0): boolean {
  if (schema === true || depth > 8) return true;
  if (schema === false) return false;
  if (!isNode(schema)) return true;
  const f = flatten(set, [schema]);
  const vt = jsonType(value);
  for (const c of f.conjuncts) {
    const ty = c['type'];
    if (ty !== undefined) {
      const list = Array.isArray(ty) ? ty : [ty];
      if (!list.includes(vt) && !(vt === 'integer' && list.includes('number'))) return false;
    }
    if (c['const'] !== undefined && JSON.stringify(c['const']) !== JSON.stringify(value)) return false;
    if (Array.isArray(c['enum']) && !c['enum'].some((e) => JSON.stringify(e) === JSON.stringify(value))) return false;
    if (vt === 'object') {
      const obj = value as Node;
      if (Array.isArray(c['required']) && !c['required'].every((r) => typeof r !== 'string' || hasOwn(obj, r))) return false;
      const props = isNode(c['properties']) ? c['properties'] : {};
      for (const [k, s] of Object.entries(props)) {
        if (hasOwn(obj, k) && !matches(set, s, obj[k], depth + 1)) return false;
      }
      if (c['additionalProperties'] === false && Object.keys(obj).some((k) => !hasOwn(props, k))) return false;
    }
  }
  for (const ch of f.choices) {
    const hits = ch.branches.filter((b) => matches(set, b, value, depth + 1)).length;
    if (hits === 0 || (ch.kind === 'oneOf' && hits > 1 && depth > 0)) return false;
  }
  return true;
}
