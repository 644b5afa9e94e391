// Shutdown on SIGTERM: `recrypt serve` with every job idle exits as soon as the jobs have stopped (it
// used to wait out the whole shutdown timeout), and `recrypt run` against a broker that is down exits
// within the shutdown timeout with exit code 5.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA } from '../helpers/customers.js';
import { createTopic, deleteTopics } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

function jobYaml(name: string, source: string, target: string, stopAtEnd: boolean): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source: { topic: ${source}, startAt: earliest${stopAtEnd ? ', stopAt: end' : ''} }
  target: { topic: ${target}, createTopic: true }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: ${uniqueName('kek')}, encrypt.kms.type: local-kms, encrypt.kms.key.id: k }
        onFailure: ERROR,ERROR
`;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('shutdown on SIGTERM', () => {
  it('serve with an idle job exits promptly, well before the shutdown timeout', async () => {
    const source = await createTopic('idle-src', 1);
    const target = uniqueName('idle-enc');
    created.push(source, target);
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const dir = mkdtempSync(join(tmpdir(), 'recrypt-idle-'));
    writeFileSync(join(dir, 'idle.yaml'), jobYaml(uniqueName('idle').toLowerCase(), source, target, false));
    const port = 20_000 + Math.floor(Math.random() * 2000);
    const serving = recrypt(['serve', dir], { env: { RECRYPT_HTTP_PORT: String(port), RECRYPT_SHUTDOWN_TIMEOUT_MS: '20000' }, timeoutMs: 120_000 });
    await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);

    const signalled = Date.now();
    serving.child.kill('SIGTERM');
    const result = await serving;
    const tookMs = Date.now() - signalled;
    expect(result.code, result.stderr).toBe(0);
    // Half the 20 s timeout: the old deadline timer held the process for all of it.
    expect(tookMs).toBeLessThan(10_000);
    expect(result.stderr).toMatch(/"msg":"job finished"/);
  });

  it('run against a broker that is down exits within the shutdown timeout with code 5', async () => {
    const source = uniqueName('down-src');
    const target = uniqueName('down-enc');
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const job = writeJobFile(jobYaml(uniqueName('down').toLowerCase(), source, target, true));
    const running = recrypt(['run', job], {
      env: { KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${await closedPort()}`, RECRYPT_SHUTDOWN_TIMEOUT_MS: '3000' }, timeoutMs: 120_000,
    });
    // The job's rules are on the target subject: the run is past its start and trying to reach Kafka.
    await waitFor('target subject', async () => (await fetch(`${stack.registryUrl}/subjects/${target}-value/versions`)).status === 200);
    await new Promise((r) => setTimeout(r, 500));

    const signalled = Date.now();
    running.child.kill('SIGTERM');
    const result = await running;
    const tookMs = Date.now() - signalled;
    expect(result.signal).toBeNull();
    expect(result.code, result.stderr).toBe(5);
    expect(tookMs).toBeLessThan(15_000);
    expect(result.stderr).toMatch(/"signal":"SIGTERM"[^\n]*"msg":"stopping/);
  });
});
