// The one convention for consumer groups and transactional ids (jobs/kafka-names.ts). These strings
// are persistent state on the brokers (committed offsets, transactional ids): a change strands
// offsets or leaves zombies unfenced, so they are pinned here.
import { describe, expect, it } from 'vitest';
import {
  dlqReplayGroupId, dlqReplayTransactionalId, jobGroupId, streamingTransactionalId, taskGroupId, taskTransactionalId,
} from '../../../src/jobs/index.js';
import * as backfillNames from '../../../src/backfill/names.js';

describe('group and transactional ids', () => {
  it('streaming: the job group, and a transactional id per job and instance', () => {
    expect(jobGroupId('customers-backfill')).toBe('recrypt-customers-backfill');
    expect(streamingTransactionalId('customers-backfill', 'recrypt-serve-0')).toBe('recrypt-customers-backfill-recrypt-serve-0');
  });

  it('backfill tasks: one transactional id per task; whole partitions share the job group, sub-ranges get their own', () => {
    expect(taskTransactionalId('bf', 'legacy.customers', 3, 1010)).toBe('recrypt-bf-task-legacy.customers-3-1010');
    expect(taskGroupId('bf', 'legacy.customers', 3, 0, false)).toBe(jobGroupId('bf'));
    expect(taskGroupId('bf', 'legacy.customers', 3, 1010, true)).toBe('recrypt-bf-legacy.customers-3-1010');
  });

  it('dlq replay: its own group on the DLQ topics and one transactional id per job', () => {
    expect(dlqReplayGroupId('orders')).toBe('recrypt-orders-dlq-replay');
    expect(dlqReplayTransactionalId('orders')).toBe('recrypt-orders-dlq-replay');
  });

  it('the ids of one job are distinct from each other', () => {
    const ids = [taskTransactionalId('bf', 't', 0, 0), streamingTransactionalId('bf', 'pod-0'), jobGroupId('bf'), taskGroupId('bf', 't', 0, 0, true), dlqReplayGroupId('bf')];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('backfill/ uses the same functions (one convention, not a copy)', () => {
    expect(backfillNames.jobGroupId).toBe(jobGroupId);
    expect(backfillNames.taskGroupId).toBe(taskGroupId);
    expect(backfillNames.taskTransactionalId).toBe(taskTransactionalId);
  });
});
