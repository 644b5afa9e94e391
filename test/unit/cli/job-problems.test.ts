// Long-running commands (serve, backfill worker) speak JSON lines on stderr: the problems of their job
// files are log entries too, not plain text between them. Commands a person runs print text lines.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const mainModule = pathToFileURL(resolve(root, 'src/cli/main.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'recrypt-job-problems-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (name: string, extra: string) => `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source:
    topic: plain
  target:
    topic: plain.enc
${extra}  rules:
    domainRules:
      - name: pii
        type: ENCRYPT
        tags: [PII]
        params:
          encrypt.kek.name: k
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: k
`;
// A warning (plaintext allowed on encrypt failure) beside an error of the same job (backoff bounds crossed).
const jobsDir = join(dir, 'jobs');
mkdirSync(jobsDir);
writeFileSync(join(jobsDir, 'warned.yaml'), job('warned', '').replace('  rules:', '  allowPlaintextOnEncryptFailure: true\n  processing:\n    retryBackoffMs: 5000\n    retryBackoffMaxMs: 1000\n  rules:'));
// A file that is not even schema-valid (bad batch size).
writeFileSync(join(dir, 'b-error.yaml'), job('broken', '').replace('  rules:', '  processing:\n    batchSize: -3\n  rules:'));

function run(args: string[]) {
  const script = `import { main } from ${JSON.stringify(mainModule)}; await main(${JSON.stringify(args)});`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root, env: { ...process.env, LOG_LEVEL: 'info' }, encoding: 'utf8', timeout: 60_000,
  });
}

describe('job file problems', () => {
  it('serve logs them as JSON lines (an error stops it with exit 1)', () => {
    const r = run(['serve', jobsDir]);
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toEqual(expect.arrayContaining([
      expect.objectContaining({ level: 'warn', msg: 'job definition warning', code: 'JOB_UNSAFE', path: 'spec.allowPlaintextOnEncryptFailure', file: join(jobsDir, 'warned.yaml'), job: 'warned' }),
      expect.objectContaining({ level: 'error', msg: 'job definition invalid', path: 'spec.processing.retryBackoffMaxMs', problem: expect.stringContaining('below') }),
    ]));
    expect(entries).toHaveLength(2);
    for (const e of entries) expect(e.line, JSON.stringify(e)).toEqual(expect.any(Number));
  });

  it('plan prints them as text lines', () => {
    const r = run(['plan', join(dir, 'b-error.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/b-error\.yaml:\d+:\d+: spec\.processing\.batchSize: /);
    expect(() => JSON.parse(r.stderr.split('\n')[0]!)).toThrow();
  });
});
