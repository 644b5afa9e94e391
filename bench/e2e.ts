/**
 * The end-to-end benchmark (issues 10 and 24), on the local stack (Kafka, dev registry). For each
 * format (Avro, Protobuf, JSON Schema) and path (encrypt: plaintext -> AES256_GCM; decrypt: GCM ->
 * plaintext; reencrypt: GCM -> AES256_SIV), over Customer records (name and email tagged PII):
 *   recrypt:   `recrypt run` (the built CLI, a process of its own), stopAt end, exactly once,
 *              LOG_LEVEL=debug so that every committed batch logs its latency (processing start to commit);
 *   pipe:      the same source topic copied record for record by recrypt's TransactionalPipeline with a
 *              processor that returns the source bytes (bench/e2e-child.ts pipe): the loop's own limit;
 *   baseline:  the same job written with Confluent's libraries (bench/e2e-child.ts baseline), on a
 *              prefix of the topic (it is an order of magnitude slower): a time box.
 * The decrypt and reencrypt rows read a GCM-encrypted copy of the format's topic, written once by an
 * untimed `recrypt run` before the rounds. Then the scale rows: Avro encrypt with 1, 6 and 24 source
 * partitions and with ~100-byte and ~10-KiB records (an untagged `notes` string pads the record), each
 * against the pipe over the same topic.
 * Within each round every row runs recrypt, pipe and baseline in turn, so a busy neighbour hits all three
 * alike; ratios are taken within a round, then their median. Every contender runs in its own process,
 * watched through /proc for peak RSS and CPU. Outputs are checked on a sample in round 1: Confluent's
 * deserializer must read recrypt's and the baseline's records back to their source records (and no
 * plaintext name or email is left when encrypting); the pipe's must be the source bytes. Topics,
 * subjects, keys and groups the run created are deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DekRegistryClient, SchemaRegistryClient } from '../src/registry/index.js';
import type { Rule } from '../src/registry/types.js';
import { parseChildResult, type BaselineArgs, type ChildArgs, type ChildResult, type PipeArgs } from './e2e-child.js';
import { indexOfKey, produceCustomers, type ProduceResult } from './e2e-data.js';
import {
  encoderFor, FORMATS, officialSerdes, recordAt, SCHEMA_TYPE, schemaText, servesSerializedProtobuf, type Format, type OfficialSerdes,
} from './e2e-formats.js';
import { loadAverage } from './e2e-proc.js';
import {
  pairedRatios, parseCommittedBatches, parseRunSummary, runResult, summarize, type ContenderSummary, type RunResult,
} from './e2e-runs.js';
import { jobYaml, type BenchJob } from './jobs.js';
import { buildCommands, removeBuild, watch, type Commands, type Watched } from './procs.js';
import { brokerPid, createTopic, deleteTopicsAndGroups, loadStackEnv, localSecret, readSample } from './stack.js';

export const PATHS = ['encrypt', 'decrypt', 'reencrypt'] as const;
export type Path = (typeof PATHS)[number];

export interface E2eOptions {
  /** Records of each format's source topic (and of the 100-byte and partition scale rows). */
  readonly records: number;
  readonly partitions: number;
  /** processing.batchSize of the job, and the pipe's and the baseline's batch size. 500 is the job default. */
  readonly batchSize: number;
  /** Rounds; each runs every row once. */
  readonly repetitions: number;
  /** The baseline's time box per run (0 skips it), and its record cap. */
  readonly baselineSeconds: number;
  readonly baselineMaxRecords: number;
  /** Output records checked per row in round 1. */
  readonly verifySample: number;
  readonly formats: readonly Format[];
  readonly paths: readonly Path[];
  /** Source partitions of the partition scale rows (empty: none). */
  readonly scalePartitions: readonly number[];
  /** Key + value bytes per record of the record-size scale rows, about (empty: none). */
  readonly scaleRecordBytes: readonly number[];
  readonly log?: (line: string) => void;
}

export const DEFAULT_E2E_OPTIONS: E2eOptions = {
  records: 200_000, partitions: 6, batchSize: 500, repetitions: 3, baselineSeconds: 15, baselineMaxRecords: 60_000, verifySample: 200,
  formats: FORMATS, paths: PATHS, scalePartitions: [1, 6, 24], scaleRecordBytes: [100, 10_240],
};
export const QUICK_E2E_OPTIONS: E2eOptions = {
  ...DEFAULT_E2E_OPTIONS, records: 30_000, repetitions: 1, baselineSeconds: 5, baselineMaxRecords: 10_000, verifySample: 50,
};

/**
 * Overrides for bigger runs and experiments: BENCH_E2E_RECORDS, BENCH_E2E_BATCH_SIZE,
 * BENCH_E2E_REPETITIONS, BENCH_E2E_BASELINE_SECONDS (0 skips the baseline), BENCH_E2E_FORMATS
 * (e.g. avro,json), BENCH_E2E_PATHS (e.g. encrypt), BENCH_E2E_SCALE_PARTITIONS and
 * BENCH_E2E_SCALE_BYTES (comma lists; "none" for no such rows: BENCH_E2E_FORMATS=none runs the scale rows alone).
 */
export function withEnvOverrides(base: E2eOptions, env: NodeJS.ProcessEnv = process.env): E2eOptions {
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
    return value;
  };
  const list = <T extends string>(name: string, known: readonly T[], fallback: readonly T[]): readonly T[] => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'none') return [];
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = items.filter((i) => !known.includes(i as T));
    if (unknown.length || items.length === 0) throw new Error(`${name}: ${unknown.join(', ') || 'empty'}; known: ${known.join(', ')}`);
    return items as T[];
  };
  const numbers = (name: string, fallback: readonly number[]): readonly number[] => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'none') return [];
    const items = raw.split(',').map((s) => Number(s.trim()));
    if (items.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name} must be a comma list of positive whole numbers or "none", got ${raw}`);
    return items;
  };
  return {
    ...base,
    records: num('BENCH_E2E_RECORDS', base.records),
    batchSize: num('BENCH_E2E_BATCH_SIZE', base.batchSize),
    repetitions: Math.max(1, num('BENCH_E2E_REPETITIONS', base.repetitions)),
    baselineSeconds: num('BENCH_E2E_BASELINE_SECONDS', base.baselineSeconds),
    formats: list('BENCH_E2E_FORMATS', FORMATS, base.formats),
    paths: list('BENCH_E2E_PATHS', PATHS, base.paths),
    scalePartitions: numbers('BENCH_E2E_SCALE_PARTITIONS', base.scalePartitions),
    scaleRecordBytes: numbers('BENCH_E2E_SCALE_BYTES', base.scaleRecordBytes),
  };
}

/** Issue 24's targets; reported, not asserted. */
export const E2E_TARGETS = { recryptVsBaseline: 30, recryptVsPipe: 0.85, peakRssBytes: 300 * 2 ** 20 } as const;

/** The job default `recrypt run` runs with (src/jobs/job-schema.ts); the pipe gets the same. */
const TRANSACTION_TIMEOUT_MS = 60_000;

/** Key + value bytes of a Customer record without notes, about (Avro; the scale rows pad from here). */
const AVRO_CUSTOMER_BYTES = 78;

/**
 * Records of a record-size scale row: as many bytes as `records` records of 100 bytes, but at least
 * ten batches, so the large-record row stays a few hundred MB and still has a steady window.
 */
export function scaleRowRecords(records: number, recordBytes: number, batchSize: number): number {
  return Math.min(records, Math.max(10 * batchSize, Math.round((records * 100) / recordBytes)));
}

/** Notes length that brings an Avro Customer to about `recordBytes` key + value bytes (varint length included). */
export function notesLengthFor(recordBytes: number): number {
  const room = recordBytes - AVRO_CUSTOMER_BYTES;
  return room <= 1 ? 0 : room - (room > 64 ? 2 : 1);
}

export interface Comparison {
  readonly recrypt: ContenderSummary;
  readonly pipe: ContenderSummary;
  readonly baseline?: ContenderSummary & { /** Share of the baseline's batch time in the serdes (the rest: transactions). */ serdeShare?: number };
  /** Medians of the per-round ratios: recrypt #k / pipe #k (steady and wall rates), recrypt #k / baseline #k. */
  readonly vsPipe: number;
  readonly vsPipeWall: number;
  readonly vsBaseline?: number;
  readonly perRound: ReadonlyArray<{ run: number; vsPipe: number; vsBaseline?: number }>;
}

export interface SourceTopic {
  readonly topic: string;
  readonly format: Format;
  readonly partitions: number;
  readonly records: number;
  readonly bytesPerRecord: number;
  readonly notesLength: number;
  readonly schemaId: number;
  readonly produced?: ProduceResult;
  /** The GCM-encrypted copy of this plaintext topic (decrypt and reencrypt rows; bytesPerRecord from a sample). */
  readonly encryptedCopyOf?: string;
}

export interface RowResult extends Comparison {
  readonly format: Format;
  readonly path: Path;
  readonly source: SourceTopic;
  readonly runs: readonly RunResult[];
}

export interface ScaleResult extends Comparison {
  readonly label: string;
  readonly source: SourceTopic;
  readonly runs: readonly RunResult[];
}

export interface E2eResult {
  readonly options: Omit<E2eOptions, 'log'>;
  readonly build: { compiled: boolean; seconds: number; note?: string };
  readonly load: { start: [number, number, number]; end: [number, number, number] };
  readonly rows: readonly RowResult[];
  readonly scale: readonly ScaleResult[];
  readonly cleanup: readonly string[];
}

/** The recrypt, pipe and baseline runs of one row into one comparison. */
export function compare(runs: readonly RunResult[]): Comparison {
  const of = (c: RunResult['contender']) => runs.filter((r) => r.contender === c);
  const [recryptRuns, pipeRuns, baselineRuns] = [of('recrypt'), of('pipe'), of('baseline')];
  const vsPipe = pairedRatios(recryptRuns, pipeRuns, (r) => r.steadyRate);
  const vsPipeWall = pairedRatios(recryptRuns, pipeRuns, (r) => r.wallRate);
  const vsBaseline = pairedRatios(recryptRuns, baselineRuns, (r) => r.steadyRate);
  const serde = baselineRuns.reduce((t, r) => t + (r.serdeSeconds ?? 0), 0);
  const transaction = baselineRuns.reduce((t, r) => t + (r.transactionSeconds ?? 0), 0);
  return {
    recrypt: summarize(recryptRuns),
    pipe: summarize(pipeRuns),
    ...(baselineRuns.length ? { baseline: { ...summarize(baselineRuns), ...(serde + transaction > 0 ? { serdeShare: serde / (serde + transaction) } : {}) } } : {}),
    vsPipe: vsPipe.median ?? 0,
    vsPipeWall: vsPipeWall.median ?? 0,
    ...(vsBaseline.median !== undefined ? { vsBaseline: vsBaseline.median } : {}),
    perRound: vsPipe.perRound.map((p) => {
      const b = vsBaseline.perRound.find((x) => x.run === p.run);
      return { run: p.run, vsPipe: p.ratio, ...(b ? { vsBaseline: b.ratio } : {}) };
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// The suite

type RuleAlgorithm = 'AES256_GCM' | 'AES256_SIV';

function encryptRule(kek: string, algorithm: RuleAlgorithm): Rule {
  return {
    name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'bench-e2e-key', 'encrypt.dek.algorithm': algorithm },
  };
}

/** What a row's output holds: records encrypted (no plaintext PII may show) or plaintext. */
const ENCRYPTS: Readonly<Record<Path, RuleAlgorithm | undefined>> = { encrypt: 'AES256_GCM', decrypt: undefined, reencrypt: 'AES256_SIV' };

export async function runE2eBench(options: E2eOptions = DEFAULT_E2E_OPTIONS): Promise<E2eResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[e2e] ${line}\n`));
  loadStackEnv();
  const loadStart = loadAverage();
  const brokers = process.env.KAFKA_BOOTSTRAP_SERVERS!;
  const registryUrl = process.env.SCHEMA_REGISTRY_URL!;
  const secret = localSecret();
  const broker = brokerPid();
  const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const kek = `bench-e2e-kek-${id}`;
  const topics: string[] = [];
  const groups: string[] = [];
  const subjects: string[] = [];
  const registry = new SchemaRegistryClient({ baseUrls: [registryUrl] });
  const deks = new DekRegistryClient({ baseUrls: [registryUrl] });
  const cleanup: string[] = [];
  const official = new Map<Format, OfficialSerdes>();
  const timeoutMs = 15 * 60_000;
  const childEnv = { ...process.env };
  delete childEnv.NODE_OPTIONS;
  let seq = 0;
  const fresh = (kind: string): string => {
    const topic = `bench-e2e-${kind}-${id}-${++seq}`;
    topics.push(topic);
    subjects.push(`${topic}-value`);
    return topic;
  };
  /** Whether Confluent's Protobuf serdes need the format=serialized proxy in front of this registry (probed once). */
  let proxyProtobuf: boolean | undefined;
  const readerOf = async (format: Format): Promise<OfficialSerdes> => {
    let serdes = official.get(format);
    if (!serdes) official.set(format, serdes = await officialSerdes(format, registryUrl, secret, proxyProtobuf === true));
    return serdes;
  };

  log(`load average ${loadStart.join(' ')}; building the CLI`);
  const commands: Commands = await buildCommands('e2e-build', ['e2e-child'], log);
  const child = commands.entries['e2e-child']!;
  log(`build: ${commands.compiled ? 'compiled' : 'tsx fallback'} in ${commands.seconds.toFixed(1)} s`);

  const produce = async (format: Format, partitions: number, records: number, notesLength = 0): Promise<SourceTopic> => {
    const topic = fresh(`src-${format}`);
    await createTopic(topic, partitions);
    const schemaId = (await registry.register(`${topic}-value`, { schemaType: SCHEMA_TYPE[format], schema: schemaText(format, notesLength) })).id;
    if (format === 'protobuf') proxyProtobuf ??= !(await servesSerializedProtobuf(registryUrl, schemaId));
    const produced = await produceCustomers(brokers, topic, partitions, schemaId, records, encoderFor(format, schemaId, notesLength));
    const bytesPerRecord = produced.bytes / produced.records;
    log(`${topic}: ${records} ${format} records, ${partitions} partitions, ${bytesPerRecord.toFixed(1)} bytes/record, produced in ${produced.seconds.toFixed(1)} s`);
    return { topic, format, partitions, records, bytesPerRecord, notesLength, schemaId, produced };
  };

  /** `recrypt run` of `path` from `source` into a fresh topic; checks its counts, and a sample when `verify`. */
  const runRecrypt = async (path: Path, source: SourceTopic, run: number, verify: boolean, timed = true): Promise<{ result?: RunResult; target: string }> => {
    const target = fresh(`${path}-${source.format}`);
    const name = `bench-e2e-${id}-${seq}`;
    groups.push(`recrypt-${name}`);
    if (path === 'decrypt') {
      // A decrypt job writes with the target subject's schema, which must carry no ENCRYPT rule.
      await registry.register(`${target}-value`, { schemaType: SCHEMA_TYPE[source.format], schema: schemaText(source.format, source.notesLength) });
    }
    const algorithm = ENCRYPTS[path];
    const job: BenchJob = {
      name, mode: path, source: source.topic, target, batchSize: options.batchSize, stopAtEnd: true, transactionTimeoutMs: TRANSACTION_TIMEOUT_MS,
      ...(algorithm ? { rule: { kek, kmsKeyId: 'bench-e2e-key', algorithm } } : {}),
    };
    const jobFile = join(commands.dir, `${name}.yaml`);
    writeFileSync(jobFile, jobYaml(job));
    const watched = await watch([...commands.recrypt, 'run', jobFile], { ...childEnv, LOG_LEVEL: 'debug' }, timeoutMs, broker);
    const summary = parseRunSummary(watched.stdout);
    if (watched.code !== 0 || !summary) throw new Error(`recrypt run (${source.format} ${path}) exited ${watched.code ?? watched.signal}: ${watched.stderr.split('\n').filter((l) => !l.includes('"debug"')).slice(-5).join('\n')}`);
    if (summary.records !== source.records || summary.written !== source.records) throw new Error(`recrypt run: ${summary.records} records, ${summary.written} written; expected ${source.records}`);
    if (verify) await verifyOutput(target, source, path, false);
    if (!timed) return { target };
    const batches = parseCommittedBatches(watched.stderr);
    const committed = batches.reduce((n, b) => n + b.records, 0);
    if (committed !== source.records) throw new Error(`recrypt run: committed batches hold ${committed} records, expected ${source.records}`);
    const result = runResult('recrypt', run, watched, batches, summary.records, batches[0]!.time - batches[0]!.latencyMs, batches[batches.length - 1]!.time,
      source.bytesPerRecord, { pipelineSeconds: summary.seconds });
    log(`  recrypt ${source.format} ${path} #${run}: ${Math.round(result.steadyRate)} rec/s steady, ${Math.round(result.wallRate)} wall, p99 ${result.p99BatchMs} ms, RSS ${Math.round(result.peakRss / 2 ** 20)} MiB`);
    return { result, target };
  };

  const runChild = async (args: ChildArgs): Promise<{ watched: Watched; result: ChildResult }> => {
    const watched = await watch([...child, JSON.stringify(args)], childEnv, timeoutMs, broker);
    const result = parseChildResult(watched.stdout);
    if (watched.code !== 0 || !result) throw new Error(`${args.mode} exited ${watched.code ?? watched.signal}: ${watched.stderr.split('\n').slice(-8).join('\n')}`);
    return { watched, result };
  };

  const runPipe = async (source: SourceTopic, run: number, verify: boolean): Promise<RunResult> => {
    const target = fresh('copy');
    const name = `bench-e2e-${id}-${seq}`;
    groups.push(`recrypt-${name}`);
    const args: PipeArgs = { mode: 'pipe', name, source: source.topic, target, batchSize: options.batchSize, transactionTimeoutMs: TRANSACTION_TIMEOUT_MS };
    const { watched, result } = await runChild(args);
    if (result.records !== source.records) throw new Error(`pipe: ${result.records} records, expected ${source.records}`);
    const r = runResult('pipe', run, watched, result.batches, result.records, result.firstBatchStart, result.lastCommit, source.bytesPerRecord);
    log(`  pipe #${run}: ${Math.round(r.steadyRate)} rec/s steady, ${Math.round(r.wallRate)} wall, p99 ${r.p99BatchMs} ms, RSS ${Math.round(r.peakRss / 2 ** 20)} MiB`);
    // An encrypted source cannot be re-encoded to compare (random nonces); the pipe's code is checked on the plaintext rows.
    if (verify && source.encryptedCopyOf === undefined) await verifyCopied(target, source);
    return r;
  };

  const runBaseline = async (path: Path, source: SourceTopic, run: number, verify: boolean): Promise<RunResult> => {
    const target = fresh(`official-${path}-${source.format}`);
    const name = `e2e-${id}-${seq}`;
    groups.push(`bench-${name}`);
    await createTopic(target, source.partitions);
    const algorithm = ENCRYPTS[path];
    await registry.register(`${target}-value`, {
      schemaType: SCHEMA_TYPE[source.format], schema: schemaText(source.format, source.notesLength),
      ...(algorithm ? { ruleSet: { domainRules: [encryptRule(kek, algorithm)] } } : {}),
    });
    const args: BaselineArgs = {
      mode: 'baseline', format: source.format, proxyProtobuf: proxyProtobuf === true, name, source: source.topic, target, brokers, registryUrl, secret, batchSize: options.batchSize,
      seconds: options.baselineSeconds, maxRecords: options.baselineMaxRecords,
    };
    const { watched, result } = await runChild(args);
    if (result.records === 0) throw new Error('baseline committed no record');
    const r = runResult('baseline', run, watched, result.batches, result.records, result.firstBatchStart, result.lastCommit, source.bytesPerRecord, {
      ...(result.serdeSeconds !== undefined ? { serdeSeconds: result.serdeSeconds } : {}),
      ...(result.transactionSeconds !== undefined ? { transactionSeconds: result.transactionSeconds } : {}),
    });
    log(`  Confluent libraries #${run}: ${result.records} records, ${Math.round(r.steadyRate)} rec/s steady, p99 ${r.p99BatchMs} ms`);
    if (verify) await verifyOutput(target, { ...source, records: result.records }, path, true);
    return r;
  };

  /** Confluent's deserializer must read each sample record back to its source record; no plaintext PII when encrypted. */
  const verifyOutput = async (topic: string, source: SourceTopic, path: Path, partial: boolean): Promise<void> => {
    const reader = await readerOf(source.format);
    const count = Math.min(options.verifySample, partial ? Math.floor(source.records / (2 * source.partitions)) || 1 : source.records);
    for (const { key, value } of await readSample(topic, source.partitions, count)) {
      const expected = recordAt(indexOfKey(key), source.notesLength);
      if (ENCRYPTS[path] && (value.includes(Buffer.from(expected.email)) || value.includes(Buffer.from(expected.name)))) {
        throw new Error(`${topic}: plaintext PII in record ${key.toString()}`);
      }
      if (!isDeepStrictEqual(await reader.read(topic, value), expected)) throw new Error(`${topic}: record ${key.toString()} does not read back to its source record`);
    }
  };

  const verifyCopied = async (topic: string, source: SourceTopic): Promise<void> => {
    const encode = encoderFor(source.format, source.schemaId, source.notesLength);
    for (const { key, value } of await readSample(topic, source.partitions, Math.min(options.verifySample, source.records))) {
      const i = indexOfKey(key);
      if (!value.equals(encode(i, i + 1)[0]!)) throw new Error(`${topic}: record ${key.toString()} is not a copy of its source`);
    }
  };

  try {
    // Source topics: per format a plaintext one and, for the decrypt and reencrypt rows, its GCM-encrypted copy.
    const rows: Array<{ format: Format; path: Path; source: SourceTopic; runs: RunResult[] }> = [];
    for (const format of options.formats) {
      const plain = await produce(format, options.partitions, options.records);
      let encrypted: SourceTopic | undefined;
      for (const path of options.paths) {
        if (path !== 'encrypt' && !encrypted) {
          log(`${format}: writing the GCM-encrypted source of the decrypt and reencrypt rows (untimed recrypt run)`);
          const { target } = await runRecrypt('encrypt', plain, 0, true, false);
          const sample = await readSample(target, plain.partitions, Math.min(500, plain.records));
          const bytesPerRecord = sample.reduce((n, r) => n + r.key.length + r.value.length, 0) / sample.length;
          const { produced: _produced, ...of } = plain;
          encrypted = { ...of, topic: target, bytesPerRecord, encryptedCopyOf: plain.topic };
        }
        rows.push({ format, path, source: path === 'encrypt' ? plain : encrypted!, runs: [] });
      }
    }
    const scaleRows: Array<{ label: string; source: SourceTopic; runs: RunResult[] }> = [];
    for (const partitions of options.scalePartitions) {
      scaleRows.push({ label: `${partitions} partition${partitions === 1 ? '' : 's'}`, source: await produce('avro', partitions, options.records), runs: [] });
    }
    for (const bytes of options.scaleRecordBytes) {
      const records = scaleRowRecords(options.records, bytes, options.batchSize);
      const label = bytes >= 1024 ? `${Math.round(bytes / 1024)}-KiB records` : `${bytes}-byte records`;
      scaleRows.push({ label, source: await produce('avro', options.partitions, records, notesLengthFor(bytes)), runs: [] });
    }

    for (let run = 1; run <= options.repetitions; run++) {
      log(`round ${run} of ${options.repetitions}`);
      for (const row of rows) {
        const verify = run === 1;
        row.runs.push((await runRecrypt(row.path, row.source, run, verify)).result!);
        row.runs.push(await runPipe(row.source, run, verify));
        if (options.baselineSeconds > 0) row.runs.push(await runBaseline(row.path, row.source, run, verify));
      }
      for (const row of scaleRows) {
        log(`  scale: ${row.label}`);
        row.runs.push((await runRecrypt('encrypt', row.source, run, run === 1)).result!);
        row.runs.push(await runPipe(row.source, run, false));
      }
    }

    const { log: _log, ...rest } = options;
    return {
      options: rest,
      build: { compiled: commands.compiled, seconds: commands.seconds, ...(commands.note ? { note: commands.note } : {}) },
      load: { start: loadStart, end: loadAverage() },
      rows: rows.map((r) => ({ format: r.format, path: r.path, source: r.source, runs: r.runs, ...compare(r.runs) })),
      scale: scaleRows.map((r) => ({ label: r.label, source: r.source, runs: r.runs, ...compare(r.runs) })),
      cleanup,
    };
  } finally {
    log('cleaning up topics, subjects, keys and groups');
    for (const serdes of official.values()) await serdes.close().catch(() => undefined);
    try {
      cleanup.push(...await deleteTopicsAndGroups(topics, groups));
    } catch (err) {
      log(`cleanup of topics failed: ${(err as Error).message}`);
    }
    let deleted = 0;
    for (const subject of subjects) {
      for (const algorithm of ['AES256_GCM', 'AES256_SIV'] as const) {
        await deks.deleteDek(kek, subject, algorithm).then(() => deks.deleteDek(kek, subject, algorithm, true)).catch(() => undefined);
      }
      await registry.deleteSubject(subject).then(() => registry.deleteSubject(subject, true)).then(() => { deleted += 1; }, () => undefined);
    }
    await deks.deleteKek(kek).then(() => deks.deleteKek(kek, true)).catch(() => undefined);
    cleanup.push(`${deleted} subjects`);
    removeBuild(commands);
  }
}
