/**
 * The engine benchmark's JSON Schema rows (issue 24), beside bench/engine.ts's Avro ones: the same
 * Customer records as JSON documents, the same subjects and DEKs (bench/fixture.ts, where each subject
 * gets the JSON Schema as its latest version), four contenders per path, interleaved on one core:
 *   engine:   recrypt's RecordTransformer, JSON records taking the in-place path (formats/json-splice.ts);
 *   general:  the same engine with the JSON codec's splicer switched off (decode, walk, encode);
 *   official: @confluentinc/schemaregistry's JsonDeserializer + JsonSerializer with field encryption;
 *   raw:      JSON.parse / JSON.stringify plus node's crypto alone.
 * Every contender's output is read back by the official deserializer before timing.
 * Run: node --expose-gc --import tsx bench/engine-json.ts [records] [repetitions]
 */
import { isDeepStrictEqual } from 'node:util';
import {
  FieldEncryptionExecutor, JsonDeserializer, JsonSerializer, LocalKmsDriver, RuleRegistry, SchemaRegistryClient as OfficialClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { createCodec } from '../src/formats/index.js';
import { SchemaRegistryClient } from '../src/registry/index.js';
import { CUSTOMER_JSON_SCHEMA, customers, type Customer } from './customer.js';
import { batches, engineFor, PATHS, runEngine, sourceRecords, type PathSpec } from './engine.js';
import { LOCAL_SECRET, startFixture, subjectOf, TOPICS, type BenchFixture, type TopicName } from './fixture.js';
import { RawGcm, RawSiv } from './raw-loop.js';
import { measureInterleaved } from './stats.js';

const frame = (id: number, body: Buffer): Buffer => {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0;
  out.writeInt32BE(id, 1);
  body.copy(out, 5);
  return out;
};

/** The JSON Schema as the latest version of each bench subject (the rules as on the Avro versions). */
async function registerJson(fixture: BenchFixture): Promise<Record<TopicName, number>> {
  const client = new SchemaRegistryClient({ baseUrls: [fixture.url] });
  const ids = {} as Record<TopicName, number>;
  for (const topic of Object.keys(TOPICS) as TopicName[]) {
    const latest = await client.getLatest(subjectOf(topic));
    const schema = { schemaType: 'JSON' as const, schema: CUSTOMER_JSON_SCHEMA, ...(latest.ruleSet ? { ruleSet: latest.ruleSet } : {}) };
    ids[topic] = (await client.register(subjectOf(topic), schema)).id;
  }
  return ids;
}

function officialJson(url: string) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new OfficialClient({ baseURLs: [url], cacheCapacity: 1000 });
  const ruleConfig = { secret: LOCAL_SECRET };
  const serializer = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig }, rules);
  const deserializer = new JsonDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules);
  return {
    transform: async (from: string, to: string, value: Buffer) => serializer.serialize(to, await deserializer.deserialize(from, value)),
    read: (topic: string, value: Buffer) => deserializer.deserialize(topic, value) as Promise<unknown>,
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
    return frame(toId, Buffer.from(JSON.stringify(c), 'utf8'));
  };
}

/** An engine whose JSON plans take the general path: the codec's splicer is hidden while its plans compile. */
async function generalEngine(fixture: BenchFixture, spec: PathSpec, warm: () => Promise<unknown>, setEngine: (e: Awaited<ReturnType<typeof engineFor>>) => void) {
  const proto = Object.getPrototypeOf(createCodec({ schemaType: 'JSON', schema: '{}' })) as { compileSplicer?: unknown };
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
  try {
    const ids = await registerJson(fixture);
    const people = customers(records);
    const official = officialJson(fixture.url);
    const plain = people.map((p) => frame(ids.plain, Buffer.from(JSON.stringify(p), 'utf8')));
    const toGcm = rawJson(PATHS[0]!, fixture, ids.gcm);
    const sources: Record<'plain' | 'gcm', Buffer[]> = { plain, gcm: plain.map(toGcm) };
    const rows: string[] = [];
    for (const spec of PATHS) {
      const source = sources[spec.from as 'plain' | 'gcm'];
      const input = batches(sourceRecords(TOPICS[spec.from], source), 1_000);
      const engine = await engineFor(fixture, spec);
      let general = engine;
      await generalEngine(fixture, spec, () => runEngine(general, input.slice(0, 1)), (e) => { general = e; });
      const raw = rawJson(spec, fixture, ids[spec.to]);
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
          if (!isDeepStrictEqual({ ...(back as object) }, people[i])) throw new Error(`${spec.path}: ${who} output #${i} does not read back to its record`);
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
        `| JSON ${spec.path} | ${r(s.engine.median)} | ${r(s.general.median)} | ${r(s.raw.median)} | ${r(s.official.median)} | ` +
        `${(s.engine.median / s.official.median).toFixed(1)}x | ${(s.general.median / s.official.median).toFixed(1)}x | ${Math.round((100 * s.engine.median) / s.raw.median)}% |`,
      );
    }
    process.stdout.write('| path | engine rec/s | general path rec/s | raw loop rec/s | official rec/s | engine/official | general/official | engine/raw |\n');
    process.stdout.write('|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await fixture.close();
  }
}

await main();
