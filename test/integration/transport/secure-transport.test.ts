// Production transport end to end, on the secure stack (scripts/stack/secure-up.sh): Kafka only on
// SASL_SSL (SCRAM-SHA-512 and PLAIN, a private CA), the registry on HTTPS with basic auth, Redis on TLS
// with a password. `recrypt run`, a backfill with two `recrypt worker` processes and `recrypt audit` run
// as child processes whose every secret comes from a `_FILE` mount, so each client recrypt builds
// (librdkafka, the kafkajs admin, the registry client, BullMQ's and its own ioredis) is proven to carry
// the credentials. Wrong credentials fail at once with KAFKA_AUTH, REGISTRY_AUTH or REDIS_AUTH, and no
// secret (the stack's, or a planted canary password) appears in any output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillStatus, openQueue, type BackfillStatus, type VerifyReport } from '../../../src/backfill/index.js';
import { recrypt, writeJobFile, type CliResult } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers } from '../helpers/customers.js';
import { uniqueName } from '../helpers/stack.js';
import { backfillJobYaml, WORKER_ENV } from '../backfill/harness.js';
import {
  createSecureTopic, produceSecure, secureBackfillContext, secureRegistry, secureStack, stopSecureStack, type SecureStack,
} from './secure-stack.js';

const RECORDS = 400;
const PARTITIONS = 4;
const CANARY_PASSWORD = `canary-pass-${uniqueName('x')}`;

let stack: SecureStack;
let source: string;
let canary: string;
const outputs: CliResult[] = [];

/** recrypt with the secure stack's env only for transport (the plain stack's endpoints replaced). */
async function secureRecrypt(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<CliResult> {
  const result = await recrypt(args, { env: { ...stack.env, ...env }, timeoutMs });
  outputs.push(result);
  return result;
}

function encryptJob(name: string, target: string, kek: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source:
    topic: ${source}
    startAt: earliest
    stopAt: end
  target:
    topic: ${target}
    createTopic: true
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: transport-key
        onFailure: ERROR,ERROR
`;
}

async function audit(topic: string, env: NodeJS.ProcessEnv = {}): Promise<{ records: number; clean: boolean; plaintext: { count: number } }> {
  const result = await secureRecrypt(['audit', '--topic', topic, '--json'], env);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { records: number; clean: boolean; plaintext: { count: number } };
}

beforeAll(async () => {
  stack = await secureStack();
  source = uniqueName('tr-customers');
  await createSecureTopic(stack, source, PARTITIONS);
  const schemaId = (await secureRegistry(stack).register(`${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA })).id;
  const made = customers(RECORDS, PARTITIONS, schemaId);
  canary = made.canary;
  await produceSecure(stack, source, made.records);
}, 300_000);

afterAll(async () => {
  // Nothing recrypt printed, in any test, holds a secret of the stack, the planted password or a value.
  for (const r of outputs) {
    for (const secret of [...stack.secrets, CANARY_PASSWORD, canary]) {
      expect(r.stdout.includes(secret) || r.stderr.includes(secret), 'a secret or a record value in recrypt output').toBe(false);
    }
  }
  await stopSecureStack(stack);
}, 180_000);

describe('recrypt over SASL_SSL Kafka, an HTTPS registry with basic auth, and Redis with TLS and a password', () => {
  it('recrypt run encrypts the topic (SCRAM-SHA-512), and audit finds every tagged field encrypted', async () => {
    const target = uniqueName('tr-run-enc');
    const job = writeJobFile(encryptJob(uniqueName('tr-run').toLowerCase(), target, uniqueName('tr-kek')));
    const result = await secureRecrypt(['run', job]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`${RECORDS} records \\(${RECORDS} written, 0 to DLQ\\)`));
    expect(await audit(target)).toMatchObject({ records: RECORDS, clean: true, plaintext: { count: 0 } });
    // The registry client with a bearer token instead of basic auth.
    const bearer = { SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO_FILE: '', SCHEMA_REGISTRY_BEARER_TOKEN_FILE: stack.bearerTokenFile };
    expect(await audit(target, bearer)).toMatchObject({ records: RECORDS, clean: true });
  });

  it('a backfill with two workers (PLAIN) completes and verifies; audit finds the target encrypted', async () => {
    const name = uniqueName('tr-bf').toLowerCase();
    const target = uniqueName('tr-bf-enc');
    const job = writeJobFile(backfillJobYaml({ name, source, target, kek: uniqueName('tr-bf-kek'), batchSize: 50 }));
    const plain = { KAFKA_PROP_SASL_MECHANISMS: 'PLAIN' };
    // Created before submit: on a broker that has just started, submit's end-offset read of a target
    // it has only just created can find no partition leader yet (KAFKA_UNAVAILABLE, not retried there).
    await createSecureTopic(stack, target, PARTITIONS);
    const submitted = await secureRecrypt(['backfill', 'submit', job], plain);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toContain(`${PARTITIONS} tasks over ${PARTITIONS} partitions, ${RECORDS} offsets`);

    const workers = ['tr-worker-a', 'tr-worker-b'].map((pod) =>
      recrypt(['worker', job, '--concurrency', '2'], { env: { ...stack.env, ...plain, ...WORKER_ENV, POD_NAME: pod }, timeoutMs: 240_000 }));
    const ctx = secureBackfillContext(stack);
    try {
      let status: BackfillStatus | undefined;
      const deadline = Date.now() + 150_000;
      while (Date.now() < deadline) {
        status = await backfillStatus(ctx, name);
        if (status.state === 'completed' || status.tasks.some((t) => t.state === 'failed')) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(status?.tasks.filter((t) => t.state === 'failed')).toEqual([]);
      expect(status?.state).toBe('completed');
      // Every task was run by one of the two workers, through their BullMQ connections to the TLS Redis.
      const queue = openQueue(ctx.redisUrl, name, ctx.redisPolicy);
      try {
        const runBy = (await queue.getJobs(['completed'])).map((j) => j.processedBy);
        expect(runBy).toHaveLength(PARTITIONS);
        for (const pod of runBy) expect(['tr-worker-a', 'tr-worker-b']).toContain(pod);
      } finally {
        await queue.close();
      }
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
      outputs.push(...(await Promise.all(workers)));
      ctx.close();
    }
    for (const w of outputs.slice(-2)) {
      expect(w.code, w.stderr.slice(-2000)).toBe(0);
      expect(w.stderr).toContain('"msg":"worker started"');
    }

    const verified = await secureRecrypt(['backfill', 'verify', name, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout) as VerifyReport).toMatchObject({ ok: true, source: RECORDS, target: RECORDS, dlq: 0 });
    expect(await audit(target)).toMatchObject({ records: RECORDS, clean: true, plaintext: { count: 0 } });
  });
});

describe('wrong credentials fail fast with a clear code, never a retry loop', () => {
  /** Runs recrypt with `env` over the stack's and expects exit 1 with `code` within `withinMs`. */
  async function refused(args: string[], env: NodeJS.ProcessEnv, code: string, withinMs = 30_000): Promise<CliResult> {
    const started = Date.now();
    const result = await secureRecrypt(args, env, withinMs + 30_000);
    expect(result.signal, `killed: ${result.stderr.slice(-1000)}`).toBeNull();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`recrypt: ${code}: `);
    expect(Date.now() - started).toBeLessThan(withinMs);
    return result;
  }

  it('Kafka: a wrong SASL password is KAFKA_AUTH', async () => {
    const job = writeJobFile(encryptJob(uniqueName('tr-badkafka').toLowerCase(), uniqueName('tr-never'), uniqueName('tr-kek')));
    await refused(['run', job], { KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: CANARY_PASSWORD }, 'KAFKA_AUTH');
  });

  it('registry: a wrong basic-auth password is REGISTRY_AUTH', async () => {
    const job = writeJobFile(encryptJob(uniqueName('tr-badreg').toLowerCase(), uniqueName('tr-never'), uniqueName('tr-kek')));
    await refused(['run', job], { SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO_FILE: '', SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: `recrypt:${CANARY_PASSWORD}` }, 'REGISTRY_AUTH');
  });

  it('registry: without the private CA the certificate is not trusted: REGISTRY_AUTH', async () => {
    const job = writeJobFile(encryptJob(uniqueName('tr-noca').toLowerCase(), uniqueName('tr-never'), uniqueName('tr-kek')));
    const result = await refused(['run', job], { SCHEMA_REGISTRY_SSL_CA_LOCATION: '' }, 'REGISTRY_AUTH');
    expect(result.stderr).toContain('TLS certificate not trusted');
  });

  it('Redis: a wrong password is REDIS_AUTH, for backfill submit and for a worker', async () => {
    const job = writeJobFile(backfillJobYaml({ name: uniqueName('tr-badredis').toLowerCase(), source, target: uniqueName('tr-never'), kek: uniqueName('tr-kek') }));
    const wrong = { REDIS_PASSWORD_FILE: '', REDIS_PASSWORD: CANARY_PASSWORD };
    await refused(['backfill', 'submit', job], wrong, 'REDIS_AUTH');
    await refused(['worker', job], { ...wrong, ...WORKER_ENV }, 'REDIS_AUTH');
  });
});
