// Byte-level comparison of records across implementations. A JSON record's bytes are the value's;
// Avro and Protobuf leave the writer some freedom: Avro arrays and maps may be written in blocks with
// a negative count and a byte size (Go's hamba/avro does, avsc does not), and Protobuf fields may
// come in any order (Go writes dynamic messages in a random one). So Avro and Protobuf records are
// compared as their header plus their decoded value (without decryption: every string and bytes field,
// ciphertexts included, exact).
import { fromBinary, toJsonString } from '@bufbuild/protobuf';
import avro from 'avsc';
import { messageDesc, messageRegistry } from '../engine/proto-descriptors.js';

/** The record as comparable strings; `schema` is the writer's schema text, `typeName` Protobuf's message. */
export function canonical(format: string, record: Buffer, schema?: string, typeName?: string): string[] {
  if (format === 'AVRO') {
    const type = avro.Type.forSchema(JSON.parse(schema!) as avro.Schema);
    const value: unknown = type.fromBuffer(record.subarray(5));
    return [record.subarray(0, 5).toString('hex'), JSON.stringify(value, (_k, v: unknown) => (isBufferJson(v) ? Buffer.from(v.data).toString('hex') : v))];
  }
  if (format !== 'PROTOBUF') return [record.toString('hex')];
  // Protobuf: header (magic, schema id, message indexes) then the message decoded as JSON.
  let pos = 5;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = record[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const count = varint();
  for (let i = 0; i < count; i++) varint();
  const desc = messageDesc(messageRegistry(schema!), typeName!);
  return [record.subarray(0, pos).toString('hex'), toJsonString(desc, fromBinary(desc, record.subarray(pos)))];
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data);
}
