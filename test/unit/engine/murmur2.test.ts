// Kafka's murmur2 against the vectors of Apache Kafka's own UtilsTest.testMurmur2 (clients module).
import { describe, expect, it } from 'vitest';
import { keyHashPartition, murmur2 } from '../../../src/engine/murmur2.js';

const KAFKA_VECTORS: ReadonlyArray<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe('murmur2', () => {
  it.each(KAFKA_VECTORS)('murmur2(%j) is Kafka\'s %i', (text, expected) => {
    expect(murmur2(Buffer.from(text, 'latin1'))).toBe(expected);
  });

  it('places a key as Kafka\'s default partitioner does: toPositive(murmur2) % partitions', () => {
    for (const [text, hash] of KAFKA_VECTORS) {
      for (const n of [1, 3, 7, 12]) expect(keyHashPartition(Buffer.from(text, 'latin1'), n)).toBe((hash & 0x7fffffff) % n);
    }
    expect(keyHashPartition(Buffer.alloc(0), 5)).toBe((murmur2(Buffer.alloc(0)) & 0x7fffffff) % 5);
  });
});
