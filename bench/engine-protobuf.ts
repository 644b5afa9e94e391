/**
 * The engine benchmark's Protobuf rows (issue 24), beside bench/engine.ts's Avro ones: the same Customer
 * records as a proto3 message (name and email tagged PII), through the loop bench/engine-format.ts
 * shares with the JSON Schema rows:
 *   engine:   recrypt's RecordTransformer, Protobuf records taking the in-place path (formats/protobuf-splice.ts);
 *   general:  the same engine with the Protobuf codec's splicer switched off (decode, walk, encode);
 *   official: @confluentinc/schemaregistry's ProtobufDeserializer + ProtobufSerializer with field encryption
 *             (through a proxy that serves `format=serialized` when the registry does not);
 *   raw:      protobufjs decode / encode of the message plus node's crypto alone.
 * Run: node --expose-gc --import tsx bench/engine-protobuf.ts [records] [repetitions]
 */
import { create, createMutableRegistry } from '@bufbuild/protobuf';
import {
  FieldEncryptionExecutor, LocalKmsDriver, ProtobufDeserializer, ProtobufSerializer, RuleRegistry,
  SchemaRegistryClient as OfficialClient, SerdeType,
} from '@confluentinc/schemaregistry';
import type protobuf from 'protobufjs';
import { createProtobufCodec } from '../src/formats/index.js';
import { encodeFrame } from '../src/wire/index.js';
import { messageDesc, messageRegistry, startSerializedFormatProxy } from '../test/integration/engine/proto-descriptors.js';
import { CUSTOMER_PROTO, type Customer } from './customer.js';
import { servesSerializedProtobuf } from './e2e-formats.js';
import type { PathSpec } from './engine.js';
import { runFormatEngineBench, type FormatBench } from './engine-format.js';
import { LOCAL_SECRET, TOPICS, type BenchFixture } from './fixture.js';
import { RawGcm, RawSiv } from './raw-loop.js';

const codec = createProtobufCodec({ schemaType: 'PROTOBUF', schema: CUSTOMER_PROTO });
const messageType: protobuf.Type = codec.messageType;

/** A decoded record as the bench's Customer (protobuf-es and protobufjs give int64 as bigint / Long). */
function customerOf(m: unknown): Customer {
  const r = m as Record<string, unknown>;
  return { id: Number(r['id']), name: r['name'] as string, email: r['email'] as string, country: r['country'] as string, balance: r['balance'] as number };
}

async function officialProto(fixture: BenchFixture, probeId: number) {
  // A proxy serves format=serialized when the registry does not (bench/e2e-formats.ts).
  const proxy = await servesSerializedProtobuf(fixture.url, probeId) ? undefined : await startSerializedFormatProxy(fixture.url);
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new OfficialClient({ baseURLs: [proxy?.url ?? fixture.url], cacheCapacity: 1000 });
  const ruleConfig = { secret: LOCAL_SECRET };
  const files = messageRegistry(CUSTOMER_PROTO);
  const desc = messageDesc(files, 'bench.Customer');
  const registry = createMutableRegistry(files);
  const serializer = new ProtobufSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig, registry }, rules);
  const deserializer = new ProtobufDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules);
  return {
    transform: async (from: string, to: string, value: Buffer) => serializer.serialize(to, await deserializer.deserialize(from, value)),
    read: async (topic: string, value: Buffer) => customerOf(await deserializer.deserialize(topic, value)),
    serialize: (topic: string, c: Customer) => serializer.serialize(topic, create(desc, { ...c, id: BigInt(c.id) })),
    close: async () => { await proxy?.close(); },
  };
}

/** The raw loop: protobufjs decode, the two PII fields through node's crypto, protobufjs encode. */
function rawProto(spec: PathSpec, fixture: BenchFixture, toId: number): (framed: Buffer) => Buffer {
  const gcm = new RawGcm(fixture.gcmKey);
  const siv = new RawSiv(fixture.sivKey);
  const field = (v: string): string =>
    spec.path === 'plain->gcm' ? gcm.encrypt(v) : spec.path === 'gcm->plain' ? gcm.decrypt(v).toString('utf8') : siv.encrypt(gcm.decrypt(v)).toString('base64');
  return (framed) => {
    // Magic byte, schema id, message indexes [0] (one zero byte).
    const c = messageType.decode(framed.subarray(6)) as unknown as Record<string, string>;
    c['name'] = field(c['name']!);
    c['email'] = field(c['email']!);
    return encodeFrame(toId, messageType.encode(c).finish(), [0]);
  };
}

let official: Awaited<ReturnType<typeof officialProto>> | undefined;
const PROTOBUF: FormatBench = {
  label: 'Protobuf', schemaType: 'PROTOBUF', schema: CUSTOMER_PROTO, codec,
  official: async (fixture, ids) => (official = await officialProto(fixture, ids.plain)),
  // Written by the official serializer, one at a time: 20,000 concurrent first calls would each fetch the schema.
  async plainRecords(people) {
    const out: Buffer[] = [];
    for (const p of people) out.push(await official!.serialize(TOPICS.plain, p));
    return out;
  },
  raw: rawProto,
};

await runFormatEngineBench(PROTOBUF, Number(process.argv[2] ?? 20_000), Number(process.argv[3] ?? 7));
