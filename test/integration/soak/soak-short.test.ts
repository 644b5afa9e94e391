// The soak's CI version: `npm run soak` for 5 minutes (two `recrypt serve` re-encrypting GCM -> SIV
// under a new KEK at a fixed rate, soak-1 SIGKILLed and replaced every 2 minutes) on its own private
// stack. Asserts what the hour-long run asserts: every produced record exactly once in the target
// (read_committed), RSS flat after warm-up, and that the samples and the plot were written.
// RECRYPT_SOAK_MINUTES and RECRYPT_SOAK_RATE shorten or slow it on a small machine.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SoakReport } from '../../../soak/report.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const MINUTES = Number(process.env.RECRYPT_SOAK_MINUTES ?? 5);
const RATE = Number(process.env.RECRYPT_SOAK_RATE ?? 2000);
// The last run's JSON, plot and logs stay (under .stack/, ignored by git) for a post-mortem.
const out = join(process.env.RECRYPT_STACK_DIR ?? join(ROOT, '.stack'), 'soak-last');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** The child's environment without the shared stack's endpoints: the soak must use only its own stack. */
function privateEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RECRYPT_SKIP_BOOTSTRAP: '1' };
  for (const name of ['KAFKA_BOOTSTRAP_SERVERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'AWS_ENDPOINT_URL_KMS', 'LOCAL_SECRET_FILE', 'LOCAL_SECRET']) delete env[name];
  return env;
}

describe('soak, short', () => {
  it(`${MINUTES} minutes of re-encryption with kills: exactly once, RSS flat`, { timeout: (MINUTES + 12) * 60_000 }, async () => {
    const args = ['scripts/soak.sh', '--minutes', String(MINUTES), '--rate', String(RATE), '--kill-every', '2', '--sample-seconds', '5', '--out', out];
    const child = spawn('bash', args, { cwd: ROOT, env: privateEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGTERM'), (MINUTES + 11) * 60_000);
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    clearTimeout(timer);
    console.log(output.split('\n').filter((l) => /soak (PASS|FAIL)|^ {2}|SIGKILL|drained/.test(l)).join('\n'));

    const files = readdirSync(out);
    const json = files.find((f) => /^soak-.*\.json$/.test(f));
    expect(json, output).toBeDefined();
    expect(files.some((f) => /^soak-.*\.svg$/.test(f))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, json!), 'utf8')) as SoakReport;
    expect(report.error, output).toBeUndefined();

    const eo = report.exactlyOnce!;
    expect(eo.produced).toBeGreaterThan(MINUTES * 60 * RATE * 0.9);
    expect({ lost: eo.lost, duplicated: eo.duplicated, outOfOrder: eo.outOfOrder, foreign: eo.foreign, decryptMismatches: eo.decryptMismatches })
      .toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, foreign: 0, decryptMismatches: 0 });
    expect(eo.read).toBe(eo.produced);
    expect(eo.decrypted).toBeGreaterThan(0);

    expect(report.kills.length).toBe(Math.ceil(MINUTES / 2) - 1);
    for (const kill of report.kills) expect(kill.readyAfterMs).toBeGreaterThan(0);
    expect(report.incarnations).toHaveLength(2 + report.kills.length);
    // Every incarnation was sampled, with its heap and event-loop delay from /metrics.
    for (const inc of report.incarnations) expect(report.samples.some((s) => s.incarnation === inc.id && s.heapUsedBytes !== undefined && s.eventLoopP99Ms !== undefined)).toBe(true);

    expect(report.rss!.judged.length).toBeGreaterThan(0);
    expect(report.rss!.pass, report.rss!.summary).toBe(true);
    expect(report.pass).toBe(true);
    expect(code, output).toBe(0);
    expect(output).toMatch(/soak PASS/);
  });
});
