/**
 * The documents of a JSON Schema: the main one and its references, with the document and base URI of
 * every schema object in them, so that a `$ref` resolves from where it is written: local
 * (`#/definitions/..`, `#/$defs/..`, JSON pointers), other documents by reference name, by `$id`, or by
 * URL relative to the referring document's `$id`.
 */
import { schemaError } from './common.js';

export type Node = Record<string, unknown>;

export const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Located {
  readonly doc: unknown;
  readonly base: string | undefined;
}

/** All schema documents, with the document and base URI of every schema object in them. */
export class SchemaSet {
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
