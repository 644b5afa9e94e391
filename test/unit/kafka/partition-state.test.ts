// The per-partition state machine (issue 22): every legal transition of the table, and illegal ones refused.
import { describe, expect, it } from 'vitest';
import {
  TRANSITIONS, assignedPartition, nextStatus, owned, transition,
  type PartitionEvent, type PartitionEventType, type PartitionState, type PartitionStatus,
} from '../../../src/kafka/partition-state.js';
import { isRecryptError } from '../../../src/util/errors.js';

const STATUSES: readonly PartitionStatus[] = ['assigned', 'running', 'paused', 'halted', 'done', 'revoked'];
const EVENTS: Readonly<Record<PartitionEventType, PartitionEvent>> = {
  position: { type: 'position', offset: 7 },
  pause: { type: 'pause', until: 1000 },
  resume: { type: 'resume' },
  halt: { type: 'halt', offset: 9, code: 'CRYPTO_DECRYPT' },
  finish: { type: 'finish' },
  revoke: { type: 'revoke' },
  assign: { type: 'assign' },
};

const LEGAL: ReadonlyArray<[PartitionStatus, PartitionEventType, PartitionStatus]> = [
  ['assigned', 'position', 'running'], ['assigned', 'pause', 'paused'], ['assigned', 'halt', 'halted'],
  ['assigned', 'finish', 'done'], ['assigned', 'revoke', 'revoked'],
  ['running', 'position', 'running'], ['running', 'pause', 'paused'], ['running', 'halt', 'halted'],
  ['running', 'finish', 'done'], ['running', 'revoke', 'revoked'],
  ['paused', 'position', 'paused'], ['paused', 'pause', 'paused'], ['paused', 'resume', 'running'],
  ['paused', 'finish', 'done'], ['paused', 'revoke', 'revoked'],
  ['halted', 'position', 'halted'], ['halted', 'revoke', 'revoked'],
  ['done', 'position', 'done'], ['done', 'revoke', 'revoked'],
  ['revoked', 'position', 'revoked'], ['revoked', 'pause', 'revoked'], ['revoked', 'halt', 'revoked'], ['revoked', 'assign', 'assigned'],
];

function at(status: PartitionStatus): PartitionState {
  return { ...assignedPartition({ topic: 't', partition: 3 }), status };
}

describe('partition state table', () => {
  it.each(LEGAL)('%s --%s--> %s', (from, event, to) => {
    expect(nextStatus(from, event)).toBe(to);
    expect(transition(at(from), EVENTS[event]).status).toBe(to);
  });

  it('has exactly the legal transitions listed', () => {
    const table = STATUSES.flatMap((from) => Object.entries(TRANSITIONS[from]).map(([event, to]) => [from, event, to]));
    expect(table).toEqual(expect.arrayContaining(LEGAL.map((t) => [...t])));
    expect(table).toHaveLength(LEGAL.length);
  });

  const illegal = STATUSES.flatMap((from) => (Object.keys(EVENTS) as PartitionEventType[])
    .filter((event) => !LEGAL.some(([f, e]) => f === from && e === event)).map((event) => [from, event] as const));

  it.each(illegal)('refuses %s --%s-- with INTERNAL, leaving the record as it was', (from, event) => {
    const state = at(from);
    state.expected = 4;
    const before = structuredClone(state);
    let thrown: unknown;
    try { transition(state, EVENTS[event]); } catch (err) { thrown = err; }
    expect(isRecryptError(thrown) && thrown.code).toBe('INTERNAL');
    expect(state).toEqual(before);
  });
});

describe('transition effects', () => {
  it('position: sets the committed and expected offsets, or only creates progress when the start is unknown', () => {
    const s = transition(assignedPartition({ topic: 't', partition: 0 }), { type: 'position', offset: 12 });
    expect([s.status, s.expected, s.progress?.committed]).toEqual(['running', 12, 12]);
    const unknown = transition(assignedPartition({ topic: 't', partition: 1 }), { type: 'position' });
    expect([unknown.status, unknown.expected, unknown.progress?.committed]).toEqual(['running', undefined, 0]);
  });

  it('position: a late answer for a revoked partition changes nothing', () => {
    const s = transition(at('revoked'), { type: 'position', offset: 12 });
    expect([s.status, s.expected, s.progress]).toEqual(['revoked', undefined, undefined]);
  });

  it('pause and resume keep the back-off end while paused only', () => {
    const s = transition(at('running'), { type: 'pause', until: 500 });
    expect(s.pausedUntil).toBe(500);
    expect(transition(s, { type: 'resume' }).pausedUntil).toBeUndefined();
    expect(transition(at('revoked'), { type: 'pause', until: 500 }).pausedUntil).toBeUndefined();
  });

  it('halt: stays on the failing record and records it in progress', () => {
    const s = transition(at('running'), { type: 'halt', offset: 9, code: 'CRYPTO_DECRYPT' });
    expect([s.expected, s.progress?.halted]).toEqual([9, { offset: 9, code: 'CRYPTO_DECRYPT' }]);
    const gone = transition(at('revoked'), { type: 'halt', offset: 9, code: 'CRYPTO_DECRYPT' });
    expect([gone.status, gone.expected, gone.progress?.halted]).toEqual(['revoked', undefined, { offset: 9, code: 'CRYPTO_DECRYPT' }]);
  });

  it('finish marks progress done; revoke and assign forget positions but keep progress', () => {
    const s = transition(at('paused'), { type: 'finish' });
    expect([s.progress?.done, s.pausedUntil]).toEqual([true, undefined]);
    const r = at('running');
    Object.assign(r, { expected: 5, narrowTo: 8, pausedUntil: 3 });
    const progress = transition(r, { type: 'position', offset: 5 }).progress;
    transition(r, { type: 'revoke' });
    expect([r.expected, r.narrowTo, r.pausedUntil, owned(r)]).toEqual([undefined, undefined, undefined, false]);
    transition(r, { type: 'assign' });
    expect([r.status, r.progress, owned(r)]).toEqual(['assigned', progress, true]);
  });
});
