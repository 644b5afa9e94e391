/**
 * The `recrypt` exit codes: one table, used by every command and documented in the README. A run
 * that did not do all it was asked to ends with a code of its own, never 0.
 */
export const EXIT = {
  /** Everything asked for was done. */
  OK: 0,
  /** Invalid input (job file, arguments' values), a failed command, or audit findings. */
  FAILED: 1,
  /** Usage error: unknown command or option, missing argument. */
  USAGE: 2,
  /** The run finished with one or more halted partitions (see the summary for offset and code). */
  HALTED: 3,
  /** The run finished, but records went to the DLQ instead of the target. */
  DIVERTED: 4,
  /** The run was stopped by SIGTERM/SIGINT before it reached its end. */
  STOPPED: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
