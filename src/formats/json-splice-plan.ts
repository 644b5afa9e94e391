/**
 * Which parts of a JSON document a splicer must look at, compiled from the read and target schemas and
 * the rules' selectors: a tree of object properties down to the selected string leaves, everything else
 * skipped. It follows the walker's rules (json-walk.ts): properties by name through `$ref` and `allOf`,
 * array items, a selected property is a leaf when its schema has a type. Arrays get a fixed number of
 * item slots (the splicer's leaves are fixed per plan; a longer array does not scan and takes the general
 * path). Where the walker's choice depends on the value (a selected field under oneOf / anyOf or in
 * tuple items, or in the recursive part of a schema) or the leaf is not a plain string (enum, const, a number or boolean
 * type beside it), there is no plan and the general path runs.
 */
import { flatten } from './json-flatten.js';
import { propertyInfo } from './json-fields.js';
import type { Node, SchemaSet } from './json-schema-set.js';
import type { FieldInfo, FieldSelect, SelectedLeaf } from './types.js';

/** A selected string value (or null): its index in the splice state. */
export interface LeafPlan {
  readonly kind: 'leaf';
  readonly index: number;
}

/** An object (or null) whose listed properties lead to leaves; any other property is skipped. */
export interface ObjectPlan {
  readonly kind: 'object';
  readonly names: readonly string[];
  /** The names' UTF-8, compared with keys that have no escape. */
  readonly nameBytes: readonly Buffer[];
  readonly children: readonly ValuePlan[];
}

/** An array (or null) whose items, up to the slots' count, each follow their slot's plan. */
export interface ArrayPlan {
  readonly kind: 'array';
  readonly slots: readonly ValuePlan[];
}

export type ValuePlan = LeafPlan | ObjectPlan | ArrayPlan;

export interface SplicePlan {
  readonly root: ObjectPlan;
  readonly leafCount: number;
  readonly read: readonly (readonly SelectedLeaf[])[];
  readonly write: readonly (readonly SelectedLeaf[])[];
}

/** One side's schema and selectors. */
export interface PlanSide {
  readonly set: SchemaSet;
  readonly root: unknown;
  readonly selects: readonly (FieldSelect | null)[];
}

/** Duplicate keys are found with a bit per planned property. */
const MAX_PROPERTIES = 31;
/** Item slots per planned array, and leaves per plan: past them the general path runs. */
export const ARRAY_SLOTS = 8;
const MAX_LEAVES = 128;

interface Draft {
  readonly props: Map<string, Draft>;
  items: Draft | null;
  /** Per side, per selector: the field info when that selector picks this leaf. */
  readonly marks: [(FieldInfo | null)[], (FieldInfo | null)[]];
}

const newDraft = (sides: readonly PlanSide[]): Draft => ({ props: new Map(), items: null, marks: [sides[0]!.selects.map(() => null), sides[1]!.selects.map(() => null)] });
const isLeaf = (d: Draft): boolean => d.marks.some((m) => m.some((x) => x !== null));
const isEmpty = (d: Draft): boolean => d.props.size === 0 && d.items === null && !isLeaf(d);

/** The plan for these two sides, or null when the splice does not apply. */
export function compileSplicePlan(read: PlanSide, write: PlanSide): SplicePlan | null {
  const sides = [read, write];
  const root = newDraft(sides);
  for (let side = 0; side < 2; side++) {
    const { set, root: schema, selects } = sides[side]!;
    const collect = (
      nodes: readonly unknown[], path: string, fields: readonly (FieldInfo | null)[], stack: readonly string[], into: Draft, probe = false,
    ): boolean => {
      const f = flatten(set, nodes);
      if (stack.includes(f.key)) {
        // Recursion. As in the walker, one more cycle decides: nothing selected in it, nothing below
        // (skipped); else the selected leaves go as deep as each value does, which no plan can fix.
        if (probe) return true;
        const cycle = newDraft(sides);
        return collect(nodes, path, fields, [], cycle, true) && isEmpty(cycle);
      }
      const next = [...stack, f.key];
      const active = fields.some((x) => x !== null);
      // Anything selected under a value-dependent part makes the plan value-dependent: no plan.
      const nothingSelectedIn = (sub: readonly unknown[], subFields: readonly (FieldInfo | null)[]): boolean => {
        const scratch = newDraft(sides);
        return collect(sub, path, subFields, next, scratch, probe) && isEmpty(scratch);
      };
      if (f.choices.length > 0) {
        if (active) return false;
        const base = f.conjuncts.map((c) => {
          const { oneOf: _o, anyOf: _a, allOf: _l, $ref: _r, ...rest } = c;
          return rest;
        });
        return nothingSelectedIn([...base, ...f.choices.flatMap((c) => c.branches)], fields);
      }
      // The walker hands a selected node's primitive values of its declared types (any, when enum or
      // const) to the rule; objects and arrays it walks on. Only a string-or-null leaf is spliced.
      const valueTypes = [...f.types].filter((ty) => ty !== 'null' && ty !== 'object' && ty !== 'array');
      if (active && (f.enumLike || valueTypes.length > 0)) {
        const stringOnly = !f.enumLike && [...f.types].every((ty) => ty === 'string' || ty === 'null');
        if (!stringOnly || fields.some((x) => x !== null && x.kind !== 'string')) return false;
        fields.forEach((x, i) => { if (x !== null) into.marks[side]![i] = x; });
      }
      if (f.items.length > 0) {
        const items = into.items ?? newDraft(sides);
        if (!collect(f.items, path, fields, next, items, probe)) return false;
        if (!isEmpty(items)) into.items = items;
      }
      // Tuple positions take over from `items` in the walk: with both, which items are walked depends on positions.
      if (f.tuples.length > 0 && into.items !== null) return false;
      for (const tuple of f.tuples) for (const s of tuple) if (!nothingSelectedIn([s], fields)) return false;
      for (const [name, schemas] of f.props) {
        const info = propertyInfo(set, name, `${path}.${name}`, schemas);
        const childFields = selects.map((s) => (s !== null && s(info) ? info : null));
        const child = into.props.get(name) ?? newDraft(sides);
        if (!collect(schemas as readonly Node[], info.fullName, childFields, next, child, probe)) return false;
        if (!isEmpty(child)) into.props.set(name, child);
      }
      return true;
    };
    if (!collect([schema], '$', selects.map(() => null), [], root)) return null;
  }
  if (isLeaf(root)) return null;

  let leafCount = 0;
  const readLeaves: SelectedLeaf[][] = read.selects.map(() => []);
  const writeLeaves: SelectedLeaf[][] = write.selects.map(() => []);
  const build = (d: Draft): ValuePlan | null => {
    if (leafCount > MAX_LEAVES) return null;
    if (isLeaf(d) || d.items !== null) {
      if (d.props.size > 0 || (isLeaf(d) && d.items !== null)) return null; // which one applies depends on the value
    }
    if (d.items !== null) {
      const slots: ValuePlan[] = [];
      for (let k = 0; k < ARRAY_SLOTS; k++) {
        const slot = build(d.items);
        if (slot === null) return null;
        slots.push(slot);
      }
      return { kind: 'array', slots };
    }
    if (isLeaf(d)) {
      const index = leafCount++;
      d.marks[0].forEach((info, s) => { if (info !== null) readLeaves[s]!.push({ index, info }); });
      d.marks[1].forEach((info, s) => { if (info !== null) writeLeaves[s]!.push({ index, info }); });
      return { kind: 'leaf', index };
    }
    if (d.props.size > MAX_PROPERTIES) return null;
    const names = [...d.props.keys()];
    // JSON.parse makes `__proto__` an own property, but a schema naming it is not worth the doubt.
    if (names.includes('__proto__')) return null;
    const children: ValuePlan[] = [];
    for (const name of names) {
      const child = build(d.props.get(name)!);
      if (child === null) return null;
      children.push(child);
    }
    return { kind: 'object', names, nameBytes: names.map((n) => Buffer.from(n, 'utf8')), children };
  };
  const plan = build(root);
  if (plan === null || plan.kind !== 'object' || leafCount === 0) return null;
  return { root: plan, leafCount, read: readLeaves, write: writeLeaves };
}
