// The chaos test's own stack (scripts/stack/private-up.sh): Kafka, moto and the dev registry on free
// ports under .stack/private/NAME, so the test can restart the broker and the registry and freeze the
// KMS without touching the shared stack other tests use.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

export type PrivateService = 'kafka' | 'moto' | 'registry';

export interface PrivateStack {
  readonly name: string;
  readonly dir: string;
  /** KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL, AWS_ENDPOINT_URL_KMS, ... as private-up.sh wrote them. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Stops one service (SIGTERM to its process group, as a pod eviction would; SIGKILL after 30 s) and
   * starts it again with its data. Resolves with how long the stop took and whether it needed SIGKILL.
   */
  restart(service: Exclude<PrivateService, 'moto'>): Promise<{ stopMs: number; killed: boolean }>;
  /** SIGSTOP / SIGCONT to the service's process group: it holds its sockets and answers nothing. */
  freeze(service: PrivateService): void;
  thaw(service: PrivateService): void;
  /** Stops everything and removes the directory. */
  destroy(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** A base port with the four ports above it free (Kafka, controller, moto, registry). */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 32_000 + Math.floor(Math.random() * 2_000) * 4;
    const ports = [base, base + 1, base + 2, base + 3];
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no four free ports in a row');
}

async function script(name: string, args: string[]): Promise<string> {
  try {
    return (await run('bash', [resolve(ROOT, 'scripts/stack', name), ...args], { timeout: 240_000, env: { ...process.env, RECRYPT_SKIP_BOOTSTRAP: '1' } })).stderr;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

export async function startPrivateStack(name: string): Promise<PrivateStack> {
  const base = await freePortBase();
  const dir = resolve(process.env.RECRYPT_STACK_DIR ?? resolve(ROOT, '.stack'), 'private', name);
  await script('private-up.sh', [name, String(base)]);
  const env: Record<string, string> = {};
  for (const line of readFileSync(resolve(dir, 'env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  const signal = (service: PrivateService, sig: NodeJS.Signals) => {
    const pid = Number(readFileSync(resolve(dir, 'pids', `${service}.pid`), 'utf8').trim());
    // Each service runs in its own session (setsid): its pid is its process group.
    process.kill(-pid, sig);
  };
  return {
    name, dir, env,
    restart: async (service) => {
      const from = Date.now();
      const stopped = await script('private-down.sh', [name, service]);
      const stopMs = Date.now() - from;
      await script('private-up.sh', [name, String(base)]);
      return { stopMs, killed: stopped.includes('ignored SIGTERM') };
    },
    freeze: (service) => signal(service, 'SIGSTOP'),
    thaw: (service) => signal(service, 'SIGCONT'),
    destroy: async () => {
      for (const service of ['moto', 'kafka', 'registry'] as const) {
        try { signal(service, 'SIGCONT'); } catch { /* not running */ }
      }
      await script('private-down.sh', [name, '--purge']);
    },
  };
}
