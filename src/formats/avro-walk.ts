/**
 * Field walkers over decoded Avro values: for a selector, a walk that visits every occurrence of the
 * selected fields (nested records, arrays, maps, wrapped and unwrapped unions), compiled once per
 * schema and selector; record walks are straight-line code.
 */
import { asBuffer, hasOwn, withKind } from './common.js';
import { childRecords, isRecordType, leafKind, t, typeBucket, valueBucket, type Type, type Walk } from './avro-types.js';
import type { FieldInfo, FieldWalker } from './types.js';

/**
 * Compiles a walker over the fields for which `select` returns true, for the records reachable from
 * `root` (`records`: each with its field infos). Null when no field is selected.
 */
export function compileAvroWalker(
  root: Type, records: ReadonlyMap<Type, readonly FieldInfo[]>, select: (field: FieldInfo) => boolean,
): FieldWalker | null {
  // Which records hold a selected field, directly or through records they contain (fixpoint, so
  // recursive types terminate).
  const selected = new Map<Type, boolean[]>();
  const needs = new Map<Type, boolean>();
  for (const [r, infos] of records) {
    const sel = infos.map((i) => select(i));
    selected.set(r, sel);
    needs.set(r, sel.includes(true));
  }
  const children = new Map<Type, Set<Type>>();
  for (const r of records.keys()) {
    const set = new Set<Type>();
    for (const f of t(r).fields ?? []) childRecords(f.type, set);
    children.set(r, set);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const [r, set] of children) {
      if (needs.get(r) === true) continue;
      for (const c of set) {
        if (needs.get(c) === true) {
          needs.set(r, true);
          changed = true;
          break;
        }
      }
    }
  }

  const holders = new Map<Type, { fn: Walk; done: boolean }>();
  const recordWalker = (r: Type): Walk | null => {
    if (needs.get(r) !== true) return null;
    const existing = holders.get(r);
    if (existing !== undefined) return existing.done ? existing.fn : (v, visit) => existing.fn(v, visit);
    const holder = { fn: ((v: unknown) => v) as Walk, done: false };
    holders.set(r, holder);
    const infos = records.get(r) ?? [];
    const sel = selected.get(r) ?? [];
    const steps: Step[] = [];
    (t(r).fields ?? []).forEach((f, i) => {
      const info = sel[i] === true ? (infos[i] ?? null) : null;
      const walk = typeWalker(f.type, info);
      if (walk === null) return;
      // A plain leaf field (not a union, array or map) is visited inline.
      const plain = info !== null && !isRecordType(f.type) && t(f.type).types === undefined && t(f.type).itemsType === undefined && t(f.type).valuesType === undefined;
      steps.push({ name: f.name, leaf: plain ? withKind(info, leafKind(f.type)) : null, walk });
    });
    holder.fn = recordWalk(steps);
    holder.done = true;
    return holder.fn;
  };

  const typeWalker = (type: Type, info: FieldInfo | null): Walk | null => {
    const a = t(type);
    if (isRecordType(type)) return recordWalker(type);
    switch (a.typeName) {
      case 'array':
        return arrayWalk(typeWalker(a.itemsType as Type, info));
      case 'map':
        return mapWalk(typeWalker(a.valuesType as Type, info));
      case 'union:wrapped':
        return wrappedUnionWalk(a.types ?? [], info, typeWalker);
      case 'union:unwrapped':
        return unwrappedUnionWalk(a.types ?? [], info, typeWalker);
      default:
        return info === null ? null : leafWalk(withKind(info, t(type).typeName === 'null' ? info.kind : leafKind(type)));
    }
  };

  return typeWalker(root, null);
}

/** One field of a record walk: a direct visit of a string/bytes/other leaf, or a nested walk. */
type Step = { readonly name: string; readonly leaf: FieldInfo | null; readonly walk: Walk };

/**
 * A record walk compiled to straight-line code (`r["name"] = visit(r["name"], info0); ...`): per record
 * only the selected fields are touched, with no loop or per-field closure on the hot path.
 */
function recordWalk(steps: readonly Step[]): Walk {
  const lines: string[] = [];
  steps.forEach((s, i) => {
    const key = JSON.stringify(s.name);
    if (s.leaf === null) lines.push(`r[${key}] = walks[${i}](r[${key}], visit);`);
    else if (s.leaf.kind === 'bytes') lines.push(`r[${key}] = asBuffer(visit(r[${key}], infos[${i}]));`);
    else lines.push(`r[${key}] = visit(r[${key}], infos[${i}]);`);
  });
  const body = `return function walkRecord(r, visit) {\n  if (r === null || typeof r !== 'object') return r;\n  ${lines.join('\n  ')}\n  return r;\n};`;
  const make = new Function('walks', 'infos', 'asBuffer', body) as (w: Walk[], i: (FieldInfo | null)[], a: typeof asBuffer) => Walk;
  return make(
    steps.map((s) => s.walk),
    steps.map((s) => s.leaf),
    asBuffer,
  );
}

function arrayWalk(inner: Walk | null): Walk | null {
  if (inner === null) return null;
  return (v, visit) => {
    if (!Array.isArray(v)) return v;
    for (let i = 0; i < v.length; i++) v[i] = inner(v[i], visit);
    return v;
  };
}

function mapWalk(inner: Walk | null): Walk | null {
  if (inner === null) return null;
  return (v, visit) => {
    if (v === null || typeof v !== 'object') return v;
    const m = v as Record<string, unknown>;
    for (const k of Object.keys(m)) m[k] = inner(m[k], visit);
    return m;
  };
}

function leafWalk(info: FieldInfo): Walk {
  if (info.kind === 'bytes') return (v, visit) => asBuffer(visit(v, info));
  return (v, visit) => visit(v, info);
}

type TypeWalker = (type: Type, info: FieldInfo | null) => Walk | null;

function wrappedUnionWalk(types: readonly Type[], info: FieldInfo | null, typeWalker: TypeWalker): Walk | null {
  const branches: { name: string; walk: Walk }[] = [];
  let nullWalk: Walk | null = null;
  for (const b of types) {
    const walk = typeWalker(b, info);
    if (walk === null) continue;
    if (t(b).typeName === 'null') nullWalk = walk;
    else branches.push({ name: t(b).branchName ?? '', walk });
  }
  if (branches.length === 0 && nullWalk === null) return null;
  return (v, visit) => {
    if (v === null || v === undefined) return nullWalk === null ? v : nullWalk(v, visit);
    if (typeof v !== 'object') return v;
    const w = v as Record<string, unknown>;
    for (const b of branches) {
      if (w[b.name] !== undefined && hasOwn(w, b.name)) {
        w[b.name] = b.walk(w[b.name], visit);
        return w;
      }
    }
    return w;
  };
}

function unwrappedUnionWalk(types: readonly Type[], info: FieldInfo | null, typeWalker: TypeWalker): Walk | null {
  const byBucket = new Map<string, Walk>();
  for (const b of types) {
    const walk = typeWalker(b, info);
    if (walk !== null) byBucket.set(typeBucket(b), walk);
  }
  if (byBucket.size === 0) return null;
  if (byBucket.size === 1) {
    const [[bucket, walk]] = [...byBucket] as [[string, Walk]];
    return (v, visit) => (valueBucket(v) === bucket ? walk(v, visit) : v);
  }
  return (v, visit) => {
    const walk = byBucket.get(valueBucket(v));
    return walk === undefined ? v : walk(v, visit);
  };
}
