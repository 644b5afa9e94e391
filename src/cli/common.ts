/**
 * What every `recrypt` command shares: usage errors (exit 2 with the command's usage text), and job
 * files given as files or directories, validated with file:line:column problems.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblems, validateJobFiles, type Job, type Problem } from '../jobs/index.js';
import type { Logger } from '../util/logger.js';

/** A usage error (exit 2); `usage` is the usage text of the command it belongs to, when known. */
export class UsageError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}

/**
 * Runs a command; a UsageError prints its message and usage (its own, else `usage`), and sets exit
 * code 2. Anything else (HelpShown included) goes up to main.
 */
export async function withUsage(usage: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`recrypt: ${err.message}\n\n${err.usage ?? usage}`);
    process.exitCode = 2;
  }
}

/** The .yaml/.yml files of a directory, sorted. */
export function jobFilesIn(dir: string): string[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${dir} is not a directory`);
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

/** Where job-file problems go: one text line each on stderr (the commands a person runs) or a logger. */
export type ProblemReporter = (problems: readonly Problem[]) => void;

export const printProblems: ProblemReporter = (problems) => {
  for (const line of formatProblems(problems)) console.error(line);
};

/** Long-running commands (serve, backfill worker) log problems as JSON lines, like everything else they say. */
export function logProblems(logger: Logger): ProblemReporter {
  return (problems) => {
    for (const p of problems) {
      const fields = {
        code: p.code, file: p.file, line: p.line, column: p.column, path: p.path || undefined, job: p.job,
        problem: p.expected === undefined ? p.message : `${p.message} (expected ${p.expected})`,
      };
      if (p.severity === 'error') logger.error('job definition invalid', fields);
      else logger.warn('job definition warning', fields);
    }
  };
}

/** Validates job files (directories are expanded); reports problems; undefined (exit 1) when invalid. */
export async function loadJobs(paths: readonly string[], report: ProblemReporter = printProblems): Promise<Job[] | undefined> {
  const files = paths.flatMap((p) => (statSync(p, { throwIfNoEntry: false })?.isDirectory() ? jobFilesIn(p) : [p]));
  if (files.length === 0) throw new UsageError('no job files given');
  const result = await validateJobFiles(files);
  report(result.problems);
  if (!result.ok) {
    process.exitCode = 1;
    return undefined;
  }
  return [...result.jobs];
}

export function pickJob(jobs: readonly Job[], name: string | undefined): Job {
  if (name) {
    const job = jobs.find((j) => j.metadata.name === name);
    if (!job) throw new UsageError(`no job named ${name} (have: ${jobs.map((j) => j.metadata.name).join(', ')})`);
    return job;
  }
  if (jobs.length !== 1) throw new UsageError(`the file holds ${jobs.length} jobs: choose one with --job NAME`);
  return jobs[0]!;
}
