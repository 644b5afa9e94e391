import { SchemaId } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readMessageIndexes, writeMessageIndexes } from '../../../src/wire/message-indexes.js';
import { expectRecryptError, hex } from '../crypto/helpers.js';

describe('protobuf message indexes', () => {
  it('writes [0] as the single byte 0x00 and reads 0x00 as [0]', () => {
    expect(writeMessageIndexes([0]).toString('hex')).toBe('00');
    expect(readMessageIndexes(hex('00'))).toEqual({ indexes: [0], bytesRead: 1 });
  });

  it('writes zig-zag varints: count, then each index', () => {
    expect(writeMessageIndexes([1]).toString('hex')).toBe('0202');
    expect(writeMessageIndexes([0, 2]).toString('hex')).toBe('040004');
    expect(writeMessageIndexes([64]).toString('hex')).toBe('028001');
    expect(writeMessageIndexes([0x7fffffff]).toString('hex')).toBe('02feffffff0f');
  });

  it('reads what it writes and reports the bytes consumed, ignoring what follows (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        (indexes, rest) => {
          const bytes = writeMessageIndexes(indexes);
          const read = readMessageIndexes(Buffer.concat([bytes, rest]));
          expect(read.indexes).toEqual(indexes);
          expect(read.bytesRead).toBe(bytes.length);
        },
      ),
    );
  });

  it('agrees byte for byte with @confluentinc/schemaregistry (property)', () => {
    const oracle = new SchemaId('PROTOBUF');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 6 }), (indexes) => {
        const ours = writeMessageIndexes(indexes);
        expect(ours.equals(oracle.writeMessageIndexes(indexes))).toBe(true);
        expect(oracle.readMessageIndexes(ours)).toEqual([ours.length, indexes]);
      }),
    );
  });

  it.each([
    ['empty input', ''],
    ['negative count', '01'],
    ['count larger than the bytes left', '0600'],
    ['missing index', '02'],
    ['negative index', '0201'],
    ['unterminated varint', '0280'],
    ['varint longer than 5 bytes', '02808080808000'],
    ['varint above 32 bits', '02ffffffff1f'],
  ])('rejects %s with WIRE_BAD_INDEXES', (_name, input) => {
    expectRecryptError(() => readMessageIndexes(hex(input)), 'WIRE_BAD_INDEXES');
  });

  it.each([[[]], [[-1]], [[1.5]], [[2 ** 31]]])('refuses to write %j', (indexes) => {
    expectRecryptError(() => writeMessageIndexes(indexes), 'WIRE_BAD_INDEXES');
  });
});
