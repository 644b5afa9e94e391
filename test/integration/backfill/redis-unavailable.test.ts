// Redis unreachable (issue 21, defect 5). `backfill submit|status|...` used to print nothing and never
// return, and `recrypt worker` printed raw multi-line ioredis errors between its JSON lines and ignored
// SIGTERM for minutes. Now: the commands fail within RECRYPT_REDIS_TIMEOUT_MS with REDIS_UNAVAILABLE and
// the URL without its credentials (exit 1); a worker logs one JSON line per outage ("Redis unreachable,
// retrying", then "Redis back"), reconnects, and leaves promptly on SIGTERM while Redis is down. Redis
// here is a port nothing listens on, or a redis-server of the test's own on it (never the shared one).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recrypt, writeJobFile, type CliResult } from '../helpers/cli.js';
import { uniqueName } from '../helpers/stack.js';
import { backfillJobYaml, freePort, startRedis } from './harness.js';

const PASSWORD = `canary-${uniqueName('pw')}`;
const USER = 'canaryuser';
const TIMEOUT_MS = 3_000;
const dir = mkdtempSync(join(tmpdir(), 'recrypt-redis-down-'));
const workers: Array<ReturnType<typeof recrypt>> = [];
let redis: ChildProcess | undefined;

afterAll(() => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  redis?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function jobFile(): { file: string; name: string } {
  const name = uniqueName('bf-down').toLowerCase();
  return { name, file: writeJobFile(backfillJobYaml({ name, source: `${name}-src`, target: `${name}-enc`, kek: uniqueName('kek') })) };
}

function expectNoCredentials(output: string): void {
  expect(output).not.toContain(PASSWORD);
  expect(output).not.toContain(USER);
}

/** Every stderr line of a worker is one JSON log line (no raw error objects, no multi-line text). */
function jsonLines(stderr: string): Array<{ msg: string; level: string; [k: string]: unknown }> {
  const lines = stderr.split('\n').filter((l) => l !== '');
  return lines.map((line) => {
    try {
      return JSON.parse(line) as { msg: string; level: string };
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
  });
}

async function waitForLog(worker: ReturnType<typeof recrypt>, stderr: () => string, msg: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stderr().split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length >= count) return;
    if (worker.child.exitCode !== null) throw new Error(`worker exited (${worker.child.exitCode}) before logging ${msg}:\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "${msg}" (x${count}) within ${timeoutMs} ms:\n${stderr()}`);
}

function startWorker(file: string, url: string) {
  const worker = recrypt(['worker', file], { env: { REDIS_URL: url, POD_NAME: 'redis-down' }, timeoutMs: 120_000 });
  let stderr = '';
  worker.child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  workers.push(worker);
  return { worker, stderr: () => stderr };
}

/** SIGTERM, then how long the worker took to exit (the cli helper kills it after its own timeout). */
async function terminate(worker: ReturnType<typeof recrypt>): Promise<{ result: CliResult; ms: number }> {
  const at = Date.now();
  worker.child.kill('SIGTERM');
  const result = await worker;
  return { result, ms: Date.now() - at };
}

describe('backfill commands with Redis unreachable', () => {
  it('submit, status and cancel fail with REDIS_UNAVAILABLE and the URL without credentials, exit 1', async () => {
    const port = await freePort();
    const { file, name } = jobFile();
    const env = { RECRYPT_REDIS_TIMEOUT_MS: String(TIMEOUT_MS) };
    const runs = await Promise.all([
      recrypt(['backfill', 'submit', file], { env: { ...env, REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}` }, timeoutMs: 60_000 }),
      recrypt(['backfill', 'status', name], { env: { ...env, REDIS_URL: `redis://${USER}:${PASSWORD}@127.0.0.1:${port}/0` }, timeoutMs: 60_000 }),
      recrypt(['backfill', 'cancel', name], { env: { ...env, REDIS_URL: `redis://127.0.0.1:${port}?password=${PASSWORD}` }, timeoutMs: 60_000 }),
    ]);
    for (const r of runs) {
      // Before the fix these hung until the helper killed them (signal SIGKILL, code null).
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`REDIS_UNAVAILABLE: Redis at redis://127\\.0\\.0\\.1:${port}(/0)? did not answer within 3 s \\(ECONNREFUSED\\)`));
      expect(r.stdout).toBe('');
      expectNoCredentials(r.stdout + r.stderr);
    }
  });

  it('a frozen Redis (accepts connections, never answers) also fails the commands in bounded time', async () => {
    const port = await freePort();
    const frozen = await startRedis(port, dir);
    try {
      frozen.kill('SIGSTOP');
      const { name } = jobFile();
      const started = Date.now();
      const r = await recrypt(['backfill', 'status', name], { env: { RECRYPT_REDIS_TIMEOUT_MS: String(TIMEOUT_MS), REDIS_URL: `redis://${USER}:${PASSWORD}@127.0.0.1:${port}` }, timeoutMs: 60_000 });
      // Before: the connection stood, so no reconnect ever gave up and the command waited for ever.
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`REDIS_UNAVAILABLE: Redis at redis://127\\.0\\.0\\.1:${port} did not answer`));
      expect(Date.now() - started).toBeLessThan(45_000);
      expectNoCredentials(r.stdout + r.stderr);
    } finally {
      frozen.kill('SIGCONT');
      frozen.kill('SIGKILL');
    }
  });

  it('a worker started with Redis down logs one JSON line for the outage and exits promptly on SIGTERM', async () => {
    const port = await freePort();
    const { file } = jobFile();
    const { worker, stderr } = startWorker(file, `redis://${USER}:${PASSWORD}@127.0.0.1:${port}`);
    await waitForLog(worker, stderr, 'Redis unreachable, retrying', 1, 60_000);
    // Several reconnect attempts (250 ms doubling to 2 s) happen meanwhile: none may print.
    await new Promise((r) => setTimeout(r, 4_000));
    const { result, ms } = await terminate(worker);
    expect(result.signal, result.stderr).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    // It used to take minutes; "a few seconds", with room for a loaded machine.
    expect(ms).toBeLessThan(20_000);
    const logs = jsonLines(result.stderr);
    expect(logs.filter((l) => l.msg === 'Redis unreachable, retrying')).toHaveLength(1);
    expect(logs.find((l) => l.msg === 'Redis unreachable, retrying')).toMatchObject({ level: 'warn', redis: `redis://127.0.0.1:${port}`, cause: 'ECONNREFUSED' });
    expect(logs.filter((l) => l.msg === 'queue error')).toEqual([]);
    expectNoCredentials(result.stdout + result.stderr);
  });

  it('a worker says when Redis is back and when it is lost again, and exits on SIGTERM while it is down', async () => {
    const port = await freePort();
    const { file } = jobFile();
    const { worker, stderr } = startWorker(file, `redis://default:${PASSWORD}@127.0.0.1:${port}`);
    await waitForLog(worker, stderr, 'Redis unreachable, retrying', 1, 60_000);

    redis = await startRedis(port, dir, ['--requirepass', PASSWORD], PASSWORD);
    await waitForLog(worker, stderr, 'Redis back', 1, 30_000);
    redis.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    redis = undefined;
    await waitForLog(worker, stderr, 'Redis unreachable, retrying', 2, 30_000);

    const { result, ms } = await terminate(worker);
    expect(result.signal, result.stderr).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    expect(ms).toBeLessThan(20_000);
    const logs = jsonLines(result.stderr);
    expect(logs.map((l) => l.msg).filter((m) => /^Redis (unreachable|back)/.test(m))).toEqual(['Redis unreachable, retrying', 'Redis back', 'Redis unreachable, retrying']);
    expect(logs.filter((l) => l.msg === 'queue error')).toEqual([]);
    expectNoCredentials(result.stdout + result.stderr);
  });
});
