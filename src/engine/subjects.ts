/**
 * Confluent's subject name strategies: which subject a record's schema (and so its DEKs) lives under.
 * TopicNameStrategy `<topic>-value`; RecordNameStrategy the record's full name; TopicRecordNameStrategy
 * `<topic>-<full name>`.
 */
import { RecryptError } from '../util/errors.js';
import type { LoadedSchema } from './schema-store.js';

export type SubjectNameStrategy = 'topic' | 'record' | 'topic-record';

export function sourceSubject(strategy: SubjectNameStrategy, topic: string, schema: LoadedSchema, isKey: boolean): string {
  if (strategy === 'topic') return `${topic}-${isKey ? 'key' : 'value'}`;
  const name = recordName(schema);
  return strategy === 'record' ? name : `${topic}-${name}`;
}

/** The full name of the schema's top-level record (Avro), first message (Protobuf) or title (JSON). */
export function recordName(schema: LoadedSchema): string {
  const text = schema.info.schema;
  switch (schema.schemaType) {
    case 'AVRO': {
      const parsed = JSON.parse(text) as { name?: string; namespace?: string };
      if (!parsed.name) break;
      return parsed.name.includes('.') || !parsed.namespace ? parsed.name : `${parsed.namespace}.${parsed.name}`;
    }
    case 'PROTOBUF': {
      const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(text)?.[1];
      const message = /^\s*message\s+(\w+)/m.exec(text)?.[1];
      if (!message) break;
      return pkg ? `${pkg}.${message}` : message;
    }
    case 'JSON': {
      const title = (JSON.parse(text) as { title?: unknown }).title;
      if (typeof title === 'string' && title) return title;
      break;
    }
  }
  throw new RecryptError('FORMAT_SCHEMA', `schema ${schema.id} has no record name for the record subject name strategy`);
}
