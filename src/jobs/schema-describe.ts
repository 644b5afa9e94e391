/**
 * Human wording of what a JSON Schema fragment accepts ("one of encrypt, decrypt, reencrypt", "an
 * integer from 1 to 100000"), for the `expected ...` part of problems. Never mentions the value found.
 */
import { PATTERN_HINTS } from './job-schema.js';
import { nearest } from '../util/nearest.js';

type Schema = Readonly<Record<string, unknown>>;

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'nothing',
};

export function describeType(type: unknown): string {
  if (Array.isArray(type)) return type.map(describeType).join(' or ');
  return TYPE_WORDS[String(type)] ?? String(type);
}

export function describeRange(schema: Schema): string | undefined {
  const min = schema['minimum'];
  const max = schema['maximum'];
  const what = schema['type'] === 'integer' ? 'an integer' : 'a number';
  if (typeof min === 'number' && typeof max === 'number') return `${what} from ${min} to ${max}`;
  if (typeof min === 'number') return `${what} >= ${min}`;
  if (typeof max === 'number') return `${what} <= ${max}`;
  return undefined;
}

export function describePattern(pattern: string): string {
  return PATTERN_HINTS[pattern] ?? `text matching ${pattern}`;
}

export function describeSchema(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'a valid value';
  const s = schema as Schema;
  if ('const' in s) return String(s['const']);
  if (Array.isArray(s['enum'])) return `one of ${(s['enum'] as unknown[]).map(String).join(', ')}`;
  const alternatives = (s['oneOf'] ?? s['anyOf']) as unknown;
  if (Array.isArray(alternatives)) return alternatives.map(describeSchema).join(', or ');
  if (typeof s['pattern'] === 'string') return describePattern(s['pattern']);
  const range = describeRange(s);
  if (range !== undefined) return range;
  if (s['type'] === 'object' && Array.isArray(s['required'])) {
    return `a mapping with ${(s['required'] as unknown[]).map(String).join(', ')}`;
  }
  if (s['type'] === 'array' && typeof s['items'] === 'object') return `a list of ${describeSchema(s['items'])}`;
  if (s['type'] !== undefined) return describeType(s['type']);
  return 'a valid value';
}

/** The schema fragment at a JSON pointer such as `#/properties/spec/properties/dlq/if`. */
export function schemaAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const raw of pointer.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** "payload is encrypted" for an `if` schema made of `properties: { x: { const } }`. */
export function describeCondition(ifSchema: unknown): string | undefined {
  const props = (ifSchema as Schema | undefined)?.['properties'];
  if (typeof props !== 'object' || props === null) return undefined;
  const parts = Object.entries(props as Record<string, Schema>)
    .filter(([, v]) => 'const' in v)
    .map(([k, v]) => `${k} is ${String(v['const'])}`);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

/** Closest known name, for "did you mean" hints on typos. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  return nearest(name, known);
}
