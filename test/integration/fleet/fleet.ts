// A fleet of `recrypt serve` processes on one job directory, as a StatefulSet runs them: each instance
// has a stable name (POD_NAME, hence a stable transactional id) and a replacement takes its
// predecessor's name. Every incarnation logs to its own file, kept for the leak check.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../../bin/recrypt.js');

export interface Instance {
  readonly name: string;
  readonly port: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve().then(probe).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class Fleet {
  private readonly live = new Map<string, Instance>();
  private incarnations = 0;
  /** Every /metrics text scraped, for the leak check. */
  readonly scrapes: string[] = [];
  /** The last /metrics text of each incarnation (by its log file), for counters summed over the fleet. */
  readonly lastScrape = new Map<string, string>();

  constructor(private readonly jobsDir: string, private readonly logDir: string, private readonly env: NodeJS.ProcessEnv) {}

  get names(): string[] { return [...this.live.keys()]; }
  instance(name: string): Instance | undefined { return this.live.get(name); }

  async start(name: string): Promise<Instance> {
    if (this.live.has(name)) throw new Error(`${name} is already running`);
    const port = await freePort();
    const logFile = join(this.logDir, `${name}.${++this.incarnations}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [BIN, 'serve', this.jobsDir], {
      env: { ...this.env, POD_NAME: name, RECRYPT_HTTP_PORT: String(port) }, stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const instance: Instance = { name, port, logFile, child, exited };
    this.live.set(name, instance);
    void exited.then(() => { if (this.live.get(name) === instance) this.live.delete(name); });
    return instance;
  }

  /** Waits until the instance answers /readyz with 200 (its job runs, nothing halted). */
  async ready(instance: Instance, timeoutMs = 120_000): Promise<void> {
    await waitFor(`${instance.name} ready`, async () => {
      if (instance.child.exitCode !== null) throw new Error(`${instance.name} exited: ${tail(instance.logFile)}`);
      const res = await fetch(`http://127.0.0.1:${instance.port}/readyz`);
      await res.text();
      return res.status === 200 ? true : undefined;
    }, timeoutMs, 300).catch((err: Error) => { throw new Error(`${err.message}\n${tail(instance.logFile)}`); });
  }

  /** Signals the instance and waits for it to exit. */
  async stop(name: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const instance = this.live.get(name);
    if (!instance) throw new Error(`${name} is not running`);
    instance.child.kill(signal);
    return instance.exited;
  }

  /** Scrapes /metrics of every live instance (kept for the leak check); an instance that does not answer is skipped. */
  async scrapeAll(): Promise<void> {
    await Promise.all([...this.live.values()].map(async (i) => {
      try {
        const res = await fetch(`http://127.0.0.1:${i.port}/metrics`, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        this.scrapes.push(text);
        this.lastScrape.set(i.logFile, text);
      } catch { /* starting or stopping */ }
    }));
  }

  /** A counter summed over every incarnation's last scrape, per value of `label` (a lower bound: a killed one's last counts are lost). */
  counterBy(name: string, label: string): Record<string, number> {
    const sums: Record<string, number> = {};
    const line = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm');
    for (const text of this.lastScrape.values()) {
      for (const [, labels, value] of text.matchAll(line)) {
        const key = new RegExp(`${label}="([^"]*)"`).exec(labels!)?.[1] ?? '';
        sums[key] = (sums[key] ?? 0) + Number(value);
      }
    }
    return sums;
  }

  /** Every log line of every incarnation, in file order. */
  logs(): string {
    return readdirSync(this.logDir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(this.logDir, f), 'utf8')).join('\n');
  }

  /** SIGKILLs whatever still runs (cleanup after a failure). */
  async killAll(): Promise<void> {
    await Promise.all([...this.live.values()].map((i) => { i.child.kill('SIGKILL'); return i.exited; }));
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
