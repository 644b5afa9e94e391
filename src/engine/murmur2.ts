/**
 * Kafka's default partitioner for keyed records: murmur2 of the key bytes (seed 0x9747b28c, Kafka's
 * variant of MurmurHash2 in org.apache.kafka.common.utils.Utils), made positive with & 0x7fffffff, modulo
 * the partition count. Java's client, librdkafka's `murmur2_random` and so Confluent's JS and Go clients
 * agree on it, which is what lets recrypt place a record where a keyed producer would.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 of `data`, as the signed 32-bit int Java's Utils.murmur2 returns. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) | 0;
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    // Java's switch falls through: 3 takes byte 2, then 1, then 0.
    if (rest === 3) h ^= data[whole + 2]! << 16;
    if (rest >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives a record with these key bytes. */
export function keyHashPartition(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
