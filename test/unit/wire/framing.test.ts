import { SchemaId } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  encodeSchemaIdHeader,
  KEY_SCHEMA_ID_HEADER,
  peekSchemaRef,
  schemaIdHeaderName,
  VALUE_SCHEMA_ID_HEADER,
} from '../../../src/wire/framing.js';
import { expectRecryptError, hex } from '../crypto/helpers.js';

const GUID = '89d4a1ac-9dc3-4a5e-8b0e-0f1eabcdef01';
const GUID_HEX = '89d4a1ac9dc34a5e8b0e0f1eabcdef01';

describe('v0 prefix framing', () => {
  it('decodes 0x00 | int32 BE id | payload without copying', () => {
    const data = hex('00 0000002a cafe');
    const frame = decodeFrame(data);
    expect(frame).toEqual({ schemaRef: { id: 42 }, payload: hex('cafe'), idSource: 'payload' });
    expect(frame.payload.buffer).toBe(data.buffer);
    expect(frame.payload.byteOffset).toBe(data.byteOffset + 5);
  });

  it('reads protobuf indexes only when asked', () => {
    expect(decodeFrame(hex('00 00000001 00 cafe'), { messageIndexes: true })).toEqual({
      schemaRef: { id: 1 },
      indexes: [0],
      payload: hex('cafe'),
      idSource: 'payload',
    });
    expect(decodeFrame(hex('00 00000001 040002 cafe'), { messageIndexes: true }).indexes).toEqual([0, 1]);
    expect(decodeFrame(hex('00 00000001 00 cafe')).payload.toString('hex')).toBe('00cafe');
  });

  it('allows an empty payload after the prefix', () => {
    expect(decodeFrame(hex('00 00000007')).payload.length).toBe(0);
  });

  it('accepts a plain Uint8Array and still returns a view', () => {
    const backing = new Uint8Array([0xff, 0, 0, 0, 0, 9, 1, 2]);
    const frame = decodeFrame(backing.subarray(1));
    expect(frame.schemaRef).toEqual({ id: 9 });
    expect([...frame.payload]).toEqual([1, 2]);
    expect(frame.payload.buffer).toBe(backing.buffer);
  });

  it('encodes 0x00 | id | [indexes] | payload', () => {
    expect(encodeFrame(1, hex('cafe')).toString('hex')).toBe('0000000001cafe');
    expect(encodeFrame(258, hex('cafe'), [0]).toString('hex')).toBe('000000010200cafe');
    expect(encodeFrame(1, hex(''), [1, 2]).toString('hex')).toBe('0000000001040204');
  });

  it.each([-1, 1.5, 2 ** 31])('refuses to encode schema id %s', (id) => {
    expectRecryptError(() => encodeFrame(id, hex('')), 'INTERNAL');
  });
});

describe('v1 framing', () => {
  it('decodes 0x01 | GUID | payload from the payload prefix', () => {
    const frame = decodeFrame(hex(`01 ${GUID_HEX} cafe`));
    expect(frame).toEqual({ schemaRef: { guid: GUID }, payload: hex('cafe'), idSource: 'payload' });
  });

  it('prefers the header; the payload then carries no prefix at all', () => {
    const payload = hex('00 00000063 cafe'); // looks like a v0 prefix, but the header wins
    const frame = decodeFrame(payload, { header: hex(`01 ${GUID_HEX}`) });
    expect(frame).toEqual({ schemaRef: { guid: GUID }, payload, idSource: 'header' });
    expect(frame.payload.buffer).toBe(payload.buffer);
  });

  it('accepts a v0 id in the header and a header given as a string', () => {
    expect(decodeFrame(hex('cafe'), { header: hex('00 00000005') }).schemaRef).toEqual({ id: 5 });
    const asString = Buffer.from(`01${'41'.repeat(16)}`, 'hex').toString('latin1');
    expect(decodeFrame(hex('cafe'), { header: asString }).schemaRef).toEqual({
      guid: '41414141-4141-4141-4141-414141414141',
    });
  });

  it('reads protobuf indexes from the header, not the payload', () => {
    const frame = decodeFrame(hex('0a0b'), { header: hex(`01 ${GUID_HEX} 0402 04`), messageIndexes: true });
    expect(frame.indexes).toEqual([1, 2]);
    expect(frame.payload.toString('hex')).toBe('0a0b');
  });

  it('a null or undefined header means: use the payload prefix', () => {
    expect(decodeFrame(hex('00 00000003'), { header: null }).schemaRef).toEqual({ id: 3 });
    expect(decodeFrame(hex('00 00000003'), { header: undefined }).schemaRef).toEqual({ id: 3 });
  });

  it('encodes the header value; the payload is written unchanged', () => {
    expect(encodeSchemaIdHeader({ guid: GUID }).toString('hex')).toBe(`01${GUID_HEX}`);
    expect(encodeSchemaIdHeader({ guid: GUID.toUpperCase() }, [0]).toString('hex')).toBe(`01${GUID_HEX}00`);
    expect(encodeSchemaIdHeader({ id: 7 }).toString('hex')).toBe('0000000007');
  });

  it('names the key and value headers', () => {
    expect(schemaIdHeaderName(true)).toBe(KEY_SCHEMA_ID_HEADER);
    expect(schemaIdHeaderName(false)).toBe(VALUE_SCHEMA_ID_HEADER);
    expect([KEY_SCHEMA_ID_HEADER, VALUE_SCHEMA_ID_HEADER]).toEqual(['__key_schema_id', '__value_schema_id']);
  });
});

describe('peekSchemaRef', () => {
  it('reads the reference without indexes, from the header when present', () => {
    expect(peekSchemaRef(hex('00 00000001 040002'))).toEqual({ id: 1 });
    expect(peekSchemaRef(hex('00 00000001'), hex(`01 ${GUID_HEX} 00`))).toEqual({ guid: GUID });
  });
});

describe('framing errors', () => {
  it.each([
    ['empty payload', '', 'WIRE_TRUNCATED'],
    ['v0 id cut short', '00 000000', 'WIRE_TRUNCATED'],
    ['v1 GUID cut short', `01 ${GUID_HEX.slice(0, 30)}`, 'WIRE_TRUNCATED'],
    ['unknown magic byte', '02 00000001', 'WIRE_UNKNOWN_MAGIC'],
    ['plain JSON (no framing)', Buffer.from('{"a":1}').toString('hex'), 'WIRE_UNKNOWN_MAGIC'],
  ] as const)('payload: %s is %s', (_name, input, code) => {
    expectRecryptError(() => decodeFrame(hex(input)), code);
  });

  it('payload: malformed indexes are WIRE_BAD_INDEXES', () => {
    expectRecryptError(() => decodeFrame(hex('00 00000001'), { messageIndexes: true }), 'WIRE_BAD_INDEXES');
    expectRecryptError(() => decodeFrame(hex('00 00000001 0601'), { messageIndexes: true }), 'WIRE_BAD_INDEXES');
  });

  it.each([
    ['empty header', ''],
    ['unknown magic', `02 ${GUID_HEX}`],
    ['GUID cut short', `01 ${GUID_HEX.slice(0, 20)}`],
    ['id cut short', '00 0000'],
    ['trailing bytes', `01 ${GUID_HEX} 00`],
  ])('header: %s is WIRE_BAD_HEADER', (_name, input) => {
    expectRecryptError(() => decodeFrame(hex('cafe'), { header: hex(input) }), 'WIRE_BAD_HEADER');
  });

  it('header: malformed indexes are WIRE_BAD_INDEXES', () => {
    expectRecryptError(
      () => decodeFrame(hex('cafe'), { header: hex(`01 ${GUID_HEX} 05`), messageIndexes: true }),
      'WIRE_BAD_INDEXES',
    );
  });
});

describe('round trips (property)', () => {
  const indexesArb = fc.option(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 5 }), {
    nil: undefined,
  });

  it('v0 prefix: decode(encode(id, payload, indexes)) gives them back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.uint8Array({ maxLength: 64 }), indexesArb, (id, payload, indexes) => {
        const frame = decodeFrame(encodeFrame(id, payload, indexes), { messageIndexes: indexes !== undefined });
        expect(frame.schemaRef).toEqual({ id });
        expect(frame.payload.equals(Buffer.from(payload))).toBe(true);
        expect(frame.indexes).toEqual(indexes);
      }),
    );
  });

  it('header: decode(payload, header(guid, indexes)) gives them back', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uint8Array({ maxLength: 64 }), indexesArb, (guid, payload, indexes) => {
        const header = encodeSchemaIdHeader({ guid }, indexes);
        const frame = decodeFrame(payload, { header, messageIndexes: indexes !== undefined });
        expect(frame.schemaRef).toEqual({ guid: guid.toLowerCase() });
        expect(frame.payload.equals(Buffer.from(payload))).toBe(true);
        expect(frame.indexes).toEqual(indexes);
      }),
    );
  });

  it('agrees with @confluentinc/schemaregistry SchemaId in both directions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.uuid(), indexesArb, (id, guid, indexes) => {
        const type = indexes === undefined ? 'AVRO' : 'PROTOBUF';
        const byId = new SchemaId(type, id, undefined, indexes);
        expect(encodeFrame(id, Buffer.alloc(0), indexes).equals(byId.idToBytes())).toBe(true);
        const byGuid = new SchemaId(type, undefined, guid, indexes);
        expect(encodeSchemaIdHeader({ guid }, indexes).equals(byGuid.guidToBytes())).toBe(true);

        const read = new SchemaId(type);
        const bytes = encodeSchemaIdHeader({ guid }, indexes);
        expect(read.fromBytes(bytes)).toBe(bytes.length);
        expect(read.guid).toBe(guid.toLowerCase());
        if (indexes !== undefined) expect(read.messageIndexes).toEqual(indexes);
      }),
    );
  });
});
