/**
 * The `recrypt` command. Exit codes: 0 success; 1 invalid input or a failed run; 2 usage error;
 * 3 a run that finished with halted partitions.
 */
import { parseArgs } from 'node:util';
import { backfill, worker } from './backfill-commands.js';
import { startDevRegistry } from '../devregistry/index.js';
import { formatProblems } from '../jobs/index.js';
import { jobFilesIn, loadJobs, pickJob, UsageError } from './common.js';
import type { PipelineSummary } from '../kafka/pipeline.js';
import { loadServiceConfig } from '../service/config.js';
import { planJob } from '../service/job-plan.js';
import { prepareJob, startJob } from '../service/job-runner.js';
import { kmsRegistryFor } from '../service/kms.js';
import { loggingObserver } from '../service/pipeline-log.js';
import { Service } from '../service/service.js';
import { isRecryptError } from '../util/errors.js';
import { createLogger } from '../util/logger.js';

const USAGE = `usage: recrypt <command> [options]

commands:
  validate FILE...          check job files; prints file:line:column problems
  plan FILE [--job NAME]    dry run: which fields each rule decrypts and encrypts, with which KEK
  run FILE [--job NAME]     run one job in the foreground (stopAt: end finishes with a summary)
  serve DIR                 run every job in DIR with /healthz, /readyz and /metrics
  backfill submit|status|verify|pause|resume|cancel ...   distributed backfill over Redis (backfill --help)
  worker FILE|DIR... [--job NAME] [--concurrency N]       process backfill tasks of these jobs
  dev-registry [--port N] [--host H] [--data DIR]
                            a local Schema Registry + DEK Registry for development
  audit --topic T [--from earliest|OFFSET|TIME] [--to end|OFFSET|TIME] [--json]
                            plaintext in encrypted fields by partition/offset, keys in use; exit 1 on any
  inspect --topic T --partition P --offset O [--decrypt]
                            one record: framing, schema, ciphertext with DEK version; values with --decrypt
  rewrap-deks --kek NAME --kms-key-id NEW [--kms-type T] [--switch] [--dry-run]
                            re-wrap every DEK of a KEK under another KMS key, without touching topics

Connections come from the environment: KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL, LOCAL_SECRET,
the KMS SDKs' own variables (see the README's configuration reference).`;


export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'validate': return await validate(rest);
      case 'plan': return await plan(rest);
      case 'run': return await run(rest);
      case 'serve': return await serve(rest);
      case 'backfill': return await backfill(rest);
      case 'worker': return await worker(rest);
      case 'dev-registry': return await devRegistry(rest);
      case 'audit': return await (await import('./audit-commands.js')).audit(rest);
      case 'inspect': return await (await import('./audit-commands.js')).inspect(rest);
      case 'rewrap-deks': return await (await import('./audit-commands.js')).rewrap(rest);
      case undefined: case '-h': case '--help': case 'help':
        console.log(USAGE);
        return;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`recrypt: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (isRecryptError(err)) {
      console.error(`recrypt: ${err.code}: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(`recrypt: unexpected ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`);
      process.exitCode = 1;
    }
  }
}

async function validate(args: string[]): Promise<void> {
  if (args.length === 0) throw new UsageError('validate needs at least one FILE');
  const jobs = await loadJobs(args);
  if (jobs) console.log(`${jobs.length} job${jobs.length === 1 ? '' : 's'} valid: ${jobs.map((j) => j.metadata.name).join(', ')}`);
}

async function plan(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { job: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('plan needs exactly one FILE');
  const jobs = await loadJobs(positionals);
  if (!jobs) return;
  const job = pickJob(jobs, values.job);
  const routes = await planJob(job, loadServiceConfig());
  if (values.json) {
    console.log(JSON.stringify(routes, null, 2));
  } else {
    console.log(`job ${job.metadata.name} (mode ${job.spec.mode})`);
    for (const r of routes) {
      console.log(`\n  ${r.source} -> ${r.target}`);
      console.log(`    reads  ${r.sourceSubject}${r.sourceSchema ? ` (schema id ${r.sourceSchema.id}, latest)` : ' (no schema registered)'}`);
      for (const s of r.decrypt) console.log(`      decrypt ${s.rule} [${s.type}] kek=${s.kek ?? '-'} ${s.algorithm ?? ''}: ${s.fields.join(', ') || '-'}${s.note ? `  (${s.note})` : ''}`);
      console.log(`    writes ${r.targetSubject}${r.targetSchema ? ` (schema id ${r.targetSchema.virtual ? 'new version with the job rules' : r.targetSchema.id})` : ' (no schema registered)'}`);
      for (const s of r.encrypt) console.log(`      encrypt ${s.rule} [${s.type}] kek=${s.kek ?? '-'} ${s.algorithm ?? ''}${s.expiryDays ? ` rotate every ${s.expiryDays}d` : ''}: ${s.fields.join(', ') || '-'}${s.note ? `  (${s.note})` : ''}`);
    }
  }
  const problems = routes.flatMap((r) => r.problems);
  for (const line of formatProblems(problems)) console.error(line);
  if (problems.some((p) => p.severity === 'error')) process.exitCode = 1;
}

function printSummary(name: string, summary: PipelineSummary): void {
  const seconds = summary.durationMs / 1000;
  console.log(`\njob ${name}: ${summary.records} records (${summary.written} written, ${summary.dlq} to DLQ) in ${seconds.toFixed(1)} s, ${Math.round(summary.records / Math.max(seconds, 0.001))} records/s`);
  for (const p of summary.partitions) {
    const state = p.halted ? `HALTED at offset ${p.halted.offset} (${p.halted.code})` : p.done ? 'done' : 'stopped';
    console.log(`  ${p.topic}/${p.partition}: ${p.records} records, committed offset ${p.committed}${p.end !== undefined ? ` of ${p.end}` : ''}, ${state}`);
  }
}

async function run(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { job: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('run needs exactly one FILE');
  const jobs = await loadJobs(positionals);
  if (!jobs) return;
  const job = pickJob(jobs, values.job);
  const config = loadServiceConfig();
  const logger = createLogger({ level: config.logLevel, base: { job: job.metadata.name } });
  const deps = { config, kms: kmsRegistryFor(config), logger };
  const prepared = await prepareJob(job, deps);
  const running = await startJob(prepared, deps, { observer: loggingObserver(logger) });
  const stop = () => { logger.info('stopping: finishing the current transaction'); running.pipeline.stop(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const summary = await running.done;
  printSummary(job.metadata.name, summary);
  if (summary.halted) process.exitCode = 3;
}

async function serve(args: string[]): Promise<void> {
  if (args.length !== 1) throw new UsageError('serve needs exactly one DIR');
  const files = jobFilesIn(args[0]!);
  if (files.length === 0) throw new UsageError(`no .yaml job files in ${args[0]}`);
  const jobs = await loadJobs(files);
  if (!jobs) return;
  const config = loadServiceConfig();
  const logger = createLogger({ level: config.logLevel });
  const service = new Service(config, logger);
  await service.start(jobs);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info('shutting down', { signal });
      service.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

async function devRegistry(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '8081' }, host: { type: 'string', default: '127.0.0.1' }, data: { type: 'string' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('--port must be 0..65535');
  const registry = await startDevRegistry({ port, host: values.host!, ...(values.data ? { dataDir: values.data } : {}) });
  console.log(`dev-registry listening on ${registry.url}`);
  await new Promise<void>((resolve) => {
    const close = () => { registry.close().then(resolve, resolve); };
    process.once('SIGTERM', close);
    process.once('SIGINT', close);
  });
}
