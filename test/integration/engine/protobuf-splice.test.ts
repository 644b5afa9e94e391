// The in-place Protobuf path (formats/protobuf-splice.ts) through the engine, against Confluent's official
// JS serdes: the records take the splicer (every output is one the splicer wrote: the codec's
// compileSplicer is wrapped to note them; the engine may scan a record twice, after a DEK miss), Confluent's
// deserializer reads what recrypt writes, and with AES256_SIV recrypt's bytes equal the official
// serializer's when every tagged field is set (an empty tagged string is encrypted by both, but inserted
// at the end of its message by the splicer, so only the decoded values compare there); and on tagged
// leaves at depth (which the official JS serde does not reach) the engine's general path is the oracle.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProtobufCodec, type FieldSplicer } from '../../../src/formats/index.js';
import { encodeFrame } from '../../../src/wire/index.js';
import { encryptRule, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { createPair, output, plain } from './harness.js';
import { startSerializedFormatProxy, type Proxy } from './proto-descriptors.js';

// Tagged fields at the top level (the official JS serde does not descend into nested messages, see
// formats-compat.test.ts), around untagged nested, repeated, map, oneof and packed fields.
const PROTO = `syntax = "proto3";
package splice;
import "confluent/meta.proto";
message Account {
  int64 id = 1;
  string owner = 2 [(confluent.field_meta).tags = "PII"];
  Address address = 3;
  repeated Address previous = 4;
  repeated int32 scores = 5;
  map<string, string> attributes = 6;
  bytes photo = 7 [(confluent.field_meta).tags = "PII"];
  oneof contact {
    string phone = 8;
    int32 extension = 9;
  }
  string note = 10 [(confluent.field_meta) = { tags: ["PII"] }];
  double rate = 11;
  message Address {
    string street = 1;
    string city = 2;
  }
}
`;

function account(i: number, note: string = `note ${i} ✓`) {
  return {
    id: BigInt(i * 1_000_003), owner: `Ówner ${i} 🦊 `.repeat(1 + (i % 5) * 9), address: { street: `${i} Long Street`, city: 'Utrecht' },
    previous: Array.from({ length: i % 3 }, (_, k) => ({ street: `Old ${k}`, city: 'Delft' })), scores: [i, i + 1],
    attributes: i % 2 ? { tier: 'gold' } : {}, photo: Buffer.alloc(60 + i * 7, i),
    contact: i % 2 ? { case: 'phone' as const, value: `+31 ${i}` } : { case: 'extension' as const, value: i },
    note, rate: i / 3,
  };
}

let registry: TestRegistry;
let proxy: Proxy;
/** The payloads (hex, wire prefix included) the engine's Protobuf splicers wrote. */
const spliced = new Set<string>();
const viaSplicer = (record: Buffer): boolean => spliced.has(record.toString('hex'));
beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startSerializedFormatProxy(registry.url);
  // Note what the engine's Protobuf splicers write.
  const prototype = Object.getPrototypeOf(createProtobufCodec({ schemaType: 'PROTOBUF', schema: PROTO })) as { compileSplicer: (...args: unknown[]) => FieldSplicer | null };
  const compile = prototype.compileSplicer;
  vi.spyOn(prototype, 'compileSplicer').mockImplementation(function (this: unknown, ...args: unknown[]) {
    const splicer = compile.apply(this, args);
    if (splicer === null) return null;
    const { splice } = splicer;
    return Object.assign(splicer, {
      splice: (...a: Parameters<typeof splice>) => {
        const out = splice.apply(splicer, a);
        if (out !== undefined) spliced.add(out.toString('hex'));
        return out;
      },
    });
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await proxy.close();
  await registry.close();
});

describe('in-place Protobuf path through the engine', () => {
  it('writes the official serializer\'s bytes (AES256_SIV), the official deserializer reads them, and decrypts back', async () => {
    const kek = uniqueName('kek');
    const pair = await createPair(registry.url, {
      format: 'PROTOBUF', schema: PROTO, typeName: 'splice.Account', protoUrl: proxy.url,
      ruleSet: { domainRules: [encryptRule('encryptPII', kek, { 'encrypt.dek.algorithm': 'AES256_SIV' })] },
    });
    const official = pair.official();
    const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${pair.encTopic}-value`, targetTopic: pair.encTopic });
    const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${pair.plainTopic}-value`, targetTopic: pair.plainTopic });
    const count = 24;
    const sources = await Promise.all(
      Array.from({ length: count }, async (_, i) => sourceRecord(pair.plainTopic, await official.serializer.serialize(pair.plainTopic, pair.toWire(account(i))), i)),
    );
    const encrypted = (await encrypt.transformer.process(sources)).map(output);
    for (let i = 0; i < count; i++) {
      expect(viaSplicer(encrypted[i]!), `record ${i}`).toBe(true);
      expect(encrypted[i]!.includes(Buffer.from('Long Street'))).toBe(true); // untagged, copied
      expect(encrypted[i]!.includes(Buffer.from(`Ówner ${i}`))).toBe(false);
      const theirs = await official.serializer.serialize(pair.encTopic, pair.toWire(account(i)));
      expect(encrypted[i]!.subarray(5).equals(theirs.subarray(5)), `record ${i}`).toBe(true);
      expect(plain(await official.deserializer.deserialize(pair.encTopic, encrypted[i]!))).toEqual(pair.expected(account(i)));
    }
    const back = (await decrypt.transformer.process(encrypted.map((e, i) => sourceRecord(pair.encTopic, e, i)))).map(output);
    for (let i = 0; i < count; i++) {
      expect(viaSplicer(back[i]!), `record ${i}`).toBe(true);
      expect(back[i]!.subarray(5).equals(sources[i]!.value!.subarray(5)), `record ${i}`).toBe(true);
    }
  });

  for (const algorithm of ['AES128_GCM', 'AES256_GCM'] as const) {
    it(`empty tagged strings and both directions with the official serdes (${algorithm}, expiry 2)`, async () => {
      const pair = await createPair(registry.url, {
        format: 'PROTOBUF', schema: PROTO, typeName: 'splice.Account', protoUrl: proxy.url,
        ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.algorithm': algorithm, 'encrypt.dek.expiry.days': '2' })] },
      });
      for (let i = 0; i < 6; i++) {
        const value = account(i, i % 2 ? '' : `note ${i}`);
        const want = pair.expected(value);
        const ours = await pair.recryptToOfficial(value, [`Ówner ${i}`]);
        expect(viaSplicer(ours.encrypted)).toBe(true);
        expect(ours.decrypted).toEqual(want);
        const theirs = await pair.officialToRecrypt(value, [`Ówner ${i}`]);
        expect(theirs.decrypted).toEqual(want);
      }
    });
  }

  it('equals the general path through the engine on tagged leaves at depth (AES256_SIV, decoded values compared)', async () => {
    const nested = `syntax = "proto3";
package splice;
import "confluent/meta.proto";
message Order {
  string id = 1;
  Party buyer = 2;
  repeated Party others = 3;
  map<string, Party> byRole = 4;
  repeated string notes = 5 [(confluent.field_meta).tags = "PII"];
  message Party {
    string name = 1 [(confluent.field_meta).tags = "PII"];
    bytes card = 2 [(confluent.field_meta).tags = "PII"];
    int32 age = 3;
    Party referrer = 4;
  }
}
`;
    const codec = createProtobufCodec({ schemaType: 'PROTOBUF', schema: nested });
    const type = codec.messageType;
    const party = (i: number, depth = 0): Record<string, unknown> => ({
      name: i % 3 === 0 ? '' : `Party ${i} ✓`.repeat(1 + (i % 4) * 10), card: i % 2 ? Buffer.alloc(i, 7) : undefined, age: i,
      ...(depth < 2 && i % 2 ? { referrer: party(i + 1, depth + 1) } : {}),
    });
    const values = Array.from({ length: 20 }, (_, i) => ({
      id: `o${i}`, ...(i % 4 ? { buyer: party(i) } : {}), others: Array.from({ length: i % 3 }, (_, k) => party(i + k)),
      byRole: i % 2 ? { seller: party(i + 5), '': party(i + 6) } : {}, notes: i % 3 ? [`note ${i}`, ''] : [],
    }));
    const source = uniqueName('plain');
    const target = uniqueName('siv');
    const plainId = await register(registry.url, `${source}-value`, { schemaType: 'PROTOBUF', schema: nested });
    await register(registry.url, `${target}-value`, {
      schemaType: 'PROTOBUF', schema: nested,
      ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.algorithm': 'AES256_SIV' })] },
    });
    const sources = values.map((v, i) => sourceRecord(source, encodeFrame(plainId, type.encode(type.fromObject(v)).finish(), [0]), i));

    const viaSplice = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${target}-value`, targetTopic: target });
    const ours = (await viaSplice.transformer.process(sources)).map(output);
    // The general path: an engine whose plans compile while the codec offers no splicer.
    const prototype = Object.getPrototypeOf(codec) as { compileSplicer?: unknown };
    const saved = prototype.compileSplicer;
    let theirs: Buffer[];
    try {
      delete prototype.compileSplicer;
      const splicedBefore = spliced.size;
      const general = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${target}-value`, targetTopic: target });
      theirs = (await general.transformer.process(sources)).map(output);
      expect(spliced.size).toBe(splicedBefore);
    } finally {
      prototype.compileSplicer = saved;
    }
    const view = (b: Buffer) => type.toObject(codec.decode(b.subarray(6)) as never, { longs: String, bytes: String, defaults: true });
    for (let i = 0; i < values.length; i++) {
      expect(viaSplicer(ours[i]!), `record ${i}`).toBe(true);
      expect(ours[i]!.includes(Buffer.from('Party'))).toBe(false);
      expect(view(ours[i]!), `record ${i}`).toEqual(view(theirs[i]!));
    }
  });
});
