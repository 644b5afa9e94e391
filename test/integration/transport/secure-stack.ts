// The secure stack (scripts/stack/secure-up.sh) for transport tests: started here when it is not up,
// stopped again only by whoever started it. Its env names files only; recrypt gets that env as it is
// (every secret through a `_FILE` variable), and the test's own clients read the same files.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import kafkaJs from '@confluentinc/kafka-javascript';
import { redisClient } from '../../../src/backfill/index.js';
import { SchemaRegistryClient } from '../../../src/registry/index.js';
import { loadServiceConfig } from '../../../src/service/config.js';
import type { RawRecordInput } from '../helpers/kafka.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DIR = resolve(process.env.RECRYPT_SECURE_STACK_DIR ?? resolve(ROOT, '.stack/secure'));
const run = promisify(execFile);

export interface SecureStack {
  /** The env recrypt runs with: the plain stack's endpoints replaced, secrets as `_FILE` paths. */
  readonly env: Readonly<Record<string, string>>;
  /** Every secret of the stack: none may appear in any output. */
  readonly secrets: readonly string[];
  readonly kafkaPassword: string;
  /** The dev registry also takes this bearer token (instead of basic auth). */
  readonly bearerTokenFile: string;
  /** Whether this process started it (and so stops it). */
  readonly startedHere: boolean;
}

function readEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(resolve(DIR, 'env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

function running(): boolean {
  if (!existsSync(resolve(DIR, 'env'))) return false;
  for (const name of ['kafka', 'redis', 'registry']) {
    try {
      process.kill(Number(readFileSync(resolve(DIR, 'pids', `${name}.pid`), 'utf8')), 0);
    } catch {
      return false;
    }
  }
  return true;
}

/** Starts the secure stack unless it is up (bootstrap is scripts/test.sh's job, done before the suite). */
export async function secureStack(): Promise<SecureStack> {
  let startedHere = false;
  if (!running()) {
    await run('bash', [resolve(ROOT, 'scripts/stack/secure-up.sh')], { env: { ...process.env, RECRYPT_SKIP_BOOTSTRAP: '1' }, timeout: 240_000 });
    startedHere = true;
  }
  const env = readEnv();
  const secret = (name: string) => readFileSync(resolve(DIR, 'secrets', name), 'utf8').trim();
  const secrets = ['kafka-password', 'kafka-admin-password', 'redis-password', 'registry-password', 'registry-bearer-token', 'keystore-password', 'local-secret'].map(secret);
  return { env, secrets, kafkaPassword: secret('kafka-password'), bearerTokenFile: resolve(DIR, 'secrets', 'registry-bearer-token'), startedHere };
}

export async function stopSecureStack(stack: SecureStack | undefined): Promise<void> {
  if (stack?.startedHere) await run('bash', [resolve(ROOT, 'scripts/stack/secure-down.sh')], { timeout: 120_000 });
}

/** librdkafka (Confluent's KafkaJS API) over SASL_SSL with the stack's settings. */
function kafka(stack: SecureStack, mechanism = 'SCRAM-SHA-512') {
  return new kafkaJs.KafkaJS.Kafka({
    'bootstrap.servers': stack.env.KAFKA_BOOTSTRAP_SERVERS!, 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': mechanism,
    'sasl.username': stack.env.KAFKA_SASL_USERNAME!, 'sasl.password': stack.kafkaPassword,
    'ssl.ca.location': stack.env.KAFKA_PROP_SSL_CA_LOCATION!, 'log_level': 0,
  } as never);
}

export async function createSecureTopic(stack: SecureStack, topic: string, partitions: number): Promise<void> {
  const admin = kafka(stack).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
}

export async function produceSecure(stack: SecureStack, topic: string, records: readonly RawRecordInput[]): Promise<void> {
  const producer = kafka(stack, 'PLAIN').producer({ 'enable.idempotence': true, 'acks': -1 } as never);
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: records.map((r) => ({ key: r.key ?? null, value: r.value, partition: r.partition ?? 0, headers: r.headers, ...(r.timestamp ? { timestamp: r.timestamp } : {}) })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** recrypt's own registry client, configured from the stack's env (HTTPS, CA, basic auth). */
export function secureRegistry(stack: SecureStack): SchemaRegistryClient {
  const { registry } = loadServiceConfig(stack.env);
  return new SchemaRegistryClient({
    baseUrls: [...registry.urls], ...(registry.basicAuth ? { basicAuth: registry.basicAuth } : {}), ...(registry.ca ? { ca: registry.ca } : {}),
  });
}

/** A backfill context on the secure Redis (password and TLS from the stack's env) and Kafka. */
export function secureBackfillContext(stack: SecureStack) {
  const config = loadServiceConfig(stack.env);
  const redisPolicy = config.redisTls ? { tls: config.redisTls } : {};
  const redis = redisClient(config.redisUrl, redisPolicy);
  return { connection: config.kafka, redisUrl: config.redisUrl, redis, redisPolicy, close: () => redis.disconnect() };
}
