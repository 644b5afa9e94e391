/**
 * `recrypt run FILE`: one job in the foreground, with progress while it runs, a summary at its end,
 * and an exit code that says how it ended (halted 3, stopped by a signal 5, records diverted to the
 * DLQ 4, else 0). SIGTERM/SIGINT stop it at a transaction boundary within the shutdown timeout.
 */
import type { PipelineSummary } from '../kafka/pipeline.js';
import { loadServiceConfig } from '../service/config.js';
import { createJobRuntime, prepareJob, startJob, type JobRun } from '../runtime/index.js';
import { loggingObserver } from '../service/pipeline-log.js';
import { createLogger } from '../util/logger.js';
import { defineCommand, parseCommand, usageError } from './args.js';
import { loadJobs, pickJob } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { reportProgress } from './progress.js';
import { onShutdownSignals } from './shutdown.js';

export const RUN = defineCommand({
  name: 'run',
  usage: `usage: recrypt run FILE [--job NAME]

Runs one job in the foreground. With stopAt: end it stops at the end offsets taken at start and
prints a per-partition summary; otherwise it streams until SIGTERM/SIGINT. Progress: bars per
partition on a terminal, else a JSON "progress" log line every RECRYPT_PROGRESS_INTERVAL_MS (10000).
A signal stops it after the open transaction; after RECRYPT_SHUTDOWN_TIMEOUT_MS (30000), or on a
second signal, it exits at once (the open transaction is aborted, nothing is lost).

options:
  --job NAME     the job to run when FILE holds several

exit codes: 0 done; 1 failed; 3 partitions halted; 4 records went to the DLQ; 5 stopped by a signal

example:
  recrypt run jobs/examples/backfill-encrypt.yaml`,
  options: {
    job: { type: 'string' },
  },
  allowPositionals: true,
});

export async function run(args: string[]): Promise<void> {
  const { positionals, values } = parseCommand(RUN, args);
  if (positionals.length !== 1) throw usageError(RUN, 'needs exactly one FILE');
  const jobs = await loadJobs(positionals);
  if (!jobs) return;
  const job = pickJob(jobs, values.job);
  const config = loadServiceConfig();
  const logger = createLogger({ level: config.logLevel, base: { job: job.metadata.name } });
  const runtime = createJobRuntime(config, job, { logger });
  let running: JobRun | undefined;
  const shutdown = onShutdownSignals({
    timeoutMs: config.shutdownTimeoutMs, logger, forcedExitCode: EXIT.STOPPED,
    onStop: () => running?.pipeline.stop(),
  });
  try {
    const prepared = await prepareJob(runtime);
    if (shutdown.signal) {
      process.exitCode = EXIT.STOPPED;
      return;
    }
    running = await startJob(prepared, { observer: loggingObserver(logger) });
    if (shutdown.signal) running.pipeline.stop();
    const progress = reportProgress(running.pipeline, { tty: process.stderr.isTTY === true, logger, intervalMs: config.progressIntervalMs });
    let summary: PipelineSummary;
    try {
      summary = await running.done;
    } finally {
      progress.stop();
    }
    printSummary(job.metadata.name, summary);
    const outcome = runOutcome(summary, shutdown.signal);
    if (outcome.line) console.log(outcome.line);
    process.exitCode = outcome.code;
  } catch (err) {
    // A failure caused by the stop itself (a start-up retry cut short) is a stop, not a failure.
    if (!shutdown.signal) throw err;
    logger.warn('stopped while starting', { error: err as Error });
    process.exitCode = EXIT.STOPPED;
  } finally {
    shutdown.dispose();
  }
}

function printSummary(name: string, summary: PipelineSummary): void {
  const seconds = summary.durationMs / 1000;
  console.log(`\njob ${name}: ${summary.records} records (${summary.written} written, ${summary.dlq} to DLQ) in ${seconds.toFixed(1)} s, ${Math.round(summary.records / Math.max(seconds, 0.001))} records/s`);
  for (const p of summary.partitions) {
    const state = p.halted ? `HALTED at offset ${p.halted.offset} (${p.halted.code})` : p.done ? 'done' : 'stopped';
    console.log(`  ${p.topic}/${p.partition}: ${p.records} records, committed offset ${p.committed}${p.end !== undefined ? ` of ${p.end}` : ''}, ${state}`);
  }
}

/**
 * How a run ended, most urgent first: halted partitions (they block until fixed), a stop before the
 * end (a rerun resumes), records diverted to the DLQ (they need handling), else success.
 */
export function runOutcome(summary: PipelineSummary, signal: string | undefined): { code: ExitCode; line?: string } {
  const halted = summary.partitions.filter((p) => p.halted);
  if (halted.length > 0) {
    const where = halted.map((p) => `${p.topic}/${p.partition} at offset ${p.halted!.offset} (${p.halted!.code})`).join(', ');
    return {
      code: EXIT.HALTED,
      line: `HALTED: ${halted.length} partition${halted.length === 1 ? '' : 's'} halted: ${where}; fix the cause and run again (a halted partition resumes at its record)`,
    };
  }
  const open = summary.partitions.filter((p) => !p.done);
  if (signal !== undefined && (open.length > 0 || summary.partitions.length === 0)) {
    return {
      code: EXIT.STOPPED,
      line: `STOPPED: by ${signal} before the end; ${open.length} partition${open.length === 1 ? '' : 's'} not finished; run again to resume from the committed offsets`,
    };
  }
  if (summary.dlq > 0) {
    return {
      code: EXIT.DIVERTED,
      line: `DIVERTED: ${summary.dlq} record${summary.dlq === 1 ? '' : 's'} to the DLQ (source offsets committed); see the DLQ runbook in docs/operations.md`,
    };
  }
  return { code: EXIT.OK };
}
