/**
 * The `recrypt` command. Every command and subcommand answers `--help` with its options and an
 * example; `recrypt --version` prints the package version. Exit codes (src/cli/exit-codes.ts, the
 * README's table): 0 success; 1 invalid input, a failed command, or audit findings; 2 usage error
 * (unknown command or option, missing argument); 3 a run that ended with halted partitions; 4 a run
 * that finished but sent records to the DLQ; 5 a run stopped by SIGTERM/SIGINT before its end (or
 * forced out by the shutdown timeout or a second signal).
 */
import { readFileSync } from 'node:fs';
import { formatProblems } from '../jobs/index.js';
import { defineCommand, HelpShown, nearest, parseCommand, usageError } from './args.js';
import { loadJobs, pickJob, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import { run, RUN } from './run-command.js';
import { devRegistry, DEV_REGISTRY, serve, SERVE } from './serve-command.js';
import { loadServiceConfig, logLevelFromEnv } from '../service/config.js';
import { planJob } from '../service/job-plan.js';
import { isRecryptError } from '../util/errors.js';
import { createLogger, routeWarningsToLog } from '../util/logger.js';

const USAGE = `usage: recrypt <command> [options]      (recrypt <command> --help for its options and an example)

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
  dlq replay FILE [--dry-run] [--job NAME]
                            replay a job's DLQ through the job once the cause is fixed (dlq replay --help)
  help [COMMAND]            this text, or a command's usage
  --version, -V             the recrypt version

Connections come from the environment: KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL, LOCAL_SECRET,
the KMS SDKs' own variables (see the README's configuration reference).
Exit codes: 0 ok, 1 failed, 2 usage, 3 halted, 4 records sent to the DLQ, 5 stopped by a signal.`;

const VALIDATE = defineCommand({
  name: 'validate',
  usage: `usage: recrypt validate FILE|DIR...

Checks job files against the schema and the semantic rules; prints each problem as file:line:column.
Exit 1 when any file is invalid.

example:
  recrypt validate jobs/examples/backfill-encrypt.yaml jobs/`,
  options: {},
  allowPositionals: true,
});

// One entry per option: the options object is meant to grow (add an option here and use it below).
const PLAN = defineCommand({
  name: 'plan',
  usage: `usage: recrypt plan FILE [--job NAME] [--json] [--check-kms]

Dry run of a job: for each source topic, which fields each rule decrypts and encrypts, with which KEK
and algorithm, and the schemas read and written. Registers nothing and writes nothing to Kafka.
Exit 1 when the job would be refused.

options:
  --job NAME     the job to plan when FILE holds several
  --json         the plan as JSON on stdout
  --check-kms    also check each KEK the job encrypts with: registered and matching (or creatable),
                 and its KMS key wraps and unwraps a random probe (as run does before registering)

example:
  recrypt plan jobs/examples/backfill-encrypt.yaml`,
  options: {
    job: { type: 'string' },
    json: { type: 'boolean' },
    'check-kms': { type: 'boolean' },
  },
  allowPositionals: true,
});

/** Usage of each top-level command whose usage main prints after a plain UsageError. */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  validate: VALIDATE.usage, plan: PLAN.usage, run: RUN.usage, serve: SERVE.usage, 'dev-registry': DEV_REGISTRY.usage,
};

const LONG_RUNNING = new Set(['run', 'serve', 'worker']);

const COMMANDS = ['validate', 'plan', 'run', 'serve', 'backfill', 'worker', 'dev-registry', 'audit', 'inspect', 'rewrap-deks', 'dlq', 'help'];

/** The version in package.json (two levels up from src/cli and from dist/cli alike). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    // Library warnings (process.emitWarning, console.warn) as JSON log lines: they would otherwise
    // break the log stream of the long-running commands with multi-line text.
    if (LONG_RUNNING.has(command ?? '') && !rest.some((a) => a === '--help' || a === '-h')) routeWarningsToLog(createLogger({ level: logLevelFromEnv(), base: { source: 'warning' } }));
    switch (command) {
      case 'validate': return await validate(rest);
      case 'plan': return await plan(rest);
      case 'run': return await run(rest);
      case 'serve': return await serve(rest);
      // Imported when used, so the other commands do not load BullMQ and ioredis through backfill-commands.
      case 'backfill': return await (await import('./backfill-commands.js')).backfill(rest);
      case 'worker': return await (await import('./backfill-commands.js')).worker(rest);
      case 'dev-registry': return await devRegistry(rest);
      case 'audit': return await (await import('./audit-commands.js')).audit(rest);
      case 'inspect': return await (await import('./audit-commands.js')).inspect(rest);
      case 'rewrap-deks': return await (await import('./audit-commands.js')).rewrap(rest);
      case 'dlq': return await (await import('./dlq-commands.js')).dlq(rest);
      case '--version': case '-V': case 'version':
        console.log(version());
        return;
      case 'help':
        return await help(rest);
      case undefined: case '-h': case '--help':
        console.log(USAGE);
        return;
      default: {
        const kind = command.startsWith('-') ? 'option' : 'command';
        const hint = nearest(command, kind === 'command' ? COMMANDS : ['--help', '--version']);
        throw new UsageError(`unknown ${kind} ${command}${hint ? ` (did you mean ${hint}?)` : ''}`);
      }
    }
  } catch (err) {
    if (err instanceof HelpShown) {
      process.exitCode = EXIT.OK;
    } else if (err instanceof UsageError) {
      const usage = err.usage ?? (command !== undefined ? COMMAND_USAGE[command] : undefined) ?? USAGE;
      console.error(`recrypt: ${err.message}\n\n${usage}`);
      process.exitCode = EXIT.USAGE;
    } else if (isRecryptError(err)) {
      console.error(`recrypt: ${err.code}: ${err.message}`);
      process.exitCode = EXIT.FAILED;
    } else {
      console.error(`recrypt: unexpected ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`);
      process.exitCode = EXIT.FAILED;
    }
  }
}

/** `recrypt help COMMAND` is `recrypt COMMAND --help`. */
async function help(args: string[]): Promise<void> {
  const [command, ...sub] = args;
  if (command === undefined) {
    console.log(USAGE);
    return;
  }
  if (!COMMANDS.includes(command) || command === 'help') {
    const hint = nearest(command, COMMANDS);
    throw new UsageError(`unknown command ${command}${hint ? ` (did you mean ${hint}?)` : ''}`);
  }
  await main([command, ...sub, '--help']);
}

async function validate(args: string[]): Promise<void> {
  const { positionals } = parseCommand(VALIDATE, args);
  if (positionals.length === 0) throw usageError(VALIDATE, 'needs at least one FILE');
  const jobs = await loadJobs(positionals);
  if (jobs) console.log(`${jobs.length} job${jobs.length === 1 ? '' : 's'} valid: ${jobs.map((j) => j.metadata.name).join(', ')}`);
}

async function plan(args: string[]): Promise<void> {
  const { positionals, values } = parseCommand(PLAN, args);
  if (positionals.length !== 1) throw usageError(PLAN, 'needs exactly one FILE');
  const jobs = await loadJobs(positionals);
  if (!jobs) return;
  const job = pickJob(jobs, values.job);
  const routes = await planJob(job, loadServiceConfig(), { checkKms: values['check-kms'] === true });
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
      for (const m of r.migrations ?? []) for (const s of m.steps) console.log(`      migrate v${m.from} -> v${m.to} (${m.mode}): step v${s.from} -> v${s.to}: ${s.rules.map((x) => `${x.rule} [JSONATA] on failure ${x.action}`).join(', ') || '(rules disabled)'}`);
    }
  }
  const problems = routes.flatMap((r) => r.problems);
  for (const line of formatProblems(problems)) console.error(line);
  if (problems.some((p) => p.severity === 'error')) process.exitCode = EXIT.FAILED;
}
