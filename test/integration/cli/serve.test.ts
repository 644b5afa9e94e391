// `recrypt serve DIR`, the Kubernetes mode: readiness follows the job (ready while it streams, 503 once
// a partition halts on a poison record), metrics are exposed, logs carry no record values, and SIGTERM
// exits 0 after the open transaction.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../helpers/csfle.js';
import { recrypt } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('recrypt serve', () => {
  it('streams, reports readiness and metrics, halts on poison, and shuts down on SIGTERM', async () => {
    const source = await createTopic('serve-src', 2);
    const target = uniqueName('serve-enc');
    created.push(source, target);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const dir = mkdtempSync(join(tmpdir(), 'recrypt-serve-'));
    writeFileSync(join(dir, 'stream.yaml'), `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${uniqueName('stream').toLowerCase()}
spec:
  mode: encrypt
  source: { topic: ${source}, startAt: earliest }
  target: { topic: ${target}, createTopic: true }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: ${uniqueName('kek')}, encrypt.kms.type: local-kms, encrypt.kms.key.id: k }
        onFailure: ERROR,ERROR
`);
    const port = 18_000 + Math.floor(Math.random() * 2000);
    const serving = recrypt(['serve', dir], { env: { RECRYPT_HTTP_PORT: String(port) }, timeoutMs: 180_000 });

    expect((await waitFor('healthz', async () => ((await get(port, '/healthz')).status === 200 ? true : undefined)))).toBe(true);
    await waitFor('ready', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined));

    const batch = customers(200, 2, schemaId);
    await produceRaw(source, batch.records);
    const out = await consumeRaw(target, { count: 200 });
    expect(out).toHaveLength(200);
    for (const r of out) expect(r.value!.includes(batch.canary)).toBe(false);

    const metrics = await waitFor('metrics', async () => {
      const m = await get(port, '/metrics');
      return /recrypt_records_total\{job="[^"]+",outcome="written"\} 200/.test(m.body) ? m.body : undefined;
    });
    expect(metrics).toContain('recrypt_kms_calls_total');
    // 200 records, two PII fields each, under the default algorithm.
    await waitFor('field metrics', async () => {
      const m = await get(port, '/metrics');
      return /recrypt_field_operations_total\{job="[^"]+",operation="encrypt",algorithm="AES256_GCM"\} 400/.test(m.body) ? true : undefined;
    });
    expect(metrics).not.toContain(batch.canary);

    // A poison record (not Confluent framing) halts its partition: unready, offset stays.
    await produceRaw(source, [{ key: Buffer.from('poison'), value: Buffer.from(`junk ${batch.canary}`), partition: 1 }]);
    const notReady = await waitFor('unready', async () => {
      const r = await get(port, '/readyz');
      return r.status === 503 ? r.body : undefined;
    });
    expect(notReady).toMatch(new RegExp(`partition ${source}/1@\\d+ halted`));
    expect(notReady).not.toContain(batch.canary);

    serving.child.kill('SIGTERM');
    const result = await serving;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain(batch.canary);
    expect(result.stderr).toMatch(/"msg":"partition halted"/);
  });
});
