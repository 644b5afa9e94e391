/**
 * JSON Schema codec: payloads are UTF-8 JSON documents; the schema drives only the field walk.
 *
 * Full names follow Confluent's serdes: the root is `$`, a property adds `.name`, array items keep their
 * array's name (`$.phones` for every element). Inline tags are `"confluent:tags"` on the property schema.
 * Kinds: `string` for `type: "string"` (JSON has no bytes), `other` for everything else, including
 * enums and consts (Confluent cannot encrypt those).
 *
 * Walk: `$ref` (local `#/definitions/..`, `#/$defs/..`, JSON pointers, other documents by reference
 * name, by `$id` or by URL relative to the referring document's `$id`), `allOf` (all branches), `oneOf`
 * (the first branch the value matches), `anyOf` (every branch it matches), `items` (and tuple items),
 * nested objects. A property that several branches declare is visited once, with the union of their
 * tags. `additionalProperties` and `patternProperties` are not walked: Confluent's serdes do not walk
 * them either, so walking them would encrypt values no Confluent reader decrypts.
 * Branch matching is structural (types, const/enum, required, declared property types,
 * additionalProperties: false), not full JSON Schema validation.
 */
import type { SchemaInfo } from '../model/index.js';
import { combineKinds, decodeError, encodeError, fieldInfo, hasOwn, schemaError, tagList } from './common.js';
import type { Codec, FieldInfo, FieldKind, FieldVisitor, FieldWalker, ResolvedReferences } from './types.js';

type Walk = (value: unknown, visit: FieldVisitor) => unknown;
type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Located {
  readonly doc: unknown;
  readonly base: string | undefined;
}

/** All schema documents, with the document and base URI of every schema object in them. */
class SchemaSet {
  private readonly where = new WeakMap<object, Located>();
  private readonly byName = new Map<string, unknown>();

  constructor(main: unknown, refs: ReadonlyMap<string, unknown>) {
    for (const [name, doc] of refs) {
      this.byName.set(name, doc);
      this.index(doc, doc, isNode(doc) && typeof doc['$id'] === 'string' ? resolveUrl(doc['$id'], undefined) : name);
    }
    this.index(main, main, undefined);
  }

  private index(node: unknown, doc: unknown, base: string | undefined): void {
    if (Array.isArray(node)) {
      for (const n of node) this.index(n, doc, base);
      return;
    }
    if (!isNode(node) || this.where.has(node)) return;
    let b = base;
    if (typeof node['$id'] === 'string') {
      b = resolveUrl(node['$id'], base);
      if (!this.byName.has(b)) this.byName.set(b, node);
    }
    this.where.set(node, { doc, base: b });
    for (const [k, v] of Object.entries(node)) {
      if (k === 'enum' || k === 'const' || k === 'default' || k === 'examples') continue;
      this.index(v, doc, b);
    }
  }

  /** The schema a `$ref` in `from` points to. Throws FORMAT_SCHEMA. */
  resolve(ref: string, from: Node): unknown {
    const loc = this.where.get(from);
    const hash = ref.indexOf('#');
    const url = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    let doc: unknown;
    if (url === '') {
      doc = loc?.doc;
    } else {
      const candidates = [url, resolveUrl(url, loc?.base)];
      for (const c of candidates) {
        if (this.byName.has(c)) {
          doc = this.byName.get(c);
          break;
        }
      }
      if (doc === undefined) {
        // A reference registered under a bare file name, referred to by URL (or the reverse).
        const last = url.slice(url.lastIndexOf('/') + 1);
        for (const [name, d] of this.byName) {
          if (name === last || name.endsWith(`/${last}`)) {
            doc = d;
            break;
          }
        }
      }
    }
    if (doc === undefined) throw schemaError('JSON', `$ref ${ref} does not resolve`);
    const target = fragment === '' ? doc : pointer(doc, fragment);
    if (target === undefined) throw schemaError('JSON', `$ref ${ref} does not resolve`);
    return target;
  }
}

function resolveUrl(ref: string, base: string | undefined): string {
  try {
    return new URL(ref, base).href;
  } catch {
    return ref;
  }
}

function pointer(doc: unknown, fragment: string): unknown {
  if (fragment === '' || fragment === '/') return doc;
  if (!fragment.startsWith('/')) return undefined; // plain-name anchors are not supported
  let cur: unknown = doc;
  for (const raw of fragment.slice(1).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isNode(cur)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------------
// Flattening: a list of schemas that all apply to one value ($ref and allOf expanded).

interface Flat {
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

function flatten(set: SchemaSet, nodes: readonly unknown[]): Flat {
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
function kindOf(set: SchemaSet, nodes: readonly Node[], depth = 0): FieldKind {
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

// ---------------------------------------------------------------------------------------------------
// Structural matching of a value against a schema (for oneOf / anyOf).

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  return t === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : t;
}

function matches(set: SchemaSet, schema: unknown, value: unknown, depth = 0): boolean {
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

// ---------------------------------------------------------------------------------------------------
// Codec

export interface JsonCodec extends Codec {
  readonly schemaType: 'JSON';
}

const decoder = new TextDecoder('utf-8', { fatal: true });

class JsonCodecImpl implements JsonCodec {
  readonly schemaType = 'JSON' as const;
  private readonly set: SchemaSet;
  private readonly root: unknown;
  private allFields: readonly FieldInfo[] | undefined;

  constructor(root: unknown, set: SchemaSet) {
    this.root = root;
    this.set = set;
  }

  decode(payload: Buffer): unknown {
    try {
      return JSON.parse(decoder.decode(payload));
    } catch (err) {
      throw decodeError('JSON', err);
    }
  }

  encode(value: unknown): Buffer {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw encodeError('JSON', err);
    }
    if (text === undefined) throw encodeError('JSON', null);
    return Buffer.from(text, 'utf8');
  }

  /** Fields by path; a recursive schema is listed down to its first repetition. */
  fields(): readonly FieldInfo[] {
    if (this.allFields !== undefined) return this.allFields;
    const byName = new Map<string, { name: string; tags: string[]; kinds: FieldKind[] }>();
    const walk = (nodes: readonly unknown[], path: string, stack: readonly string[]): void => {
      const f = flatten(this.set, nodes);
      if (stack.includes(f.key)) return;
      const next = [...stack, f.key];
      for (const [name, schemas] of f.props) {
        const info = this.info(name, `${path}.${name}`, schemas);
        const acc = byName.get(info.fullName);
        if (acc === undefined) byName.set(info.fullName, { name, tags: [...info.inlineTags], kinds: [info.kind] });
        else {
          acc.tags.push(...info.inlineTags);
          acc.kinds.push(info.kind);
        }
        walk(schemas, info.fullName, next);
      }
      for (const c of f.choices) for (const b of c.branches) walk([b], path, next);
      if (f.items.length > 0) walk(f.items, path, next);
      for (const tuple of f.tuples) for (const s of tuple) walk([s], path, next);
    };
    walk([this.root], '$', []);
    const out = [...byName].map(([fullName, a]) => fieldInfo(a.name, fullName, tagList(a.tags), combineKinds(a.kinds)));
    this.allFields = Object.freeze(out);
    return this.allFields;
  }

  private info(name: string, fullName: string, schemas: readonly Node[]): FieldInfo {
    const tags: string[] = [];
    for (const s of flatten(this.set, schemas).conjuncts) tags.push(...tagList(s['confluent:tags']));
    return fieldInfo(name, fullName, tagList(tags), kindOf(this.set, schemas));
  }

  compileWalker(select: (field: FieldInfo) => boolean): FieldWalker | null {
    const compileNodes = (nodes: readonly unknown[], path: string, field: FieldInfo | null, stack: readonly string[], probe = false): Walk | null => {
      const f = flatten(this.set, nodes);
      if (stack.includes(f.key)) {
        // Recursion. Names grow with depth, so deeper levels compile when a value actually gets there;
        // a probe of one more cycle decides whether anything below can be selected at all.
        if (probe || compileNodes(nodes, path, field, [], true) === null) return null;
        let compiled: Walk | null | undefined;
        return (v, visit) => {
          if (compiled === undefined) compiled = compileNodes(nodes, path, field, []);
          return compiled === null ? v : compiled(v, visit);
        };
      }
      const next = [...stack, f.key];
      if (f.choices.length > 0) return choiceWalk(f, path, field, next, probe);

      const propSteps: { name: string; walk: Walk }[] = [];
      for (const [name, schemas] of f.props) {
        const info = this.info(name, `${path}.${name}`, schemas);
        const walk = compileNodes(schemas, info.fullName, select(info) ? info : null, next, probe);
        if (walk !== null) propSteps.push({ name, walk });
      }
      const itemWalk = f.items.length > 0 ? compileNodes(f.items, path, field, next, probe) : null;
      const tupleWalks = f.tuples.map((tuple) => tuple.map((s) => compileNodes([s], path, field, next, probe)));
      const hasTuple = tupleWalks.some((tw) => tw.some((w) => w !== null));
      const leaf = field !== null && (f.types.size > 0 || f.enumLike) ? field : null;
      if (propSteps.length === 0 && itemWalk === null && !hasTuple && leaf === null) return null;

      const leafString = leaf === null ? null : f.enumLike ? { ...leaf, kind: 'other' as const } : leaf;
      const leafOther = leaf === null ? null : leaf.kind === 'other' ? leaf : { ...leaf, kind: 'other' as const };
      const types = f.types;
      return (v, visit) => {
        if (v === null || v === undefined) return v;
        if (Array.isArray(v)) {
          if (itemWalk !== null || hasTuple) {
            for (let i = 0; i < v.length; i++) {
              let w: Walk | null = itemWalk;
              for (const tw of tupleWalks) if (i < tw.length) w = tw[i] ?? null;
              if (w !== null) v[i] = w(v[i], visit);
            }
          }
          return v;
        }
        if (typeof v === 'object') {
          const o = v as Node;
          for (const s of propSteps) {
            const cur = o[s.name];
            if (cur !== null && cur !== undefined) o[s.name] = s.walk(cur, visit);
          }
          return o;
        }
        if (leaf === null) return v;
        const vt = typeof v;
        if (vt === 'string') return types.has('string') || f.enumLike ? visit(v, leafString as FieldInfo) : v;
        if (vt === 'number' && (types.has('number') || types.has('integer') || f.enumLike)) return visit(v, leafOther as FieldInfo);
        if (vt === 'boolean' && (types.has('boolean') || f.enumLike)) return visit(v, leafOther as FieldInfo);
        return v;
      };
    };

    /** A node with oneOf/anyOf: per value, pick the matching branches, then walk them with the rest. */
    const choiceWalk = (f: Flat, path: string, field: FieldInfo | null, stack: readonly string[], probe: boolean): Walk | null => {
      const base = f.conjuncts.map((c) => {
        const { oneOf: _o, anyOf: _a, allOf: _l, $ref: _r, ...rest } = c;
        return rest;
      });
      const variants = new Map<string, Walk | null>();
      const variant = (chosen: readonly Node[], key: string): Walk | null => {
        if (!variants.has(key)) variants.set(key, compileNodes([...base, ...chosen], path, field, stack));
        return variants.get(key) ?? null;
      };
      // Nothing selected under any branch: no walk at all (checked on the all-branches variant).
      const every = f.choices.flatMap((c) => c.branches);
      if (compileNodes([...base, ...every], path, field, stack, probe) === null) return null;
      return (v, visit) => {
        const chosen: Node[] = [];
        let key = '';
        f.choices.forEach((c, ci) => {
          for (let bi = 0; bi < c.branches.length; bi++) {
            const b = c.branches[bi] as Node;
            if (matches(this.set, b, v)) {
              chosen.push(b);
              key += `${ci}:${bi};`;
              if (c.kind === 'oneOf') break;
            }
          }
        });
        const walk = variant(chosen, key);
        return walk === null ? v : walk(v, visit);
      };
    };

    return compileNodes([this.root], '$', null, []);
  }
}

/** Compiles a JSON Schema (with its already-fetched references). Throws RecryptError FORMAT_SCHEMA. */
export function createJsonCodec(schema: SchemaInfo, refs: ResolvedReferences = new Map()): JsonCodec {
  const parse = (text: string, what: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw schemaError('JSON', `${what} is not JSON`, err);
    }
  };
  const root = parse(schema.schema, 'schema');
  if (!isNode(root) && typeof root !== 'boolean') throw schemaError('JSON', 'schema is neither an object nor a boolean');
  const docs = new Map<string, unknown>();
  for (const [name, ref] of refs) docs.set(name, parse(ref.schema, `reference ${name}`));
  const set = new SchemaSet(root, docs);
  const codec = new JsonCodecImpl(root, set);
  codec.fields(); // resolves every reachable $ref now: a broken schema fails here, not on the first record
  return codec;
}

export function isJsonCodec(codec: Codec): codec is JsonCodec {
  return codec instanceof JsonCodecImpl;
}
