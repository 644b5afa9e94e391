// Codec.compileSplicer (src/formats/types.ts): the format-neutral door to a format's in-place rewrite.
// Avro's codec opens it onto avro-splice.ts; the engine asks the codec, never the format by name.
import { describe, expect, it } from 'vitest';
import { createCodec, type FieldInfo } from '../../../src/formats/index.js';

const pii = (f: FieldInfo): boolean => f.inlineTags.includes('PII');
const schema = JSON.stringify({
  type: 'record', name: 'R', namespace: 'com.acme',
  fields: [{ name: 'id', type: 'int' }, { name: 's', type: 'string', 'confluent:tags': ['PII'] }, { name: 'n', type: 'string' }],
});

describe('Codec.compileSplicer (Avro)', () => {
  const avro = createCodec({ schemaType: 'AVRO', schema });

  it('rewrites the selected field in place, every other byte as it was', () => {
    const splicer = avro.compileSplicer!(avro, [pii], [pii]);
    expect(splicer).not.toBeNull();
    expect(splicer!.read).toEqual([[{ index: 0, info: expect.objectContaining({ fullName: 'com.acme.R.s' }) }]]);
    const payload = avro.encode({ id: 7, s: 'secret', n: 'keep' });
    const state = splicer!.newState();
    expect(splicer!.scan(payload, state)).toBe(true);
    expect(Buffer.from(state.values[0] as Uint8Array).toString('utf8')).toBe('secret');
    state.values[0] = 'other text';
    const prefix = Buffer.from([0, 0, 0, 0, 9]);
    const out = splicer!.splice(payload, state, prefix)!;
    expect(out.subarray(0, 5)).toEqual(prefix);
    expect(avro.decode(out.subarray(5))).toEqual({ id: 7, s: 'other text', n: 'keep' });
  });

  it('does not apply to a target of another format, nor when no rule selects a field', () => {
    const json = createCodec({ schemaType: 'JSON', schema: JSON.stringify({ type: 'object', properties: { s: { type: 'string' } } }) });
    expect(avro.compileSplicer!(json, [pii], [pii])).toBeNull();
    expect(avro.compileSplicer!(avro, [null], [() => false])).toBeNull();
  });
});
