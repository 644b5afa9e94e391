import { describe, expect, it } from 'vitest';
import { recordName, sourceSubject } from '../../../src/engine/subjects.js';
import type { LoadedSchema } from '../../../src/engine/schema-store.js';
import type { SchemaType } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';

function loaded(schemaType: SchemaType, schema: string, id = 42): LoadedSchema {
  return { id, schemaType, info: { id, schemaType, schema }, references: new Map() };
}

const avroNs = loaded('AVRO', JSON.stringify({ type: 'record', name: 'Customer', namespace: 'com.acme', fields: [] }));
const avroDotted = loaded('AVRO', JSON.stringify({ type: 'record', name: 'org.x.Order', namespace: 'ignored.ns', fields: [] }));
const avroBare = loaded('AVRO', JSON.stringify({ type: 'record', name: 'Bare', fields: [] }));
const protoPkg = loaded('PROTOBUF', 'syntax = "proto3";\npackage acme.v1;\n\nmessage First { string a = 1; }\nmessage Second { string b = 1; }\n');
const protoNoPkg = loaded('PROTOBUF', 'syntax = "proto3";\nmessage Only { string a = 1; }\n');
const jsonTitled = loaded('JSON', JSON.stringify({ title: 'Invoice', type: 'object' }));

describe('sourceSubject', () => {
  it('topic strategy: <topic>-value / <topic>-key, whatever the schema', () => {
    expect(sourceSubject('topic', 'orders', avroNs, false)).toBe('orders-value');
    expect(sourceSubject('topic', 'orders', avroNs, true)).toBe('orders-key');
    expect(sourceSubject('topic', 'orders', loaded('JSON', '{}'), false)).toBe('orders-value');
  });

  it('record strategy: the full record name', () => {
    expect(sourceSubject('record', 'orders', avroNs, false)).toBe('com.acme.Customer');
    expect(sourceSubject('record', 'orders', protoPkg, false)).toBe('acme.v1.First');
    expect(sourceSubject('record', 'orders', jsonTitled, true)).toBe('Invoice');
  });

  it('topic-record strategy: <topic>-<full record name>', () => {
    expect(sourceSubject('topic-record', 'orders', avroNs, false)).toBe('orders-com.acme.Customer');
    expect(sourceSubject('topic-record', 'orders', protoNoPkg, false)).toBe('orders-Only');
    expect(sourceSubject('topic-record', 'orders', avroDotted, false)).toBe('orders-org.x.Order');
  });
});

describe('recordName', () => {
  it('Avro: namespace.name; a dotted name is already full; no namespace -> name', () => {
    expect(recordName(avroNs)).toBe('com.acme.Customer');
    expect(recordName(avroDotted)).toBe('org.x.Order');
    expect(recordName(avroBare)).toBe('Bare');
  });

  it('Protobuf: package.FirstMessage (as the JS client: the first message of the file)', () => {
    expect(recordName(protoPkg)).toBe('acme.v1.First');
    expect(recordName(protoNoPkg)).toBe('Only');
  });

  it('JSON Schema: the title', () => {
    expect(recordName(jsonTitled)).toBe('Invoice');
  });

  it('no name is FORMAT_SCHEMA naming the schema id only', () => {
    for (const schema of [
      loaded('AVRO', JSON.stringify(['null', 'string']), 7), loaded('AVRO', '"string"', 7),
      loaded('PROTOBUF', 'syntax = "proto3";\nenum E { A = 0; }\n', 7), loaded('JSON', '{"type":"object"}', 7),
      loaded('JSON', '{"title":""}', 7),
    ]) {
      let err: unknown;
      try {
        recordName(schema);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RecryptError);
      expect((err as RecryptError).code).toBe('FORMAT_SCHEMA');
      expect((err as RecryptError).message).toContain('7');
      expect(() => sourceSubject('record', 't', schema, false)).toThrow(RecryptError);
      expect(sourceSubject('topic', 't', schema, false)).toBe('t-value');
    }
  });
});
