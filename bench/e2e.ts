/**
 * The end-to-end benchmark (issue 10), on the local stack (Kafka, dev registry):
 *   (b) recrypt:   `recrypt run` (the built CLI, a process of its own) encrypting a 6-partition topic of
 *                  1,000,000 Customer records, stopAt end, exactly once; LOG_LEVEL=debug so that every
 *                  committed batch logs its latency;
 *   (c) baseline:  the same job written with Confluent's libraries (bench/e2e-child.ts baseline), on a
 *                  prefix of the topic (it is an order of magnitude slower): a time box;
 *   (d) pipe:      the same topic copied record for record by recrypt's TransactionalPipeline with a
 *                  processor that returns the source bytes (bench/e2e-child.ts pipe): the loop's own limit.
 * (b), (d) and (c) take turns, `repetitions` rounds, every run into a fresh target topic; every contender
 * runs in its own process, watched through /proc for peak RSS and CPU (process, its main thread, the
 * broker, everything else). Outputs are checked on a sample: Confluent's deserializer must read
 * recrypt's and the baseline's records back to their source customers, the pipe's must be the source
 * bytes. Topics, subjects, keys and groups the run created are deleted at the end.
 */
import kafka from '@confluentinc/kafka-javascript';
import { AvroDeserializer, FieldEncryptionExecutor, LocalKmsDriver, RuleRegistry, SchemaRegistryClient as OfficialRegistry, SerdeType } from '@confluentinc/schemaregistry';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { DekRegistryClient, SchemaRegistryClient } from '../src/registry/index.js';
import { CUSTOMER_SCHEMA } from './customer.js';
import { parseChildResult, type BaselineArgs, type ChildArgs, type ChildResult, type PipeArgs } from './e2e-child.js';
import { customerAt, encodeCustomers, indexOfKey, produceCustomers, type ProduceResult } from './e2e-data.js';
import { cpuSplitOf, loadAverage, ProcMonitor, type CpuSplit, type ProcSample } from './e2e-proc.js';
import { median } from './stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface E2eOptions {
  readonly records: number;
  readonly partitions: number;
  /** processing.batchSize of the job, and the pipe's and the baseline's batch size. 500 is the job default. */
  readonly batchSize: number;
  /** Runs of (b) and of (d), alternating. */
  readonly repetitions: number;
  /** The baseline's time box, and its record cap. */
  readonly baselineSeconds: number;
  readonly baselineMaxRecords: number;
  /** Output records checked per run. */
  readonly verifySample: number;
  readonly log?: (line: string) => void;
}

export const DEFAULT_E2E_OPTIONS: E2eOptions = {
  records: 1_000_000, partitions: 6, batchSize: 500, repetitions: 5, baselineSeconds: 20, baselineMaxRecords: 150_000, verifySample: 300,
};
export const QUICK_E2E_OPTIONS: E2eOptions = {
  records: 60_000, partitions: 6, batchSize: 500, repetitions: 1, baselineSeconds: 10, baselineMaxRecords: 20_000, verifySample: 100,
};

/**
 * Overrides for experiments (e.g. another batch size): BENCH_E2E_RECORDS, BENCH_E2E_BATCH_SIZE,
 * BENCH_E2E_REPETITIONS, BENCH_E2E_BASELINE_SECONDS (0 skips the baseline).
 */
export function withEnvOverrides(base: E2eOptions, env: NodeJS.ProcessEnv = process.env): E2eOptions {
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
    return value;
  };
  return {
    ...base,
    records: num('BENCH_E2E_RECORDS', base.records),
    batchSize: num('BENCH_E2E_BATCH_SIZE', base.batchSize),
    repetitions: Math.max(1, num('BENCH_E2E_REPETITIONS', base.repetitions)),
    baselineSeconds: num('BENCH_E2E_BASELINE_SECONDS', base.baselineSeconds),
  };
}

/** Reported, not asserted. */
export const E2E_TARGETS = { recryptVsBaseline: 10, recryptVsPipe: 0.5, peakRssBytes: 300 * 2 ** 20 } as const;

/** The job defaults `recrypt run` runs with (src/jobs/job-schema.ts); the pipe gets the same. */
const TRANSACTION_TIMEOUT_MS = 60_000;

export interface RunResult {
  readonly contender: 'recrypt' | 'pipe' | 'baseline';
  readonly run: number;
  readonly records: number;
  /** Process start to exit. */
  readonly wallSeconds: number;
  /** First batch's processing start to last commit. */
  readonly steadySeconds: number;
  readonly wallRate: number;
  readonly steadyRate: number;
  /** Source key + value megabytes (1e6) per second, over the steady window. */
  readonly steadyMBps: number;
  /** Records per CPU-second of the contender process over the steady window (steadier on a shared machine). */
  readonly cpuRate?: number;
  readonly batches: number;
  readonly p50BatchMs: number;
  readonly p99BatchMs: number;
  readonly maxBatchMs: number;
  /** Share of the steady window spent inside batches (process + transaction); the rest is polling. */
  readonly inBatchShare: number;
  /** Pipe: share of the in-batch time spent in the transaction (begin, produce, sendOffsets, commit). */
  readonly commitShare?: number;
  readonly peakRss: number;
  /** RSS (bytes) at 20, 40, 60, 80 and 100% of the process's life: flat once the client's buffers are full. */
  readonly rssTimeline: readonly number[];
  readonly cpuSteady?: CpuSplit;
  readonly cpuWhole?: CpuSplit;
  /** recrypt: the pipeline's duration from its summary line. */
  readonly pipelineSeconds?: number;
  /** Baseline: where its time went. */
  readonly serdeSeconds?: number;
  readonly transactionSeconds?: number;
}

export interface ContenderSummary {
  readonly runs: number;
  readonly steadyRate: number;
  readonly wallRate: number;
  readonly steadyMBps: number;
  readonly cpuRate?: number;
  readonly p99BatchMs: number;
  readonly peakRss: number;
  readonly cpu?: { process: number; mainThread: number; broker: number; other: number };
}

export interface E2eResult {
  readonly options: Omit<E2eOptions, 'log'>;
  readonly build: { compiled: boolean; seconds: number; note?: string };
  readonly load: { start: [number, number, number]; end: [number, number, number] };
  readonly source: ProduceResult & { topic: string; partitions: number; bytesPerRecord: number };
  readonly runs: readonly RunResult[];
  readonly recrypt: ContenderSummary;
  readonly pipe: ContenderSummary;
  /** Absent when skipped (BENCH_E2E_BASELINE_SECONDS=0). */
  readonly baseline?: ContenderSummary & { /** Median records per run. */ records: number; serdeShare?: number };
  /** Medians of the ratios within each round (recrypt #k over pipe #k, over baseline #k). */
  readonly ratios: {
    recryptVsBaseline?: number; recryptVsPipe: number; recryptVsPipeWall: number;
    perRound: ReadonlyArray<{ run: number; vsPipe: number; vsBaseline?: number }>;
  };
  readonly cleanup: readonly string[];
}

// ---------------------------------------------------------------------------------------------------
// Environment, build and child processes

/** .stack/env into process.env (never overriding what the caller set), as the integration tests do. */
export function loadStackEnv(): void {
  const file = join(process.env.RECRYPT_STACK_DIR ?? join(ROOT, '.stack'), 'env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
    }
  }
  for (const name of ['KAFKA_BOOTSTRAP_SERVERS', 'SCHEMA_REGISTRY_URL']) {
    if (!process.env[name]) throw new Error(`${name} is not set: the e2e suite needs the local stack (npm run stack:up; npm run bench starts it)`);
  }
}

function brokerPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(process.env.RECRYPT_STACK_DIR ?? join(ROOT, '.stack'), 'pids', 'kafka.pid'), 'utf8').trim());
    return existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function localSecret(): string {
  if (process.env.LOCAL_SECRET) return process.env.LOCAL_SECRET;
  const file = process.env.LOCAL_SECRET_FILE;
  if (!file) throw new Error('LOCAL_SECRET or LOCAL_SECRET_FILE must be set (.stack/env has LOCAL_SECRET_FILE)');
  return readFileSync(file, 'utf8').trim();
}

interface Commands {
  readonly recrypt: readonly string[];
  readonly child: readonly string[];
  readonly compiled: boolean;
  readonly seconds: number;
  readonly note?: string;
}

/**
 * Compiles src/ (and bench/e2e-child.ts) to .bench/build with tsc (emit only: type errors are the
 * typecheck's business) and runs the real bin/recrypt.js against it, so that the measured process
 * starts like an installed recrypt (no tsx). The repository's own dist/ is left alone: other tests run
 * bin/recrypt.js and must keep getting the sources. Falls back to tsx when the build fails.
 */
export async function buildCommands(log: (line: string) => void): Promise<Commands> {
  const started = Date.now();
  const dir = join(ROOT, '.bench', 'build');
  const out = join(dir, 'out');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: { rootDir: '../..', outDir: 'out', noCheck: true, sourceMap: false, incremental: false },
    include: [],
    files: ['../../src/cli/main.ts', '../../bench/e2e-child.ts'],
  }, null, 2)}\n`);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await runQuiet(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]);
  const entry = join(out, 'src', 'cli', 'main.js');
  const childEntry = join(out, 'bench', 'e2e-child.js');
  if (existsSync(entry) && existsSync(childEntry)) {
    // bin/recrypt.js runs ../dist/cli/main.js when it exists: give it one next to a copy of itself.
    copyFileSync(join(ROOT, 'bin', 'recrypt.js'), join(dir, 'bin', 'recrypt.js'));
    symlinkSync(join(out, 'src'), join(dir, 'dist'));
    const note = result.code === 0 ? undefined : `tsc exited ${result.code} but emitted: ${result.output.split('\n')[0] ?? ''}`;
    if (note) log(`build: ${note}`);
    return {
      recrypt: [process.execPath, join(dir, 'bin', 'recrypt.js')], child: [process.execPath, childEntry], compiled: true,
      seconds: (Date.now() - started) / 1000, ...(note ? { note } : {}),
    };
  }
  const note = `build failed (${result.output.split('\n').slice(0, 3).join(' | ')}); running the sources through tsx`;
  log(`build: ${note}`);
  return {
    recrypt: [process.execPath, join(ROOT, 'bin', 'recrypt.js')], child: [process.execPath, '--import', 'tsx', join(ROOT, 'bench', 'e2e-child.ts')],
    compiled: false, seconds: (Date.now() - started) / 1000, note,
  };
}

function runQuiet(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('close', (code) => resolve({ code, output }));
  });
}

interface Watched {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly startedAt: number;
  readonly exitedAt: number;
  readonly samples: readonly ProcSample[];
  readonly peakRss: number;
}

/** Runs a command, sampling its /proc entries every 100 ms; kills it (by its pid) after `timeoutMs`. */
function watch(command: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      reject(new Error(`could not start ${command.join(' ')}`));
      return;
    }
    const monitor = new ProcMonitor(child.pid, brokerPid());
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    // 'exit' comes before the pipes are drained; the exit time is taken there, the output at 'close'.
    let exitedAt = 0;
    child.on('exit', () => {
      exitedAt = Date.now();
      monitor.stop();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      monitor.stop();
      resolve({ code, signal, stdout, stderr, startedAt, exitedAt: exitedAt || Date.now(), samples: monitor.samples, peakRss: monitor.peakRss });
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Parsing and statistics

export interface CommittedBatch {
  /** Date.now() of the commit (the log line's time). */
  readonly time: number;
  readonly records: number;
  readonly latencyMs: number;
}

/** The 'batch committed' debug lines of recrypt's pino log (JSON lines on stderr). */
export function parseCommittedBatches(stderr: string): CommittedBatch[] {
  const out: CommittedBatch[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.includes('"batch committed"')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: string | number; records?: number; latencyMs?: number };
      if (entry.msg !== 'batch committed' || typeof entry.latencyMs !== 'number') continue;
      const time = typeof entry.time === 'number' ? entry.time : Date.parse(entry.time ?? '');
      out.push({ time, records: entry.records ?? 0, latencyMs: entry.latencyMs });
    } catch {
      // not a log line of ours
    }
  }
  return out;
}

/** `job NAME: N records (W written, D to DLQ) in S s, R records/s` */
export function parseRunSummary(stdout: string): { records: number; written: number; dlq: number; seconds: number } | undefined {
  const m = /job \S+: (\d+) records \((\d+) written, (\d+) to DLQ\) in ([\d.]+) s/.exec(stdout);
  return m ? { records: Number(m[1]), written: Number(m[2]), dlq: Number(m[3]), seconds: Number(m[4]) } : undefined;
}

export function rssTimeline(samples: readonly ProcSample[]): number[] {
  // An exiting process (a zombie) has no VmRSS line any more: those samples say nothing about memory.
  const alive = samples.filter((s) => s.rss > 0);
  if (alive.length === 0) return [];
  return [0.2, 0.4, 0.6, 0.8, 1].map((f) => alive[Math.max(0, Math.ceil(f * alive.length) - 1)]!.rss);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

function runResult(
  contender: RunResult['contender'], run: number, watched: Watched, batches: ReadonlyArray<{ records: number; latencyMs: number; commitMs?: number }>,
  records: number, firstBatchStart: number, lastCommit: number, bytesPerRecord: number, extra: Partial<RunResult> = {},
): RunResult {
  const wallSeconds = (watched.exitedAt - watched.startedAt) / 1000;
  const steadySeconds = Math.max(0.001, (lastCommit - firstBatchStart) / 1000);
  const latencies = batches.map((b) => b.latencyMs);
  const cpuSteady = cpuSplitOf(watched.samples, firstBatchStart, lastCommit);
  const cpuWhole = cpuSplitOf(watched.samples);
  const inBatchMs = latencies.reduce((a, b) => a + b, 0);
  const commitMs = batches.every((b) => b.commitMs !== undefined) ? batches.reduce((a, b) => a + b.commitMs!, 0) : undefined;
  return {
    contender, run, records, wallSeconds, steadySeconds,
    wallRate: records / wallSeconds, steadyRate: records / steadySeconds, steadyMBps: (records * bytesPerRecord) / steadySeconds / 1e6,
    ...(cpuSteady && cpuSteady.process > 0 ? { cpuRate: records / steadySeconds / cpuSteady.process } : {}),
    batches: batches.length, p50BatchMs: percentile(latencies, 50), p99BatchMs: percentile(latencies, 99), maxBatchMs: Math.max(0, ...latencies),
    inBatchShare: Math.min(1, inBatchMs / (steadySeconds * 1000)), ...(commitMs !== undefined && inBatchMs > 0 ? { commitShare: commitMs / inBatchMs } : {}),
    peakRss: watched.peakRss, rssTimeline: rssTimeline(watched.samples), ...(cpuSteady ? { cpuSteady } : {}), ...(cpuWhole ? { cpuWhole } : {}), ...extra,
  };
}

function summarize(runs: readonly RunResult[]): ContenderSummary {
  const cpus = runs.map((r) => r.cpuSteady).filter((c): c is CpuSplit => c !== undefined);
  return {
    runs: runs.length,
    steadyRate: median(runs.map((r) => r.steadyRate)),
    wallRate: median(runs.map((r) => r.wallRate)),
    steadyMBps: median(runs.map((r) => r.steadyMBps)),
    ...(runs.every((r) => r.cpuRate !== undefined) ? { cpuRate: median(runs.map((r) => r.cpuRate!)) } : {}),
    p99BatchMs: median(runs.map((r) => r.p99BatchMs)),
    peakRss: Math.max(...runs.map((r) => r.peakRss)),
    ...(cpus.length ? {
      cpu: {
        process: median(cpus.map((c) => c.process)), mainThread: median(cpus.map((c) => c.mainThread)),
        broker: median(cpus.map((c) => c.broker)), other: median(cpus.map((c) => c.other)),
      },
    } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Kafka and registry plumbing

function admin() {
  const { Kafka, logLevel } = kafka.KafkaJS;
  return new Kafka({ kafkaJS: { brokers: process.env.KAFKA_BOOTSTRAP_SERVERS!.split(','), logLevel: logLevel.NOTHING } }).admin();
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  const a = admin();
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
  } finally {
    await a.disconnect();
  }
}

async function deleteTopicsAndGroups(topics: readonly string[], groups: readonly string[]): Promise<string[]> {
  const done: string[] = [];
  const a = admin();
  await a.connect();
  try {
    const existing = new Set(await a.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) {
      await a.deleteTopics({ topics: present, timeout: 30_000 });
      done.push(`${present.length} topics`);
    }
    if (groups.length) {
      await a.deleteGroups([...groups]).then(() => done.push(`${groups.length} consumer groups`), () => undefined);
    }
  } finally {
    await a.disconnect();
  }
  return done;
}

/** Reads up to `count` records of `topic` (read_committed, from the start of every partition). */
async function readSample(topic: string, partitions: number, count: number): Promise<Array<{ key: Buffer; value: Buffer }>> {
  const consumer = new kafka.KafkaConsumer({
    'bootstrap.servers': process.env.KAFKA_BOOTSTRAP_SERVERS!, 'group.id': `bench-e2e-verify-${randomBytes(4).toString('hex')}`,
    'enable.auto.commit': false, 'isolation.level': 'read_committed', 'log_level': 3,
  }, { 'auto.offset.reset': 'earliest' });
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  const out: Array<{ key: Buffer; value: Buffer }> = [];
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    const deadline = Date.now() + 30_000;
    while (out.length < count && Date.now() < deadline) {
      const messages = await new Promise<kafka.Message[]>((resolve, reject) => consumer.consume(500, (err, m) => (err ? reject(err) : resolve(m))));
      for (const m of messages) if (m.key && m.value && out.length < count) out.push({ key: Buffer.from(m.key), value: m.value });
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  if (out.length < count) throw new Error(`${topic}: read ${out.length} of ${count} sample records`);
  return out;
}

/** Confluent's deserializer must read each sample record back to its source customer; no plaintext PII in the bytes. */
async function verifyEncrypted(topic: string, partitions: number, count: number, secret: string): Promise<void> {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const deserializer = new AvroDeserializer(new OfficialRegistry({ baseURLs: [process.env.SCHEMA_REGISTRY_URL!] }), SerdeType.VALUE, { ruleConfig: { secret } }, rules);
  for (const { key, value } of await readSample(topic, partitions, count)) {
    const expected = customerAt(indexOfKey(key));
    if (value.includes(Buffer.from(expected.email)) || value.includes(Buffer.from(expected.name))) throw new Error(`${topic}: plaintext PII in record ${key.toString()}`);
    const decoded: unknown = await deserializer.deserialize(topic, value);
    if (!isDeepStrictEqual({ ...(decoded as object) }, expected)) throw new Error(`${topic}: record ${key.toString()} does not decrypt to its source customer`);
  }
}

async function verifyCopied(topic: string, partitions: number, count: number, schemaId: number): Promise<void> {
  for (const { key, value } of await readSample(topic, partitions, count)) {
    const i = indexOfKey(key);
    if (!value.equals(encodeCustomers(schemaId, i, i + 1)[0]!)) throw new Error(`${topic}: record ${key.toString()} is not a copy of its source`);
  }
}

function encryptRule(kek: string) {
  return {
    name: 'encryptPII', kind: 'TRANSFORM' as const, mode: 'WRITEREAD' as const, type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'bench-e2e-key', 'encrypt.dek.algorithm': 'AES256_GCM' },
  };
}

function jobYaml(name: string, source: string, target: string, kek: string, batchSize: number): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source:
    topic: ${source}
    startAt: earliest
    stopAt: end
  target:
    topic: ${target}
    createTopic: true
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: bench-e2e-key
          encrypt.dek.algorithm: AES256_GCM
        onFailure: ERROR,ERROR
  exactlyOnce: true
  processing:
    batchSize: ${batchSize}
    transactionTimeoutMs: ${TRANSACTION_TIMEOUT_MS}
`;
}

// ---------------------------------------------------------------------------------------------------
// The suite

export async function runE2eBench(options: E2eOptions = DEFAULT_E2E_OPTIONS): Promise<E2eResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[e2e] ${line}\n`));
  loadStackEnv();
  const loadStart = loadAverage();
  const brokers = process.env.KAFKA_BOOTSTRAP_SERVERS!;
  const registryUrl = process.env.SCHEMA_REGISTRY_URL!;
  const secret = localSecret();
  const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const source = `bench-e2e-src-${id}`;
  const kek = `bench-e2e-kek-${id}`;
  const topics: string[] = [source];
  const groups: string[] = [];
  const subjects: string[] = [`${source}-value`];
  const registry = new SchemaRegistryClient({ baseUrls: [registryUrl] });
  const deks = new DekRegistryClient({ baseUrls: [registryUrl] });
  const runs: RunResult[] = [];
  const cleanup: string[] = [];
  const timeoutMs = 10 * 60_000;

  log(`load average ${loadStart.join(' ')}; building the CLI`);
  const commands = await buildCommands(log);
  log(`build: ${commands.compiled ? 'compiled' : 'tsx fallback'} in ${commands.seconds.toFixed(1)} s`);

  try {
    await createTopic(source, options.partitions);
    const schemaId = (await registry.register(`${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA })).id;
    log(`producing ${options.records} records to ${source} (${options.partitions} partitions)`);
    const produced = await produceCustomers(brokers, source, options.partitions, schemaId, options.records);
    const bytesPerRecord = produced.bytes / produced.records;
    log(`produced in ${produced.seconds.toFixed(1)} s (${Math.round(produced.records / produced.seconds)} rec/s, ${bytesPerRecord.toFixed(1)} bytes/record)`);

    const childEnv = { ...process.env };
    delete childEnv.NODE_OPTIONS;

    const runRecrypt = async (run: number): Promise<void> => {
      const name = `bench-e2e-${id}-r${run}`;
      const target = `${source.replace('-src-', '-enc-')}-${run}`;
      topics.push(target);
      subjects.push(`${target}-value`);
      groups.push(`recrypt-${name}`);
      const jobFile = join(ROOT, '.bench', 'build', `${name}.yaml`);
      writeFileSync(jobFile, jobYaml(name, source, target, kek, options.batchSize));
      const watched = await watch([...commands.recrypt, 'run', jobFile], { ...childEnv, LOG_LEVEL: 'debug' }, timeoutMs);
      const summary = parseRunSummary(watched.stdout);
      if (watched.code !== 0 || !summary) throw new Error(`recrypt run exited ${watched.code ?? watched.signal}: ${watched.stderr.split('\n').filter((l) => !l.includes('"debug"')).slice(-5).join('\n')}`);
      if (summary.records !== options.records || summary.written !== options.records) throw new Error(`recrypt run: ${summary.records} records, ${summary.written} written; expected ${options.records}`);
      const batches = parseCommittedBatches(watched.stderr);
      if (batches.length === 0) throw new Error('recrypt run logged no "batch committed" debug line');
      const committed = batches.reduce((n, b) => n + b.records, 0);
      if (committed !== options.records) throw new Error(`recrypt run: committed batches hold ${committed} records, expected ${options.records}`);
      const result = runResult('recrypt', run, watched, batches, summary.records, batches[0]!.time - batches[0]!.latencyMs, batches[batches.length - 1]!.time,
        bytesPerRecord, { pipelineSeconds: summary.seconds });
      runs.push(result);
      log(`recrypt #${run}: ${Math.round(result.steadyRate)} rec/s steady, ${Math.round(result.wallRate)} wall, p99 ${result.p99BatchMs} ms, RSS ${Math.round(result.peakRss / 2 ** 20)} MiB`);
      if (run === 1) await verifyEncrypted(target, options.partitions, options.verifySample, secret);
    };

    const runChild = async (args: ChildArgs): Promise<{ watched: Watched; result: ChildResult }> => {
      const watched = await watch([...commands.child, JSON.stringify(args)], childEnv, timeoutMs);
      const result = parseChildResult(watched.stdout);
      if (watched.code !== 0 || !result) throw new Error(`${args.mode} exited ${watched.code ?? watched.signal}: ${watched.stderr.split('\n').slice(-8).join('\n')}`);
      return { watched, result };
    };

    const runPipe = async (run: number): Promise<void> => {
      const name = `bench-e2e-${id}-p${run}`;
      const target = `${source.replace('-src-', '-copy-')}-${run}`;
      topics.push(target);
      groups.push(`recrypt-${name}`);
      const args: PipeArgs = { mode: 'pipe', name, source, target, batchSize: options.batchSize, transactionTimeoutMs: TRANSACTION_TIMEOUT_MS };
      const { watched, result } = await runChild(args);
      if (result.records !== options.records) throw new Error(`pipe: ${result.records} records, expected ${options.records}`);
      const r = runResult('pipe', run, watched, result.batches, result.records, result.firstBatchStart, result.lastCommit, bytesPerRecord);
      runs.push(r);
      log(`pipe #${run}: ${Math.round(r.steadyRate)} rec/s steady, ${Math.round(r.wallRate)} wall, p99 ${r.p99BatchMs} ms, RSS ${Math.round(r.peakRss / 2 ** 20)} MiB`);
      if (run === 1) await verifyCopied(target, options.partitions, options.verifySample, schemaId);
    };

    const runBaseline = async (run: number): Promise<void> => {
      const name = `e2e-${id}-baseline-${run}`;
      const target = `${source.replace('-src-', '-official-')}-${run}`;
      topics.push(target);
      subjects.push(`${target}-value`);
      groups.push(`bench-${name}`);
      await createTopic(target, options.partitions);
      await registry.register(`${target}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA, ruleSet: { domainRules: [encryptRule(kek)] } });
      const args: BaselineArgs = {
        mode: 'baseline', name, source, target, brokers, registryUrl, secret, batchSize: options.batchSize,
        seconds: options.baselineSeconds, maxRecords: options.baselineMaxRecords,
      };
      log(`baseline: Confluent's consumer + serdes + transactional producer, ${options.baselineSeconds} s time box`);
      const { watched, result } = await runChild(args);
      if (result.records === 0) throw new Error('baseline committed no record');
      const r = runResult('baseline', run, watched, result.batches, result.records, result.firstBatchStart, result.lastCommit, bytesPerRecord, {
        ...(result.serdeSeconds !== undefined ? { serdeSeconds: result.serdeSeconds } : {}),
        ...(result.transactionSeconds !== undefined ? { transactionSeconds: result.transactionSeconds } : {}),
      });
      runs.push(r);
      log(`baseline #${run}: ${result.records} records, ${Math.round(r.steadyRate)} rec/s steady, p99 ${r.p99BatchMs} ms`);
      if (run === 1) await verifyEncrypted(target, options.partitions, Math.min(options.verifySample, result.records), secret);
    };

    // (b), (d) and (c) take turns, so that a busy neighbour hits all of them alike: ratios are taken
    // within each round (the machine may be shared), then their median.
    for (let run = 1; run <= options.repetitions; run++) {
      await runRecrypt(run);
      await runPipe(run);
      if (options.baselineSeconds > 0) await runBaseline(run);
    }

    const recryptRuns = runs.filter((r) => r.contender === 'recrypt');
    const pipeRuns = runs.filter((r) => r.contender === 'pipe');
    const baselineRuns = runs.filter((r) => r.contender === 'baseline');
    const recrypt = summarize(recryptRuns);
    const pipe = summarize(pipeRuns);
    const baselineSummary = baselineRuns.length ? summarize(baselineRuns) : undefined;
    const serdeSeconds = baselineRuns.reduce((t, r) => t + (r.serdeSeconds ?? 0), 0);
    const transactionSeconds = baselineRuns.reduce((t, r) => t + (r.transactionSeconds ?? 0), 0);
    const serdeShare = serdeSeconds + transactionSeconds > 0 ? serdeSeconds / (serdeSeconds + transactionSeconds) : undefined;
    const paired = (others: readonly RunResult[], of: (r: RunResult) => number): number[] =>
      recryptRuns.flatMap((r) => { const o = others.find((x) => x.run === r.run); return o ? [of(r) / of(o)] : []; });
    const vsPipe = paired(pipeRuns, (r) => r.steadyRate);
    const vsPipeWall = paired(pipeRuns, (r) => r.wallRate);
    const vsBaseline = paired(baselineRuns, (r) => r.steadyRate);
    const { log: _log, ...rest } = options;
    return {
      options: rest,
      build: { compiled: commands.compiled, seconds: commands.seconds, ...(commands.note ? { note: commands.note } : {}) },
      load: { start: loadStart, end: loadAverage() },
      source: { ...produced, topic: source, partitions: options.partitions, bytesPerRecord },
      runs,
      recrypt,
      pipe,
      ...(baselineSummary ? {
        baseline: { ...baselineSummary, records: median(baselineRuns.map((r) => r.records)), ...(serdeShare !== undefined ? { serdeShare } : {}) },
      } : {}),
      ratios: {
        ...(vsBaseline.length ? { recryptVsBaseline: median(vsBaseline) } : {}),
        recryptVsPipe: median(vsPipe),
        recryptVsPipeWall: median(vsPipeWall),
        perRound: recryptRuns.map((r, i) => ({ run: r.run, vsPipe: vsPipe[i]!, ...(vsBaseline[i] !== undefined ? { vsBaseline: vsBaseline[i] } : {}) })),
      },
      cleanup,
    };
  } finally {
    log('cleaning up topics, subjects, keys and groups');
    try {
      cleanup.push(...await deleteTopicsAndGroups(topics, groups));
    } catch (err) {
      log(`cleanup of topics failed: ${(err as Error).message}`);
    }
    let deleted = 0;
    for (const subject of subjects) {
      await deks.deleteDek(kek, subject).then(() => deks.deleteDek(kek, subject, undefined, true)).catch(() => undefined);
      await registry.deleteSubject(subject).then(() => registry.deleteSubject(subject, true)).then(() => { deleted += 1; }, () => undefined);
    }
    await deks.deleteKek(kek).then(() => deks.deleteKek(kek, true)).catch(() => undefined);
    cleanup.push(`${deleted} subjects`);
  }
}
