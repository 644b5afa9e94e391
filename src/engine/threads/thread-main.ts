/**
 * The entry of an engine worker thread (started by pool.ts): its own kernel, plans (thread-plans.ts)
 * and keyring (thread-keyring.ts). It runs slices of records through the kernel's fast path and returns
 * each record's new part bytes, or "not ok" for anything else (a schema or DEK it lacks, a rule
 * failure, bytes that do not read): the main thread runs those records again with the driver's full
 * handling, so misses, rule actions, DLQ routing and halts stay in one place.
 * An error outside the kernel is not caught: the thread dies and the pool fails the batch (ENGINE_WORKER).
 */
import { parentPort } from 'node:worker_threads';
import { Kernel, type KernelRecord } from '../kernel/transform.js';
import type { ActionPolicy } from '../kernel/outcome.js';
import type { Step } from '../plan.js';
import type { SliceDone, SliceMessage, ToThread } from './protocol.js';
import { ThreadKeyring } from './thread-keyring.js';
import { ThreadPlans } from './thread-plans.js';

/** Outcomes other than ok are never acted on here, so the policy cannot change what a thread returns. */
const POLICY: ActionPolicy = { allowPlaintextOnEncryptFailure: false, dlqAccepts: () => false };
const NO_SKIPS: ReadonlySet<Step> = new Set();
const NO_HEADERS: KernelRecord['headers'] = [];

const keyring = new ThreadKeyring();
const plans = new ThreadPlans();
const kernel = new Kernel(keyring, POLICY);

function runSlice(slice: SliceMessage): SliceDone {
  const { part, topics, topicIndex, offsets, bytes } = slice;
  const table = plans.table(slice.driver);
  const n = offsets.length - 1;
  const results: (Buffer | undefined)[] = new Array(n);
  const lengths = new Int32Array(n);
  const dropHeader = new Uint8Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const payload = Buffer.from(bytes, offsets[i]!, offsets[i + 1]! - offsets[i]!);
    const topic = topics[topicIndex[i]!]!;
    const record: KernelRecord = part === 'value'
      ? { topic, key: null, value: payload, headers: NO_HEADERS }
      : { topic, key: payload, value: null, headers: NO_HEADERS };
    const outcome = kernel.transform(record, part, table, NO_SKIPS);
    if (outcome.kind === 'ok' && outcome.bytes !== null) {
      results[i] = outcome.bytes;
      lengths[i] = outcome.bytes.length;
      dropHeader[i] = outcome.dropHeader ? 1 : 0;
      total += outcome.bytes.length;
    } else {
      lengths[i] = -1;
    }
  }
  const out = new Uint8Array(total);
  const at = new Int32Array(n);
  for (let i = 0, pos = 0; i < n; i++) {
    const result = results[i];
    at[i] = pos;
    if (result === undefined) continue;
    out.set(result, pos);
    pos += result.length;
  }
  return { kind: 'done', id: slice.id, lengths, offsets: at, dropHeader, bytes: out.buffer, stats: kernel.drainStats() };
}

function onMessage(message: ToThread): void {
  switch (message.kind) {
    case 'driver':
      plans.addDriver(message);
      return;
    case 'plan':
      try {
        plans.addPlan(message);
      } catch {
        // The driver compiled this plan; if the thread cannot, its records miss here and run on the main thread.
      }
      return;
    case 'keys':
      keyring.apply(message);
      return;
    case 'slice': {
      const done = runSlice(message);
      parentPort!.postMessage(done, [done.bytes, done.lengths.buffer as ArrayBuffer, done.offsets.buffer as ArrayBuffer, done.dropHeader.buffer as ArrayBuffer]);
      return;
    }
  }
}

parentPort?.on('message', onMessage);
