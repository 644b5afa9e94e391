/**
 * `recrypt serve`: runs every job of a directory in one process, with health, readiness and metrics
 * endpoints, and shuts down gracefully: on SIGTERM each pipeline finishes (or aborts) its current
 * transaction, and the process exits before Kubernetes' grace period ends.
 */
import type { Server } from 'node:http';
import type { Job } from '../jobs/index.js';
import type { PipelineSummary } from '../kafka/pipeline.js';
import { createJobRuntime, prepareJob, startJob, type JobRun } from '../runtime/index.js';
import { isTransient } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { ServiceConfig } from './config.js';
import { startHttpServer } from './http-server.js';
import { loggingObserver } from './pipeline-log.js';
import { JobMetrics } from './metrics.js';

/** A job that ran this long before failing restarts after the first back-off again, not the last one. */
const RESTART_RESET_MS = 60_000;

/**
 * The restart back-off of a job that failed for the `failures`-th time in a row (2 s doubling to 60 s);
 * `ranForMs`: how long it ran before this failure (undefined: it never reached running). Returns the
 * new count of failures in a row and the delay.
 */
export function restartBackoff(failures: number, ranForMs: number | undefined): { failures: number; delayMs: number } {
  const inARow = (ranForMs !== undefined && ranForMs >= RESTART_RESET_MS ? 0 : failures) + 1;
  return { failures: inARow, delayMs: Math.min(60_000, 1000 * 2 ** Math.min(inARow, 6)) };
}

type JobState = { job: Job; run?: JobRun; status: 'starting' | 'running' | 'finished' | 'failed'; reason?: string; halted: string[]; stalled?: string };

export class Service {
  private readonly states = new Map<string, JobState>();
  private readonly metrics = new JobMetrics();
  private server?: Server;
  private stopping = false;
  private watchdog?: NodeJS.Timeout;
  /** One keepRunning loop per job; stop() waits for them. */
  private readonly loops: Promise<void>[] = [];
  /** Wakes the loops' restart backoffs when stop() is called. */
  private readonly stopped = new AbortController();

  constructor(private readonly config: ServiceConfig, private readonly logger: Logger) {}

  notReadyReasons(): string[] {
    const reasons: string[] = [];
    for (const [name, s] of this.states) {
      if (s.status === 'starting' || s.status === 'failed') reasons.push(`job ${name}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`);
      for (const h of s.halted) reasons.push(`job ${name}: partition ${h} halted`);
      if (s.stalled) reasons.push(`job ${name}: stalled (${s.stalled})`);
    }
    return reasons;
  }

  async start(jobs: readonly Job[]): Promise<void> {
    this.server = await startHttpServer(this.config.httpPort, this.metrics, this);
    this.logger.info('http endpoints up', { port: this.config.httpPort });
    this.watchdog = setInterval(() => this.checkProgress(), 5000);
    this.watchdog.unref();
    for (const job of jobs) {
      const state: JobState = { job, status: 'starting', halted: [] };
      this.states.set(job.metadata.name, state);
      this.loops.push(this.keepRunning(state));
    }
  }

  /** Runs a job; restarts it after a backoff when it fails (transient outages, rebalances gone wrong). */
  private async keepRunning(state: JobState): Promise<void> {
    const name = state.job.metadata.name;
    const runtime = createJobRuntime(this.config, state.job, { logger: this.logger.child({ job: name }), metrics: this.metrics });
    const logger = runtime.logger;
    let attempt = 0;
    /** When the job last reached running: a run that lasted starts the restart back-off from the beginning. */
    let runningSince: number | undefined;
    while (!this.stopping) {
      try {
        state.status = 'starting';
        runningSince = undefined;
        const prepared = await prepareJob(runtime);
        const observer = this.metrics.observer(name, loggingObserver(logger, {
          onHalt: (tp, offset) => { state.halted.push(`${tp.topic}/${tp.partition}@${offset}`); },
        }));
        state.run = await startJob(prepared, { observer });
        // stop() may have come while the job was starting: it saw no run to stop.
        if (this.stopping) state.run.pipeline.stop();
        state.status = 'running';
        runningSince = Date.now();
        this.metrics.jobUp.set({ job: name }, 1);
        logger.info('job running', { topics: [...prepared.routes.keys()].join(',') });
        const summary: PipelineSummary = await state.run.done;
        state.status = 'finished';
        this.metrics.jobUp.set({ job: name }, 0);
        logger.info('job finished', { records: summary.records, written: summary.written, dlq: summary.dlq, durationMs: summary.durationMs });
        return;
      } catch (err) {
        this.metrics.jobUp.set({ job: name }, 0);
        state.status = 'failed';
        state.reason = err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : 'INTERNAL';
        const next = restartBackoff(attempt, runningSince === undefined ? undefined : Date.now() - runningSince);
        attempt = next.failures;
        const delay = next.delayMs;
        logger.error('job failed', { error: err as Error, transient: isTransient(err), retryInMs: delay });
        await sleep(delay, this.stopped.signal);
      }
    }
  }

  /**
   * The watchdog: publishes consumer lag, and marks a job unready when it has lag but has committed
   * nothing for its stallTimeoutMs (a consumer can stall silently; an operator needs to know).
   */
  private checkProgress(): void {
    const now = Date.now();
    for (const [name, state] of this.states) {
      const pipeline = state.run?.pipeline;
      if (!pipeline || state.status !== 'running') {
        this.metrics.publishLag(name, []);
        continue;
      }
      const lag = pipeline.lag();
      this.metrics.publishLag(name, lag);
      let total = 0;
      for (const p of lag) total += p.lag;
      const idleMs = now - pipeline.lastProgress;
      const stalled = total > 0 && idleMs > state.job.spec.processing.stallTimeoutMs && state.halted.length === 0;
      if (stalled && !state.stalled) this.logger.error('job stalled', { job: name, lag: total, idleMs });
      if (stalled) state.stalled = `lag ${total}, nothing committed for ${Math.round(idleMs / 1000)} s`;
      else delete state.stalled;
    }
  }

  /**
   * Stops every job at a transaction boundary and closes the endpoints. Resolves as soon as every job
   * has stopped, or when the shutdown timeout passes: true when everything stopped in time.
   */
  async stop(): Promise<boolean> {
    this.stopping = true;
    this.stopped.abort();
    if (this.watchdog) clearInterval(this.watchdog);
    for (const state of this.states.values()) state.run?.pipeline.stop();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((r) => { timer = setTimeout(() => r(false), this.config.shutdownTimeoutMs); });
    // The deadline timer is cleared once the jobs are done: left running, it held the process open
    // for the whole timeout after every job had stopped.
    const clean = await Promise.race([Promise.allSettled(this.loops).then(() => true as const), deadline]).finally(() => clearTimeout(timer));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    return clean;
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
