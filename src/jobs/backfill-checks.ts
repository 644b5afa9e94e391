/**
 * Checks of spec.backfill (how `recrypt backfill submit` splits a job into tasks). An ordered backfill
 * (the default) runs one task per partition: a partition is written in source order by one
 * transactional producer, so sub-ranges of it could only run one after another and would gain nothing
 * (a task already resumes from its Kafka checkpoint). taskRecords therefore applies only with
 * relaxOrdering; written without it, it would be silently ignored: say so.
 */
import type { LoadedDocument } from './load.js';
import { formatPath, type Problem } from './problem.js';
import { locate } from './yaml-source.js';

export function checkBackfillSplit(document: LoadedDocument): Problem[] {
  const backfill = (document.data as { spec?: { backfill?: { taskRecords?: unknown; relaxOrdering?: unknown } } } | null)?.spec?.backfill;
  if (document.job === undefined || backfill?.taskRecords === undefined || backfill.relaxOrdering === true) return [];
  const path = ['spec', 'backfill', 'taskRecords'];
  const pos = locate(document.source, path, 'key');
  return [{
    code: 'JOB_INVALID',
    severity: 'warning',
    file: document.source.file,
    document: document.source.index,
    line: pos.line,
    column: pos.column,
    path: formatPath(path),
    message: 'taskRecords has no effect without relaxOrdering: true; an ordered backfill runs one task per partition, in source order',
    expected: 'relaxOrdering: true to split partitions into offset ranges of taskRecords run in parallel (order within a partition is then not kept), or no taskRecords',
    job: document.job.metadata.name,
  }];
}
