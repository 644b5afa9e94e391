/**
 * One Kafka transaction of the batch cycle: begin, produce the outputs, send the source offsets,
 * commit (resuming a commit that timed out), or abort. Errors come out classified; a record that
 * produce() refuses for good comes out as `RefusedOutput`, naming its source record.
 */
import kafka from '@confluentinc/kafka-javascript';
import { RecryptError, errorCodeOf, isRecryptError, isTransient } from '../util/errors.js';
import type { OutputRecord } from '../util/records.js';
import { produce, transactions, type NativeConsumer, type NativeProducer, type TopicPartitionOffset } from './native.js';

/** produce() refused the output of the batch's record `index` for good. */
export class RefusedOutput extends Error {
  constructor(readonly index: number, readonly error: RecryptError) {
    super(error.message);
  }
}

export class Transactions {
  constructor(private readonly producer: NativeProducer, private readonly consumer: NativeConsumer, private readonly timeoutMs: number) {}

  /**
   * Writes `outputs` and commits `offsets` in one transaction. `sources[i]`: the index in the batch of
   * the source record of `outputs[i]`. `whileCommitting` runs once everything is in the transaction.
   */
  async commit(outputs: readonly OutputRecord[], sources: readonly number[], offsets: TopicPartitionOffset[], whileCommitting: () => void): Promise<void> {
    if (outputs.length === 0 && offsets.length === 0) return;
    const producer = this.producer;
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
    if (offsets.length) await transactions.sendOffsets(producer, offsets, this.consumer, this.timeoutMs);
    whileCommitting();
    for (let attempt = 1; ; attempt++) {
      try {
        await transactions.commit(producer, this.timeoutMs);
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
  async abort(): Promise<void> {
    const producer = this.producer;
    try {
      await transactions.abort(producer, this.timeoutMs);
      return;
    } catch (err) {
      if (!isRecryptError(err) || !/conflicting/i.test(err.message)) return;
    }
    await transactions.commit(producer, this.timeoutMs).catch(() => undefined);
    try {
      await transactions.abort(producer, this.timeoutMs);
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

function isQueueFull(err: unknown): boolean {
  const cause = (err as RecryptError | undefined)?.cause as { code?: number } | undefined;
  return cause?.code === kafka.CODES.ERRORS.ERR__QUEUE_FULL;
}
