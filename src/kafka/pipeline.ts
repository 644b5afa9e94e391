/**
 * The exactly-once consume -> transform -> produce loop, over two state machines it does not own: each
 * partition is one state record in the partition table (partition-table.ts) whose status moves only by
 * the transition table of partition-state.ts (assigned, running, paused, halted, done, revoked), and
 * each batch goes through the batch cycle (batch-cycle.ts), a function from a batch to an outcome. The
 * loop feeds the one with the other and makes the client calls (poll, seek, pause, resume); of its own
 * it keeps only the back-off counts (backoff.ts), the fetch ahead and the records held while narrowing.
 *
 *   resume due -> POLL -> table.accept -> CYCLE -> committed: progress, finish, halt ---------> POLL
 *                                            +--> not committed: rewind, pause for a back-off -> POLL
 *
 * The rebalance callback (group mode) applies assign and revoke to the table; a bounded pipeline
 * (ranges) assigns its partitions itself and ends when each is done or halted. The next batch is
 * fetched while a transaction commits, and dropped (its partitions sought back) if it did not commit.
 * One transactional producer per consumer, with the settings of pipeline-clients.ts.
 *
 * Offsets are committed only in the transaction that wrote the outputs: a crash replays from the last
 * commit, and read_committed readers never see a record twice. A halted partition (an ERROR action, or
 * a record refused for good without a DLQ) commits what came before the failing record and stays on it;
 * the others go on. A refusal at commit that no record can be blamed for makes the loop replay the
 * records of those partitions one per transaction until the refused one is found ("narrowing"); the
 * other partitions' records go in batches meanwhile. A refusal about a target topic (not allowed, gone)
 * halts the batch's partitions. An error with a librdkafka code no list knows (kafka-errors.ts), with or
 * without the abort-required flag, halts a partition once it failed 10 cycles in a row with that code
 * and no commit in between.
 */
import kafka from '@confluentinc/kafka-javascript';
import { RecryptError, errorCodeOf, isTransient } from '../util/errors.js';
import { partitionKey, type SourceRecord, type TopicPartition } from '../util/records.js';
import { PartitionBackoff } from './backoff.js';
import { BatchCycle, firstOffsets, type CycleOutcome, type Transformed } from './batch-cycle.js';
import { kafkaClients } from './client-factory.js';
import { ConnectionWatch } from './connection-watch.js';
import { classifyKafkaError, unlistedKafkaCode } from './kafka-errors.js';
import {
  committedOffsets, connect, consumeBatch, disconnect, metadata, seek, transactions, watermarks,
  type NativeConsumer, type NativeProducer, type TopicPartitionOffset,
} from './native.js';
import { owned, transition, type PartitionProgress } from './partition-state.js';
import { gatherBatch } from './batch-gather.js';
import { NextBatch, speculationFor, type Speculation, type Speculator } from './next-batch.js';
import { consumerSettings, producerSettings } from './pipeline-clients.js';
import { PartitionTable, type PartitionLag } from './partition-table.js';
import type { PartitionRange, PipelineOptions, PipelineSummary } from './pipeline-types.js';
import { Transactions } from './transaction.js';

export type { PartitionProgress } from './partition-state.js';
export type { PartitionRange, PipelineObserver, PipelineOptions, PipelineSummary, StartAt } from './pipeline-types.js';

type State = 'created' | 'running' | 'stopping' | 'stopped' | 'failed';

const OFFSET_END = -1;
const OFFSET_BEGINNING = -2;
const OFFSET_INVALID = -1001;
/** Failed cycles in a row with the same unlisted librdkafka code after which a partition halts. */
const MAX_UNLISTED_RETRIES = 10;

export class TransactionalPipeline {
  private state: State = 'created';
  private consumer?: NativeConsumer;
  private producer?: NativeProducer;
  /** Every partition ever assigned; status changes only through `transition` (partition-state.ts). */
  private readonly table = new PartitionTable();
  private readonly backoff: PartitionBackoff;
  private readonly connection: ConnectionWatch;
  private batchCycle?: BatchCycle;
  /** While narrowing: records of narrowing partitions accepted and not yet processed, taken one per cycle before polling again. */
  private held: SourceRecord[] = [];
  private startedAt = 0;
  private stopRequested = false;
  private rebalancing: Promise<void> = Promise.resolve();
  private lastProgressAt = Date.now();

  constructor(private readonly options: PipelineOptions) {
    this.backoff = new PartitionBackoff(options.backoff ?? { initialMs: 200, maxMs: 30_000 });
    this.connection = new ConnectionWatch(() => metadata(this.producer!, 1500), options.observer);
  }

  get partitions(): readonly PartitionProgress[] {
    return this.table.progress();
  }

  /** True while no partition is halted (the service's readiness). */
  get healthy(): boolean {
    return !this.table.anyHalted() && this.state !== 'failed';
  }

  /** When the last transaction committed (or the pipeline started). */
  get lastProgress(): number {
    return this.lastProgressAt;
  }

  /**
   * Records between each owned partition's committed offset and its end, from the consumer's cached
   * watermarks (no broker round trip). Halted partitions count: they are lag too.
   */
  lag(): PartitionLag[] {
    const consumer = this.consumer;
    if (!consumer || this.state !== 'running') return [];
    return this.table.lag((topic, partition) => consumer.getWatermarkOffsets(topic, partition).highOffset);
  }

  /** Asks the loop to finish its current transaction and return. */
  stop(): void {
    this.stopRequested = true;
  }

  async run(): Promise<PipelineSummary> {
    if (this.state !== 'created') throw new RecryptError('INTERNAL', 'a pipeline runs once');
    this.state = 'running';
    this.startedAt = Date.now();
    try {
      await this.open();
      await this.loop();
      this.state = 'stopped';
    } catch (err) {
      this.state = 'failed';
      throw err;
    } finally {
      await this.close();
    }
    return this.summary();
  }

  summary(): PipelineSummary {
    const partitions = this.partitions;
    return {
      partitions,
      records: partitions.reduce((n, p) => n + p.records, 0),
      written: partitions.reduce((n, p) => n + p.written, 0),
      dlq: partitions.reduce((n, p) => n + p.dlq, 0),
      durationMs: Date.now() - this.startedAt,
      halted: this.table.anyHalted(),
    };
  }

  private get txTimeoutMs(): number {
    return this.options.transactionTimeoutMs ?? 60_000;
  }

  private async open(): Promise<void> {
    const { connection, name } = this.options;
    const clients = this.options.clients ?? kafkaClients(connection);
    const clientId = `recrypt-${name}`;
    const bounded = this.options.ranges !== undefined;
    const onRebalance = (err: { code: number }, assignment: TopicPartition[]) => this.onRebalance(err, assignment);
    const { config: consumerConfig, topicConfig } = consumerSettings(this.options, bounded ? undefined : onRebalance);
    const consumer = clients.consumer(clientId, consumerConfig, topicConfig);
    consumer.setDefaultConsumeTimeout(200);
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.on('partition.eof', (eof) => this.table.seenEnd(eof, eof.offset));
    this.consumer = consumer;

    const { config: producerConfig, limits } = producerSettings(this.options, clientId, this.txTimeoutMs);
    const producer = clients.producer(clientId, producerConfig);
    this.producer = producer;
    const owns = (key: string) => owned(this.table.get(key));
    // A commit that stalls may be the start of an outage: probe now rather than after the commit gives up.
    const stalled = () => {
      this.connection.suspect();
      void this.connection.check();
    };
    const stallMs = Math.min(5000, Math.max(100, this.txTimeoutMs / 10));
    const txns = new Transactions(producer, consumer, this.txTimeoutMs, stalled, stallMs);
    this.batchCycle = new BatchCycle({ ...this.options, owns, revocations: () => this.table.revocations }, txns, limits);
    // librdkafka reports a lost cluster as an error event, not through any call in flight. The bindings
    // hand such events over with librdkafka's message only (code -1), so the message is matched too.
    const onClientError = (err: { code?: number; message?: string }) => {
      if (err?.code === kafka.CODES.ERRORS.ERR__ALL_BROKERS_DOWN || /all broker connections are down/i.test(err?.message ?? '')) this.connection.suspect();
    };
    consumer.on('event.error', onClientError);
    producer.on('event.error', onClientError);

    await connect(consumer, 'connect consumer');
    await connect(producer, 'connect producer');
    producer.setPollInterval(100);
    await transactions.init(producer, this.txTimeoutMs);

    if (bounded) await this.assignRanges(this.options.ranges ?? []);
    else if (this.options.topicPattern) consumer.subscribe([this.options.topicPattern]);
    else consumer.subscribe([...(this.options.topics ?? [])]);
  }

  private async assignRanges(ranges: readonly PartitionRange[]): Promise<void> {
    const consumer = this.consumer!;
    const committed = await this.retryTransient(() => committedOffsets(consumer, ranges.map(({ topic, partition }) => ({ topic, partition })), 10_000));
    const assignment: TopicPartitionOffset[] = [];
    for (const range of ranges) {
      const stored = committed.find((c) => c.topic === range.topic && c.partition === range.partition)?.offset ?? OFFSET_INVALID;
      let start = stored >= 0 ? stored : range.from;
      if (start === undefined) start = (await watermarks(consumer, range)).low;
      const state = this.table.addRange(range, start, range.to);
      if (state.status !== 'done') assignment.push({ topic: range.topic, partition: range.partition, offset: start });
    }
    if (assignment.length) consumer.assign(assignment);
    this.options.observer?.onAssigned?.(assignment);
  }

  /**
   * Retries a start-up call while it fails transiently: a broker that is not reachable yet, or
   * committed offsets held back by a transaction a crashed predecessor left open (the broker answers
   * only once that transaction is aborted or times out).
   */
  private async retryTransient<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.txTimeoutMs * 2 + 30_000;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!isTransient(err) || Date.now() > deadline || this.stopRequested) throw err;
        const delay = Math.min(5000, 200 * 2 ** attempt);
        this.options.observer?.onTransientError?.(err as RecryptError, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private onRebalance(err: { code: number }, assignment: TopicPartition[]): void {
    const consumer = this.consumer!;
    const tps = assignment.map(({ topic, partition }) => ({ topic, partition }));
    if (err.code === kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
      consumer.incrementalAssign(tps);
      // librdkafka keeps a pause across revoke and assign: a partition this member paused (back-off,
      // halt) and got back would never be read again. The table starts it afresh, so it is resumed.
      consumer.resume(tps);
      this.table.assign(tps);
      // Positions come from the group's committed offsets; learn them before the next batch.
      this.rebalancing = this.rebalancing.then(async () => this.table.positions(await committedOffsets(consumer, tps))).catch(() => undefined);
      this.options.observer?.onAssigned?.(tps);
    } else if (err.code === kafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
      // A revoke can fire while a transaction is open (a fetch ahead in flight): the cycle then aborts
      // that transaction before its commit (and its sendOffsets may fail on a stale generation anyway)
      // and plans its retry without the partitions revoked: nothing is written twice.
      consumer.incrementalUnassign(tps);
      this.table.revoke(tps);
      const keys = new Set(tps.map((tp) => partitionKey(tp.topic, tp.partition)));
      // Held records of a partition given back later would skip the check of the offset expected.
      if (this.held.length > 0) this.held = this.held.filter((r) => !keys.has(partitionKey(r.topic, r.partition)));
      this.backoff.reset(keys);
      this.options.observer?.onRevoked?.(tps);
    }
  }

  private async loop(): Promise<void> {
    const batchSize = this.options.batchSize ?? 2000;
    const bounded = this.options.ranges !== undefined;
    // The next batch is fetched while the current transaction commits (the commit is a broker round
    // trip the JavaScript thread would otherwise idle through), and with overlapTransform transformed
    // then too (next-batch.ts). Either is dropped (its partitions sought back) if the commit failed.
    const next = new NextBatch(() => this.poll(batchSize), this.options.overlapTransform ? this.speculator() : undefined);
    try {
      while (!this.stopRequested && !(bounded && this.table.allSettled())) {
        await this.rebalancing;
        for (const s of this.table.resumeDue(Date.now())) this.consumer!.resume([{ topic: s.topic, partition: s.partition }]);
        await this.connection.check();
        let batch: SourceRecord[];
        let speculation: Speculation | undefined;
        if (this.held.length > 0) {
          batch = this.held.filter((r) => this.table.holds(r));
          this.held = [];
        } else {
          const fetched = await next.take() ?? { records: await this.poll(batchSize) };
          batch = this.table.accept(fetched.records);
          speculation = fetched.speculation;
        }
        if (this.table.pruneNarrowing() && batch.length > 1) {
          const { take, hold } = this.table.oneNarrowingRecord(batch);
          batch = take;
          this.held = this.held.concat(hold);
        }
        if (batch.length > 0) {
          const transformed = speculationFor(speculation, batch, this.table.revocations);
          const committed = await this.cycle(batch, () => next.start(), transformed);
          if (!committed && this.held.length > 0) {
            await this.seekAll(this.table.drop(this.held));
            this.held = [];
          }
          if (!committed && next.started) await this.seekAll(this.table.drop(await next.drop()));
          // Ends seen by fetches that overlapped a failed cycle may lie beyond records now unread
          // again; the consumer reports the end anew when it gets there after the seek.
          if (!committed) this.table.forgetEnds();
        }
        // An end-of-partition seen by a fetch still in flight says nothing yet: its records have not
        // been accepted, so `expected` does not show them. Judge the ranges only with no fetch pending.
        if (!next.started) for (const s of this.table.finishRangesAtEnd()) this.pauseForever(s);
      }
    } finally {
      // Records fetched ahead and not processed are simply not committed: the next run reads them again.
      await next.settle();
    }
  }

  /** Transforms run ahead on the batch after the one committing, on what the table would accept now. */
  private speculator(): Speculator {
    return {
      preview: (records) => (this.held.length > 0 || this.table.anyNarrowing() ? undefined : this.table.preview(records)),
      revocations: () => this.table.revocations,
      transform: (batch) => this.batchCycle!.transform(batch),
    };
  }

  private poll(batchSize: number): Promise<SourceRecord[]> {
    const consume = (max: number) => consumeBatch(this.consumer!, max).catch((err: unknown) => {
      const e = classifyKafkaError('consume', err);
      if (!e.transient) throw e;
      return [] as SourceRecord[];
    });
    const waitMs = this.options.ranges === undefined ? this.options.commitIntervalMs ?? 0 : 0;
    return gatherBatch(consume, { batchSize, waitMs, stopped: () => this.stopRequested });
  }

  private async seekAll(positions: readonly TopicPartitionOffset[]): Promise<void> {
    for (const tpo of positions) await seek(this.consumer!, tpo).catch(() => undefined);
  }

  private pauseForever(tp: TopicPartition): void {
    this.consumer!.pause([{ topic: tp.topic, partition: tp.partition }]);
  }

  /**
   * One batch through the cycle (batch-cycle.ts), its outcome applied to the partitions: committed
   * progress, ranges done and halts, or a rewind and a back-off. Returns whether it committed.
   */
  private async cycle(batch: SourceRecord[], whileCommitting: () => void, transformed?: Transformed): Promise<boolean> {
    const outcome = await this.batchCycle!.run(batch, whileCommitting, transformed);
    if (outcome.committed) {
      this.applyCommit(outcome);
      return true;
    }
    // Refused at commit, record unknown: replay these records one per transaction.
    if (outcome.narrow) this.table.narrow(batch);
    if (outcome.outage) this.connection.suspect();
    await this.backOff(batch, outcome.error);
    return false;
  }

  private applyCommit({ plan, startedAt, commitStartedAt, transformMs, timings, transformedAhead }: Extract<CycleOutcome, { committed: true }>): void {
    const { finished, totals } = this.table.commit(plan);
    for (const p of finished) this.pauseForever(p);
    this.backoff.reset(plan.nextOffsets.keys());
    if (plan.nextOffsets.size > 0) this.connection.back();
    for (const { record, error } of plan.halts) this.halt(record, error);
    this.lastProgressAt = Date.now();
    this.options.observer?.onBatchCommitted?.({
      ...totals, latencyMs: this.lastProgressAt - startedAt, commitMs: this.lastProgressAt - commitStartedAt, transformMs, transformedAhead, ...(timings ? { transaction: timings } : {}),
    });
  }

  /**
   * Rewinds the batch and pauses its partitions; the delay grows with their failures since their last
   * commit (per partition: one partition failing does not slow the others down). A partition whose
   * last MAX_UNLISTED_RETRIES failures had the same unlisted librdkafka code halts instead.
   */
  private async backOff(batch: readonly SourceRecord[], error: RecryptError): Promise<void> {
    const firsts = firstOffsets(batch);
    const delay = this.backoff.next(firsts.keys());
    const code = unlistedKafkaCode(error);
    const gaveUp = this.backoff.repeated(firsts.keys(), code, MAX_UNLISTED_RETRIES);
    const tps = [...firsts.values()].map(({ topic, partition }) => ({ topic, partition }));
    this.options.observer?.onTransientError?.(error, delay, tps);
    await this.seekAll(this.table.rewind(batch));
    const until = Date.now() + delay;
    for (const [key, tp] of firsts) {
      // An error no list knows, the same every time: retrying it for ever would hide it.
      if (gaveUp.has(key)) {
        this.halt(tp, new RecryptError('KAFKA_TRANSACTION',
          `${error.message}; retried ${MAX_UNLISTED_RETRIES} times in a row with the same librdkafka code ${code} and no commit in between: not retried any more`,
          { cause: error, transient: false }));
        continue;
      }
      const s = this.table.get(key);
      if (s) transition(s, { type: 'pause', until });
      // A partition revoked meanwhile stays revoked: not ours to pause.
      if (s?.status === 'paused') this.consumer!.pause([{ topic: tp.topic, partition: tp.partition }]);
    }
  }

  private halt(record: TopicPartitionOffset, error: RecryptError): void {
    const s = this.table.stateOf(record);
    transition(s, { type: 'halt', offset: record.offset, code: errorCodeOf(error) });
    if (s.status === 'halted') this.consumer!.pause([{ topic: record.topic, partition: record.partition }]);
    this.options.observer?.onHalt?.({ topic: record.topic, partition: record.partition }, record.offset, error);
  }

  private async close(): Promise<void> {
    if (this.consumer) await disconnect(this.consumer);
    if (this.producer) await disconnect(this.producer);
  }
}

export { OFFSET_BEGINNING, OFFSET_END };
