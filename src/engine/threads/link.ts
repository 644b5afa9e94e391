/**
 * One driver's use of the pool (record-transformer.ts): it tells the threads each plan the driver
 * compiles and the DEKs it uses, and splits a batch between the main thread and the threads.
 *
 * The split: the main thread takes the batch's first records (one share, run as before), the threads
 * the rest, in contiguous slices of the records they can run (the part present, its schema id in the
 * bytes, not in a header). A thread returns each record's new bytes or "not ok"; the driver runs every
 * record without a result on the main thread as it always did, and assembles outputs by batch index,
 * so each partition keeps its source order. Batches too small for two slices stay on the main thread,
 * and so do larger ones while the driver measures them faster there (ModeChooser), and every batch once the
 * pool stopped offloading (its threads kept failing, pool.ts).
 */
import type { SchemaRef } from '../../wire/index.js';
import { partBytes, partHeader, type RecordPart } from '../../wire/index.js';
import type { SourceRecord } from '../../util/records.js';
import type { Transformed } from '../kernel/outcome.js';
import { newCounters, type EngineStats } from '../kernel/visitors.js';
import type { MainKeyring } from '../main-keyring.js';
import type { LoadedSchema } from '../schema-store.js';
import type { EnginePool } from './pool.js';
import type { SliceDone } from './protocol.js';

export interface LinkOptions {
  readonly part: RecordPart;
  readonly target: LoadedSchema;
  readonly targetSubject: string;
  readonly writeScope: string;
  readonly keyring: MainKeyring;
}

/** A batch handed out: the main thread runs [0, from) itself; `done` holds the threads' results by batch index. */
export interface Offload {
  readonly from: number;
  readonly done: Promise<readonly (Transformed | undefined)[]>;
}

/**
 * Whether a batch big enough to share is shared: by the driver's own measure of both ways, since what
 * pays depends on the machine (spare cores or not) and the work. Each way's wall time per record is an
 * average over its recent batches (batches that met a miss or a failure are not counted); the faster
 * way runs, and every RETRY_EVERY-th batch runs the other way to see whether that changed. The first
 * WARM_UP batches are shared and not counted: they bring plans and DEKs to the threads.
 */
export class ModeChooser {
  static readonly WARM_UP = 2;
  static readonly RETRY_EVERY = 16;
  private readonly costs = { threaded: 0, single: 0 };
  private batches = 0;

  /** True: share this batch with the threads. */
  next(): boolean {
    this.batches += 1;
    if (this.batches <= ModeChooser.WARM_UP || this.costs.threaded === 0) return true;
    if (this.costs.single === 0) return false;
    const threaded = this.costs.threaded <= this.costs.single;
    return this.batches % ModeChooser.RETRY_EVERY === 0 ? !threaded : threaded;
  }

  /** A clean batch's wall time per record, the way next() chose. */
  measured(threaded: boolean, perRecord: number): void {
    if (this.batches <= ModeChooser.WARM_UP) return;
    const way = threaded ? 'threaded' : 'single';
    const cost = this.costs[way];
    this.costs[way] = cost === 0 ? perRecord : cost * 0.7 + perRecord * 0.3;
  }
}

export class DriverLink {
  private readonly driver: number;
  private stats = newCounters();
  private readonly chooser = new ModeChooser();
  /** The batch in flight: the way it runs and when it started. */
  private current: { readonly threaded: boolean; readonly started: bigint; readonly records: number } | undefined;

  constructor(private readonly pool: EnginePool, private readonly options: LinkOptions) {
    const { target, targetSubject, writeScope } = options;
    this.driver = pool.newDriver({ target, targetSubject, writeScope });
  }

  /** The driver compiled a plan: the threads compile it too. */
  planned(topic: string, ref: SchemaRef, indexes: readonly number[] | undefined, writer: LoadedSchema, readSubject: string, writeIndexes: readonly number[] | undefined): void {
    this.pool.announce({ kind: 'plan', driver: this.driver, topic, ref, indexes, writer, readSubject, writeIndexes });
  }

  /** Splits `batch` (after the driver resolved its write DEKs); undefined: the main thread runs it all. */
  start(batch: readonly SourceRecord[]): Offload | undefined {
    const { pool } = this;
    // Every batch, so the keyring's list of used reads stays short whichever thread runs the batch.
    this.syncKeys();
    const slices = Math.min(pool.threads + 1, Math.floor(batch.length / pool.minSliceRecords));
    this.current = undefined;
    if (slices < 2 || !pool.offloading) return undefined;
    const threaded = this.chooser.next();
    this.current = { threaded, started: process.hrtime.bigint(), records: batch.length };
    if (!threaded) return undefined;
    const from = Math.floor(batch.length / slices);
    const part = this.options.part;
    const eligible: number[] = [];
    for (let i = from; i < batch.length; i++) {
      const record = batch[i]!;
      if (partBytes(record, part) !== null && partHeader(record, part) === undefined) eligible.push(i);
    }
    if (eligible.length === 0) return undefined;
    const per = Math.ceil(eligible.length / (slices - 1));
    const chunks: number[][] = [];
    for (let at = 0; at < eligible.length; at += per) chunks.push(eligible.slice(at, at + per));
    const runs = chunks.map((chunk, index) => pool.run(index, { driver: this.driver, part, ...pack(batch, chunk, part) }));
    const done = Promise.all(runs).then((results) => {
      pool.settled(undefined);
      const out: (Transformed | undefined)[] = new Array(batch.length);
      results.forEach((result, c) => this.unpack(result, chunks[c]!, out));
      return out;
    }, (error: unknown) => {
      pool.settled(error);
      throw error;
    });
    return { from, done };
  }

  /** The driver's batch is done; `clean`: no record needed the slow path (its time says nothing of the two ways). */
  finished(clean: boolean): void {
    const current = this.current;
    this.current = undefined;
    if (current !== undefined && clean) this.chooser.measured(current.threaded, Number(process.hrtime.bigint() - current.started) / current.records);
  }

  /** Adds the threads' field operations since the last call to `stats`. */
  drainInto(stats: EngineStats): void {
    for (const algorithm of Object.keys(stats.encrypted) as (keyof EngineStats['encrypted'])[]) {
      stats.encrypted[algorithm] += this.stats.encrypted[algorithm];
      stats.decrypted[algorithm] += this.stats.decrypted[algorithm];
    }
    this.stats = newCounters();
  }

  /** The read DEKs the main thread used since the last batch, and every write DEK as the driver holds it now. */
  private syncKeys(): void {
    const { keyring } = this.options;
    for (const { ref, version, cipher } of keyring.drainReads()) this.pool.offerRead(ref, version, cipher);
    for (const [ref, key] of keyring.writeKeys()) this.pool.setWrite(ref, key);
  }

  private unpack(result: SliceDone, chunk: readonly number[], out: (Transformed | undefined)[]): void {
    const { lengths, offsets, dropHeader, bytes } = result;
    const counts = this.pool.counts;
    counts.sent += chunk.length;
    for (let j = 0; j < chunk.length; j++) {
      const length = lengths[j]!;
      if (length < 0) continue;
      out[chunk[j]!] = { kind: 'ok', bytes: Buffer.from(bytes, offsets[j]!, length), dropHeader: dropHeader[j] === 1 };
      counts.done += 1;
    }
    for (const algorithm of Object.keys(this.stats.encrypted) as (keyof EngineStats['encrypted'])[]) {
      this.stats.encrypted[algorithm] += result.stats.encrypted[algorithm];
      this.stats.decrypted[algorithm] += result.stats.decrypted[algorithm];
    }
  }
}

/** The records' part bytes in one buffer (transferred to the thread), with offsets and topic indexes. */
function pack(batch: readonly SourceRecord[], chunk: readonly number[], part: RecordPart) {
  const topics: string[] = [];
  const topicAt = new Map<string, number>();
  const topicIndex = new Int32Array(chunk.length);
  const offsets = new Int32Array(chunk.length + 1);
  let total = 0;
  for (let j = 0; j < chunk.length; j++) {
    const record = batch[chunk[j]!]!;
    let t = topicAt.get(record.topic);
    if (t === undefined) {
      t = topics.length;
      topics.push(record.topic);
      topicAt.set(record.topic, t);
    }
    topicIndex[j] = t;
    offsets[j] = total;
    total += partBytes(record, part)!.length;
  }
  offsets[chunk.length] = total;
  const bytes = new Uint8Array(total);
  for (let j = 0; j < chunk.length; j++) bytes.set(partBytes(batch[chunk[j]!]!, part)!, offsets[j]!);
  return { topics, topicIndex, offsets, bytes: bytes.buffer };
}
