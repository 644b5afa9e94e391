/**
 * The engine benchmark's Protobuf rows (issue 24), beside bench/engine.ts's Avro ones: the same Customer
 * records as a proto3 message (name and email tagged PII), the same subjects and DEKs (bench/fixture.ts,
 * where each subject gets the Protobuf schema as its latest version), four contenders per path,
 * interleaved on one core:
 *   engine:   recrypt's RecordTransformer, Protobuf records taking the in-place path (formats/protobuf-splice.ts);
 *   general:  the same engine with the Protobuf codec's splicer switched off (decode, walk, encode);
 *   official: @confluentinc/schemaregistry's ProtobufDeserializer + ProtobufSerializer with field encryption
 *             (through a proxy that serves `format=serialized`, as Confluent's registry does);
 *   raw:      protobufjs decode / encode of the message plus node's crypto alone.
 * Every contender's output is read back by the official deserializer before timing.
 * Run: node --expose-gc --import tsx bench/engine-protobuf.ts [records] [repetitions]
 */
import { create, createMutableRegistry } from '@bufbuild/protobuf';
import {
  FieldEncryptionExecutor, LocalKmsDriver, ProtobufDeserializer, ProtobufSerializer, RuleRegistry,
  SchemaRegistryClient as OfficialClient, SerdeType,
} from '@confluentinc/schemaregistry';
import type protobuf from 'protobufjs';
import { createProtobufCodec } from '../src/formats/index.js';
import { SchemaRegistryClient } from '../src/registry/index.js';
import { encodeFrame } from '../src/wire/index.js';
import { messageDesc, messageRegistry, startSerializedFormatProxy } from '../test/integration/engine/proto-descriptors.js';
import { CUSTOMER_PROTO, customers, type Customer } from './customer.js';
import { batches, engineFor, PATHS, runEngine, sourceRecords, type PathSpec } from './engine.js';
import { LOCAL_SECRET, startFixture, subjectOf, TOPICS, type BenchFixture, type TopicName } from './fixture.js';
import { RawGcm, RawSiv } from './raw-loop.js';
import { measureInterleaved } from './stats.js';

const codec = createProtobufCodec({ schemaType: 'PROTOBUF', schema: CUSTOMER_PROTO });
const messageType: protobuf.Type = codec.messageType;

/** The Protobuf schema as the latest version of each bench subject (the rules as on the Avro versions). */
async function registerProto(fixture: BenchFixture): Promise<Record<TopicName, number>> {
  const client = new SchemaRegistryClient({ baseUrls: [fixture.url] });
  const ids = {} as Record<TopicName, number>;
  for (const topic of Object.keys(TOPICS) as TopicName[]) {
    const latest = await client.getLatest(subjectOf(topic));
    const schema = { schemaType: 'PROTOBUF' as const, schema: CUSTOMER_PROTO, ...(latest.ruleSet ? { ruleSet: latest.ruleSet } : {}) };
    ids[topic] = (await client.register(subjectOf(topic), schema)).id;
  }
  return ids;
}

/** A decoded record as the bench's Customer (protobuf-es and protobufjs give int64 as bigint / Long). */
function customerOf(m: unknown): Customer {
  const r = m as Record<string, unknown>;
  return { id: Number(r['id']), name: r['name'] as string, email: r['email'] as string, country: r['country'] as string, balance: r['balance'] as number };
}

function officialProto(url: string) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new OfficialClient({ baseURLs: [url], cacheCapacity: 1000 });
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

/** An engine whose Protobuf plans take the general path: the codec's splicer is hidden while its plans compile. */
async function generalEngine(fixture: BenchFixture, spec: PathSpec, warm: () => Promise<unknown>, setEngine: (e: Awaited<ReturnType<typeof engineFor>>) => void) {
  const proto = Object.getPrototypeOf(codec) as { compileSplicer?: unknown };
  const saved = proto.compileSplicer;
  delete proto.compileSplicer;
  try {
    setEngine(await engineFor(fixture, spec));
    await warm();
  } finally {
    proto.compileSplicer = saved;
  }
}

async function main(): Promise<void> {
  const records = Number(process.argv[2] ?? 20_000);
  const repetitions = Number(process.argv[3] ?? 7);
  const officialRecords = Math.min(2_500, records);
  const fixture = await startFixture();
  const proxy = await startSerializedFormatProxy(fixture.url);
  try {
    const ids = await registerProto(fixture);
    const people = customers(records);
    const official = officialProto(proxy.url);
    // One at a time: 20,000 concurrent first calls would each fetch the schema.
    const plain: Buffer[] = [];
    for (const p of people) plain.push(await official.serialize(TOPICS.plain, p));
    const toGcm = rawProto(PATHS[0]!, fixture, ids.gcm);
    const sources: Record<'plain' | 'gcm', Buffer[]> = { plain, gcm: plain.map(toGcm) };
    const rows: string[] = [];
    for (const spec of PATHS) {
      const source = sources[spec.from as 'plain' | 'gcm'];
      const input = batches(sourceRecords(TOPICS[spec.from], source), 1_000);
      const engine = await engineFor(fixture, spec);
      let general = engine;
      await generalEngine(fixture, spec, () => runEngine(general, input.slice(0, 1)), (e) => { general = e; });
      const raw = rawProto(spec, fixture, ids[spec.to]);
      const officialInput = source.slice(0, officialRecords);
      const officialRun = async (values: readonly Buffer[]) => {
        const out: Buffer[] = [];
        for (const v of values) out.push(await official.transform(TOPICS[spec.from], TOPICS[spec.to], v));
        return out;
      };
      const sample = source.slice(0, 200);
      const outputs = {
        engine: await runEngine(engine, [sourceRecords(TOPICS[spec.from], sample)]),
        general: await runEngine(general, [sourceRecords(TOPICS[spec.from], sample)]),
        official: await officialRun(sample),
        raw: sample.map(raw),
      };
      for (const [who, values] of Object.entries(outputs)) {
        for (let i = 0; i < values.length; i++) {
          const back = await official.read(TOPICS[spec.to], values[i]!);
          if (JSON.stringify(back) !== JSON.stringify(people[i])) throw new Error(`${spec.path}: ${who} output #${i} does not read back to its record`);
          if (who !== 'official' && values[i]!.readInt32BE(1) !== ids[spec.to]) throw new Error(`${spec.path}: ${who} output #${i} has another schema id`);
        }
      }
      if (spec.to !== 'gcm' && !outputs.engine.every((v, i) => v.equals(outputs.general[i]!) && v.equals(outputs.official[i]!))) {
        throw new Error(`${spec.path}: engine, general path and official serdes differ`);
      }
      process.stderr.write(`${spec.path}: ${records} records (official ${officialRecords}), ${repetitions} rounds\n`);
      const s = await measureInterleaved({
        engine: { records, warmups: 2, run: () => runEngine(engine, input) },
        general: { records, warmups: 2, run: () => runEngine(general, input) },
        raw: { records, warmups: 2, run: () => source.map(raw) },
        official: { records: officialRecords, warmups: 2, run: () => officialRun(officialInput) },
      }, repetitions);
      const r = (n: number) => Math.round(n).toLocaleString('en-US');
      rows.push(
        `| Protobuf ${spec.path} | ${r(s.engine.median)} | ${r(s.general.median)} | ${r(s.raw.median)} | ${r(s.official.median)} | ` +
        `${(s.engine.median / s.official.median).toFixed(1)}x | ${(s.general.median / s.official.median).toFixed(1)}x | ${Math.round((100 * s.engine.median) / s.raw.median)}% |`,
      );
    }
    process.stdout.write('| path | engine rec/s | general path rec/s | raw loop rec/s | official rec/s | engine/official | general/official | engine/raw |\n');
    process.stdout.write('|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await proxy.close();
    await fixture.close();
  }
}

await main();
