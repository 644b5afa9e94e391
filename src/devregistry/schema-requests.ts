/**
 * What a Schema Registry request may carry, checked as Confluent's server checks it: subjects, version
 * ids, schema types, references, metadata, rule sets (with the defaults Confluent fills in), config
 * updates, and the light syntax check of the schema text. Every failure is the ApiError Confluent
 * answers with (422/422xx); nothing here reads the store.
 */
import { stableStringify } from '../registry/stable-json.js';
import type { RuleSet, SchemaMetadata, SchemaReference, SchemaType } from '../registry/types.js';
import { ApiError, invalidCompatibility, invalidSchema, invalidSubject } from './http.js';

const SCHEMA_TYPES: readonly SchemaType[] = ['AVRO', 'PROTOBUF', 'JSON'];
const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];

export interface SchemaDraft {
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
  metadata: SchemaMetadata | undefined;
  ruleSet: RuleSet | undefined;
}

export function checkSubject(subject: string): void {
  // eslint-disable-next-line no-control-regex
  if (subject === '' || /[\u0000-\u001f\u007f-\u009f]/.test(subject)) throw invalidSubject(subject);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseSchemaType(value: unknown): SchemaType {
  if (value === undefined || value === null) return 'AVRO';
  if (typeof value === 'string' && (SCHEMA_TYPES as readonly string[]).includes(value.toUpperCase())) {
    return value.toUpperCase() as SchemaType;
  }
  throw invalidSchema(`invalid schema type ${JSON.stringify(value)}`);
}

function parseReferences(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidSchema('references must be an array');
  return value.map((ref: unknown) => {
    if (!isPlainObject(ref) || typeof ref['name'] !== 'string' || typeof ref['subject'] !== 'string' || !Number.isInteger(ref['version'])) {
      throw invalidSchema('each reference needs a name, a subject and an integer version');
    }
    return { name: ref['name'], subject: ref['subject'], version: ref['version'] as number };
  });
}

function parseMetadata(value: unknown): SchemaMetadata | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw invalidSchema('metadata must be an object');
  const out: SchemaMetadata = {};
  const { tags, properties, sensitive } = value;
  if (tags !== undefined && tags !== null) {
    if (!isPlainObject(tags) || !Object.values(tags).every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))) {
      throw invalidSchema('metadata.tags must map paths to string arrays');
    }
    out.tags = tags as Record<string, string[]>;
  }
  if (properties !== undefined && properties !== null) {
    if (!isPlainObject(properties) || !Object.values(properties).every((p) => typeof p === 'string')) {
      throw invalidSchema('metadata.properties must map names to strings');
    }
    out.properties = properties as Record<string, string>;
  }
  if (sensitive !== undefined && sensitive !== null) {
    if (!Array.isArray(sensitive) || !sensitive.every((x) => typeof x === 'string')) throw invalidSchema('metadata.sensitive must be strings');
    out.sensitive = sensitive as string[];
  }
  return out;
}

const RULE_KINDS = ['TRANSFORM', 'CONDITION'];
const RULE_MODES = ['WRITE', 'READ', 'WRITEREAD', 'UPGRADE', 'DOWNGRADE', 'UPDOWN'];

function parseRuleSet(value: unknown): RuleSet | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw invalidRuleSet('ruleSet must be an object');
  const out: RuleSet = {};
  for (const kind of ['migrationRules', 'domainRules', 'encodingRules'] as const) {
    const rules = value[kind];
    if (rules === undefined || rules === null) continue;
    if (!Array.isArray(rules)) throw invalidRuleSet(`${kind} must be an array`);
    const names = new Set<string>();
    for (const rule of rules as unknown[]) {
      if (!isPlainObject(rule)) throw invalidRuleSet('a rule must be an object');
      const name = rule['name'];
      if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw invalidRuleSet('rule name is missing or invalid');
      if (names.has(name)) throw invalidRuleSet(`duplicate rule name ${name}`);
      names.add(name);
      if (rule['kind'] !== undefined && rule['kind'] !== null && !RULE_KINDS.includes(String(rule['kind']))) throw invalidRuleSet(`rule ${name}: invalid kind`);
      if (rule['mode'] !== undefined && rule['mode'] !== null && !RULE_MODES.includes(String(rule['mode']))) throw invalidRuleSet(`rule ${name}: invalid mode`);
      if (rule['type'] !== undefined && rule['type'] !== null && typeof rule['type'] !== 'string') throw invalidRuleSet(`rule ${name}: invalid type`);
      const params = rule['params'];
      if (params !== undefined && params !== null && (!isPlainObject(params) || !Object.values(params).every((p) => typeof p === 'string'))) {
        throw invalidRuleSet(`rule ${name}: params must map names to strings`);
      }
    }
    // Confluent's server fills in a rule's defaults (kind TRANSFORM, mode WRITEREAD, disabled false)
    // and returns them; its JS serde skips a rule whose mode is missing, so the defaults matter.
    out[kind] = (rules as Array<Record<string, unknown>>).map((rule) => ({
      ...rule,
      kind: rule['kind'] ?? 'TRANSFORM',
      mode: rule['mode'] ?? (kind === 'migrationRules' ? 'UPGRADE' : 'WRITEREAD'),
      disabled: rule['disabled'] ?? false,
    })) as RuleSet['domainRules'];
  }
  if (typeof value['enableAt'] === 'string') out.enableAt = value['enableAt'];
  return out;
}

function invalidRuleSet(detail: string): ApiError {
  return new ApiError(422, 42210, `Invalid ruleSet: ${detail}`);
}

/** Light syntax checks: Avro and JSON Schema must be JSON; Protobuf must be non-empty text. */
export function canonicalSchema(schemaType: SchemaType, schema: string): string {
  if (schema.trim() === '') throw invalidSchema('empty schema');
  if (schemaType === 'PROTOBUF') return schema.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema);
  } catch {
    throw invalidSchema(`${schemaType} schema is not valid JSON`);
  }
  if (schemaType === 'AVRO') checkAvroShape(parsed);
  else if (typeof parsed !== 'boolean' && !isPlainObject(parsed)) throw invalidSchema('JSON schema must be an object or a boolean');
  return JSON.stringify(parsed);
}

function checkAvroShape(node: unknown, depth = 0): void {
  if (depth > 64) throw invalidSchema('Avro schema nests too deeply');
  if (typeof node === 'string') return; // a primitive or a named type reference
  if (Array.isArray(node)) {
    for (const branch of node) checkAvroShape(branch, depth + 1);
    return;
  }
  if (!isPlainObject(node)) throw invalidSchema('Avro schema must be a string, an array or an object');
  const type = node['type'];
  if (typeof type !== 'string' && !Array.isArray(type) && !isPlainObject(type)) throw invalidSchema('Avro schema object needs a type');
  switch (type) {
    case 'record':
    case 'error': {
      if (typeof node['name'] !== 'string' || node['name'] === '') throw invalidSchema('Avro record needs a name');
      const fields = node['fields'];
      if (!Array.isArray(fields)) throw invalidSchema('Avro record needs fields');
      for (const field of fields as unknown[]) {
        if (!isPlainObject(field) || typeof field['name'] !== 'string' || field['type'] === undefined) {
          throw invalidSchema('each Avro field needs a name and a type');
        }
        checkAvroShape(field['type'], depth + 1);
      }
      return;
    }
    case 'enum':
      if (typeof node['name'] !== 'string' || !Array.isArray(node['symbols'])) throw invalidSchema('Avro enum needs a name and symbols');
      return;
    case 'fixed':
      if (typeof node['name'] !== 'string' || !Number.isInteger(node['size'])) throw invalidSchema('Avro fixed needs a name and a size');
      return;
    case 'array':
      if (node['items'] === undefined) throw invalidSchema('Avro array needs items');
      checkAvroShape(node['items'], depth + 1);
      return;
    case 'map':
      if (node['values'] === undefined) throw invalidSchema('Avro map needs values');
      checkAvroShape(node['values'], depth + 1);
      return;
    default:
      // a primitive, a logical type on a primitive, a named type reference, or a nested schema
      if (typeof type === 'string' && type === '') throw invalidSchema('empty Avro type');
      if (typeof type !== 'string') checkAvroShape(type, depth + 1);
  }
}

/** A schema's identity: the same content has the same id and GUID under every subject. */
export function contentKey(d: SchemaDraft): string {
  return stableStringify({
    schemaType: d.schemaType,
    schema: canonicalSchema(d.schemaType, d.schema),
    references: d.references,
    metadata: d.metadata ?? null,
    ruleSet: d.ruleSet ?? null,
  });
}

/** A register, lookup or compatibility body; `schemaGiven` false: no schema text (register takes the latest one's). */
export function readDraft(body: Record<string, unknown>): { draft: Partial<SchemaDraft>; schemaGiven: boolean } {
  const schema = body['schema'];
  if (schema !== undefined && schema !== null && typeof schema !== 'string') throw invalidSchema('schema must be a string');
  const draft: Partial<SchemaDraft> = {
    schemaType: parseSchemaType(body['schemaType']),
    references: parseReferences(body['references']),
    metadata: parseMetadata(body['metadata']),
    ruleSet: parseRuleSet(body['ruleSet']),
  };
  const schemaGiven = typeof schema === 'string' && schema.trim() !== '';
  if (schemaGiven) draft.schema = schema;
  return { draft, schemaGiven };
}

/** PUT /config body: `compatibility` (validated) plus passthrough settings. */
export function parseConfigUpdate(body: Record<string, unknown>): Record<string, unknown> {
  const level = body['compatibility'] ?? body['compatibilityLevel'];
  if (level !== undefined && level !== null && (typeof level !== 'string' || !COMPATIBILITY_LEVELS.includes(level.toUpperCase()))) {
    throw invalidCompatibility(String(level));
  }
  const out: Record<string, unknown> = { ...body };
  delete out['compatibilityLevel'];
  if (typeof level === 'string') out['compatibility'] = level.toUpperCase();
  return out;
}
