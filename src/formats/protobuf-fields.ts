/**
 * The fields of a Protobuf message type and of every message it reaches: per message, one entry per
 * field with its FieldInfo (full name `package.Message.field`, nested `package.Outer.Inner.field`) and
 * its inline tags, `[(confluent.field_meta).tags = "PII"]` or `[(confluent.field_meta) = { tags: ["PII"] }]`.
 * Map fields behave like Confluent's Java serde, where a map is a repeated entry message: the values are
 * the field `package.Message.<Name>Entry.value` (and keys `.key`), whose tags come only from `metadata.tags`.
 */
import protobuf from 'protobufjs';
import { EMPTY_TAGS, fieldInfo, tagList } from './common.js';
import type { FieldInfo, FieldKind } from './types.js';

/** Tags from `(confluent.field_meta)`, in both the flat and the aggregate option syntax. */
function inlineTags(field: protobuf.Field): readonly string[] {
  const tags: unknown[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) tags.push(...(v as unknown[]));
    else if (v !== undefined) tags.push(v);
  };
  const parsedOptions: unknown = field.parsedOptions;
  for (const opt of Array.isArray(parsedOptions) ? (parsedOptions as unknown[]) : []) {
    const meta: unknown = (opt as Record<string, unknown>)['(confluent.field_meta)'];
    if (typeof meta === 'object' && meta !== null) add((meta as Record<string, unknown>)['tags']);
  }
  if (tags.length === 0 && field.options !== undefined) add(field.options['(confluent.field_meta).tags']);
  return tagList(tags);
}

function scalarKind(type: string): FieldKind {
  return type === 'string' ? 'string' : type === 'bytes' ? 'bytes' : 'other';
}

/** protoc's name for a map field's entry message: `my_map` -> `MyMapEntry`. */
function mapEntryName(field: string): string {
  let out = '';
  let upper = true;
  for (const ch of field) {
    if (ch === '_') {
      upper = true;
    } else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return `${out}Entry`;
}

export interface FieldEntry {
  readonly field: protobuf.Field;
  /** The field itself (for a map field: the map, kind other). */
  readonly info: FieldInfo;
  /** Map fields only: the entry's key and value fields. */
  readonly keyInfo?: FieldInfo;
  readonly valueInfo?: FieldInfo;
}

/** Per message type reachable from `messageType` (itself first), its fields in declaration order. */
export type MessageFields = ReadonlyMap<protobuf.Type, readonly FieldEntry[]>;

export function collectMessageFields(messageType: protobuf.Type): MessageFields {
  const messages = new Map<protobuf.Type, readonly FieldEntry[]>();
  const visit = (type: protobuf.Type): void => {
    if (messages.has(type)) return;
    const entries: FieldEntry[] = [];
    messages.set(type, entries);
    const prefix = type.fullName.replace(/^\./, '');
    for (const field of type.fieldsArray) {
      field.resolve();
      const valueType = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
      const kind: FieldKind = field.resolvedType === null ? scalarKind(field.type) : 'other';
      if (field instanceof protobuf.MapField) {
        const entry = `${prefix}.${mapEntryName(field.name)}`;
        entries.push({
          field,
          info: fieldInfo(field.name, `${prefix}.${field.name}`, inlineTags(field), 'other'),
          keyInfo: fieldInfo('key', `${entry}.key`, EMPTY_TAGS, scalarKind(field.keyType)),
          valueInfo: fieldInfo('value', `${entry}.value`, EMPTY_TAGS, kind),
        });
      } else {
        entries.push({ field, info: fieldInfo(field.name, `${prefix}.${field.name}`, inlineTags(field), kind) });
      }
      if (valueType !== null) visit(valueType);
    }
    Object.freeze(entries);
  };
  visit(messageType);
  return messages;
}

/** Every FieldInfo of `messages`: each field, and a map field's key and value. */
export function allFieldInfos(messages: MessageFields): readonly FieldInfo[] {
  const infos: FieldInfo[] = [];
  for (const entries of messages.values()) {
    for (const e of entries) {
      infos.push(e.info);
      if (e.keyInfo !== undefined) infos.push(e.keyInfo);
      if (e.valueInfo !== undefined) infos.push(e.valueInfo);
    }
  }
  return Object.freeze(infos);
}
