/**
 * The engine's worker threads (#24 "use every core"): a fixed number of threads, each running
 * thread-main.ts (its own kernel, plans and keyring), shared by every driver of a job (link.ts).
 * The pool keeps what a thread needs to be rebuilt, so a thread that dies is replaced on the next batch
 * without the driver noticing: the drivers' and plans' messages in order (replayed to a new thread),
 * and the DEK ciphers the drivers use (their material sent to each thread once, from crypto/'s
 * dekMaterialForThread, never logged). A thread that errors or exits fails its pending slices with
 * ENGINE_WORKER (transient: the pipeline retries the batch), and so does a slice a thread has not
 * answered by its deadline (the thread is ended). A thread that fails every time would make the
 * pipeline retry forever: after MAX_FAILED_BATCHES_IN_ROW failed batches in a row the pool stops
 * offloading and the drivers run every batch on the main thread (logged once). Idle threads do not keep
 * the process alive; close() ends them (a later batch starts new ones).
 * Making a pool switches on crypto/'s DEK material retention, which the threads need and a process
 * without a pool must not pay for (thread-material.ts).
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { dekMaterialForThread, retainDekMaterialForThreads, type FieldCipher } from '../../crypto/index.js';
import type { DekRef } from '../../model/index.js';
import { RecryptError } from '../../util/errors.js';
import { createLogger, type LogFields } from '../../util/logger.js';
import type { WriteKey } from '../kernel/outcome.js';
import {
  readString, refString, type DriverMessage, type FromThread, type KeyUpdate, type PlanMessage, type ReadKey,
  type SliceDone, type SliceMessage, type WriteKeyUpdate,
} from './protocol.js';

export interface EnginePoolOptions {
  /** Worker threads (at least 1). */
  readonly threads: number;
  /**
   * Fewest records a slice is worth (a thread's or the main thread's share): smaller batches run on the
   * main thread alone, where packing and messages would cost more than the work they spread.
   */
  readonly minSliceRecords?: number;
  /** The thread entry; default thread-main (tests start a failing one). */
  readonly entry?: URL;
  /** The shortest slice deadline; default SLICE_DEADLINE_MIN_MS (tests shorten it). */
  readonly sliceDeadlineMinMs?: number;
  /** Where the fallback to the main thread is logged; default a logger on stderr. */
  readonly warn?: (message: string, fields: LogFields) => void;
}

/**
 * A slice's deadline: max(SLICE_DEADLINE_MIN_MS, records x SLICE_DEADLINE_PER_RECORD_MS). A record takes
 * ~15 us on a thread (2-core machine, 2026-12-08), so 10 s, or 10 ms a record for big slices, is hundreds
 * of times its normal time: only a stuck thread (a pathological CEL `matches` regex on a crafted value,
 * a loop) or a machine starved far beyond any useful service misses it.
 */
export const SLICE_DEADLINE_MIN_MS = 10_000;
export const SLICE_DEADLINE_PER_RECORD_MS = 10;

/** Failed batches in a row (ENGINE_WORKER) after which the pool stops offloading for good. */
export const MAX_FAILED_BATCHES_IN_ROW = 3;

/**
 * A slice's round trip costs ~90 us of CPU (~0.4 us per record of a 250-record slice: packing, the
 * messages, the views on the results); 64 records carry ~1 ms of field work at ~15 us each (2-core
 * machine, 2026-12-08), so a smaller share would spend a tenth of its work on the trip.
 */
export const DEFAULT_MIN_SLICE_RECORDS = 64;

interface Pending {
  readonly resolve: (done: SliceDone) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  readonly pending: Map<number, Pending>;
  /** The cipher each read key and write ref was last sent with (null: sent as "none"). */
  readonly sentReads: Map<string, FieldCipher>;
  readonly sentWrites: Map<string, WriteKey | null>;
}

export class EnginePool {
  readonly threads: number;
  readonly minSliceRecords: number;
  /** Records sent to the threads, and those they returned done (the rest ran again on the main thread). */
  readonly counts = { sent: 0, done: 0 };
  private readonly slots: Slot[];
  /** Driver and plan messages in the order sent: a new thread gets them all first. */
  private readonly replay: (DriverMessage | PlanMessage)[] = [];
  private readonly reads = new Map<string, FieldCipher>();
  private readonly writes = new Map<string, WriteKey | null>();
  private nextSlice = 1;
  private nextDriver = 1;
  private failedInRow = 0;
  private stopped = false;

  constructor(private readonly options: EnginePoolOptions) {
    this.threads = Math.max(1, Math.floor(options.threads));
    this.minSliceRecords = Math.max(1, options.minSliceRecords ?? DEFAULT_MIN_SLICE_RECORDS);
    // A pool exists only when threads are in use (processing.workers > 0): from now on the DEK ciphers
    // keep what the threads need to rebuild them. Here, before any batch or job start, so no DEK the
    // drivers use was made without it (a cipher made before would stay on the main thread for good).
    retainDekMaterialForThreads();
    this.slots = Array.from({ length: this.threads }, (_, index) => ({
      index, worker: undefined, pending: new Map(), sentReads: new Map(), sentWrites: new Map(),
    }));
  }

  /** A new driver id; its DriverMessage goes to every thread (now and on replacement). */
  newDriver(message: Omit<DriverMessage, 'kind' | 'driver'>): number {
    const driver = this.nextDriver++;
    this.announce({ kind: 'driver', driver, ...message });
    return driver;
  }

  announce(message: DriverMessage | PlanMessage): void {
    this.replay.push(message);
    for (const slot of this.slots) slot.worker?.postMessage(message);
  }

  /** A read DEK a driver used: its threads get it with their next slice (when crypto/ made the cipher). */
  offerRead(ref: DekRef, version: number, cipher: FieldCipher): void {
    if (dekMaterialForThread(cipher) !== undefined) this.reads.set(readString(ref, version), cipher);
  }

  /** The write DEK a driver holds for `ref` now (undefined: none, so the threads miss and the main thread decides). */
  setWrite(ref: DekRef, key: WriteKey | undefined): void {
    const usable = key !== undefined && dekMaterialForThread(key.cipher) !== undefined ? key : null;
    const name = refString(ref);
    const held = this.writes.get(name);
    if (held === usable || (held && usable && held.cipher === usable.cipher && held.version === usable.version)) return;
    this.writes.set(name, usable);
  }

  /** False once threads failed MAX_FAILED_BATCHES_IN_ROW batches in a row: drivers run every batch on the main thread. */
  get offloading(): boolean {
    return !this.stopped;
  }

  /** A driver's offloaded batch ended: a success resets the count of failures, a failure adds one. */
  settled(error: unknown): void {
    if (error === undefined) {
      this.failedInRow = 0;
      return;
    }
    this.failedInRow += 1;
    if (this.stopped || this.failedInRow < MAX_FAILED_BATCHES_IN_ROW) return;
    this.stopped = true;
    // Only the code: a thread's error text is not ours to vouch for, and no record value is in it.
    const code = error instanceof RecryptError ? error.code : error instanceof Error ? error.name : typeof error;
    const warn = this.options.warn ?? ((message: string, fields: LogFields) => createLogger().warn(message, fields));
    warn('engine worker threads failed batches in a row; every batch runs on the main thread from now on', { failures: this.failedInRow, code });
    void this.close();
  }

  /** Runs a slice on thread `index` (its keys brought up to date first); ENGINE_WORKER when the thread fails. */
  run(index: number, slice: Omit<SliceMessage, 'kind' | 'id'>): Promise<SliceDone> {
    const slot = this.slots[index % this.threads]!;
    try {
      const worker = slot.worker ?? this.spawn(slot);
      const keys = this.keyUpdate(slot);
      if (keys !== undefined) worker.postMessage(keys);
      const id = this.nextSlice++;
      const message: SliceMessage = { kind: 'slice', id, ...slice };
      const records = slice.offsets.length - 1;
      const deadline = Math.max(this.options.sliceDeadlineMinMs ?? SLICE_DEADLINE_MIN_MS, records * SLICE_DEADLINE_PER_RECORD_MS);
      const timer = setTimeout(() => this.lost(slot, worker, new RecryptError('ENGINE_WORKER',
        `engine worker thread ${slot.index} did not answer a slice of ${records} records within ${deadline} ms; it was ended`)), deadline);
      timer.unref();
      const done = new Promise<SliceDone>((resolve, reject) => slot.pending.set(id, {
        resolve: (result) => { clearTimeout(timer); resolve(result); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      }));
      worker.ref();
      worker.postMessage(message, [message.bytes, message.offsets.buffer as ArrayBuffer, message.topicIndex.buffer as ArrayBuffer]);
      return done;
    } catch (err) {
      return Promise.reject(workerError(slot, err));
    }
  }

  /** Starts the threads not running yet, so their start-up overlaps the job's (run() would start them with the first batch). */
  warm(): void {
    for (const slot of this.slots) if (slot.worker === undefined) this.spawn(slot);
  }

  /** Ends every thread; their pending slices fail. A later run() starts new threads. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map(async (slot) => {
      const worker = slot.worker;
      if (worker === undefined) return;
      this.lost(slot, worker, new RecryptError('ENGINE_WORKER', `engine worker thread ${slot.index} closed`));
      await worker.terminate();
    }));
  }

  private keyUpdate(slot: Slot): KeyUpdate | undefined {
    const reads: ReadKey[] = [];
    for (const [key, cipher] of this.reads) {
      if (slot.sentReads.get(key) === cipher) continue;
      const material = dekMaterialForThread(cipher)!;
      reads.push({ key, algorithm: material.algorithm, proto: material.proto });
      slot.sentReads.set(key, cipher);
    }
    const writes: WriteKeyUpdate[] = [];
    for (const [key, dek] of this.writes) {
      if (slot.sentWrites.has(key) && slot.sentWrites.get(key) === dek) continue;
      const material = dek === null ? undefined : dekMaterialForThread(dek.cipher)!;
      writes.push({ key, dek: dek === null || material === undefined ? null : { version: dek.version, algorithm: material.algorithm, proto: material.proto } });
      slot.sentWrites.set(key, dek);
    }
    return reads.length === 0 && writes.length === 0 ? undefined : { kind: 'keys', reads, writes };
  }

  private spawn(slot: Slot): Worker {
    const worker = startThread(this.options.entry);
    worker.unref();
    slot.worker = worker;
    slot.sentReads.clear();
    slot.sentWrites.clear();
    worker.on('message', (message: FromThread) => {
      const pending = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      if (slot.pending.size === 0 && slot.worker === worker) worker.unref();
      pending?.resolve(message);
    });
    worker.on('error', (err) => this.lost(slot, worker, workerError(slot, err)));
    worker.on('messageerror', (err) => this.lost(slot, worker, workerError(slot, err)));
    worker.on('exit', (code) => this.lost(slot, worker, new RecryptError('ENGINE_WORKER', `engine worker thread ${slot.index} exited (code ${code})`)));
    for (const message of this.replay) worker.postMessage(message);
    return worker;
  }

  /** The thread is gone (or going): its slices fail, and the next run() starts a new one. */
  private lost(slot: Slot, worker: Worker, error: RecryptError): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) p.reject(error);
    void worker.terminate().catch(() => undefined);
  }
}

/** Only the error's name and code: a thread's error text is not ours to vouch for. */
function workerError(slot: Slot, err: unknown): RecryptError {
  const what = err instanceof RecryptError ? err.code : err instanceof Error ? err.name : typeof err;
  return new RecryptError('ENGINE_WORKER', `engine worker thread ${slot.index} failed (${what})`);
}

/**
 * The compiled entry (dist/, .js) runs as it is; from sources (vitest, tsx) the thread first registers
 * tsx's loader, which the main thread's loader does not pass on to workers.
 */
function startThread(entry: URL | undefined): Worker {
  const here = import.meta.url;
  const sources = here.endsWith('.ts');
  const url = entry ?? new URL(sources ? './thread-main.ts' : './thread-main.js', here);
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { name: 'recrypt-engine' });
  // tsx's ESM API (its package exports' "import" file sits beside the "require" one).
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = 'const { workerData } = require("node:worker_threads");\n'
    + 'import(workerData.tsx).then((api) => { api.register(); return import(workerData.entry); });';
  return new Worker(boot, { eval: true, name: 'recrypt-engine', workerData: { tsx, entry: url.href } });
}
