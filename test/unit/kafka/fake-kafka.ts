// An in-memory stand-in for the librdkafka clients: the calls src/kafka/native.ts and the pipeline
// make, over topics held as arrays. Transactions are real enough to check exactly-once: outputs and
// offsets become visible only on commit. Faults are injected per call through `faults`.
import { EventEmitter } from 'node:events';
import kafka from '@confluentinc/kafka-javascript';
import type { ClientConfig, KafkaClients } from '../../../src/kafka/client-factory.js';
import type { NativeConsumer, NativeProducer } from '../../../src/kafka/native.js';
import { partitionKey, type TopicPartition } from '../../../src/kafka/types.js';

export const E = kafka.CODES.ERRORS;

export interface FakeMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Array<Record<string, Buffer>>;
  /** A transaction marker: takes an offset, is never delivered. */
  marker?: boolean;
}

type Callback = (err: unknown, value?: unknown) => void;

/** Faults: each returns an error to fail that call with (once per return), or undefined. */
export interface Faults {
  produce?: (topic: string, value: Buffer | null) => unknown;
  /**
   * The broker refuses a produced record (its delivery fails later): librdkafka puts the transaction in
   * its abortable error state, every later produce() answers ERR__STATE and commit fails with this error.
   */
  delivery?: (topic: string, value: Buffer | null) => { code: number; message: string } | undefined;
  sendOffsets?: () => unknown;
  commit?: () => unknown;
  abort?: () => unknown;
  /** How long the commit takes to answer (ms), per call. */
  commitDelay?: () => number;
  /** The producer's metadata request (the connection probe). */
  metadata?: () => unknown;
  /** Runs inside beginTransaction's callback time: e.g. a rebalance while the transaction is open. */
  onBegin?: () => void;
}

export class FakeBroker {
  readonly logs = new Map<string, FakeMessage[]>();
  readonly committed = new Map<string, number>();
  readonly faults: Faults = {};
  readonly calls: string[] = [];
  generation = 0;

  log(topic: string, partition: number): FakeMessage[] {
    const key = partitionKey(topic, partition);
    let log = this.logs.get(key);
    if (!log) this.logs.set(key, log = []);
    return log;
  }

  append(topic: string, partition: number, value: string | null, marker = false): void {
    const log = this.log(topic, partition);
    log.push({ topic, partition, offset: log.length, key: Buffer.from(`k${log.length}`), value: value === null ? null : Buffer.from(value),
      timestamp: 1000 + log.length, headers: [], marker });
  }

  /** Values written to a topic partition (committed transactions only). */
  values(topic: string, partition: number): Array<string | null> {
    return this.log(topic, partition).filter((m) => !m.marker).map((m) => m.value?.toString() ?? null);
  }
}

const later = (fn: () => void) => setImmediate(fn);

export class FakeConsumer extends EventEmitter {
  readonly assigned = new Map<string, { tp: TopicPartition; position: number; paused: boolean; eofSent: boolean }>();
  private connected = false;
  generation: number;

  constructor(readonly broker: FakeBroker, readonly config: Record<string, unknown>) {
    super();
    this.generation = broker.generation;
  }

  connect(_opts: unknown, cb: Callback): void { this.connected = true; later(() => cb(null)); }
  disconnect(cb: () => void): void { this.connected = false; later(cb); }
  isConnected(): boolean { return this.connected; }
  setDefaultConsumeTimeout(): void {}
  setDefaultIsTimeoutOnlyForFirstMessage(): void {}
  subscribe(): void {}
  getMetadata(_opts: unknown, cb: Callback): void { later(() => cb(null, {})); }

  assign(list: Array<TopicPartition & { offset: number }>): void {
    for (const tpo of list) this.assigned.set(partitionKey(tpo.topic, tpo.partition), { tp: tpo, position: tpo.offset, paused: false, eofSent: false });
  }
  incrementalAssign(list: TopicPartition[]): void {
    for (const tp of list) {
      const key = partitionKey(tp.topic, tp.partition);
      const position = this.broker.committed.get(key) ?? 0;
      this.assigned.set(key, { tp, position, paused: this.pausedKeys.has(key), eofSent: false });
    }
  }
  incrementalUnassign(list: TopicPartition[]): void {
    for (const tp of list) this.assigned.delete(partitionKey(tp.topic, tp.partition));
  }
  pause(list: TopicPartition[]): void { this.setPaused(list, true); }
  resume(list: TopicPartition[]): void { this.setPaused(list, false); }
  /**
   * As librdkafka: the application's pause belongs to the partition, not to one assignment of it, so a
   * partition paused, revoked and given back is still paused until resumed (librdkafka #1849).
   */
  private readonly pausedKeys = new Set<string>();
  private setPaused(list: TopicPartition[], paused: boolean): void {
    for (const tp of list) {
      const key = partitionKey(tp.topic, tp.partition);
      if (paused) this.pausedKeys.add(key); else this.pausedKeys.delete(key);
      const a = this.assigned.get(key);
      if (a) a.paused = paused;
    }
  }

  /**
   * Drives the group: calls the pipeline's rebalance callback as librdkafka would. A revoke starts a
   * new generation at the coordinator; this consumer learns it with its next assignment (possibly empty).
   */
  rebalance(kind: 'assign' | 'revoke', tps: TopicPartition[]): void {
    if (kind === 'revoke') this.broker.generation += 1;
    else this.generation = this.broker.generation;
    const cb = this.config.rebalance_cb as (err: { code: number }, assignment: TopicPartition[]) => void;
    cb({ code: kind === 'assign' ? E.ERR__ASSIGN_PARTITIONS : E.ERR__REVOKE_PARTITIONS }, tps);
  }

  consume(max: number, cb: Callback): void {
    const out: FakeMessage[] = [];
    for (const a of this.assigned.values()) {
      if (a.paused) continue;
      const log = this.broker.log(a.tp.topic, a.tp.partition);
      while (out.length < max && a.position < log.length) {
        const m = log[a.position++]!;
        if (!m.marker) out.push(m);
      }
      if (a.position >= log.length && !a.eofSent) {
        a.eofSent = true;
        this.emit('partition.eof', { topic: a.tp.topic, partition: a.tp.partition, offset: a.position });
      }
    }
    if (out.length === 0) setTimeout(() => cb(null, []), 2);
    else later(() => cb(null, out.map((m) => ({ ...m }))));
  }

  committed(tps: TopicPartition[], _timeout: number, cb: Callback): void {
    later(() => cb(null, tps.map((tp) => ({ ...tp, offset: this.broker.committed.get(partitionKey(tp.topic, tp.partition)) ?? -1001 }))));
  }
  queryWatermarkOffsets(topic: string, partition: number, _timeout: number, cb: Callback): void {
    later(() => cb(null, { lowOffset: 0, highOffset: this.broker.log(topic, partition).length }));
  }
  getWatermarkOffsets(topic: string, partition: number): { lowOffset: number; highOffset: number } {
    return { lowOffset: 0, highOffset: this.broker.log(topic, partition).length };
  }
  seek(tpo: TopicPartition & { offset: number }, _timeout: number, cb: Callback): void {
    const a = this.assigned.get(partitionKey(tpo.topic, tpo.partition));
    if (a) { a.position = tpo.offset; a.eofSent = false; }
    later(() => cb(null));
  }
}

export class FakeProducer extends EventEmitter {
  private connected = false;
  private open = false;
  private outputs: FakeMessage[] = [];
  private offsets: Array<TopicPartition & { offset: number }> = [];
  /** The abortable error the open transaction is in (a delivery the broker refused). */
  private txnError?: { code: number; message: string };

  constructor(readonly broker: FakeBroker, readonly config: Record<string, unknown>) {
    super();
  }

  connect(_opts: unknown, cb: Callback): void { this.connected = true; later(() => cb(null)); }
  disconnect(cb: () => void): void { this.connected = false; later(cb); }
  isConnected(): boolean { return this.connected; }
  setPollInterval(): void {}
  getMetadata(_opts: unknown, cb: Callback): void {
    const err = this.broker.faults.metadata?.();
    later(() => (err === undefined ? cb(null, {}) : cb(err)));
  }
  initTransactions(_timeout: number, cb: Callback): void { later(() => cb(null)); }

  private fail(name: keyof Omit<Faults, 'onBegin'>, cb: Callback): boolean {
    this.broker.calls.push(name);
    const err = (this.broker.faults[name] as (() => unknown) | undefined)?.();
    if (err === undefined) return false;
    later(() => cb(err));
    return true;
  }

  beginTransaction(cb: Callback): void {
    this.broker.calls.push('begin');
    if (this.open) { later(() => cb({ code: E.ERR__STATE, message: 'Conflicting begin: a transaction is open' })); return; }
    this.open = true;
    this.outputs = [];
    this.offsets = [];
    this.txnError = undefined;
    this.broker.faults.onBegin?.();
    later(() => cb(null));
  }

  produce(topic: string, partition: number, value: Buffer | null, key: Buffer | undefined, timestamp: number, _opaque: unknown, headers: Array<Record<string, Buffer>>): void {
    if (this.txnError) throw { code: E.ERR__STATE, message: 'Local: Erroneous state' };
    const err = this.broker.faults.produce?.(topic, value);
    if (err !== undefined) throw err;
    this.txnError ??= this.broker.faults.delivery?.(topic, value);
    this.outputs.push({ topic, partition, offset: -1, key: key ?? null, value, timestamp, headers });
  }

  sendOffsetsToTransaction(offsets: Array<TopicPartition & { offset: number }>, consumer: FakeConsumer, _timeout: number, cb: Callback): void {
    if (this.fail('sendOffsets', cb)) return;
    // The group's generation moved on since this consumer's metadata (a rebalance the client has not seen).
    if (consumer.generation !== this.broker.generation) { later(() => cb({ code: E.ERR_ILLEGAL_GENERATION, message: 'Broker: Specified group generation id is not valid' })); return; }
    this.offsets.push(...offsets);
    later(() => cb(null));
  }

  commitTransaction(_timeout: number, cb: Callback): void {
    const delay = this.broker.faults.commitDelay?.() ?? 0;
    if (delay > 0) {
      setTimeout(() => this.commitTransaction(_timeout, cb), delay);
      return;
    }
    if (this.fail('commit', cb)) return;
    const txnError = this.txnError;
    if (txnError) { later(() => cb({ ...txnError, isTxnRequiresAbort: true })); return; }
    for (const m of this.outputs) {
      const log = this.broker.log(m.topic, m.partition);
      log.push({ ...m, offset: log.length });
    }
    for (const o of this.offsets) this.broker.committed.set(partitionKey(o.topic, o.partition), o.offset);
    this.open = false;
    later(() => cb(null));
  }

  abortTransaction(_timeout: number, cb: Callback): void {
    if (this.fail('abort', cb)) return;
    this.open = false;
    this.txnError = undefined;
    this.outputs = [];
    this.offsets = [];
    later(() => cb(null));
  }
}

/** A client factory over one fake broker; `consumer` is the last consumer made. */
export class FakeClients implements KafkaClients {
  consumer_?: FakeConsumer;
  producer_?: FakeProducer;
  constructor(readonly broker: FakeBroker) {}

  consumer(_clientId: string, config: ClientConfig): NativeConsumer {
    this.consumer_ = new FakeConsumer(this.broker, { ...config });
    return this.consumer_ as unknown as NativeConsumer;
  }
  producer(_clientId: string, config: ClientConfig): NativeProducer {
    this.producer_ = new FakeProducer(this.broker, { ...config });
    return this.producer_ as unknown as NativeProducer;
  }
  admin(): never {
    throw new Error('no admin client in the fake');
  }
}
