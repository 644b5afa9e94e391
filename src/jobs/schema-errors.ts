/**
 * Maps ajv errors (allErrors, verbose) to problems that point into the YAML: a missing property at the
 * mapping that should hold it, an unknown property at its key, any other error at the offending value.
 * Alternatives (oneOf) become one problem: "set exactly one of topic, topics, topicPattern", or the
 * errors of the alternative that matched the value's type. No message carries the value found.
 */
import type { ErrorObject } from 'ajv';
import { JOB_SCHEMA } from './job-schema.js';
import { formatPath, type PathSegment, type Problem } from './problem.js';
import {
  closestName,
  describeCondition,
  describePattern,
  describeRange,
  describeSchema,
  describeType,
  schemaAt,
} from './schema-describe.js';
import { locate, type Anchor, type SourceDocument } from './yaml-source.js';

interface Mapped {
  path: PathSegment[];
  anchor: Anchor;
  /** Where to point, when not the path itself (owner mapping, or a sibling key). */
  at?: PathSegment[];
  message: string;
  expected?: string;
}

type Schema = Readonly<Record<string, unknown>>;

const VALUE_KEYWORDS: ReadonlySet<string> = new Set(['enum', 'const', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum']);

export function schemaProblems(errors: readonly ErrorObject[], src: SourceDocument, data: unknown, job?: string): Problem[] {
  return mapErrors(errors, data).map((m) => {
    const pos = locate(src, m.at ?? m.path, m.anchor);
    return {
      code: 'JOB_INVALID',
      severity: 'error',
      file: src.file,
      document: src.index,
      line: pos.line,
      column: pos.column,
      path: formatPath(m.path),
      message: m.message,
      ...(m.expected === undefined ? {} : { expected: m.expected }),
      ...(job === undefined ? {} : { job }),
    };
  });
}

export function mapErrors(errors: readonly ErrorObject[], data: unknown): Mapped[] {
  let rest = errors.filter((e) => e.keyword !== 'if' && !e.schemaPath.includes('/propertyNames/'));
  const out: Mapped[] = [];
  // Alternatives first, innermost first, each swallowing the errors of its branches.
  const alternatives = rest.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  alternatives.sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const alt of alternatives) {
    if (!rest.includes(alt)) continue;
    const prefix = `${alt.schemaPath}/`;
    const branch = rest.filter((e) => e.schemaPath.startsWith(prefix));
    rest = rest.filter((e) => e !== alt && !e.schemaPath.startsWith(prefix));
    out.push(...mapAlternative(alt, branch, data));
  }
  // A value of the wrong type also fails its enum, pattern or range: report the type only.
  const wrongType = new Set(rest.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  rest = rest.filter((e) => e.keyword === 'type' || !VALUE_KEYWORDS.has(e.keyword) || !wrongType.has(e.instancePath));
  for (const e of rest) out.push(mapOne(e, data));
  return out;
}

/** JSON pointer to path segments; indexes are numbers where the data holds an array. */
function toPath(pointer: string, data: unknown): PathSegment[] {
  const path: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(key));
      node = node[Number(key)];
    } else {
      path.push(key);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}

function mapAlternative(alt: ErrorObject, branch: readonly ErrorObject[], data: unknown): Mapped[] {
  const path = toPath(alt.instancePath, data);
  const options = (Array.isArray(alt.schema) ? alt.schema : []) as Schema[];
  const requiredOnly = options.length > 0 && options.every((o) => Object.keys(o).length === 1 && Array.isArray(o['required']));
  if (requiredOnly) {
    const names = options.flatMap((o) => (o['required'] as string[]).map(String));
    const value = alt.data as Record<string, unknown> | null;
    const present = names.filter((n) => typeof value === 'object' && value !== null && n in value);
    if (present.length > 1) {
      return [{ path: [...path, present[1] as string], anchor: 'key', message: `set only one of ${names.join(', ')}`, expected: `exactly one of ${names.join(', ')}` }];
    }
    return [{ path, anchor: 'owner', message: `missing one of ${names.join(', ')}`, expected: `exactly one of ${names.join(', ')}` }];
  }
  // Errors inside the value: the value had the right shape for one alternative; report those.
  const deeper = branch.filter((e) => e.instancePath.length > alt.instancePath.length);
  if (deeper.length > 0 && alt.params['passingSchemas'] == null) return mapErrors(deeper, data);
  return [{ path, anchor: 'value', message: 'invalid value', expected: describeSchema({ oneOf: options }) }];
}

function mapOne(e: ErrorObject, data: unknown): Mapped {
  const path = toPath(e.instancePath, data);
  const parent = (e.parentSchema ?? {}) as Schema;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(params['missingProperty']);
      const propSchema = (parent['properties'] as Record<string, unknown> | undefined)?.[missing];
      const condition = e.schemaPath.endsWith('/then/required')
        ? describeCondition(schemaAt(JOB_SCHEMA, e.schemaPath.replace(/\/then\/required$/, '/if')))
        : undefined;
      const ownerProps = (schemaAt(JOB_SCHEMA, e.schemaPath.replace(/\/(then\/)?required$/, '/properties')) ?? {}) as Record<string, unknown>;
      return {
        path: [...path, missing],
        at: path,
        anchor: 'owner',
        message: condition === undefined ? `missing required field ${missing}` : `missing field ${missing}, required when ${condition}`,
        expected: describeSchema(propSchema ?? ownerProps[missing]),
      };
    }
    case 'additionalProperties': {
      const name = String(params['additionalProperty']);
      const known = Object.keys((parent['properties'] as Record<string, unknown> | undefined) ?? {});
      const guess = closestName(name, known);
      return {
        path: [...path, name],
        anchor: 'key',
        message: `unknown field${guess === undefined ? '' : ` (did you mean ${guess}?)`}`,
        expected: known.length > 0 ? `one of ${known.join(', ')}` : 'no fields',
      };
    }
    case 'propertyNames':
      return { path: [...path, String(params['propertyName'])], anchor: 'key', message: 'invalid key', expected: describeSchema(e.schema) };
    case 'type':
      if (e.data === null) return { path, anchor: 'value', message: 'missing value', expected: describeSchema(parent) };
      return { path, anchor: 'value', message: 'wrong type', expected: describeType(params['type']) + quoteHint(params['type']) };
    case 'enum':
      return { path, anchor: 'value', message: 'not an allowed value', expected: describeSchema(parent) };
    case 'const':
      return { path, anchor: 'value', message: 'not the allowed value', expected: String(params['allowedValue']) };
    case 'pattern':
      return { path, anchor: 'value', message: 'invalid format', expected: describePattern(String(params['pattern'])) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, anchor: 'value', message: 'out of range', expected: describeRange(parent) ?? e.message ?? '' };
    case 'minLength':
      return { path, anchor: 'value', message: 'must not be empty', expected: describeSchema(parent) };
    case 'minItems':
      return { path, anchor: 'value', message: 'too few items', expected: `at least ${String(params['limit'])} item(s)` };
    case 'minProperties':
      return { path, anchor: 'value', message: 'must not be empty', expected: `at least ${String(params['limit'])} entry(ies)` };
    case 'uniqueItems':
      return { path: [...path, Math.max(Number(params['i']), Number(params['j']))], anchor: 'value', message: 'duplicate item', expected: 'distinct items' };
    default:
      return { path, anchor: 'value', message: e.message ?? `fails ${e.keyword}` };
  }
}

function quoteHint(type: unknown): string {
  return type === 'string' ? "; quote numbers and booleans, as in '30'" : '';
}
