/**
 * The engine benchmark's JSON Schema rows (issue 24), beside bench/engine.ts's Avro ones: the same
 * Customer records as JSON documents, through the loop bench/engine-format.ts shares with the Protobuf
 * rows:
 *   engine:   recrypt's RecordTransformer, JSON records taking the in-place path (formats/json-splice.ts);
 *   general:  the same engine with the JSON codec's splicer switched off (decode, walk, encode);
 *   official: @confluentinc/schemaregistry's JsonDeserializer + JsonSerializer with field encryption;
 *   raw:      JSON.parse / JSON.stringify plus node's crypto alone.
 * Run: node --expose-gc --import tsx bench/engine-json.ts [records] [repetitions]
 */
import {
  FieldEncryptionExecutor, JsonDeserializer, JsonSerializer, LocalKmsDriver, RuleRegistry, SchemaRegistryClient as OfficialClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { createCodec } from '../src/formats/index.js';
import { encodeFrame } from '../src/wire/index.js';
import { CUSTOMER_JSON_SCHEMA, type Customer } from './customer.js';
import type { PathSpec } from './engine.js';
import { runFormatEngineBench, type FormatBench } from './engine-format.js';
import { LOCAL_SECRET, type BenchFixture } from './fixture.js';
import { RawGcm, RawSiv } from './raw-loop.js';

function officialJson(fixture: BenchFixture) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new OfficialClient({ baseURLs: [fixture.url], cacheCapacity: 1000 });
  const ruleConfig = { secret: LOCAL_SECRET };
  const serializer = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig }, rules);
  const deserializer = new JsonDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules);
  return {
    transform: async (from: string, to: string, value: Buffer) => serializer.serialize(to, await deserializer.deserialize(from, value)),
    read: async (topic: string, value: Buffer) => ({ ...(await deserializer.deserialize(topic, value) as Customer) }),
    close: async () => undefined,
  };
}

/** The raw loop: parse, the two PII fields through node's crypto, stringify. */
function rawJson(spec: PathSpec, fixture: BenchFixture, toId: number): (framed: Buffer) => Buffer {
  const gcm = new RawGcm(fixture.gcmKey);
  const siv = new RawSiv(fixture.sivKey);
  const field = (v: string): string =>
    spec.path === 'plain->gcm' ? gcm.encrypt(v) : spec.path === 'gcm->plain' ? gcm.decrypt(v).toString('utf8') : siv.encrypt(gcm.decrypt(v)).toString('base64');
  return (framed) => {
    const c = JSON.parse(framed.toString('utf8', 5)) as Customer;
    c.name = field(c.name);
    c.email = field(c.email);
    return encodeFrame(toId, Buffer.from(JSON.stringify(c), 'utf8'));
  };
}

const JSON_SCHEMA: FormatBench = {
  label: 'JSON', schemaType: 'JSON', schema: CUSTOMER_JSON_SCHEMA, codec: createCodec({ schemaType: 'JSON', schema: '{}' }),
  official: async (fixture) => officialJson(fixture),
  plainRecords: async (people, ids) => people.map((p) => encodeFrame(ids.plain, Buffer.from(JSON.stringify(p), 'utf8'))),
  raw: rawJson,
};

await runFormatEngineBench(JSON_SCHEMA, Number(process.argv[2] ?? 20_000), Number(process.argv[3] ?? 7));
