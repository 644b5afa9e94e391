/**
 * `recrypt dlq replay FILE`: replays a job's DLQ topics through the job (runtime/dlq-replay.ts), or with
 * --dry-run says per DLQ record what it would do. Each line names the DLQ record and its source record
 * by topic/partition@offset, never a value. Exit codes as `run`: halted 3, records left in or sent back
 * to the DLQ 4 (not replayable, or failed again), stopped by a signal 5, else 0.
 */
import type { PipelineSummary } from '../kafka/pipeline.js';
import { dryRunReplay, type ReplayReport } from '../runtime/dlq-replay-plan.js';
import { startReplay, type ReplayRun } from '../runtime/dlq-replay.js';
import { createJobRuntime } from '../runtime/index.js';
import { loadServiceConfig } from '../service/config.js';
import { loggingObserver } from '../service/pipeline-log.js';
import { createLogger } from '../util/logger.js';
import { defineCommand, parseCommand, usageError } from './args.js';
import { loadJobs, pickJob, UsageError } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { runOutcome } from './run-command.js';
import { onShutdownSignals } from './shutdown.js';

export const DLQ_USAGE = `usage: recrypt dlq replay FILE [--job NAME] [--dry-run] [--topic DLQ_TOPIC]... [--max-attempts N] [--json]

  replay        run the records of the job's DLQ topic(s) through the job again, once the cause is fixed`;

export const DLQ_REPLAY = defineCommand({
  name: 'dlq replay',
  usage: `usage: recrypt dlq replay FILE [--job NAME] [--dry-run] [--topic DLQ_TOPIC]... [--max-attempts N] [--json]

Runs the records of the job's DLQ topic (dlq.topic, or --topic) through the job again, exactly once into
its target: each transaction holds the replayed records and the offsets of the replay's own consumer
group on the DLQ topic (recrypt-<job>-dlq-replay), so a second replay starts where the first committed.
It reads up to the DLQ's end offsets seen at start. A record is replayed from its source record while
the source topic still holds it (any payload), else from a 'source' payload (with a null key); records
it cannot replay are listed and passed over. A replayed record that fails again takes its rule's action
as in the job; a DLQ record it writes carries __dlq.replay.attempts, and one at the limit is not replayed.
Replayed records land in their source record's target partition, after what the job wrote meanwhile.

options:
  --job NAME          the job when FILE holds several
  --dry-run           say per DLQ record what the replay would do; write nothing, commit nothing
  --topic DLQ_TOPIC   the DLQ topic to replay (repeatable); default the job's dlq.topic for each source
  --max-attempts N    replays of one source record that may fail back into the DLQ (default 3)
  --json              one JSON object per DLQ record on stdout instead of text lines

exit codes: 0 every record replayed (or, dry run, replayable); 1 failed; 3 a DLQ partition halted;
4 records not replayable or back in the DLQ; 5 stopped by a signal

example:
  recrypt dlq replay jobs/customers.yaml --dry-run`,
  options: {
    job: { type: 'string' },
    'dry-run': { type: 'boolean' },
    topic: { type: 'string', multiple: true },
    'max-attempts': { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
});

export async function dlq(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'replay') return replay(rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(DLQ_USAGE);
    return;
  }
  throw new UsageError(`dlq: unknown subcommand ${sub}`, DLQ_USAGE);
}

async function replay(args: string[]): Promise<void> {
  const { positionals, values } = parseCommand(DLQ_REPLAY, args);
  if (positionals.length !== 1) throw usageError(DLQ_REPLAY, 'needs exactly one FILE');
  const maxAttempts = values['max-attempts'] === undefined ? undefined : Number(values['max-attempts']);
  if (maxAttempts !== undefined && (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)) throw usageError(DLQ_REPLAY, '--max-attempts needs a whole number of at least 1');
  const jobs = await loadJobs(positionals);
  if (!jobs) return;
  const job = pickJob(jobs, values.job);
  const config = loadServiceConfig();
  const logger = createLogger({ level: config.logLevel, base: { job: job.metadata.name, command: 'dlq replay' } });
  const runtime = createJobRuntime(config, job, { logger });
  const print = (r: ReplayReport) => console.log(values.json ? JSON.stringify(r) : reportLine(r));
  const options = { ...(values.topic?.length ? { topics: values.topic } : {}), ...(maxAttempts !== undefined ? { maxAttempts } : {}) };
  if (values['dry-run']) {
    const reports = await dryRunReplay(runtime, { ...options, onRecord: print });
    const refused = reports.filter((r) => !r.decision.replay).length;
    if (!values.json) console.log(`\ndry run: ${reports.length} DLQ records, ${reports.length - refused} replayable, ${refused} not; nothing written`);
    process.exitCode = refused > 0 ? EXIT.DIVERTED : EXIT.OK;
    return;
  }
  let running: ReplayRun | undefined;
  const shutdown = onShutdownSignals({ timeoutMs: config.shutdownTimeoutMs, logger, forcedExitCode: EXIT.STOPPED, onStop: () => running?.pipeline.stop() });
  try {
    running = await startReplay(runtime, { ...options, observer: loggingObserver(logger) });
    if (shutdown.signal) running.pipeline.stop();
    const { summary, reports } = await running.done;
    for (const r of reports) print(r);
    const outcome = replayOutcome(summary, reports, shutdown.signal);
    if (!values.json) console.log(`\n${summaryLine(job.metadata.name, summary, reports)}${outcome.line ? `\n${outcome.line}` : ''}`);
    process.exitCode = outcome.code;
  } catch (err) {
    if (!shutdown.signal) throw err;
    logger.warn('stopped while starting', { error: err as Error });
    process.exitCode = EXIT.STOPPED;
  } finally {
    shutdown.dispose();
  }
}

const at = (c: { topic: string; partition: number; offset: number }) => `${c.topic}/${c.partition}@${c.offset}`;

/** One DLQ record: where it is, where its source is, why it failed, and what the replay does or did. */
export function reportLine(r: ReplayReport): string {
  const source = r.source ? `source ${at(r.source)}${r.part === 'key' ? ' (key)' : ''}` : 'source unknown';
  const failure = [r.policy, r.rule, r.exception, r.attempts ? `replays ${r.attempts}` : undefined].filter(Boolean).join(', ');
  const what = r.decision.replay
    ? `replay from the ${r.decision.from === 'source-record' ? 'source record' : 'DLQ payload'}`
    : `NOT replayable: ${r.decision.why}`;
  const result = r.result === undefined ? '' : ` -> ${r.result}`;
  return `dlq ${at(r.dlq)}  ${source}${failure ? `  [${failure}]` : ''}  ${what}${result}`;
}

function summaryLine(job: string, summary: PipelineSummary, reports: readonly ReplayReport[]): string {
  const count = (p: (r: ReplayReport) => boolean) => reports.filter(p).length;
  return `job ${job} dlq replay: ${reports.length} DLQ records: ${count((r) => r.result === 'written')} written to the target, `
    + `${count((r) => r.result === 'dlq-again')} back in the DLQ, ${count((r) => !r.decision.replay)} not replayable `
    + `(${(summary.durationMs / 1000).toFixed(1)} s)`;
}

/** As `run`: halted, stopped, then records that did not reach the target (not replayable or back in the DLQ). */
export function replayOutcome(summary: PipelineSummary, reports: readonly ReplayReport[], signal: string | undefined): { code: ExitCode; line?: string } {
  const run = runOutcome(summary, signal);
  if (run.code === EXIT.HALTED || run.code === EXIT.STOPPED) return run;
  const left = reports.filter((r) => !r.decision.replay || r.result === 'dlq-again').length;
  if (left > 0) return { code: EXIT.DIVERTED, line: `DIVERTED: ${left} DLQ record${left === 1 ? '' : 's'} not replayed into the target (listed above)` };
  return { code: EXIT.OK };
}
