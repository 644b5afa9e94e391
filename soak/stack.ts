/**
 * The soak's own stack (scripts/stack/private-up.sh NAME PORT_BASE): Kafka, moto and the dev registry
 * on four free ports of their own under .stack/private/NAME, so an hour of load and kills never touches
 * the shared stack on the default ports that other work and CI use.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '..');
const run = promisify(execFile);

export interface SoakStack {
  readonly name: string;
  readonly dir: string;
  readonly portBase: number;
  /** KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL, LOCAL_SECRET_FILE, ... as private-up.sh wrote them. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops every service and removes the directory (its logs copied to `keepLogsIn` first, when given). */
  destroy(keepLogsIn?: string): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 40_000 + Math.floor(Math.random() * 1_000) * 4;
    if ((await Promise.all([0, 1, 2, 3].map((i) => portFree(base + i)))).every(Boolean)) return base;
  }
  throw new Error('no four free ports in a row in 40000..43999');
}

async function script(name: string, args: readonly string[]): Promise<void> {
  try {
    await run('bash', [join(ROOT, 'scripts/stack', name), ...args], { timeout: 300_000, env: { ...process.env, RECRYPT_SKIP_BOOTSTRAP: '1' } });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

export async function startSoakStack(name: string): Promise<SoakStack> {
  const portBase = await freePortBase();
  const dir = join(process.env.RECRYPT_PRIVATE_STACK_DIR ?? join(process.env.RECRYPT_STACK_DIR ?? join(ROOT, '.stack'), 'private'), name);
  await script('private-up.sh', [name, String(portBase)]);
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(dir, 'env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return {
    name, dir, portBase, env,
    destroy: async (keepLogsIn) => {
      if (keepLogsIn && existsSync(join(dir, 'logs'))) cpSync(join(dir, 'logs'), keepLogsIn, { recursive: true });
      await script('private-down.sh', [name, '--purge']);
    },
  };
}
