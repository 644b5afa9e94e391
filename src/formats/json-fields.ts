/**
 * The fields of a JSON Schema and their inline tags (`"confluent:tags"` on the property schema). Full
 * names follow Confluent's serdes: the root is `$`, a property adds `.name`, array items keep their
 * array's name (`$.phones` for every element). A property that several branches declare is one field,
 * with the union of their tags. Kinds: `string` for `type: "string"` (JSON has no bytes), `other` for
 * everything else, including enums and consts (Confluent cannot encrypt those).
 */
import { combineKinds, fieldInfo, tagList } from './common.js';
import { flatten, kindOf } from './json-flatten.js';
import type { Node, SchemaSet } from './json-schema-set.js';
import type { FieldInfo, FieldKind } from './types.js';

/** A property's FieldInfo: the tags of every schema that applies to it, and its static kind. */
export function propertyInfo(set: SchemaSet, name: string, fullName: string, schemas: readonly Node[]): FieldInfo {
  const tags: string[] = [];
  for (const s of flatten(set, schemas).conjuncts) tags.push(...tagList(s['confluent:tags']));
  return fieldInfo(name, fullName, tagList(tags), kindOf(set, schemas));
}

/** Fields by path; a recursive schema is listed down to its first repetition. Throws FORMAT_SCHEMA for a `$ref` that does not resolve. */
export function listJsonFields(set: SchemaSet, root: unknown): readonly FieldInfo[] {
  const byName = new Map<string, { name: string; tags: string[]; kinds: FieldKind[] }>();
  const walk = (nodes: readonly unknown[], path: string, stack: readonly string[]): void => {
    const f = flatten(set, nodes);
    if (stack.includes(f.key)) return;
    const next = [...stack, f.key];
    for (const [name, schemas] of f.props) {
      const info = propertyInfo(set, name, `${path}.${name}`, schemas);
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
  walk([root], '$', []);
  const out = [...byName].map(([fullName, a]) => fieldInfo(a.name, fullName, tagList(a.tags), combineKinds(a.kinds)));
  return Object.freeze(out);
}
