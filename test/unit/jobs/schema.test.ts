import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { JOB_SCHEMA, renderJobSchema } from '../../../src/jobs/job-schema.js';
import type { Job } from '../../../src/jobs/job-types.js';
import { schemaErrors, withDefaults } from '../../../src/jobs/schema-validator.js';

const REGENERATE =
  'jobs/schema.json is out of date; regenerate it with: ' +
  `npx tsx -e "import('./src/jobs/job-schema.ts').then(m => process.stdout.write(m.renderJobSchema()))" > jobs/schema.json`;

/** Every field set: if the Job type gains or loses a field, this fixture or the schema must follow. */
const FULL: Job = {
  apiVersion: 'recrypt/v1',
  kind: 'Job',
  metadata: { name: 'full-job', labels: { team: 'payments' } },
  spec: {
    mode: 'reencrypt',
    source: { topics: ['a', 'b'], subjectNameStrategy: 'topic-record', startAt: 'earliest', stopAt: 'end' },
    target: {
      topic: '{topic}.siv', subject: '{topic}.siv-value', schema: { metadata: { owner: 'x' } }, createTopic: true, keySubject: '{topic}.siv-key', partition: 'keyHash',
    },
    rules: {
      domainRules: [
        {
          name: 'enc',
          doc: 'd',
          kind: 'TRANSFORM',
          mode: 'WRITEREAD',
          type: 'ENCRYPT',
          tags: ['PII'],
          params: { 'encrypt.kek.name': 'k', 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': 'arn', 'encrypt.dek.algorithm': 'AES256_SIV', 'encrypt.dek.expiry.days': '30' },
          expr: '',
          onSuccess: 'NONE',
          onFailure: 'DLQ,ERROR',
          disabled: false,
        },
      ],
      encodingRules: [{ name: 'payload', type: 'ENCRYPT_PAYLOAD', mode: 'WRITE', params: { 'encrypt.kek.name': 'k' } }],
      migrationRules: [{ name: 'up', type: 'JSONATA', mode: 'UPGRADE', expr: '$' }],
    },
    dlq: { topic: '{topic}.dlq', payload: 'encrypted', kek: { name: 'dlq', kmsType: 'gcp-kms', kmsKeyId: 'projects/p/locations/l/keyRings/r/cryptoKeys/k' }, maxRatio: 0.25, window: 200 },
    exactlyOnce: false,
    allowPlaintextOnEncryptFailure: true,
    keys: 'rules',
    processing: {
      batchSize: 10,
      maxInFlight: 2,
      commitIntervalMs: 0,
      transactionTimeoutMs: 1000,
      retryBackoffMs: 10,
      retryBackoffMaxMs: 100,
      stallTimeoutMs: 10000,
    },
    backfill: { taskRecords: 1000, relaxOrdering: true, continueStreaming: false },
  },
};

const MINIMAL = {
  apiVersion: 'recrypt/v1',
  kind: 'Job',
  metadata: { name: 'min' },
  spec: { mode: 'decrypt', source: { topicPattern: 'x.*' }, target: { topic: '{topic}.plain' } },
};

/** MINIMAL with every default filled in, typed: the defaults of the schema and of the type agree. */
const MINIMAL_WITH_DEFAULTS: Job = {
  apiVersion: 'recrypt/v1',
  kind: 'Job',
  metadata: { name: 'min' },
  spec: {
    mode: 'decrypt',
    source: { topicPattern: 'x.*', subjectNameStrategy: 'topic', startAt: 'committed', stopAt: 'never' },
    target: { topic: '{topic}.plain', schema: 'latest', createTopic: false },
    exactlyOnce: true,
    allowPlaintextOnEncryptFailure: false,
    keys: 'passthrough',
    processing: {
      batchSize: 500,
      maxInFlight: 64,
      commitIntervalMs: 1000,
      transactionTimeoutMs: 60000,
      retryBackoffMs: 500,
      retryBackoffMaxMs: 30000,
      stallTimeoutMs: 300000,
    },
    backfill: { taskRecords: 1000000, relaxOrdering: false, continueStreaming: false },
  },
};

describe('job schema', () => {
  it('jobs/schema.json equals renderJobSchema()', () => {
    const onDisk = readFileSync(join(import.meta.dirname, '../../../jobs/schema.json'), 'utf8');
    expect(onDisk, REGENERATE).toBe(renderJobSchema());
  });

  it('compiles under ajv strict mode', () => {
    expect(() => new Ajv({ strict: true, strictRequired: false, strictTypes: false }).compile(JOB_SCHEMA)).not.toThrow();
  });

  it('accepts the typed fixtures (the Job type and the schema agree)', () => {
    expect(schemaErrors(FULL)).toEqual([]);
    expect(schemaErrors(MINIMAL_WITH_DEFAULTS)).toEqual([]);
    expect(schemaErrors(MINIMAL)).toEqual([]);
  });

  it('fills in exactly the defaults the Job type documents', () => {
    expect(withDefaults<Job>(MINIMAL)).toEqual(MINIMAL_WITH_DEFAULTS);
    expect(withDefaults<Job>(FULL)).toEqual(FULL);
  });

  it('dlq circuit breaker: maxRatio in (0, 1] and window 10..1000000, defaulted to 0.5 and 1000', () => {
    const withDlq = (dlq: Record<string, unknown>) => ({ ...MINIMAL, spec: { ...MINIMAL.spec, dlq: { topic: 'd', ...dlq } } });
    expect(withDefaults<Job>(withDlq({})).spec.dlq).toEqual({ topic: 'd', payload: 'reference', maxRatio: 0.5, window: 1000 });
    for (const ok of [{ maxRatio: 1 }, { maxRatio: 0.01 }, { window: 10 }, { window: 1000000 }]) expect(schemaErrors(withDlq(ok)), JSON.stringify(ok)).toEqual([]);
    for (const bad of [{ maxRatio: 0 }, { maxRatio: -0.1 }, { maxRatio: 1.5 }, { maxRatio: '0.5' }, { window: 9 }, { window: 100.5 }, { window: 2000000 }]) {
      expect(schemaErrors(withDlq(bad)), JSON.stringify(bad)).not.toEqual([]);
    }
  });

  it('closes every object (typos are errors) and documents every property', () => {
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const s = node as Record<string, unknown>;
      if (s['type'] === 'object') expect(s['additionalProperties'], `${path} additionalProperties`).not.toBe(undefined);
      if (s['additionalProperties'] === true) throw new Error(`${path} is open`);
      const props = s['properties'] as Record<string, Record<string, unknown>> | undefined;
      for (const [k, v] of Object.entries(props ?? {})) {
        if (!path.includes('/if')) expect(v['description'], `${path}/${k} description`).toEqual(expect.any(String));
      }
      for (const [k, v] of Object.entries(s)) walk(v, `${path}/${k}`);
    };
    walk(JOB_SCHEMA, '#');
  });
});
