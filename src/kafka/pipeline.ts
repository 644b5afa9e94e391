/**
 * The exactly-once consume -> transform -> produce loop.
 *
 * One transactional producer per consumer. Each cycle is a small state machine:
 *
 *   POLL -> PROCESS -> BEGIN -> PRODUCE -> SEND_OFFSETS -> COMMIT -> POLL
 *              |                   (any failure) -> ABORT -> REWIND -> POLL
 *              +-- transient error -> REWIND + pause the batch's partitions for a backoff -> POLL
 *
 * Offsets are committed only inside the transaction that wrote the outputs, so a crash at any point
 * replays from the last commit and read_committed readers never see a record twice. A halted
 * partition (a permanent failure whose action is ERROR) commits what came before the failing record,
 * then stays paused with its offset on that record; other partitions go on.
 *
 * A record the producer or broker refuses for good (too large, invalid) is a failure of that record,
 * not of the transaction: it halts its partition (or, when the job has a DLQ, goes there as a
 * reference record) and the rest of the batch is committed without it. Sizes are checked before
 * producing; a refusal that surfaces only at commit and cannot be tied to a record makes the loop
 * replay those records one per transaction until the refused one is found ("narrowing").
 */
import kafka from '@confluentinc/kafka-javascript';
import { RecryptError, errorCodeOf, isRecryptError, isTransient } from '../util/errors.js';
import { baseClientConfig, type KafkaConnection } from './connection.js';
import { PartitionBackoff } from './backoff.js';
import { classifyKafkaError } from './kafka-errors.js';
import {
  committedOffsets, connect, consumeBatch, disconnect, metadata, produce, seek, transactions, watermarks,
  type NativeConsumer, type NativeProducer, type TopicPartitionOffset,
} from './native.js';
import { assignedPartition, owned, progressOf, transition, type PartitionProgress, type PartitionState } from './partition-state.js';
import { BATCH_OVERHEAD, oversize, producerMaxBytes, refusedRecord, type SizeLimits } from './record-size.js';
import { partitionKey, type OutputRecord, type ProcessedRecord, type RecordProcessor, type SourceRecord, type TopicPartition } from './types.js';

export type StartAt = 'earliest' | 'latest' | 'committed';

export interface PipelineOptions {
  readonly name: string;
  readonly connection: KafkaConnection;
  readonly groupId: string;
  readonly transactionalId: string;
  /** Topics to subscribe to (group mode) or to assign whole (bounded mode). */
  readonly topics?: readonly string[];
  readonly topicPattern?: RegExp;
  /**
   * Explicit partitions and offset ranges (backfill tasks, stopAt end). When given, the pipeline assigns
   * them itself instead of subscribing, and finishes when every range is done.
   */
  readonly ranges?: readonly PartitionRange[];
  /** Group mode: finish once every assigned partition reaches the end offsets seen at start. */
  readonly startAt: StartAt;
  readonly processor: RecordProcessor;
  readonly batchSize?: number;
  readonly transactionTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly observer?: PipelineObserver;
  /** Extra librdkafka settings for consumer and producer (tuning). */
  readonly consumerConfig?: Readonly<Record<string, string | number | boolean>>;
  readonly producerConfig?: Readonly<Record<string, string | number | boolean>>;
  /** Target topics' max.message.bytes (fetched at start): records over it are refused before producing. */
  readonly topicMaxBytes?: ReadonlyMap<string, number>;
  /**
   * What becomes of a source record whose output is refused for good (RECORD_TOO_LARGE, KAFKA_PRODUCE):
   * by default its partition halts; a job with a DLQ returns the reference DLQ record here. A transient
   * throw retries the batch.
   */
  readonly onRefused?: (record: SourceRecord, error: RecryptError) => Promise<ProcessedRecord>;
}

export interface PartitionRange extends TopicPartition {
  /** First offset to read when the group has no committed offset (default: the partition start). */
  readonly from?: number;
  /** Exclusive end offset: the partition is done once the next offset to read reaches it. */
  readonly to: number;
}

export type { PartitionProgress } from './partition-state.js';

export interface PipelineObserver {
  onBatchCommitted?(info: { records: number; written: number; dlq: number; latencyMs: number; commitMs: number }): void;
  onHalt?(partition: TopicPartition, offset: number, error: RecryptError): void;
  /** `partitions`: the partitions paused for `retryInMs` (absent for start-up retries). */
  onTransientError?(error: RecryptError, retryInMs: number, partitions?: readonly TopicPartition[]): void;
  /** Once per outage: every broker unreachable (and a probe confirmed it). */
  onConnectionLost?(error: RecryptError): void;
  /** Once per outage: the brokers answer again. */
  onConnectionRestored?(info: { downMs: number }): void;
  onAbort?(error: RecryptError): void;
  onAssigned?(partitions: readonly TopicPartition[]): void;
  onRevoked?(partitions: readonly TopicPartition[]): void;
}

export interface PipelineSummary {
  readonly partitions: readonly PartitionProgress[];
  readonly records: number;
  readonly written: number;
  readonly dlq: number;
  readonly durationMs: number;
  readonly halted: boolean;
}

type State = 'created' | 'running' | 'stopping' | 'stopped' | 'failed';

const OFFSET_END = -1;
const OFFSET_BEGINNING = -2;
const OFFSET_INVALID = -1001;

export class TransactionalPipeline {
  private state: State = 'created';
  private consumer?: NativeConsumer;
  private producer?: NativeProducer;
  /** Every partition ever assigned, by partitionKey; status changes only through `transition` (partition-state.ts). */
  private readonly states = new Map<string, PartitionState>();
  private readonly backoff: PartitionBackoff;
  private limits: SizeLimits = { producerMaxBytes: Number.POSITIVE_INFINITY, topicMaxBytes: new Map() };
  /** While narrowing: records accepted and not yet processed, taken one per cycle before polling again. */
  private held: SourceRecord[] = [];
  /** When a broker outage was suspected (client error event, unavailable commit) and when it was confirmed. */
  private suspectSince?: number;
  private lostSince?: number;
  private lastProbeAt = 0;
  private startedAt = 0;
  private stopRequested = false;
  private rebalancing: Promise<void> = Promise.resolve();
  private lastProgressAt = Date.now();

  constructor(private readonly options: PipelineOptions) {
    this.backoff = new PartitionBackoff(options.backoff ?? { initialMs: 200, maxMs: 30_000 });
  }

  get partitions(): readonly PartitionProgress[] {
    const out: PartitionProgress[] = [];
    for (const s of this.states.values()) if (s.progress) out.push(s.progress);
    return out;
  }

  /** True while no partition is halted (the service's readiness). */
  get healthy(): boolean {
    return !this.anyHalted() && this.state !== 'failed';
  }

  private anyHalted(): boolean {
    for (const s of this.states.values()) if (s.status === 'halted') return true;
    return false;
  }

  /** When the last transaction committed (or the pipeline started). */
  get lastProgress(): number {
    return this.lastProgressAt;
  }

  /**
   * Records between each owned partition's committed offset and its end, from the consumer's cached
   * watermarks (no broker round trip). Halted partitions count: they are lag too.
   */
  lag(): Array<{ topic: string; partition: number; lag: number }> {
    const out: Array<{ topic: string; partition: number; lag: number }> = [];
    if (!this.consumer || this.state !== 'running') return out;
    for (const s of this.states.values()) {
      const p = s.progress;
      if (!owned(s) || !p) continue;
      try {
        const high = this.consumer.getWatermarkOffsets(s.topic, s.partition).highOffset;
        const end = p.end === undefined ? high : Math.min(high, p.end);
        if (end >= 0) out.push({ topic: s.topic, partition: s.partition, lag: Math.max(0, end - p.committed) });
      } catch {
        // No watermark cached yet for this partition.
      }
    }
    return out;
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
      halted: this.anyHalted(),
    };
  }

  private get txTimeoutMs(): number {
    return this.options.transactionTimeoutMs ?? 60_000;
  }

  private async open(): Promise<void> {
    const { connection, name, groupId, transactionalId } = this.options;
    const bounded = this.options.ranges !== undefined;
    const consumer = new kafka.KafkaConsumer({
      ...baseClientConfig(connection, `recrypt-${name}`),
      'group.id': groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      'partition.assignment.strategy': 'cooperative-sticky',
      // Bound prefetch memory per partition queue (RSS target of the service).
      'queued.max.messages.kbytes': 16_384,
      ...(bounded ? {} : { rebalance_cb: (err: { code: number }, assignment: TopicPartition[]) => this.onRebalance(err, assignment) }),
      ...this.options.consumerConfig,
    }, { 'auto.offset.reset': this.options.startAt === 'latest' ? 'latest' : 'earliest' }) as NativeConsumer;
    consumer.setDefaultConsumeTimeout(200);
    consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.on('partition.eof', (eof) => {
      const s = this.states.get(partitionKey(eof.topic, eof.partition));
      if (s) s.eofAt = Math.max(eof.offset, s.eofAt ?? -1);
    });
    this.consumer = consumer;

    const producerConfig: Record<string, string | number | boolean> = {
      ...baseClientConfig(connection, `recrypt-${name}`),
      'transactional.id': transactionalId,
      'enable.idempotence': true,
      'transaction.timeout.ms': this.txTimeoutMs,
      'linger.ms': 5,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 500_000,
      'queue.buffering.max.kbytes': 262_144,
      'compression.type': 'lz4',
      ...this.options.producerConfig,
    };
    const topicMaxBytes = this.options.topicMaxBytes ?? new Map<string, number>();
    // A batch of small records over a target topic's limit would be refused whole, with no record to
    // blame: keep librdkafka's batches (uncompressed, so compressed too) within the smallest limit.
    const smallest = Math.min(...topicMaxBytes.values());
    if (Number.isFinite(smallest) && producerConfig['batch.size'] === undefined) {
      producerConfig['batch.size'] = Math.max(1024, Math.min(1_000_000, smallest - BATCH_OVERHEAD));
    }
    this.limits = { producerMaxBytes: producerMaxBytes(producerConfig), topicMaxBytes };
    const producer = new kafka.Producer(producerConfig);
    this.producer = producer;
    // librdkafka reports a lost cluster as an error event, not through any call in flight. The bindings
    // hand such events over with librdkafka's message only (code -1), so the message is matched too.
    const onClientError = (err: { code?: number; message?: string }) => {
      if (err?.code === kafka.CODES.ERRORS.ERR__ALL_BROKERS_DOWN || /all broker connections are down/i.test(err?.message ?? '')) this.suspectOutage();
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
      const key = partitionKey(range.topic, range.partition);
      const stored = committed.find((c) => c.topic === range.topic && c.partition === range.partition)?.offset ?? OFFSET_INVALID;
      let start = stored >= 0 ? stored : range.from;
      if (start === undefined) start = (await watermarks(consumer, range)).low;
      const state = assignedPartition(range);
      state.progress = { topic: range.topic, partition: range.partition, committed: start, records: 0, written: 0, dlq: 0, end: range.to, done: false };
      this.states.set(key, state);
      transition(state, { type: 'position', offset: start });
      if (start >= range.to) transition(state, { type: 'finish' });
      else assignment.push({ topic: range.topic, partition: range.partition, offset: start });
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
      for (const tp of tps) {
        const key = partitionKey(tp.topic, tp.partition);
        const known = this.states.get(key);
        if (known) transition(known, { type: 'assign' });
        else this.states.set(key, assignedPartition(tp));
      }
      // Positions come from the group's committed offsets; learn them before the next batch.
      this.rebalancing = this.rebalancing.then(() => this.learnPositions(tps)).catch(() => undefined);
      this.options.observer?.onAssigned?.(tps);
    } else if (err.code === kafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
      // No transaction is open while the loop polls; a revoke during a transaction makes its
      // sendOffsets fail (stale generation), which aborts it: nothing is written twice.
      consumer.incrementalUnassign(tps);
      for (const tp of tps) {
        const s = this.states.get(partitionKey(tp.topic, tp.partition));
        if (s) transition(s, { type: 'revoke' });
      }
      this.options.observer?.onRevoked?.(tps);
    }
  }

  private async learnPositions(tps: TopicPartition[]): Promise<void> {
    const committed = await committedOffsets(this.consumer!, tps);
    for (const c of committed) {
      const s = this.states.get(partitionKey(c.topic, c.partition));
      // Unknown until the first record arrives when the group has no commit (auto.offset.reset decides).
      if (s) transition(s, { type: 'position', offset: c.offset >= 0 ? c.offset : undefined });
    }
  }

  private allDone(): boolean {
    if (this.options.ranges === undefined) return false;
    for (const { progress: p } of this.states.values()) if (p && !p.done && !p.halted) return false;
    return true;
  }

  private async loop(): Promise<void> {
    const batchSize = this.options.batchSize ?? 2000;
    // The next batch is fetched while the current transaction commits (the commit is a broker round
    // trip the JavaScript thread would otherwise idle through). Transforming it then too was measured
    // slower (the commit's completion waits for the JavaScript thread) and held two batches in memory.
    // A batch fetched ahead of a cycle that did not commit is dropped and its partitions sought back.
    let prefetched: Promise<SourceRecord[]> | undefined;
    try {
      while (!this.stopRequested && !this.allDone()) {
        await this.rebalancing;
        this.resumeDuePartitions();
        await this.watchConnection();
        let batch: SourceRecord[];
        if (this.held.length > 0) {
          batch = this.held.filter((r) => this.holds(r));
          this.held = [];
        } else {
          const polled = await (prefetched ?? this.poll(batchSize));
          prefetched = undefined;
          batch = this.acceptable(polled);
        }
        if (this.pruneNarrowing() && batch.length > 1) {
          // One record per transaction until the refused record is found; the rest wait their turn.
          this.held = batch.slice(1);
          batch = batch.slice(0, 1);
        }
        if (batch.length > 0) {
          // A fetch ahead still pending (records held back) is not replaced: its records would be lost.
          const committed = await this.cycle(batch, () => { prefetched ??= this.poll(batchSize); });
          if (!committed && this.held.length > 0) {
            await this.drop(this.held);
            this.held = [];
          }
          if (!committed && prefetched) {
            await this.drop(await prefetched);
            prefetched = undefined;
          }
          // Ends seen by fetches that overlapped a failed cycle may lie beyond records now unread
          // again; the consumer reports the end anew when it gets there after the seek.
          if (!committed) for (const s of this.states.values()) s.eofAt = undefined;
        }
        // An end-of-partition seen by a fetch still in flight says nothing yet: its records have not
        // been accepted, so `expected` does not show them. Judge the ranges only with no fetch pending.
        if (!prefetched) this.finishRangesAtEnd();
      }
    } finally {
      // Records fetched ahead and not processed are simply not committed: the next run reads them again.
      if (prefetched) await prefetched.catch(() => undefined);
    }
  }

  private poll(batchSize: number): Promise<SourceRecord[]> {
    return consumeBatch(this.consumer!, batchSize).catch((err: unknown) => {
      const e = classifyKafkaError('consume', err);
      if (!e.transient) throw e;
      return [] as SourceRecord[];
    });
  }

  /**
   * Drops records fetched ahead of a cycle that did not commit. The consumer has already moved past
   * them, so every partition in them is sought back to its first dropped record, unless the failed
   * cycle's own rewind put it further back already.
   */
  private async drop(records: readonly SourceRecord[]): Promise<void> {
    for (const [key, first] of firstOffsets(records)) {
      const s = this.states.get(key);
      // An end seen by the dropped fetch lies beyond records that are now unread again.
      if (s) s.eofAt = undefined;
      if (!owned(s) || s.status === 'halted') continue;
      const expected = s.expected;
      const target = expected !== undefined && expected < first.offset ? expected : first.offset;
      s.expected = target;
      await seek(this.consumer!, { ...first, offset: target }).catch(() => undefined);
    }
  }

  /** Drops records of partitions that are halted, paused, done, not owned, past their range, or stale. */
  private acceptable(records: SourceRecord[]): SourceRecord[] {
    const out: SourceRecord[] = [];
    for (const r of records) {
      const s = this.states.get(partitionKey(r.topic, r.partition));
      // Taken while assigned (position not learned yet: auto.offset.reset decides) or running.
      if (s === undefined || (s.status !== 'running' && s.status !== 'assigned')) continue;
      if (s.expected !== undefined && r.offset < s.expected) continue;
      const end = s.progress?.end;
      if (end !== undefined && r.offset >= end) {
        s.eofAt = r.offset;
        continue;
      }
      s.expected = r.offset + 1;
      out.push(r);
    }
    return out;
  }

  /**
   * A range is done once its committed offset reaches its end, or once the consumer has seen a position
   * at or past the end (EOF, or a record beyond the range) with everything read so far committed: the
   * offsets in between were transaction markers, which carry no records.
   */
  private finishRangesAtEnd(): void {
    for (const s of this.states.values()) {
      const seen = s.eofAt;
      if (seen === undefined) continue;
      s.eofAt = undefined;
      const p = s.progress;
      if (!p || p.done || p.halted || p.end === undefined || seen < p.end) continue;
      const inFlight = (s.expected ?? p.committed) > p.committed;
      if (inFlight) continue;
      transition(s, { type: 'finish' });
      this.pauseForever(p);
    }
  }

  private pauseForever(tp: TopicPartition): void {
    this.consumer!.pause([{ topic: tp.topic, partition: tp.partition }]);
  }

  private resumeDuePartitions(): void {
    const now = Date.now();
    for (const s of this.states.values()) {
      if (s.status !== 'paused' || (s.pausedUntil ?? 0) > now) continue;
      transition(s, { type: 'resume' });
      this.consumer!.resume([{ topic: s.topic, partition: s.partition }]);
    }
  }

  /**
   * One batch: process, then write and commit in one transaction. Returns whether it committed.
   * `whileCommitting` runs once the outputs and offsets are in the transaction, before the commit.
   */
  private async cycle(batch: SourceRecord[], whileCommitting: () => void): Promise<boolean> {
    const started = Date.now();
    let results: ProcessedRecord[];
    try {
      results = [...await this.options.processor(batch)];
      if (results.length < batch.length) throw new RecryptError('INTERNAL', 'processor returned fewer results than records');
      await this.refuseOversized(batch, results);
    } catch (err) {
      if (!isTransient(err)) throw err;
      await this.backOff(batch, err as RecryptError);
      return false;
    }

    let fetchAhead: (() => void) | undefined = whileCommitting;
    const refused = new Set<number>();
    for (;;) {
      const plan = planCommit(batch, results);
      const commitStarted = Date.now();
      try {
        // The batch fetched ahead is fetched once, whatever the attempts.
        await this.commitTransaction(plan.outputs, plan.sources, [...plan.nextOffsets.values()], () => { fetchAhead?.(); fetchAhead = undefined; });
      } catch (err) {
        const e = err instanceof RefusedOutput ? err.error : classifyKafkaError('transaction', err);
        this.options.observer?.onAbort?.(e);
        if (e.code === 'KAFKA_FENCED') throw e;
        await this.abortTransaction();
        if (!e.transient) {
          const index = err instanceof RefusedOutput ? err.index : soleWriter(plan);
          if (index !== undefined) {
            // The refused record is known: it halts or goes to the DLQ; the rest commits without it.
            const record = batch[index]!;
            const outputs = 'outputs' in results[index]! ? (results[index] as { outputs: readonly OutputRecord[] }).outputs : [];
            const error = err instanceof RefusedOutput ? e : refusedRecord(record, outputs, e);
            try {
              results[index] = refused.has(index) ? { halt: error } : await this.refuse(record, error);
            } catch (divertError) {
              if (!isTransient(divertError)) throw divertError;
              await this.backOff(batch, divertError as RecryptError);
              return false;
            }
            refused.add(index);
            continue;
          }
          // Refused at commit, record unknown: replay these records one per transaction.
          for (const [key, last] of lastOffsets(batch)) {
            const s = this.states.get(key);
            if (s) s.narrowTo = Math.max(last, s.narrowTo ?? -1);
          }
        }
        if (e.code === 'KAFKA_UNAVAILABLE') this.suspectOutage();
        await this.backOff(batch, e);
        return false;
      }

      for (const [key, next] of plan.nextOffsets) {
        const s = this.stateOf(next);
        const p = progressOf(s);
        const c = plan.counts.get(key)!;
        p.committed = next.offset;
        p.records += c.records;
        p.written += c.written;
        p.dlq += c.dlq;
        if (p.end !== undefined && p.committed >= p.end) {
          transition(s, { type: 'finish' });
          this.pauseForever(p);
        }
      }
      this.backoff.reset(plan.nextOffsets.keys());
      if (plan.nextOffsets.size > 0) this.connectionBack();
      for (const { record, error } of plan.halts) this.halt(record, error);
      const totals = [...plan.counts.values()].reduce((t, c) => ({ records: t.records + c.records, written: t.written + c.written, dlq: t.dlq + c.dlq }), { records: 0, written: 0, dlq: 0 });
      this.lastProgressAt = Date.now();
      this.options.observer?.onBatchCommitted?.({ ...totals, latencyMs: this.lastProgressAt - started, commitMs: this.lastProgressAt - commitStarted });
      return true;
    }
  }

  /** Replaces the result of every record whose output a size limit refuses (before anything is produced). */
  private async refuseOversized(batch: readonly SourceRecord[], results: ProcessedRecord[]): Promise<void> {
    const stopped = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      const key = partitionKey(record.topic, record.partition);
      if (stopped.has(key)) continue;
      const result = results[i]!;
      if ('outputs' in result) {
        const error = oversize(record, result.outputs, this.limits);
        if (error) results[i] = await this.refuse(record, error);
      }
      if ('halt' in results[i]!) stopped.add(key);
    }
  }

  /** A refused record: the job's DLQ path when it has one (its record must fit too), else a halt. */
  private async refuse(record: SourceRecord, error: RecryptError): Promise<ProcessedRecord> {
    if (!this.options.onRefused) return { halt: error };
    const diverted = await this.options.onRefused(record, error);
    if ('outputs' in diverted && oversize(record, diverted.outputs, this.limits)) return { halt: error };
    return diverted;
  }

  /** Narrowing ends per partition once its refused range is committed, or the partition is gone. True while any narrows. */
  private pruneNarrowing(): boolean {
    let any = false;
    for (const s of this.states.values()) {
      if (s.narrowTo === undefined) continue;
      const p = s.progress;
      if (!owned(s) || s.status === 'halted' || !p || p.done || p.committed > s.narrowTo) s.narrowTo = undefined;
      else any = true;
    }
    return any;
  }

  /** A held record's partition is still ours and not halted. */
  private holds(record: SourceRecord): boolean {
    const s = this.states.get(partitionKey(record.topic, record.partition));
    return owned(s) && s.status !== 'halted';
  }

  /** A broker outage is suspected: confirmed (logged once) or dismissed by the next probe. */
  private suspectOutage(): void {
    this.suspectSince ??= Date.now();
  }

  /** Probes the cluster while an outage is suspected or confirmed, at most every 2 s. */
  private async watchConnection(): Promise<void> {
    if (this.suspectSince === undefined && this.lostSince === undefined) return;
    if (Date.now() - this.lastProbeAt < 2000) return;
    this.lastProbeAt = Date.now();
    try {
      await metadata(this.producer!, 1500);
      this.connectionBack();
    } catch (err) {
      if (this.lostSince === undefined) {
        this.lostSince = this.suspectSince ?? Date.now();
        this.options.observer?.onConnectionLost?.(classifyKafkaError('reach the brokers', err));
      }
    }
  }

  private connectionBack(): void {
    const since = this.lostSince;
    this.suspectSince = undefined;
    this.lostSince = undefined;
    if (since !== undefined) this.options.observer?.onConnectionRestored?.({ downMs: Date.now() - since });
  }

  /** The partition's state; one it never had (cannot happen: records come from assigned partitions) is recorded as not ours. */
  private stateOf(tp: TopicPartition): PartitionState {
    const key = partitionKey(tp.topic, tp.partition);
    let s = this.states.get(key);
    if (!s) {
      s = { ...assignedPartition(tp), status: 'revoked' };
      this.states.set(key, s);
    }
    return s;
  }

  /** `sources[i]`: the index in the batch of the source record of `outputs[i]`. */
  private async commitTransaction(outputs: OutputRecord[], sources: number[], offsets: TopicPartitionOffset[], whileCommitting: () => void): Promise<void> {
    if (outputs.length === 0 && offsets.length === 0) return;
    const producer = this.producer!;
    await transactions.begin(producer);
    for (let i = 0; i < outputs.length; i++) {
      const record = outputs[i]!;
      try {
        // Synchronous unless librdkafka's local queue is full.
        if (!this.tryProduce(record)) await this.produceWithBackpressure(record);
      } catch (err) {
        // produce() refused this very record (e.g. over message.max.bytes): no retry helps it.
        if (!isTransient(err) && errorCodeOf(err) !== 'KAFKA_FENCED') throw new RefusedOutput(sources[i]!, err as RecryptError);
        throw err;
      }
    }
    if (offsets.length) await transactions.sendOffsets(producer, offsets, this.consumer!, this.txTimeoutMs);
    whileCommitting();
    for (let attempt = 1; ; attempt++) {
      try {
        await transactions.commit(producer, this.txTimeoutMs);
        return;
      } catch (err) {
        // A commit that timed out is still in progress inside librdkafka: only calling commit again
        // resumes it (an abort would be refused as a conflicting call, and so would every later begin).
        if (attempt >= 3 || !resumable(err)) throw err;
      }
    }
  }

  /**
   * Aborts the open transaction. A refused abort (a timed-out commit still pending) gets one resumed
   * commit, which ends in success or an abortable error, then a second abort; a transaction that still
   * cannot be ended would fail every later cycle, so that stops the pipeline instead of looping.
   */
  private async abortTransaction(): Promise<void> {
    const producer = this.producer!;
    try {
      await transactions.abort(producer, this.txTimeoutMs);
      return;
    } catch (err) {
      if (!isRecryptError(err) || !/conflicting/i.test(err.message)) return;
    }
    await transactions.commit(producer, this.txTimeoutMs).catch(() => undefined);
    try {
      await transactions.abort(producer, this.txTimeoutMs);
    } catch (err) {
      throw new RecryptError('KAFKA_TRANSACTION', `the open transaction can be neither committed nor aborted: ${(err as Error).message}`, { cause: err, transient: false });
    }
  }

  /** Produces one record; false when the local queue is full (the caller waits and retries). */
  private tryProduce(record: OutputRecord): boolean {
    try {
      produce(this.producer!, record);
      return true;
    } catch (err) {
      if (isQueueFull(err)) return false;
      throw err;
    }
  }

  private async produceWithBackpressure(record: OutputRecord): Promise<void> {
    for (;;) {
      try {
        produce(this.producer!, record);
        return;
      } catch (err) {
        // Local queue full: let librdkafka drain, then retry the same record.
        if (isQueueFull(err)) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Seeks every partition of the batch back to its first record in the batch: every cycle either
   * commits its whole batch or rewinds it, so that record is the partition's last committed offset.
   */
  private async rewind(batch: readonly SourceRecord[]): Promise<void> {
    for (const [key, tpo] of firstOffsets(batch)) {
      const s = this.states.get(key);
      // An end seen in the same fetch lies beyond these records, which are unread again.
      if (s) s.eofAt = undefined;
      if (!owned(s)) continue;
      s.expected = tpo.offset;
      await seek(this.consumer!, tpo).catch(() => undefined);
    }
  }

  /**
   * Rewinds the batch and pauses its partitions; the delay grows with their failures since their last
   * commit (per partition: one partition failing does not slow the others down).
   */
  private async backOff(batch: readonly SourceRecord[], error: RecryptError): Promise<void> {
    const firsts = firstOffsets(batch);
    const delay = this.backoff.next(firsts.keys());
    const tps = [...firsts.values()].map(({ topic, partition }) => ({ topic, partition }));
    this.options.observer?.onTransientError?.(error, delay, tps);
    await this.rewind(batch);
    const until = Date.now() + delay;
    for (const tp of tps) {
      const s = this.states.get(partitionKey(tp.topic, tp.partition));
      if (s) transition(s, { type: 'pause', until });
      // A partition revoked meanwhile stays revoked: not ours to pause.
      if (s?.status === 'paused') this.consumer!.pause([tp]);
    }
  }

  private halt(record: SourceRecord, error: RecryptError): void {
    const s = this.stateOf(record);
    transition(s, { type: 'halt', offset: record.offset, code: errorCodeOf(error) });
    if (s.status === 'halted') this.consumer!.pause([{ topic: record.topic, partition: record.partition }]);
    this.options.observer?.onHalt?.({ topic: record.topic, partition: record.partition }, record.offset, error);
  }

  private async close(): Promise<void> {
    if (this.consumer) await disconnect(this.consumer);
    if (this.producer) await disconnect(this.producer);
  }
}

/** produce() refused the output of the batch's record `index` for good. */
class RefusedOutput extends Error {
  constructor(readonly index: number, readonly error: RecryptError) {
    super(error.message);
  }
}

interface CommitPlan {
  readonly outputs: OutputRecord[];
  /** Per output, the batch index of its source record. */
  readonly sources: number[];
  readonly nextOffsets: Map<string, TopicPartitionOffset>;
  readonly counts: Map<string, { records: number; written: number; dlq: number }>;
  readonly halts: Array<{ record: SourceRecord; error: RecryptError }>;
}

/** Per partition, the records up to (not including) the first halt: what one transaction writes and commits. */
function planCommit(batch: readonly SourceRecord[], results: readonly ProcessedRecord[]): CommitPlan {
  const plan: CommitPlan = { outputs: [], sources: [], nextOffsets: new Map(), counts: new Map(), halts: [] };
  const haltedNow = new Set<string>();
  batch.forEach((record, i) => {
    const key = partitionKey(record.topic, record.partition);
    if (haltedNow.has(key)) return;
    const result = results[i]!;
    if ('halt' in result) {
      haltedNow.add(key);
      plan.halts.push({ record, error: result.halt });
      return;
    }
    for (const out of result.outputs) {
      plan.outputs.push(out);
      plan.sources.push(i);
    }
    plan.nextOffsets.set(key, { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
    const c = plan.counts.get(key) ?? { records: 0, written: 0, dlq: 0 };
    c.records += 1;
    if (result.dlq) c.dlq += 1; else if (result.outputs.length) c.written += 1;
    plan.counts.set(key, c);
  });
  return plan;
}

/** The batch index of the only record with outputs in the plan, if exactly one has any. */
function soleWriter(plan: CommitPlan): number | undefined {
  const writers = new Set(plan.sources);
  return writers.size === 1 ? plan.sources[0] : undefined;
}

/** Per partition (by partitionKey), the last record's offset among `records`. */
function lastOffsets(records: readonly SourceRecord[]): Map<string, number> {
  const lasts = new Map<string, number>();
  for (const r of records) lasts.set(partitionKey(r.topic, r.partition), r.offset);
  return lasts;
}

/** Per partition (by partitionKey), the first record's position among `records`. */
function firstOffsets(records: readonly SourceRecord[]): Map<string, TopicPartitionOffset> {
  const firsts = new Map<string, TopicPartitionOffset>();
  for (const r of records) {
    const key = partitionKey(r.topic, r.partition);
    if (!firsts.has(key)) firsts.set(key, { topic: r.topic, partition: r.partition, offset: r.offset });
  }
  return firsts;
}

/** A commit that timed out without needing an abort: librdkafka resumes it on the next commit call. */
function resumable(err: unknown): boolean {
  const cause = (err as RecryptError | undefined)?.cause as { isRetriable?: boolean; isTxnRequiresAbort?: boolean; isFatal?: boolean } | undefined;
  return cause?.isRetriable === true && cause.isTxnRequiresAbort !== true && cause.isFatal !== true;
}

function isQueueFull(err: unknown): boolean {
  const cause = (err as RecryptError | undefined)?.cause as { code?: number } | undefined;
  return cause?.code === kafka.CODES.ERRORS.ERR__QUEUE_FULL;
}

export { OFFSET_BEGINNING, OFFSET_END };
