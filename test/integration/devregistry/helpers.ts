// Helpers for dev registry integration tests: each test file starts its own registry on a random port
// with a temp dataDir (no shared stack needed), and names subjects/KEKs uniquely.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDevRegistry, type DevRegistry, type DevRegistryOptions } from '../../../src/devregistry/server.js';

export const LOCAL_SECRET = 'mysecret';
const REPO = resolve(import.meta.dirname, '../../..');

export function uniq(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'devreg-it-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function start(dataDir: string, extra: Partial<DevRegistryOptions> = {}): Promise<DevRegistry> {
  return startDevRegistry({ port: 0, host: '127.0.0.1', dataDir, localSecret: LOCAL_SECRET, ...extra });
}

/** Raw HTTP call returning status and parsed body (for the bad-input matrix). */
export async function call(url: string, method: string, path: string, body?: string | object): Promise<{ status: number; body: unknown }> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed };
}

export interface ChildRegistry {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string | null>;
}

/** Starts the dev registry as a separate process (node --import tsx src/devregistry/main.ts). */
export async function spawnRegistry(dataDir: string, port = 0): Promise<ChildRegistry> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/devregistry/main.ts', '--port', String(port), '--data', dataDir], {
    cwd: REPO,
    env: { ...process.env, LOCAL_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string | null>((resolveExit) => child.once('exit', (code, signal) => resolveExit(signal ?? code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`dev registry did not start: ${out} ${err}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /dev-registry listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1] as string);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`dev registry exited early: ${out} ${err}`));
    });
  });
  return { url, child, exited };
}
