/**
 * `recrypt validate`: loads job files, checks them against the schema and semantically, and returns
 * the jobs only when there is no error at all (a set of job files with any error starts no job).
 * Never throws for bad input.
 */
import type { Job } from './job-types.js';
import { loadJobFiles } from './load.js';
import { compareProblems, isError, type Problem } from './problem.js';
import { checkDocuments } from './semantic.js';

export interface ValidationResult {
  /** Every job, defaults applied and frozen; empty when any problem is an error. */
  readonly jobs: readonly Job[];
  /** Errors and warnings, sorted by file, line and column. */
  readonly problems: readonly Problem[];
  /** No error (warnings allowed). */
  readonly ok: boolean;
}

export async function validateJobFiles(paths: readonly string[]): Promise<ValidationResult> {
  const loaded = await loadJobFiles(paths);
  const problems = [...loaded.problems, ...checkDocuments(loaded.documents)].sort(compareProblems);
  const ok = !problems.some(isError) && paths.length > 0;
  return { jobs: ok ? loaded.jobs.map((j) => j.job) : [], problems, ok };
}
