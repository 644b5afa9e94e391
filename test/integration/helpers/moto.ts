// A private moto server (AWS KMS API) for tests that stop and resume the KMS without disturbing the
// shared stack. SIGSTOP freezes it (calls hang, then time out: the KMS is "down"); SIGCONT resumes it
// with its keys intact (moto keeps state in memory).
import { spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Moto {
  readonly endpoint: string;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const bin = join(process.env.RECRYPT_CACHE_DIR ?? join(homedir(), '.cache/recrypt'), 'moto-venv/bin/moto_server');
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('moto did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGCONT');
      child.kill('SIGTERM');
    }),
  };
}
