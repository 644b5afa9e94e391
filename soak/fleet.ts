/**
 * The soak's `recrypt serve` instances, run as a StatefulSet runs pods: a stable POD_NAME (hence a
 * stable transactional id), and a replacement for a killed instance takes its name. Each process is an
 * incarnation with its own id, pid, /metrics port and log file; the sampler reads them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Incarnation } from './judge.js';

export interface Live {
  readonly incarnation: Incarnation;
  readonly port: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export class SoakFleet {
  private readonly live = new Map<string, Live>();
  /** Every incarnation started, in order (the run's JSON keeps them). */
  readonly incarnations: Incarnation[] = [];

  constructor(
    private readonly recrypt: readonly string[],
    private readonly jobsDir: string,
    private readonly logDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly runStartedAt: number,
  ) {}

  get running(): Live[] { return [...this.live.values()]; }
  get(name: string): Live | undefined { return this.live.get(name); }

  async start(name: string): Promise<Live> {
    if (this.live.has(name)) throw new Error(`${name} is already running`);
    const port = await freePort();
    const id = this.incarnations.length + 1;
    const logFile = join(this.logDir, `${name}.${id}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(this.recrypt[0]!, [...this.recrypt.slice(1), 'serve', this.jobsDir], {
      env: { ...this.env, POD_NAME: name, RECRYPT_HTTP_PORT: String(port) }, stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const incarnation: Incarnation = { id, name, pid: child.pid ?? -1, startedAt: Date.now() - this.runStartedAt };
    this.incarnations.push(incarnation);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => {
      incarnation.endedAt = Date.now() - this.runStartedAt;
      incarnation.endedBy ??= signal ?? `exit ${code}`;
      resolve({ code, signal });
    }));
    const live: Live = { incarnation, port, logFile, child, exited };
    this.live.set(name, live);
    void exited.then(() => { if (this.live.get(name) === live) this.live.delete(name); });
    return live;
  }

  /** Waits for /readyz to answer 200 (the job runs, nothing halted). */
  async ready(live: Live, timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (live.child.exitCode !== null || live.child.signalCode !== null) {
        throw new Error(`${live.incarnation.name} exited before it was ready:\n${tail(live.logFile)}`);
      }
      try {
        const res = await fetch(`http://127.0.0.1:${live.port}/readyz`, { signal: AbortSignal.timeout(3000) });
        await res.text();
        if (res.status === 200) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`${live.incarnation.name} not ready after ${timeoutMs} ms:\n${tail(live.logFile)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Signals the instance (its pid, never a name) and waits for it to exit. */
  async stop(name: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const live = this.live.get(name);
    if (!live) throw new Error(`${name} is not running`);
    live.incarnation.endedBy = signal;
    live.child.kill(signal);
    return live.exited;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.running.map((l) => { l.child.kill('SIGKILL'); return l.exited; }));
  }
}

/** VmRSS of a live process from /proc, in bytes (undefined when it is gone or /proc is absent). */
export function procRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
