/**
 * The engine benchmark (issue 3, "Performance"): for each path, in one process and on one core,
 *   engine:   recrypt's RecordTransformer.process(batch) over pre-built batches of SourceRecords;
 *   official: @confluentinc/schemaregistry's AvroDeserializer + AvroSerializer with field encryption;
 *   raw:      avsc decode/encode plus node crypto alone (the practical ceiling).
 * Before timing, each contender's output is checked against the others (and the official deserializer),
 * so a fast wrong answer fails the run instead of winning it.
 */
import { isDeepStrictEqual } from 'node:util';
import { RecordTransformer, SchemaStore, type JobMode } from '../src/engine/index.js';
import type { ProcessedRecord, SourceRecord } from '../src/util/records.js';
import { DekManager } from '../src/keys/index.js';
import { LocalKmsDriver } from '../src/kms/local-kms.js';
import { DekRegistryClient, SchemaRegistryClient } from '../src/registry/index.js';
import { RecryptError } from '../src/util/errors.js';
import { customers, type Customer } from './customer.js';
import { LOCAL_SECRET, startFixture, subjectOf, TOPICS, type BenchFixture, type TopicName } from './fixture.js';
import { officialSerdes, type OfficialSerdes } from './official.js';
import { encodePlain, rawRecordFn, type PathName, type RecordFn } from './raw-loop.js';
import { measureInterleaved, type RateSample } from './stats.js';

export interface EngineBenchOptions {
  /** Records per timed run of the engine and the raw loop. */
  readonly records: number;
  readonly batchSize: number;
  /** Records per timed run of the official serdes (they are ~30x slower). */
  readonly officialRecords: number;
  readonly repetitions: number;
  /** Progress lines go here (stderr by default), results are returned. */
  readonly log?: (line: string) => void;
}

export const DEFAULT_ENGINE_OPTIONS: EngineBenchOptions = { records: 20_000, batchSize: 1_000, officialRecords: 2_500, repetitions: 7 };

export const TARGETS = { engineVsOfficial: 25, engineVsRaw: 0.7 } as const;

export interface PathResult {
  readonly path: PathName;
  readonly engine: RateSample;
  readonly official: RateSample;
  readonly raw: RateSample;
  readonly engineVsOfficial: number;
  readonly engineVsRaw: number;
  /** Resident set size (bytes) after the path's runs. */
  readonly rss: number;
}

export interface EngineBenchResult {
  readonly options: Omit<EngineBenchOptions, 'log'>;
  readonly paths: readonly PathResult[];
  /** Peak RSS of the process over the whole benchmark (bytes). */
  readonly peakRss: number;
}

export interface PathSpec {
  readonly path: PathName;
  readonly mode: JobMode;
  readonly from: TopicName;
  readonly to: TopicName;
}

export const PATHS: readonly PathSpec[] = [
  { path: 'plain->gcm', mode: 'encrypt', from: 'plain', to: 'gcm' },
  { path: 'gcm->plain', mode: 'decrypt', from: 'gcm', to: 'plain' },
  { path: 'gcm->siv', mode: 'reencrypt', from: 'gcm', to: 'siv' },
];

/** recrypt's engine for one job, wired as the service wires it (registry clients, DekManager, local-kms). */
export async function engineFor(fixture: BenchFixture, spec: PathSpec): Promise<RecordTransformer> {
  const registry = new SchemaRegistryClient({ baseUrls: [fixture.url] });
  const kms = new LocalKmsDriver({ secret: LOCAL_SECRET });
  const keys = new DekManager({
    dekRegistry: new DekRegistryClient({ baseUrls: [fixture.url] }),
    kms: { get: (type) => { if (type !== kms.kmsType) throw new RecryptError('KMS_UNSUPPORTED_TYPE', `no ${type}`); return kms; } },
  });
  const schemas = new SchemaStore(registry);
  const targetSubject = subjectOf(spec.to);
  const target = await schemas.adopt(await registry.getLatest(targetSubject), targetSubject);
  return new RecordTransformer({
    schemas, keys, mode: spec.mode, subjectNameStrategy: 'topic',
    target: { schema: target, subject: targetSubject, topicFor: () => TOPICS[spec.to] },
  });
}

export function sourceRecords(topic: string, values: readonly Buffer[]): SourceRecord[] {
  const key = Buffer.from('customer');
  return values.map((value, offset) => ({ topic, partition: 0, offset, key, value, headers: [], timestamp: 1_700_000_000_000 + offset }));
}

export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function outputValue(result: ProcessedRecord): Buffer {
  if ('halt' in result) throw result.halt;
  const value = result.outputs[0]?.value;
  if (!value) throw new Error('engine produced no value');
  return value;
}

export async function runEngine(transformer: RecordTransformer, input: readonly SourceRecord[][]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const batch of input) for (const r of await transformer.process(batch)) out.push(outputValue(r));
  return out;
}

const SAMPLE = 200;

/**
 * Checks one path's three contenders on the first records: the official deserializer must read every
 * contender's output back to the source customers; for GCM -> SIV (deterministic) and GCM -> plain the
 * bytes must be identical across contenders.
 */
async function verify(spec: PathSpec, people: readonly Customer[], outputs: Record<'engine' | 'official' | 'raw', readonly Buffer[]>, reader: OfficialSerdes['read']): Promise<void> {
  for (const [who, values] of Object.entries(outputs)) {
    for (let i = 0; i < Math.min(SAMPLE, values.length); i++) {
      const decoded = await reader(TOPICS[spec.to], values[i]!);
      if (!isDeepStrictEqual({ ...(decoded as object) }, people[i])) {
        throw new Error(`${spec.path}: ${who} output #${i} does not read back to its source record`);
      }
    }
  }
  if (spec.to !== 'gcm') {
    for (let i = 0; i < SAMPLE; i++) {
      const e = outputs.engine[i]!;
      if (!e.equals(outputs.raw[i]!) || !e.equals(outputs.official[i]!)) {
        throw new Error(`${spec.path}: record #${i} differs between engine, raw loop and official serdes`);
      }
    }
  }
}

export async function runEngineBench(options: EngineBenchOptions = DEFAULT_ENGINE_OPTIONS): Promise<EngineBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fixture = await startFixture();
  try {
    const official = officialSerdes(fixture.url);
    const people = customers(options.records);
    // Sources: plain frames, and GCM frames made by the raw loop (checked by the official deserializer below).
    const values: Record<'plain' | 'gcm', Buffer[]> = { plain: encodePlain(people, fixture.ids.plain), gcm: [] };
    const toGcm = rawRecordFn('plain->gcm', fixture, fixture.ids.gcm);
    values.gcm = values.plain.map((v) => toGcm(v));
    for (let i = 0; i < SAMPLE; i++) {
      const back = await official.read(TOPICS.gcm, values.gcm[i]!);
      if (!isDeepStrictEqual({ ...(back as object) }, people[i])) throw new Error('GCM source records do not decrypt with the official serdes');
    }

    const results: PathResult[] = [];
    for (const spec of PATHS) {
      const source = values[spec.from as 'plain' | 'gcm'];
      const transformer = await engineFor(fixture, spec);
      const engineInput = batches(sourceRecords(TOPICS[spec.from], source), options.batchSize);
      const raw: RecordFn = rawRecordFn(spec.path, fixture, fixture.ids[spec.to]);
      const officialInput = source.slice(0, options.officialRecords);
      const officialRun = async (input: readonly Buffer[]): Promise<Buffer[]> => {
        const out: Buffer[] = [];
        for (const v of input) out.push(await official.transform(TOPICS[spec.from], TOPICS[spec.to], v));
        return out;
      };

      log(`${spec.path}: checking outputs`);
      await verify(spec, people, {
        engine: await runEngine(transformer, batches(sourceRecords(TOPICS[spec.from], source.slice(0, SAMPLE)), options.batchSize)),
        official: await officialRun(source.slice(0, SAMPLE)),
        raw: source.slice(0, SAMPLE).map(raw),
      }, official.read);

      log(`${spec.path}: engine and raw loop ${options.records} records, official serdes ${officialInput.length}; ${options.repetitions} rounds`);
      const samples = await measureInterleaved({
        engine: { records: options.records, warmups: 2, run: () => runEngine(transformer, engineInput) },
        raw: { records: options.records, warmups: 2, run: () => source.map(raw) },
        // The official serdes take a few thousand records to reach their steady rate (JIT): warm them alike.
        official: { records: officialInput.length, warmups: 2, run: () => officialRun(officialInput) },
      }, options.repetitions);
      const { engine, raw: rawSample, official: officialSample } = samples;
      const rss = process.memoryUsage().rss;
      results.push({
        path: spec.path, engine, official: officialSample, raw: rawSample,
        engineVsOfficial: engine.median / officialSample.median, engineVsRaw: engine.median / rawSample.median, rss,
      });
    }
    const { log: _log, ...rest } = options;
    return { options: rest, paths: results, peakRss: process.resourceUsage().maxRSS * 1024 };
  } finally {
    await fixture.close();
  }
}
