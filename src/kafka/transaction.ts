/**
 * One Kafka transaction of the batch cycle: begin, produce the outputs, send the source offsets,
 * commit (resuming a commit that timed out), or abort. Errors come out classified; a record that
 * produce() refuses for good comes out as `RefusedOutput`, naming its source record.
 */
import kafka from '@confluentinc/kafka-javascript';
import { RecryptError, errorCodeOf, isRecryptError } from '../util/errors.js';
import type { OutputRecord } from '../util/records.js';
import { produce, transactions, type NativeConsumer, type NativeProducer, type TopicPartitionOffset } from './native.js';

/** produce() refused the output of the batch's record `index` for good. */
export class RefusedOutput extends Error {
  constructor(readonly index: number, readonly error: RecryptError) {
    super(error.message);
  }
}

/** Milliseconds each step of one committed transaction took (begin is local to librdkafka; the others are broker round trips). */
export interface TransactionTimings {
  readonly beginMs: number;
  /** produce() calls, waits on a full local queue included. */
  readonly produceMs: number;
  /** AddOffsetsToTxn and TxnOffsetCommit. */
  readonly sendOffsetsMs: number;
  /** EndTxn, after librdkafka flushed the outputs. */
  readonly commitMs: number;
}

export class Transactions {
  /**
   * `onCommitStalled`: a commit has not answered within `stallMs`, or an attempt timed out and is being
   * resumed (the brokers may be gone): so that an outage that starts during a commit is reported while
   * it lasts, not after the attempts (up to 3 x `timeoutMs`) are over.
   */
  constructor(private readonly producer: NativeProducer, private readonly consumer: NativeConsumer, private readonly timeoutMs: number,
    private readonly onCommitStalled?: () => void, private readonly stallMs = 5000) {}

  /**
   * Writes `outputs` and commits `offsets` in one transaction. `sources[i]`: the index in the batch of
   * the source record of `outputs[i]`. `whileCommitting` runs once everything is in the transaction.
   */
  async commit(outputs: readonly OutputRecord[], sources: readonly number[], offsets: TopicPartitionOffset[], whileCommitting: () => void): Promise<TransactionTimings> {
    if (outputs.length === 0 && offsets.length === 0) return { beginMs: 0, produceMs: 0, sendOffsetsMs: 0, commitMs: 0 };
    const producer = this.producer;
    const t0 = performance.now();
    await transactions.begin(producer);
    const t1 = performance.now();
    for (let i = 0; i < outputs.length; i++) {
      const record = outputs[i]!;
      try {
        // Synchronous unless librdkafka's local queue is full.
        if (!this.tryProduce(record)) await this.produceWithBackpressure(record);
      } catch (err) {
        // produce() refused this very record (e.g. over message.max.bytes): no retry helps it.
        const code = errorCodeOf(err);
        if (code === 'RECORD_TOO_LARGE' || code === 'KAFKA_PRODUCE') throw new RefusedOutput(sources[i]!, err as RecryptError);
        // The broker refused an earlier record of this transaction, which librdkafka now holds in an
        // abortable error state (every produce() answers ERR__STATE): commit fails with the real error.
        if (causeCode(err) === kafka.CODES.ERRORS.ERR__STATE) await transactions.commit(producer, this.timeoutMs);
        throw err;
      }
    }
    const t2 = performance.now();
    if (offsets.length) await transactions.sendOffsets(producer, offsets, this.consumer, this.timeoutMs);
    const t3 = performance.now();
    whileCommitting();
    const stalled = this.onCommitStalled;
    const timer = stalled ? setTimeout(stalled, this.stallMs) : undefined;
    timer?.unref();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await transactions.commit(producer, this.timeoutMs);
          return { beginMs: t1 - t0, produceMs: t2 - t1, sendOffsetsMs: t3 - t2, commitMs: performance.now() - t3 };
        } catch (err) {
          // A commit that timed out is still in progress inside librdkafka: only calling commit again
          // resumes it (an abort would be refused as a conflicting call, and so would every later begin).
          if (attempt >= 3 || !resumable(err)) throw err;
          if (attempt === 1) stalled?.();
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Aborts the open transaction. A refused abort (a timed-out commit still pending) gets one resumed
   * commit: when that succeeds the transaction is committed, whole ('committed': the caller must not
   * rewind, that would write it twice); when it ends in an abortable error, a second abort. A
   * transaction that still cannot be ended would fail every later cycle: that stops the pipeline.
   */
  async abort(): Promise<'aborted' | 'committed'> {
    const producer = this.producer;
    try {
      await transactions.abort(producer, this.timeoutMs);
      return 'aborted';
    } catch (err) {
      if (!isRecryptError(err) || !/conflicting/i.test(err.message)) return 'aborted';
    }
    try {
      await transactions.commit(producer, this.timeoutMs);
      return 'committed';
    } catch {
      // An abortable error: the second abort below.
    }
    try {
      await transactions.abort(producer, this.timeoutMs);
      return 'aborted';
    } catch (err) {
      throw new RecryptError('KAFKA_TRANSACTION', `the open transaction can be neither committed nor aborted: ${(err as Error).message}`, { cause: err, transient: false });
    }
  }

  /** Produces one record; false when the local queue is full (the caller waits and retries). */
  private tryProduce(record: OutputRecord): boolean {
    try {
      produce(this.producer, record);
      return true;
    } catch (err) {
      if (isQueueFull(err)) return false;
      throw err;
    }
  }

  private async produceWithBackpressure(record: OutputRecord): Promise<void> {
    for (;;) {
      try {
        produce(this.producer, record);
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
}

/** A commit that timed out without needing an abort: librdkafka resumes it on the next commit call. */
function resumable(err: unknown): boolean {
  const cause = (err as RecryptError | undefined)?.cause as { isRetriable?: boolean; isTxnRequiresAbort?: boolean; isFatal?: boolean } | undefined;
  return cause?.isRetriable === true && cause.isTxnRequiresAbort !== true && cause.isFatal !== true;
}

function causeCode(err: unknown): number | undefined {
  return ((err as RecryptError | undefined)?.cause as { code?: number } | undefined)?.code;
}

function isQueueFull(err: unknown): boolean {
  return causeCode(err) === kafka.CODES.ERRORS.ERR__QUEUE_FULL;
}
