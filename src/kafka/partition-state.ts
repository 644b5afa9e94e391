/**
 * One source partition as the pipeline sees it: a status, the positions the loop tracks, and the
 * progress it reports. The status changes only through `transition`, by the table below; positions
 * (the next offset expected, an end seen, the narrowing bound) are plain fields the batch loop writes
 * on its hot path, not transitions.
 *
 *   assigned --position--> running --pause--> paused --resume--> running
 *       |                     |  \--halt--> halted                  (paused --finish--> done)
 *       +--finish--> done     +--finish--> done
 *   any owned status --revoke--> revoked --assign--> assigned
 *
 * Late answers are self-loops: a position learned for a partition already paused, halted, done or
 * revoked keeps its status; a pause or halt of a partition revoked while its batch was in flight
 * leaves it revoked (it is no longer ours to pause). Anything else is a bug: INTERNAL.
 * No I/O, no clock: `transition` touches nothing but the record it is given.
 */
import { RecryptError } from '../util/errors.js';
import { partitionKey, type TopicPartition } from '../util/records.js';

export type PartitionStatus = 'assigned' | 'running' | 'paused' | 'halted' | 'done' | 'revoked';

export interface PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to read, as committed in the last transaction. */
  committed: number;
  records: number;
  written: number;
  dlq: number;
  end?: number;
  done: boolean;
  halted?: { offset: number; code: string };
}

export type PartitionEvent =
  /** The partition's start is known: the group's committed offset, a range start, or unknown (auto.offset.reset decides). */
  | { readonly type: 'position'; readonly offset?: number }
  /** A transient failure: no records of it are taken before `until`. */
  | { readonly type: 'pause'; readonly until: number }
  /** Its back-off is over. */
  | { readonly type: 'resume' }
  /** A permanent failure at `offset`: it stays there, everything before it committed. */
  | { readonly type: 'halt'; readonly offset: number; readonly code: string }
  /** Its range is read and committed to the end. */
  | { readonly type: 'finish' }
  /** The group took it away. */
  | { readonly type: 'revoke' }
  /** The group gave it back. */
  | { readonly type: 'assign' };

export type PartitionEventType = PartitionEvent['type'];

export interface PartitionState extends TopicPartition {
  readonly key: string;
  status: PartitionStatus;
  /** Next offset the loop expects; drops stale prefetched records after a seek. Unknown until positioned or a record arrives. */
  expected?: number;
  /** The furthest end-of-partition (or record past the range's end) the consumer has reported since it was last judged. */
  eofAt?: number;
  /** While narrowing: records up to (including) this offset are replayed one per transaction. */
  narrowTo?: number;
  /** While paused: when the back-off ends. */
  pausedUntil?: number;
  /** Created with the partition's first known position (or first commit); kept after a revoke. */
  progress?: PartitionProgress;
}

/** Per status, the events it accepts and the status each leads to. An event missing here is illegal there. */
export const TRANSITIONS: Readonly<Record<PartitionStatus, Readonly<Partial<Record<PartitionEventType, PartitionStatus>>>>> = {
  assigned: { position: 'running', pause: 'paused', halt: 'halted', finish: 'done', revoke: 'revoked' },
  running: { position: 'running', pause: 'paused', halt: 'halted', finish: 'done', revoke: 'revoked' },
  paused: { position: 'paused', pause: 'paused', resume: 'running', finish: 'done', revoke: 'revoked' },
  halted: { position: 'halted', revoke: 'revoked' },
  done: { position: 'done', revoke: 'revoked' },
  revoked: { position: 'revoked', pause: 'revoked', halt: 'revoked', assign: 'assigned' },
};

/** The status `event` leads to from `status`; throws INTERNAL for a transition the table does not have. */
export function nextStatus(status: PartitionStatus, event: PartitionEventType): PartitionStatus {
  const next = TRANSITIONS[status][event];
  if (next === undefined) throw new RecryptError('INTERNAL', `partition state machine: '${event}' is not a transition from '${status}'`);
  return next;
}

/** A partition the consumer was just given. */
export function assignedPartition(tp: TopicPartition): PartitionState {
  return { topic: tp.topic, partition: tp.partition, key: partitionKey(tp.topic, tp.partition), status: 'assigned' };
}

/** The partition's progress record, created on first need. */
export function progressOf(state: PartitionState): PartitionProgress {
  state.progress ??= { topic: state.topic, partition: state.partition, committed: 0, records: 0, written: 0, dlq: 0, done: false };
  return state.progress;
}

/** True while the consumer has the partition (whatever its status). */
export function owned(state: PartitionState | undefined): state is PartitionState {
  return state !== undefined && state.status !== 'revoked';
}

/**
 * Applies `event` to `state` (in place) and returns it. Illegal transitions throw INTERNAL and
 * leave the record as it was.
 */
export function transition(state: PartitionState, event: PartitionEvent): PartitionState {
  const from = state.status;
  const to = nextStatus(from, event.type);
  switch (event.type) {
    case 'position':
      if (from === 'revoked') break;
      if (event.offset !== undefined) {
        progressOf(state).committed = event.offset;
        state.expected = event.offset;
      } else {
        progressOf(state);
      }
      break;
    case 'pause':
      if (to === 'paused') state.pausedUntil = event.until;
      break;
    case 'resume':
      state.pausedUntil = undefined;
      break;
    case 'halt': {
      if (to === 'halted') state.expected = event.offset;
      progressOf(state).halted = { offset: event.offset, code: event.code };
      break;
    }
    case 'finish':
      progressOf(state).done = true;
      state.pausedUntil = undefined;
      break;
    case 'revoke':
    case 'assign':
      state.expected = undefined;
      state.pausedUntil = undefined;
      state.narrowTo = undefined;
      break;
  }
  state.status = to;
  return state;
}
