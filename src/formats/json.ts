/**
 * JSON Schema codec: payloads are UTF-8 JSON documents; the schema drives only the field walk. The
 * schema's documents and `$ref`s: json-schema-set.ts; flattening and branch matching: json-flatten.ts;
 * fields, full names and tags: json-fields.ts; the compiled walks: json-walk.ts; the in-place rewrite of
 * selected string values: json-splice.ts.
 */
import type { SchemaInfo } from '../model/index.js';
import { decodeError, encodeError, schemaError } from './common.js';
import { listJsonFields } from './json-fields.js';
import { isNode, SchemaSet } from './json-schema-set.js';
import { compileJsonSplicer } from './json-splice.js';
import { compileJsonWalker } from './json-walk.js';
import type { Codec, FieldInfo, FieldSelect, FieldSplicer, FieldWalker, ResolvedReferences } from './types.js';

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
    this.allFields ??= listJsonFields(this.set, this.root);
    return this.allFields;
  }

  compileWalker(select: (field: FieldInfo) => boolean): FieldWalker | null {
    return compileJsonWalker(this.set, this.root, select);
  }

  /**
   * The in-place rewrite (json-splice.ts) when the target is JSON too: JSON text does not depend on the
   * schema (the general path converts JSON values unchanged), so only the selected paths must agree.
   */
  compileSplicer(target: Codec, readSelects: readonly (FieldSelect | null)[], writeSelects: readonly (FieldSelect | null)[]): FieldSplicer | null {
    if (!(target instanceof JsonCodecImpl)) return null;
    return compileJsonSplicer({ set: this.set, root: this.root, selects: readSelects }, { set: target.set, root: target.root, selects: writeSelects });
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
