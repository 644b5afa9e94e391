import { describe, expect, it } from 'vitest';
import { createCodec, createValueConverter, isAvroCodec, isJsonCodec, isProtobufCodec } from '../../../src/formats/index.js';
import { RecryptError } from '../../../src/util/errors.js';

const avroSchema = JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] });
const proto = 'syntax = "proto3"; package p; message M { string a = 1; } message N { int32 b = 1; string c = 2; }';

describe('createCodec', () => {
  it('dispatches on schemaType (absent = AVRO)', () => {
    expect(isAvroCodec(createCodec({ schema: avroSchema }))).toBe(true);
    expect(isAvroCodec(createCodec({ schemaType: 'AVRO', schema: avroSchema }))).toBe(true);
    const pb = createCodec({ schemaType: 'PROTOBUF', schema: proto }, new Map(), { messageIndexes: [1] });
    expect(isProtobufCodec(pb) && pb.messageType.name).toBe('N');
    expect(isJsonCodec(createCodec({ schemaType: 'JSON', schema: '{"type":"object"}' }))).toBe(true);
  });

  it('rejects unknown schema types', () => {
    expect(() => createCodec({ schemaType: 'XML' as never, schema: '' })).toThrow(RecryptError);
  });

  it('converts values between writer and target schemas', () => {
    const w = createCodec({ schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }, { name: 'gone', type: 'int' }] }) });
    const t = createCodec({ schema: JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }, { name: 'n', type: 'int', default: 7 }] }) });
    expect(createValueConverter(w, t)({ a: 'x', gone: 1 })).toEqual({ a: 'x', n: 7 });
    const p1 = createCodec({ schemaType: 'PROTOBUF', schema: proto }, new Map(), { messageIndexes: [1] });
    const p2 = createCodec({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3"; package p; message N { string c = 2; }' });
    expect(createValueConverter(p1, p2)(p1.decode(Buffer.from([0x08, 0x01, 0x12, 0x01, 0x41])))).toMatchObject({ c: 'A' });
    const j = createCodec({ schemaType: 'JSON', schema: '{}' });
    expect(createValueConverter(j, createCodec({ schemaType: 'JSON', schema: '{"type":"object"}' }))({ x: 1 })).toEqual({ x: 1 });
    expect(() => createValueConverter(w, j)).toThrow(RecryptError);
  });
});
