/**
 * The end-to-end benchmark's child processes (bench/e2e.ts runs each contender in its own process, so
 * that its memory and CPU can be read from /proc exactly like `recrypt run`'s):
 *
 *   pipe:     recrypt's TransactionalPipeline with a processor that returns every source record's bytes
 *             unchanged (same key, value, headers, timestamp, partition) for a new topic: the copy the
 *             loop can do with no decoding, with the batch size and client settings `recrypt run` uses.
 *   baseline: what a user writes with Confluent's libraries: the KafkaJS-compatible consumer of
 *             @confluentinc/kafka-javascript (eachBatch), @confluentinc/schemaregistry's deserializer
 *             and serializer of the format (bench/e2e-formats.ts) with the FieldEncryptionExecutor and
 *             local-kms (decrypting what the source subject's rules encrypt, encrypting what the target
 *             subject's rules say), and a transactional producer that commits the batch's outputs with
 *             its offsets (sendOffsets): exactly once too.
 *
 * Arguments: one JSON object (ChildArgs). The last stdout line is `E2E-RESULT <ChildResult JSON>`.
 */
import kafka from '@confluentinc/kafka-javascript';
import { kafkaConnectionFromEnv } from '../src/service/config.js';
import { TransactionalPipeline } from '../src/kafka/pipeline.js';
import { ensureMirroredTopic, snapshotOffsets } from '../src/kafka/topics.js';
import type { ProcessedRecord, SourceRecord } from '../src/kafka/types.js';
import type { Format } from './e2e-formats.js';

export interface PipeArgs {
  readonly mode: 'pipe';
  readonly name: string;
  readonly source: string;
  readonly target: string;
  readonly batchSize: number;
  readonly transactionTimeoutMs: number;
}

export interface BaselineArgs {
  readonly mode: 'baseline';
  readonly format: Format;
  /** Protobuf: serve `format=serialized` through a proxy (a registry that does not). */
  readonly proxyProtobuf?: boolean;
  readonly name: string;
  readonly source: string;
  readonly target: string;
  readonly brokers: string;
  readonly registryUrl: string;
  readonly secret: string;
  /** Records per eachBatch call and transaction ('js.consumer.max.batch.size'). */
  readonly batchSize: number;
  /** Stop after this long of processing, or after maxRecords, whichever comes first. */
  readonly seconds: number;
  readonly maxRecords: number;
}

export type ChildArgs = PipeArgs | BaselineArgs;

export interface ChildResult {
  readonly records: number;
  /** Key + value bytes of the source records processed. */
  readonly bytes: number;
  /** Date.now() when the first batch started processing, and when the last transaction committed. */
  readonly firstBatchStart: number;
  readonly lastCommit: number;
  /** Per committed batch: records, milliseconds from processing start to commit, and of those the transaction's (pipe). */
  readonly batches: ReadonlyArray<{ readonly records: number; readonly latencyMs: number; readonly commitMs?: number }>;
  /** Baseline only: seconds spent in the serdes, and in begin/send/sendOffsets/commit. */
  readonly serdeSeconds?: number;
  readonly transactionSeconds?: number;
}

const RESULT_PREFIX = 'E2E-RESULT ';

export function parseChildResult(stdout: string): ChildResult | undefined {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
  return line ? JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildResult : undefined;
}

async function pipe(args: PipeArgs): Promise<ChildResult> {
  const connection = kafkaConnectionFromEnv();
  // As startJob does for `recrypt run`: a mirrored target topic, then stopAt end's offset snapshot.
  await ensureMirroredTopic(connection, args.source, args.target, { create: true });
  const ranges = (await snapshotOffsets(connection, [args.source])).map((p) => ({ topic: p.topic, partition: p.partition, to: p.high }));
  const batches: Array<{ records: number; latencyMs: number; commitMs: number }> = [];
  let firstBatchStart = 0;
  let lastCommit = 0;
  let bytes = 0;
  const { target } = args;
  const processor = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => batch.map((r) => {
    bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    return { outputs: [{ topic: target, partition: r.partition, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }] };
  });
  const pipeline = new TransactionalPipeline({
    name: args.name,
    connection,
    groupId: `recrypt-${args.name}`,
    transactionalId: `recrypt-${args.name}-bench`,
    topics: [args.source],
    ranges,
    startAt: 'earliest',
    processor,
    batchSize: args.batchSize,
    transactionTimeoutMs: args.transactionTimeoutMs,
    observer: {
      onBatchCommitted: (info) => {
        const now = Date.now();
        if (firstBatchStart === 0) firstBatchStart = now - info.latencyMs;
        lastCommit = now;
        batches.push({ records: info.records, latencyMs: info.latencyMs, commitMs: info.commitMs });
      },
    },
  });
  const summary = await pipeline.run();
  if (summary.halted) throw new Error('the pipe halted a partition');
  return { records: summary.records, bytes, firstBatchStart, lastCommit, batches };
}

async function baseline(args: BaselineArgs): Promise<ChildResult> {
  const { Kafka, logLevel } = kafka.KafkaJS;
  // Loaded here, not at the top: the pipe's process should not carry the serdes in its RSS.
  const { officialSerdes } = await import('./e2e-formats.js');
  const serdes = await officialSerdes(args.format, args.registryUrl, args.secret, args.proxyProtobuf === true);

  const client = new Kafka({ kafkaJS: { brokers: args.brokers.split(','), logLevel: logLevel.ERROR } });
  const consumer = client.consumer({
    kafkaJS: { groupId: `bench-${args.name}`, fromBeginning: true, autoCommit: false },
    'js.consumer.max.batch.size': args.batchSize,
  });
  const producer = client.producer({ kafkaJS: { transactionalId: `bench-${args.name}`, idempotent: true } });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [args.source] });

  const batches: Array<{ records: number; latencyMs: number }> = [];
  let records = 0;
  let bytes = 0;
  let firstBatchStart = 0;
  let lastCommit = 0;
  let serdeMs = 0;
  let transactionMs = 0;
  let stopping = false;
  let failure: unknown;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => { finish = resolve; });

  void consumer.run({
    eachBatch: async ({ batch }) => {
      if (stopping) return;
      try {
        const started = Date.now();
        if (firstBatchStart === 0) firstBatchStart = started;
        const messages = [];
        for (const m of batch.messages) {
          const value = await serdes.transform(args.source, args.target, m.value!);
          messages.push({ key: m.key, value, partition: batch.partition, timestamp: m.timestamp, headers: m.headers });
          bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
        }
        const serialized = Date.now();
        const tx = await producer.transaction();
        await tx.send({ topic: args.target, messages });
        const next = String(Number(batch.messages[batch.messages.length - 1]!.offset) + 1);
        await tx.sendOffsets({ consumer, topics: [{ topic: args.source, partitions: [{ partition: batch.partition, offset: next }] }] });
        await tx.commit();
        lastCommit = Date.now();
        serdeMs += serialized - started;
        transactionMs += lastCommit - serialized;
        records += batch.messages.length;
        batches.push({ records: batch.messages.length, latencyMs: lastCommit - started });
        if (records >= args.maxRecords || lastCommit - firstBatchStart >= args.seconds * 1000) {
          stopping = true;
          finish();
        }
      } catch (err) {
        failure ??= err;
        stopping = true;
        finish();
      }
    },
  });
  await finished;
  await consumer.disconnect();
  await producer.disconnect();
  await serdes.close();
  if (failure) throw failure;
  return { records, bytes, firstBatchStart, lastCommit, batches, serdeSeconds: serdeMs / 1000, transactionSeconds: transactionMs / 1000 };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
  const result = args.mode === 'pipe' ? await pipe(args) : await baseline(args);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

// Only when run as a process (bench/e2e.ts imports parseChildResult from here).
if (process.argv[1] && /e2e-child\.[jt]s$/.test(process.argv[1])) {
  main().then(() => process.exit(0), (err: unknown) => {
    console.error('e2e child failed:', err);
    process.exit(1);
  });
}
