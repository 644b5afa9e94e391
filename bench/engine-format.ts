/**
 * The loop the engine benchmark's Protobuf and JSON Schema rows share (bench/engine-protobuf.ts,
 * bench/engine-json.ts): the format's schema as the latest version of each bench subject (the rules as
 * on the Avro versions, bench/fixture.ts), then per path four contenders interleaved on one core:
 *   engine:   recrypt's RecordTransformer, the format's records taking the in-place path;
 *   general:  the same engine with the format codec's splicer switched off (decode, walk, encode);
 *   official: Confluent's serdes of the format with field encryption;
 *   raw:      the format's own decode / encode plus node's crypto alone (written per format).
 * Every contender's output is read back by the official deserializer before timing; outside GCM (random
 * nonces) the engine, the general path and the official serdes must write the same bytes.
 * Prints a Markdown table on stdout.
 */
import { isDeepStrictEqual } from 'node:util';
import { SchemaRegistryClient } from '../src/registry/index.js';
import { customers, type Customer } from './customer.js';
import { batches, engineFor, PATHS, runEngine, sourceRecords, type PathSpec } from './engine.js';
import { startFixture, subjectOf, TOPICS, type BenchFixture, type TopicName } from './fixture.js';
import { measureInterleaved } from './stats.js';

export interface OfficialContender {
  /** Deserializes `value` read from topic `from`, serializes the result for topic `to`. */
  transform(from: string, to: string, value: Buffer): Promise<Buffer>;
  /** Deserializes `value` read from `topic`, as a plain Customer. */
  read(topic: string, value: Buffer): Promise<Customer>;
}

export interface FormatBench {
  /** The format's name in the table ("Protobuf", "JSON"). */
  readonly label: string;
  readonly schemaType: 'PROTOBUF' | 'JSON';
  readonly schema: string;
  /** An object whose prototype is the format codec's: its compileSplicer is hidden for the general path. */
  readonly codec: object;
  /** Confluent's serdes, against the fixture's registry (ids: the subjects' schema ids of this format). */
  official(fixture: BenchFixture, ids: Readonly<Record<TopicName, number>>): Promise<OfficialContender & { close(): Promise<void> }>;
  /** The plaintext source records, framed for the plain subject's id. */
  plainRecords(people: readonly Customer[], ids: Readonly<Record<TopicName, number>>, official: OfficialContender): Promise<Buffer[]>;
  /** The raw loop of a path: one framed record in, one framed record (for schema id `toId`) out. */
  raw(spec: PathSpec, fixture: BenchFixture, toId: number): (framed: Buffer) => Buffer;
}

/** The format's schema as the latest version of each bench subject, with the rules of the Avro versions. */
async function register(fixture: BenchFixture, format: FormatBench): Promise<Record<TopicName, number>> {
  const client = new SchemaRegistryClient({ baseUrls: [fixture.url] });
  const ids = {} as Record<TopicName, number>;
  for (const topic of Object.keys(TOPICS) as TopicName[]) {
    const latest = await client.getLatest(subjectOf(topic));
    ids[topic] = (await client.register(subjectOf(topic), { schemaType: format.schemaType, schema: format.schema, ...(latest.ruleSet ? { ruleSet: latest.ruleSet } : {}) })).id;
  }
  return ids;
}

/** An engine whose plans of the format take the general path: the codec's splicer is hidden while its plans compile. */
async function generalEngine(fixture: BenchFixture, spec: PathSpec, codec: object, warm: (e: Awaited<ReturnType<typeof engineFor>>) => Promise<unknown>) {
  const proto = Object.getPrototypeOf(codec) as { compileSplicer?: unknown };
  const saved = proto.compileSplicer;
  delete proto.compileSplicer;
  try {
    const engine = await engineFor(fixture, spec);
    await warm(engine);
    return engine;
  } finally {
    proto.compileSplicer = saved;
  }
}

export async function runFormatEngineBench(format: FormatBench, records: number, repetitions: number): Promise<void> {
  const officialRecords = Math.min(2_500, records);
  const fixture = await startFixture();
  let official: (OfficialContender & { close(): Promise<void> }) | undefined;
  try {
    const ids = await register(fixture, format);
    official = await format.official(fixture, ids);
    const people = customers(records);
    const plain = await format.plainRecords(people, ids, official);
    const toGcm = format.raw(PATHS[0]!, fixture, ids.gcm);
    const sources: Record<'plain' | 'gcm', Buffer[]> = { plain, gcm: plain.map(toGcm) };
    const rows: string[] = [];
    for (const spec of PATHS) {
      const source = sources[spec.from as 'plain' | 'gcm'];
      const input = batches(sourceRecords(TOPICS[spec.from], source), 1_000);
      const engine = await engineFor(fixture, spec);
      const general = await generalEngine(fixture, spec, format.codec, (e) => runEngine(e, input.slice(0, 1)));
      const raw = format.raw(spec, fixture, ids[spec.to]);
      const officialInput = source.slice(0, officialRecords);
      const officialRun = async (values: readonly Buffer[]) => {
        const out: Buffer[] = [];
        for (const v of values) out.push(await official!.transform(TOPICS[spec.from], TOPICS[spec.to], v));
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
          if (!isDeepStrictEqual(back, people[i])) throw new Error(`${spec.path}: ${who} output #${i} does not read back to its record`);
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
        `| ${format.label} ${spec.path} | ${r(s.engine.median)} | ${r(s.general.median)} | ${r(s.raw.median)} | ${r(s.official.median)} | `
        + `${(s.engine.median / s.official.median).toFixed(1)}x | ${(s.general.median / s.official.median).toFixed(1)}x | ${Math.round((100 * s.engine.median) / s.raw.median)}% |`,
      );
    }
    process.stdout.write('| path | engine rec/s | general path rec/s | raw loop rec/s | official rec/s | engine/official | general/official | engine/raw |\n');
    process.stdout.write('|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await official?.close();
    await fixture.close();
  }
}
