// Runs the Kafka Streams join app of test/streams (built by scripts/streams-app.sh) against the stack's
// broker and reads what it joined. The app compares the join field's stored value, never decrypts, and
// writes one record per joined pair: the source positions of both sides, which decryptPairs resolves.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { consumeRaw, createTopic, deleteTopics, kafka } from '../../helpers/kafka.js';
import { stack, uniqueName } from '../../helpers/stack.js';

const ROOT = resolve(import.meta.dirname, '../../../..');

/** A cold build resolves kafka-streams and Avro from Maven Central: minutes on a slow network. */
export const STREAMS_APP_BUILD_TIMEOUT_MS = 600_000;

/** Builds the app when its sources changed (scripts/streams-app.sh) and returns its Java classpath. */
export async function buildStreamsApp(): Promise<{ classpath: string; ms: number }> {
  const started = Date.now();
  const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'scripts/streams-app.sh')], {
    timeout: STREAMS_APP_BUILD_TIMEOUT_MS, maxBuffer: 1 << 20,
  });
  const classpath = stdout.trim().split('\n').pop() ?? '';
  if (!classpath.includes('.jar')) throw new Error(`scripts/streams-app.sh printed no classpath: ${stdout}`);
  return { classpath, ms: Date.now() - started };
}

/** One input of the join: the topic, the field joined on, and the Avro schema (JSON text) that wrote it. */
export interface JoinSide {
  topic: string;
  field: string;
  schema: string;
}

/** Where the two records of a joined pair are in their topics. */
export interface JoinPair {
  leftPartition: number;
  leftOffset: number;
  rightPartition: number;
  rightOffset: number;
}

/** What the app counted (its one line on stdout). */
export interface JoinSummary {
  leftRead: number;
  rightRead: number;
  leftSkipped: number;
  rightSkipped: number;
  leftAtJoin: number;
  rightAtJoin: number;
  joined: number;
}

export interface JoinRun {
  pairs: JoinPair[];
  summary: JoinSummary;
  outputTopic: string;
  /** The app's run, from JVM start to exit. */
  ms: number;
  /** The app's warnings and errors (Kafka's and Streams' logs at WARN). */
  stderr: string;
}

export interface RunJoinOptions {
  left: JoinSide;
  right: JoinSide;
  /** Partitions of the repartition topics and of the output topic (default 2). */
  partitions?: number;
  /** The app stops after this long without a record (default 3000). */
  idleMs?: number;
  /** The app is killed after this long (default 120 s). */
  timeoutMs?: number;
}

/**
 * Joins left and right on their join fields with the Streams app (an inner, windowed KStream-KStream
 * join, co-partitioned by repartition topics) and returns the pairs from the output topic, read
 * read_committed (the app writes in transactions). Throws when the app fails; the caller checks the
 * summary (did it read every record?) before trusting a small or empty result. Deletes the app's
 * internal topics; the output topic is the caller's.
 */
export async function runJoin(classpath: string, options: RunJoinOptions): Promise<JoinRun> {
  const partitions = options.partitions ?? 2;
  const outputTopic = await createTopic('joined', partitions);
  const dir = mkdtempSync(join(tmpdir(), 'recrypt-join-'));
  const applicationId = uniqueName('recrypt-join');
  try {
    const leftSchema = join(dir, 'left.avsc');
    const rightSchema = join(dir, 'right.avsc');
    writeFileSync(leftSchema, options.left.schema);
    writeFileSync(rightSchema, options.right.schema);
    const args = [
      '--bootstrap-servers', stack.kafkaBrokers, '--application-id', applicationId,
      '--left-topic', options.left.topic, '--left-field', options.left.field, '--left-schema', leftSchema,
      '--right-topic', options.right.topic, '--right-field', options.right.field, '--right-schema', rightSchema,
      '--output-topic', outputTopic, '--repartition-partitions', String(partitions),
      '--idle-ms', String(options.idleMs ?? 3000), '--state-dir', join(dir, 'state'),
    ];
    const started = Date.now();
    const result = await runJava(classpath, args, options.timeoutMs ?? 120_000);
    const ms = Date.now() - started;
    await deleteInternalTopics(applicationId);
    if (result.code !== 0) throw new Error(`Streams join app exited with ${result.code ?? result.signal}:\n${result.stderr}`);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as JoinSummary;
    const records = await consumeRaw(outputTopic, summary.joined > 0 ? { count: summary.joined, idleMs: 15_000 } : { idleMs: 5000 });
    const pairs = records.map((r) => JSON.parse(r.value!.toString()) as JoinPair);
    return { pairs, summary, outputTopic, ms, stderr: result.stderr };
  } catch (error) {
    await deleteTopics(outputTopic);
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runJava(classpath: string, args: string[], timeoutMs: number) {
  // Small heap, quick start: the app holds two small window stores; the machine has two cores.
  const child = spawn('java', ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', classpath,
    'dev.recrypt.streams.JoinApp', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  // SIGTERM first: the app closes its Streams client (and commits); SIGKILL if that hangs too.
  const term = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) => {
    child.on('close', (code, signal) => {
      clearTimeout(term);
      clearTimeout(kill);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** The repartition and changelog topics Streams created, all named "<application id>-...". */
async function deleteInternalTopics(applicationId: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  let internal: string[];
  try {
    internal = (await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`));
  } finally {
    await admin.disconnect();
  }
  if (internal.length) await deleteTopics(...internal);
}
