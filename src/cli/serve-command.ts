/**
 * `recrypt serve DIR` (every job of a directory, with health, readiness and metrics endpoints) and
 * `recrypt dev-registry`: the two commands that run until a signal.
 */
import { startDevRegistry } from '../devregistry/index.js';
import { loadServiceConfig, localKmsSecret } from '../service/config.js';
import { Service } from '../service/service.js';
import { createLogger } from '../util/logger.js';
import { defineCommand, parseCommand, usageError } from './args.js';
import { jobFilesIn, loadJobs, logProblems } from './common.js';
import { EXIT } from './exit-codes.js';
import { onShutdownSignals } from './shutdown.js';

export const SERVE = defineCommand({
  name: 'serve',
  usage: `usage: recrypt serve DIR

Runs every job (.yaml/.yml) in DIR in one process, restarting a failed job after a backoff, with
/healthz, /readyz and /metrics on RECRYPT_HTTP_PORT (default 8080). On SIGTERM/SIGINT each job
finishes its open transaction; after RECRYPT_SHUTDOWN_TIMEOUT_MS (default 30000), or on a second
signal, it exits at once with code 5. Exit 0 after a clean stop.

example:
  RECRYPT_HTTP_PORT=8080 recrypt serve /etc/recrypt/jobs`,
  options: {},
  allowPositionals: true,
});

export const DEV_REGISTRY = defineCommand({
  name: 'dev-registry',
  usage: `usage: recrypt dev-registry [--port N] [--host H] [--data DIR]

A local Schema Registry + DEK Registry for development and tests (not for production).

options:
  --port N       port to listen on (default 8081; 0 picks a free one)
  --host H       address to bind (default 127.0.0.1)
  --data DIR     keep schemas, KEKs and DEKs in DIR across restarts (default: in memory)

example:
  recrypt dev-registry --port 8081 --data .stack/registry`,
  options: {
    port: { type: 'string', default: '8081' },
    host: { type: 'string', default: '127.0.0.1' },
    data: { type: 'string' },
  },
});

export async function serve(args: string[]): Promise<void> {
  const { positionals } = parseCommand(SERVE, args);
  if (positionals.length !== 1) throw usageError(SERVE, 'needs exactly one DIR');
  const files = jobFilesIn(positionals[0]!);
  if (files.length === 0) throw usageError(SERVE, `no .yaml job files in ${positionals[0]}`);
  const config = loadServiceConfig();
  const logger = createLogger({ level: config.logLevel });
  const jobs = await loadJobs(files, logProblems(logger));
  if (!jobs) return;
  const service = new Service(config, logger);
  await service.start(jobs);
  let stopping: Promise<boolean> | undefined;
  await new Promise<void>((resolve) => {
    const shutdown = onShutdownSignals({
      // Service.stop has the timeout itself; this one is the backstop for work that ignores it.
      timeoutMs: config.shutdownTimeoutMs + 5000, logger, forcedExitCode: EXIT.STOPPED,
      onStop: () => {
        stopping = service.stop();
        stopping.then(
          (clean) => {
            if (!clean) logger.warn('shutdown timeout passed with jobs still stopping: exiting', { shutdownTimeoutMs: config.shutdownTimeoutMs });
            shutdown.dispose();
            resolve();
          },
          () => { shutdown.dispose(); resolve(); },
        );
      },
    });
  });
  // A job still stuck (e.g. connecting to a broker that is down) must not hold the process open.
  if (!(await stopping)) process.exit(EXIT.STOPPED);
}

export async function devRegistry(args: string[]): Promise<void> {
  const { values } = parseCommand(DEV_REGISTRY, args);
  const port = Number(values.port);
  if (!/^[0-9]+$/.test(values.port ?? '') || port > 65_535) throw usageError(DEV_REGISTRY, '--port must be 0..65535');
  // Shared KEKs of local-kms: the same secret as recrypt's jobs (LOCAL_SECRET or LOCAL_SECRET_FILE).
  const localSecret = localKmsSecret();
  const registry = await startDevRegistry({
    port, host: values.host!, ...(values.data ? { dataDir: values.data } : {}), ...(localSecret ? { localSecret } : {}),
  });
  console.log(`dev-registry listening on ${registry.url}`);
  await new Promise<void>((resolve) => {
    const close = () => { registry.close().then(resolve, resolve); };
    process.once('SIGTERM', close);
    process.once('SIGINT', close);
  });
}
