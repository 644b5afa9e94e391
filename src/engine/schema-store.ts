/**
 * Writer and target schemas as the engine needs them: fetched from the registry once (by id or GUID),
 * with their references resolved recursively, and compiled into codecs once per (schema, message).
 */
import { createCodec, type Codec, type ResolvedReferences } from '../formats/index.js';
import type { RegisteredSchema, SchemaInfo, SchemaRegistryApi, SchemaType } from '../registry/types.js';
import { RecryptError, isTransient } from '../util/errors.js';
import { isIdRef, type SchemaRef } from '../wire/index.js';

export interface LoadedSchema {
  readonly id: number;
  readonly guid?: string;
  readonly schemaType: SchemaType;
  readonly info: RegisteredSchema;
  readonly references: ResolvedReferences;
  /** Subject the schema was looked up under, when known (target schemas). */
  readonly subject?: string;
}

export function schemaTypeOf(schema: SchemaInfo): SchemaType {
  return schema.schemaType ?? 'AVRO';
}

export class SchemaStore {
  private readonly byRef = new Map<string, Promise<LoadedSchema>>();
  private readonly codecs = new Map<string, Codec>();

  constructor(private readonly registry: SchemaRegistryApi) {}

  /** The writer schema a record names; unknown ids are permanent ENGINE_UNKNOWN_SCHEMA errors. */
  load(ref: SchemaRef, subject?: string): Promise<LoadedSchema> {
    const key = isIdRef(ref) ? `id:${ref.id}` : `guid:${ref.guid}`;
    let pending = this.byRef.get(key);
    if (!pending) {
      pending = this.fetch(ref, subject);
      this.byRef.set(key, pending);
      // Failed lookups are retried next time (a transient outage must not stick).
      pending.catch(() => this.byRef.delete(key));
    }
    return pending;
  }

  /** A schema already fetched by the caller (e.g. the job's target schema). */
  async adopt(schema: RegisteredSchema, subject?: string): Promise<LoadedSchema> {
    const loaded: LoadedSchema = {
      id: schema.id, schemaType: schemaTypeOf(schema), info: schema,
      references: await this.resolveReferences(schema),
      ...(schema.guid ? { guid: schema.guid } : {}), ...(subject ? { subject } : {}),
    };
    this.byRef.set(`id:${schema.id}`, Promise.resolve(loaded));
    return loaded;
  }

  codec(schema: LoadedSchema, messageIndexes?: readonly number[]): Codec {
    const key = `${schema.id}/${messageIndexes?.join('.') ?? ''}`;
    let codec = this.codecs.get(key);
    if (!codec) {
      codec = createCodec(schema.info, schema.references, messageIndexes ? { messageIndexes } : {});
      this.codecs.set(key, codec);
    }
    return codec;
  }

  private async fetch(ref: SchemaRef, subject?: string): Promise<LoadedSchema> {
    let schema: RegisteredSchema;
    try {
      schema = isIdRef(ref) ? await this.registry.getById(ref.id, subject) : await this.registry.getByGuid(ref.guid);
    } catch (err) {
      if (isTransient(err)) throw err;
      const what = isIdRef(ref) ? `schema id ${ref.id}` : `schema guid ${ref.guid}`;
      throw new RecryptError('ENGINE_UNKNOWN_SCHEMA', `${what} is not in the schema registry`, { cause: err });
    }
    const id = isIdRef(ref) ? ref.id : schema.id;
    return {
      id, schemaType: schemaTypeOf(schema), info: { ...schema, id },
      references: await this.resolveReferences(schema),
      ...(schema.guid ? { guid: schema.guid } : isIdRef(ref) ? {} : { guid: ref.guid }),
    };
  }

  /** Every schema referenced directly or transitively, by reference name. */
  private async resolveReferences(schema: SchemaInfo, into = new Map<string, SchemaInfo>()): Promise<Map<string, SchemaInfo>> {
    for (const reference of schema.references ?? []) {
      if (into.has(reference.name)) continue;
      const referenced = await this.registry.getVersion(reference.subject, reference.version);
      into.set(reference.name, referenced);
      await this.resolveReferences(referenced, into);
    }
    return into;
  }
}
