/**
 * The DLQ circuit breaker (issue 21, defect 2): a job whose records all fail the same way (a bad key the
 * engine cannot tell from a record failure, a producer sending garbage) must not drain its source into
 * the DLQ and report success. Over the last `window` records the job processed (all its partitions),
 * at most maxRatio x window may have gone to the DLQ; the record that would exceed that is not sent to
 * the DLQ: its partition halts with DLQ_STORM, and offsets stay on it.
 *
 * Count-based and in processing order. Halted records are not counted (they were not processed), nor
 * are the later records of a partition halted in the same batch (the loop drops them). A batch replayed
 * after an aborted transaction is not counted twice: each partition's highest counted offset is kept.
 */
import { RecryptError } from '../util/errors.js';
import { partitionKey, type ProcessedRecord, type SourceRecord } from '../util/records.js';

export interface DlqBreakerSettings {
  /** In (0, 1]; 1 never trips. */
  readonly maxRatio: number;
  /** Records the ratio is counted over (>= 1). */
  readonly window: number;
  /** Where the operator looks for the cause (the DLQ topic or topics), for the halt message. */
  readonly dlqTopics?: readonly string[];
}

export class DlqBreaker {
  /** 1 where the record at that ring slot went to the DLQ. */
  private readonly ring: Uint8Array;
  private next = 0;
  private filled = 0;
  private inDlq = 0;
  /** More than this many DLQ records in the window trips the breaker. */
  private readonly limit: number;
  private readonly counted = new Map<string, number>();
  /** Which record each ring slot holds, to find it again when its output is refused later (rare). */
  private readonly slotKeys: string[];
  private readonly slotOffsets: Float64Array;

  constructor(private readonly settings: DlqBreakerSettings) {
    if (!(settings.maxRatio > 0 && settings.maxRatio <= 1) || !Number.isInteger(settings.window) || settings.window < 1) {
      throw new RecryptError('JOB_INVALID', `dlq.maxRatio must be in (0, 1] and dlq.window a positive integer (got ${settings.maxRatio}, ${settings.window})`);
    }
    this.ring = new Uint8Array(settings.window);
    this.slotKeys = new Array<string>(settings.window).fill('');
    this.slotOffsets = new Float64Array(settings.window).fill(-1);
    this.limit = Math.floor(settings.maxRatio * settings.window);
  }

  /** DLQ records among the last `window` counted records. */
  get dlqInWindow(): number {
    return this.inDlq;
  }

  /**
   * Counts a processed batch (results in batch order) and returns it with the record that trips the
   * breaker turned into a DLQ_STORM halt (its DLQ output dropped: it is never produced).
   */
  check(batch: readonly SourceRecord[], results: ProcessedRecord[]): ProcessedRecord[] {
    if (this.settings.maxRatio >= 1) return results;
    const haltedHere = new Set<string>();
    for (let i = 0; i < results.length; i++) {
      const record = batch[i]!;
      const result = results[i]!;
      const key = partitionKey(record.topic, record.partition);
      if (haltedHere.has(key)) continue;
      if ('halt' in result) {
        haltedHere.add(key);
        continue;
      }
      const last = this.counted.get(key);
      if (last !== undefined && record.offset <= last) continue;
      const dlq = result.dlq === true;
      if (dlq && this.inDlq + 1 - this.leaving() > this.limit) {
        results[i] = { halt: this.storm(record) };
        haltedHere.add(key);
        continue;
      }
      this.push(dlq, key, record.offset);
      this.counted.set(key, record.offset);
    }
    return results;
  }

  /**
   * A record counted as written whose output the producer or broker then refused, and which goes to the
   * DLQ after all (the pipeline's refused-record path, after check): its slot becomes a DLQ slot, or, when
   * that is one too many, the DLQ_STORM error its partition halts with (the DLQ record is then not built).
   * Without this, a target that refuses every record (a too-small max.message.bytes) would drain the
   * source into the DLQ, the breaker never seeing a DLQ record.
   */
  divertLate(record: SourceRecord): RecryptError | undefined {
    if (this.settings.maxRatio >= 1) return undefined;
    const key = partitionKey(record.topic, record.partition);
    const slot = this.slotOf(key, record.offset);
    if (slot !== undefined) {
      if (this.ring[slot] === 1) return undefined; // diverted already, on an earlier attempt of the batch
      if (this.inDlq + 1 > this.limit) return this.storm(record, 0);
      this.ring[slot] = 1;
      this.inDlq += 1;
      return undefined;
    }
    // Not in the window (never counted, or counted long ago): a DLQ record of its own.
    if (this.inDlq + 1 - this.leaving() > this.limit) return this.storm(record);
    this.push(true, key, record.offset);
    const last = this.counted.get(key);
    if (last === undefined || record.offset > last) this.counted.set(key, record.offset);
    return undefined;
  }

  private slotOf(key: string, offset: number): number | undefined {
    // Newest first: a refused record belongs to the batch just counted.
    for (let n = 0, i = this.next; n < this.filled; n++) {
      i = i === 0 ? this.ring.length - 1 : i - 1;
      if (this.slotOffsets[i] === offset && this.slotKeys[i] === key) return i;
    }
    return undefined;
  }

  /** 1 when pushing one more record drops a DLQ record out of a full window. */
  private leaving(): number {
    return this.filled === this.ring.length ? this.ring[this.next]! : 0;
  }

  private push(dlq: boolean, key: string, offset: number): void {
    this.inDlq += (dlq ? 1 : 0) - this.leaving();
    this.ring[this.next] = dlq ? 1 : 0;
    this.slotKeys[this.next] = key;
    this.slotOffsets[this.next] = offset;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled += 1;
  }

  /** `arriving`: 1 when the record would take a new slot (pushing the oldest out), 0 when it has one. */
  private storm(record: SourceRecord, arriving: 0 | 1 = 1): RecryptError {
    const { maxRatio, window, dlqTopics } = this.settings;
    const where = dlqTopics && dlqTopics.length > 0 ? `the __rule.exception headers in ${dlqTopics.join(', ')}` : 'the DLQ records\' __rule.exception headers';
    return new RecryptError(
      'DLQ_STORM',
      `${this.inDlq + 1 - (arriving ? this.leaving() : 0)} of the last ${Math.min(this.filled + arriving, window)} records would have gone to the DLQ, more than dlq.maxRatio ${maxRatio} of dlq.window ${window}: `
      + `record ${record.topic}/${record.partition}@${record.offset} was not sent to the DLQ and the partition halted. `
      + `Find the common cause in the "rule failures" log lines and ${where}`,
    );
  }
}
