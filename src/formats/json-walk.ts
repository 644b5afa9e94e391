/**
 * Compiled walks over JSON values: for the fields a selector picks, a function that hands each value to
 * the visitor and writes the result back in place. Walked like Confluent's serdes: `$ref`, `allOf` (all
 * branches), `oneOf` (the first branch the value matches), `anyOf` (every branch it matches), `items`
 * (and tuple items), nested objects. `additionalProperties` and `patternProperties` are not walked:
 * Confluent's serdes do not walk them either, so walking them would encrypt values no Confluent reader
 * decrypts. A recursive schema compiles its deeper levels when a value gets there.
 */
import { flatten, matches, type Flat } from './json-flatten.js';
import { propertyInfo } from './json-fields.js';
import type { Node, SchemaSet } from './json-schema-set.js';
import type { FieldInfo, FieldVisitor, FieldWalker } from './types.js';

type Walk = (value: unknown, visit: FieldVisitor) => unknown;

/** The walker of `root` over the fields `select` picks, or null when it picks none. */
export function compileJsonWalker(set: SchemaSet, root: unknown, select: (field: FieldInfo) => boolean): FieldWalker | null {
  const compileNodes = (nodes: readonly unknown[], path: string, field: FieldInfo | null, stack: readonly string[], probe = false): Walk | null => {
    const f = flatten(set, nodes);
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
      const info = propertyInfo(set, name, `${path}.${name}`, schemas);
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
          if (matches(set, b, v)) {
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

  return compileNodes([root], '$', null, []);
}
