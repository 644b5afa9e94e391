// Random JSON Schemas and values for the JSON splicer's property tests (json-splice.test.ts): nested
// objects (inline, through $ref and through allOf), arrays, optional and nullable properties, tagged
// string leaves at any depth, keys and strings with quotes, backslashes, control characters, non-ASCII,
// astral and lone surrogate characters.
import fc from 'fast-check';

export type Shape =
  | { readonly kind: 'string'; readonly tags: readonly string[]; readonly nullable: boolean }
  | { readonly kind: 'number' | 'boolean' }
  | { readonly kind: 'object'; readonly props: readonly { readonly name: string; readonly shape: Shape }[]; readonly via: 'inline' | 'ref' | 'allOf' }
  | { readonly kind: 'array'; readonly items: Shape };

const NAMES = ['a', 'b', 'id', 'name', 'x y', 'é', 'q"t', 'b\\s', 'nl\n', '😀', 'ünï', 'zz'];

const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.constantFrom('"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '€', '😀', '\ud800', '\udfff') },
);
export const text = fc.string({ unit, maxLength: 12 });

/** Tag sets: 'R' is selected by the read rule, 'W' by the write rule. */
const tags = fc.constantFrom<readonly string[]>([], [], ['R'], ['W'], ['R', 'W']);

export const shapes: fc.Arbitrary<Shape> = fc.letrec<{ shape: Shape; object: Shape }>((tie) => ({
  shape: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('string' as const), tags, nullable: fc.boolean() }),
    fc.record({ kind: fc.constantFrom('number' as const, 'boolean' as const) }),
    tie('object'),
    fc.record({ kind: fc.constant('array' as const), items: tie('shape') }),
  ),
  object: fc.record({
    kind: fc.constant('object' as const),
    props: fc.uniqueArray(fc.record({ name: fc.constantFrom(...NAMES), shape: tie('shape') }), { selector: (p) => p.name, maxLength: 5 }),
    via: fc.constantFrom('inline' as const, 'inline' as const, 'ref' as const, 'allOf' as const),
  }),
})).object;

/** The JSON Schema of a root object shape. */
export function schemaOf(root: Shape): string {
  const defs: Record<string, unknown> = {};
  const convert = (s: Shape): Record<string, unknown> => {
    switch (s.kind) {
      case 'string':
        return { type: s.nullable ? ['string', 'null'] : 'string', ...(s.tags.length > 0 ? { 'confluent:tags': s.tags } : {}) };
      case 'number':
      case 'boolean':
        return { type: s.kind };
      case 'array':
        return { type: 'array', items: convert(s.items) };
      case 'object': {
        const props = Object.fromEntries(s.props.map((p) => [p.name, convert(p.shape)]));
        if (s.via === 'allOf') {
          const entries = Object.entries(props);
          const half = Math.ceil(entries.length / 2);
          return { allOf: [{ type: 'object', properties: Object.fromEntries(entries.slice(0, half)) }, { properties: Object.fromEntries(entries.slice(half)) }] };
        }
        const node = { type: 'object', properties: props };
        if (s.via === 'inline') return node;
        const name = `D${Object.keys(defs).length}`;
        defs[name] = node;
        return { $ref: `#/definitions/${name}` };
      }
    }
  };
  const top = convert(root);
  return JSON.stringify({ ...top, definitions: defs });
}

/** Values of a shape: optional properties, nulls, and properties the schema does not declare. */
export function valueOf(s: Shape): fc.Arbitrary<unknown> {
  switch (s.kind) {
    case 'string':
      return s.nullable ? fc.option(text, { freq: 4 }) : text;
    case 'number':
      return fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valueOf(s.items), { maxLength: 3 });
    case 'object': {
      const model = Object.fromEntries(s.props.map((p) => [p.name, valueOf(p.shape)]));
      const declared = fc.record(model, { requiredKeys: s.props.filter((_, i) => i % 2 === 0).map((p) => p.name) });
      const extra = fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 3 });
      return fc.tuple(declared, extra).map(([d, e]) => (e === null ? d : { '~extra': e, ...d }));
    }
  }
}
