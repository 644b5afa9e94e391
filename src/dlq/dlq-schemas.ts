/**
 * Schemas of DLQ records, registered under the DLQ topic's subject `<dlq topic>-value` (Confluent's
 * default naming, so consumers of the DLQ topic find them):
 * - redacted: the writer schema's text and references with no rules (its fields hold "" or empty bytes,
 *   which the writer's ENCRYPT rules could not decrypt);
 * - encrypted: the same text with one ENCRYPT rule naming the job's DLQ KEK, selecting the tagged fields
 *   through `metadata.tags` (full name -> RECRYPT_DLQ). A Confluent consumer with access to the DLQ KEK
 *   decrypts them; DEKs live under the DLQ subject.
 * Registration happens once per (DLQ subject, writer schema) and is cached; a failed one is retried.
 */
import type { Codec, FieldInfo, FieldWalker } from '../formats/index.js';
import type { Rule, SchemaInfo, SchemaRegistryApi } from '../registry/types.js';
import { fieldTags, resolveEncryptionParams, type EncryptionParams } from '../rules/index.js';
import { RecryptError } from '../util/errors.js';
import type { SourceView } from './types.js';

export const DLQ_TAG = 'RECRYPT_DLQ';
export const DLQ_RULE_NAME = 'recrypt-dlq';

export interface DlqKek {
  readonly name: string;
  readonly kmsType: string;
  readonly kmsKeyId: string;
}

export interface EncryptedDlqSchema {
  readonly id: number;
  readonly subject: string;
  readonly params: EncryptionParams;
  /** Walks exactly the fields the registered rule selects, as a Confluent reader of the DLQ computes them. */
  readonly walker: FieldWalker | null;
}

/** Characters that make a full name a wildcard pattern (or a regular expression class) in metadata.tags. */
const PATTERN_CHARS = /[*?[\]\\]/;

export function dlqSubject(topic: string): string {
  return `${topic}-value`;
}

function baseInfo(writer: SourceView['writer']): SchemaInfo {
  const { schemaType, schema, references } = writer.info;
  return { ...(schemaType ? { schemaType } : {}), schema, ...(references?.length ? { references } : {}) };
}

export class DlqSchemas {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(private readonly registry: SchemaRegistryApi) {}

  /** Schema id of the redacted form of `writer` under the DLQ subject. */
  redacted(topic: string, writer: SourceView['writer']): Promise<number> {
    const subject = dlqSubject(topic);
    return this.once(`r\u0000${subject}\u0000${writer.id}`, async () => (await this.registry.register(subject, baseInfo(writer))).id);
  }

  /** The encrypted form of `writer`: its registered id, the DLQ rule's params, and the walker of its fields. */
  encrypted(topic: string, writer: SourceView['writer'], codec: Codec, taggedFields: readonly string[], kek: DlqKek): Promise<EncryptedDlqSchema> {
    const subject = dlqSubject(topic);
    return this.once(`e\u0000${subject}\u0000${writer.id}\u0000${kek.name}`, async () => {
      const tags: Record<string, string[]> = {};
      for (const name of taggedFields) {
        if (PATTERN_CHARS.test(name)) throw new RecryptError('DLQ_BUILD_FAILED', 'a tagged field name cannot be written as a metadata.tags pattern');
        tags[name] = [DLQ_TAG];
      }
      const rule: Rule = {
        name: DLQ_RULE_NAME, kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: [DLQ_TAG], disabled: false,
        params: { 'encrypt.kek.name': kek.name, 'encrypt.kms.type': kek.kmsType, 'encrypt.kms.key.id': kek.kmsKeyId },
        onFailure: 'ERROR,ERROR',
      };
      const info: SchemaInfo = { ...baseInfo(writer), metadata: { tags }, ruleSet: { domainRules: [rule] } };
      const params = resolveEncryptionParams(rule, info);
      const select = (f: FieldInfo): boolean => fieldTags(f, tags).has(DLQ_TAG);
      // What a reader of the DLQ schema selects must cover every tagged field, or a field would go out unencrypted.
      const selected = new Set(codec.fields().filter(select).map((f) => f.fullName));
      if (taggedFields.some((name) => !selected.has(name))) {
        throw new RecryptError('DLQ_BUILD_FAILED', 'the DLQ schema rule does not select every tagged field');
      }
      const registered = await this.registry.register(subject, info);
      return { id: registered.id, subject, params, walker: codec.compileWalker(select) };
    }) as Promise<EncryptedDlqSchema>;
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let pending = this.cache.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = load();
      this.cache.set(key, pending);
      pending.catch(() => this.cache.delete(key));
    }
    return pending;
  }
}
