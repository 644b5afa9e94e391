// How `recrypt run` ends, on the real stack: a halted partition exits 3 with a HALTED line, records
// diverted to the DLQ exit 4 with a DIVERTED line, a streaming run stopped by SIGTERM exits 5 with a
// STOPPED line, and while it runs (stderr not a terminal) it logs JSON progress lines.
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

function jobYaml(o: { name: string; source: string; target: string; stopAtEnd: boolean; dlqTopic?: string }): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${o.name}
spec:
  mode: encrypt
  source: { topic: ${o.source}, startAt: earliest${o.stopAtEnd ? ', stopAt: end' : ''} }
  target: { topic: ${o.target}, createTopic: true }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: ${uniqueName('kek')}, encrypt.kms.type: local-kms, encrypt.kms.key.id: k }
        onFailure: ERROR,ERROR
${o.dlqTopic ? `  dlq:\n    topic: ${o.dlqTopic}\n    payload: reference\n` : ''}  processing:
    retryBackoffMs: 200
`;
}

/** A topic with 40 good customer records over 2 partitions and one poison record on partition 1. */
async function sourceWithPoison() {
  const source = await createTopic('exit-src', 2);
  const target = uniqueName('exit-enc');
  created.push(source, target);
  const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
  const batch = customers(40, 2, schemaId);
  await produceRaw(source, [...batch.records, { key: Buffer.from('poison'), value: Buffer.from(`junk ${batch.canary}`), partition: 1 }]);
  return { source, target, canary: batch.canary };
}

function jsonLines(stderr: string): unknown[] {
  return stderr.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

describe('recrypt run exit codes', () => {
  it('exits 3 with a HALTED line when a partition halts', async () => {
    const { source, target, canary } = await sourceWithPoison();
    const job = writeJobFile(jobYaml({ name: uniqueName('halt').toLowerCase(), source, target, stopAtEnd: true }));
    const r = await recrypt(['run', job]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`HALTED: 1 partition halted: ${source}/1 at offset 20 \\([A-Z_]+\\)`));
    expect(r.stdout + r.stderr).not.toContain(canary);
  });

  it('exits 4 with a DIVERTED line when records went to the DLQ', async () => {
    const { source, target, canary } = await sourceWithPoison();
    const dlqTopic = uniqueName('exit-dlq');
    created.push(dlqTopic);
    const job = writeJobFile(jobYaml({ name: uniqueName('dlq').toLowerCase(), source, target, stopAtEnd: true, dlqTopic }));
    const r = await recrypt(['run', job]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toMatch(/41 records \(40 written, 1 to DLQ\)/);
    expect(r.stdout).toMatch(/DIVERTED: 1 record to the DLQ/);
    expect(r.stdout + r.stderr).not.toContain(canary);
  });

  it('logs JSON progress lines while streaming, and exits 5 with a STOPPED line on SIGTERM', async () => {
    const source = await createTopic('exit-stream', 2);
    const target = uniqueName('exit-stream-enc');
    created.push(source, target);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const batch = customers(30, 2, schemaId);
    await produceRaw(source, batch.records);
    const job = writeJobFile(jobYaml({ name: uniqueName('stream').toLowerCase(), source, target, stopAtEnd: false }));
    const running = recrypt(['run', job], { env: { RECRYPT_PROGRESS_INTERVAL_MS: '200' }, timeoutMs: 90_000 });
    let live = '';
    running.child.stderr!.on('data', (d: Buffer) => { live += d.toString(); });
    // Every record committed, as the progress line tells.
    const deadline = Date.now() + 60_000;
    const progressWithAll = () => live.split('\n').some((l) => l.includes('"msg":"progress"') && l.includes('"records":30,'));
    while (!progressWithAll()) {
      if (Date.now() > deadline) throw new Error(`no progress line with 30 records: ${live}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    running.child.kill('SIGTERM');
    const r = await running;
    expect(r.code, r.stderr).toBe(5);
    expect(r.stdout).toMatch(/30 records \(30 written, 0 to DLQ\)/);
    expect(r.stdout).toMatch(/STOPPED: by SIGTERM before the end; 2 partitions not finished/);
    const lines = jsonLines(r.stderr) as Array<Record<string, unknown>>;
    const progress = lines.filter((l) => l.msg === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ level: 'info', records: 30, remaining: 0 });
    expect(last.partitions).toMatch(new RegExp(`${source}/0 \\d+, ${source}/1 \\d+|${source}/1 \\d+, ${source}/0 \\d+`));
    expect(r.stderr).not.toContain(batch.canary);
  });
});
