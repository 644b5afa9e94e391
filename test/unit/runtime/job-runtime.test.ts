// The job runtime built once per job: its KMS drivers are made on first use (and kept), its registry
// clients are fresh per preparation (read-only for plan), and a job without source topics is refused.
import { describe, expect, it } from 'vitest';
import { loadText } from '../../../src/jobs/load.js';
import type { Job } from '../../../src/jobs/index.js';
import { createJobRuntime, type RuntimeConfig } from '../../../src/runtime/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import { silentLogger } from '../../../src/util/logger.js';

const CONFIG: RuntimeConfig = {
  kafka: { bootstrapServers: '127.0.0.1:1', properties: {} },
  registry: { urls: ['http://127.0.0.1:1'], timeoutMs: 100 },
  kmsProps: { secret: 'test-secret' }, instanceId: 'pod-1', kmsTimeoutMs: 100,
};

function job(source: string): Job {
  const { documents, problems } = loadText('job.yaml', `apiVersion: recrypt/v1
kind: Job
metadata: { name: orders-copy }
spec:
  mode: decrypt
  source: { ${source} }
  target: { topic: orders.plain }
`);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return documents[0]!.job!;
}

describe('JobRuntime', () => {
  it('makes its KMS drivers on first use and keeps them', () => {
    const runtime = createJobRuntime(CONFIG, job('topic: orders'), { logger: silentLogger });
    const kms = runtime.kms;
    expect(kms.get('local-kms').kmsType).toBe('local-kms');
    expect(runtime.kms).toBe(kms);
    expect(runtime.name).toBe('orders-copy');
  });

  it('takes the KMS drivers it is given', () => {
    const kms = { get: () => { throw new Error('unused'); } };
    expect(createJobRuntime(CONFIG, job('topic: orders'), { logger: silentLogger, kms }).kms).toBe(kms);
  });

  it('makes its Kafka client factory on first use and keeps it; takes the one it is given', () => {
    const runtime = createJobRuntime(CONFIG, job('topic: orders'), { logger: silentLogger });
    expect(runtime.clients).toBe(runtime.clients);
    const clients = { consumer: () => { throw new Error('unused'); }, producer: () => { throw new Error('unused'); }, admin: () => { throw new Error('unused'); } };
    expect(createJobRuntime(CONFIG, job('topic: orders'), { logger: silentLogger, clients }).clients).toBe(clients);
  });

  it('new registry clients per preparation; read-only ones refuse writes', async () => {
    const writable = createJobRuntime(CONFIG, job('topic: orders'), { logger: silentLogger });
    expect(writable.registries().schemaRegistry).not.toBe(writable.registries().schemaRegistry);
    const readOnly = createJobRuntime(CONFIG, job('topic: orders'), { logger: silentLogger, readOnly: true });
    const err = await readOnly.registries().schemaRegistry.register('s', { schema: '"string"' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RecryptError);
    expect((err as RecryptError).code).toBe('INTERNAL');
  });

  it('source topics: named ones without asking Kafka', async () => {
    expect(await createJobRuntime(CONFIG, job('topics: [orders, returns]'), { logger: silentLogger }).sourceTopics()).toEqual(['orders', 'returns']);
  });
});
