/**
 * Service configuration from the environment, validated and frozen at start. Secrets come from env
 * variables or from files named by `<NAME>_FILE` (Kubernetes Secret mounts); they are never read from
 * job files and never logged.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
// Types only: loading backfill/ (BullMQ, ioredis) is for the backfill commands, not every start.
import type { BackfillSettings } from '../backfill/index.js';
import type { KafkaConnection } from '../kafka/connection.js';
import type { RuntimeConfig } from '../runtime/index.js';
import { RecryptError } from '../util/errors.js';
import type { LogLevel } from '../util/logger.js';

export type { RegistryConnection } from '../runtime/index.js';

export interface ServiceConfig extends RuntimeConfig {
  /** REDIS_URL with REDIS_USERNAME / REDIS_PASSWORD put in; shown only through redactRedisUrl. */
  readonly redisUrl: string;
  /** A `rediss://` Redis's private CA (REDIS_TLS_CA_LOCATION, PEM); unset: the system's CAs. */
  readonly redisTls?: { readonly ca: string };
  readonly httpPort: number;
  readonly logLevel: LogLevel;
  /** After SIGTERM/SIGINT: how long `run` and `serve` wait for open transactions before exiting. */
  readonly shutdownTimeoutMs: number;
  /** Between `recrypt run`'s JSON progress lines (when stderr is not a terminal). */
  readonly progressIntervalMs: number;
  /** Backfill workers' settings; `recrypt worker --concurrency` overrides `concurrency`. */
  /** Backfill worker settings set through env; the backfill commands put them over backfill/'s defaults. */
  readonly backfill: Readonly<Partial<BackfillSettings>>;
  /** How long a backfill command waits for an unreachable Redis before failing with REDIS_UNAVAILABLE. */
  readonly redisTimeoutMs: number;
}

/** `NAME` from env, else the contents of the file at `NAME_FILE` (trailing newline trimmed). */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const direct = env[name];
  if (direct) return direct;
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new RecryptError('CONFIG_INVALID', `${name}_FILE names a file that cannot be read`, { cause: err });
  }
}

/** The contents of the PEM file `name` names (a CA bundle; not a secret, but read like one: once, here). */
function pemFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const path = env[name];
  if (!path) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RecryptError('CONFIG_INVALID', `${name} names a file that cannot be read`, { cause: err });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new RecryptError('CONFIG_INVALID', `${name} names a file that holds no PEM certificate`);
  return pem;
}

/** A librdkafka ssl.ca.location that names one PEM file (not `probe`, not a directory). */
export function kafkaCaIsFile(location: string | undefined): location is string {
  if (!location || location === 'probe') return false;
  try {
    return !statSync(location).isDirectory();
  } catch {
    return true; // missing: pemFromEnv names it
  }
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RecryptError('CONFIG_INVALID', `${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** Lock and stall settings of backfill workers set in env (for tests and unusual clusters); unset ones are left out. */
function backfillFromEnv(env: NodeJS.ProcessEnv): Readonly<Partial<BackfillSettings>> {
  const settings: { -readonly [K in keyof BackfillSettings]?: number } = {};
  const positive = (name: string, key: keyof BackfillSettings): void => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new RecryptError('CONFIG_INVALID', `${name} must be a positive integer`);
    settings[key] = value;
  };
  positive('RECRYPT_BACKFILL_CONCURRENCY', 'concurrency');
  positive('RECRYPT_BACKFILL_LOCK_MS', 'lockDurationMs');
  positive('RECRYPT_BACKFILL_STALLED_INTERVAL_MS', 'stalledIntervalMs');
  positive('RECRYPT_BACKFILL_PROGRESS_MS', 'progressIntervalMs');
  positive('RECRYPT_BACKFILL_RETRY_MS', 'retryDelayMs');
  return Object.freeze(settings);
}

/**
 * The secret of local-kms KEKs: LOCAL_SECRET, else the file at LOCAL_SECRET_FILE. The job runtime gets
 * it as `kmsProps.secret`; `recrypt dev-registry` takes it from here too (for shared local-kms KEKs).
 */
export function localKmsSecret(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return secretFromEnv('LOCAL_SECRET', env);
}

/**
 * KAFKA_BOOTSTRAP_SERVERS and every KAFKA_PROP_* variable as a librdkafka property (security.protocol,
 * sasl.mechanisms, ssl.ca.location ...); KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or their `_FILE`
 * mounts) become sasl.username and sasl.password. The kafkajs admin gets the same settings (kafka/).
 */
export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConnection {
  const properties: Record<string, string> = {};
  // KAFKA_PROP_SASL_MECHANISM=PLAIN -> sasl.mechanism=PLAIN: any librdkafka property without code changes.
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('KAFKA_PROP_') && value !== undefined) {
      properties[name.slice('KAFKA_PROP_'.length).toLowerCase().replaceAll('_', '.')] = value;
    }
  }
  const username = secretFromEnv('KAFKA_SASL_USERNAME', env);
  const password = secretFromEnv('KAFKA_SASL_PASSWORD', env);
  if (username !== undefined) properties['sasl.username'] = username;
  if (password !== undefined) properties['sasl.password'] = password;
  return Object.freeze({
    bootstrapServers: env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092',
    properties: Object.freeze(properties),
  });
}

/**
 * REDIS_URL with REDIS_USERNAME and REDIS_PASSWORD (or REDIS_PASSWORD_FILE) put in as its user info,
 * percent-encoded (ioredis decodes it), so every connection made from the URL, BullMQ's included,
 * authenticates. Credentials already in REDIS_URL stay unless these variables are set.
 */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const username = secretFromEnv('REDIS_USERNAME', env);
  const password = secretFromEnv('REDIS_PASSWORD', env);
  if (username === undefined && password === undefined) return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // the parser's message would echo the URL, which may hold credentials
    throw new RecryptError('CONFIG_INVALID', 'REDIS_URL is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RecryptError('CONFIG_INVALID', 'REDIS_URL must be redis:// or rediss://');
  if (username !== undefined) url.username = encodeURIComponent(username);
  if (password !== undefined) url.password = encodeURIComponent(password);
  return url.toString();
}

function redisTlsFromEnv(env: NodeJS.ProcessEnv, redisUrl: string): { ca: string } | undefined {
  const ca = pemFromEnv(env, 'REDIS_TLS_CA_LOCATION');
  if (ca === undefined) return undefined;
  if (!/^rediss:\/\//i.test(redisUrl)) throw new RecryptError('CONFIG_INVALID', 'REDIS_TLS_CA_LOCATION needs a rediss:// REDIS_URL');
  return { ca };
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * LOG_LEVEL for loggers made before the configuration is loaded (library warnings of long-running
 * commands): an unknown value falls back to info here; loadServiceConfig refuses it.
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.LOG_LEVEL as LogLevel | undefined;
  return level !== undefined && LEVELS.includes(level) ? level : 'info';
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new RecryptError('CONFIG_INVALID', `LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  const basicAuth = secretFromEnv('SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO', env);
  const bearerToken = secretFromEnv('SCHEMA_REGISTRY_BEARER_TOKEN', env);
  const localSecret = localKmsSecret(env);
  const registryCa = pemFromEnv(env, 'SCHEMA_REGISTRY_SSL_CA_LOCATION');
  // librdkafka and the kafkajs admin read the file themselves: a wrong path fails here, named, not there.
  // librdkafka also takes a directory of certificates or `probe` (the system's): those are its to check.
  if (kafkaCaIsFile(env.KAFKA_PROP_SSL_CA_LOCATION)) pemFromEnv(env, 'KAFKA_PROP_SSL_CA_LOCATION');
  const redisUrl = redisUrlFromEnv(env);
  const redisTls = redisTlsFromEnv(env, redisUrl);
  const config: ServiceConfig = {
    kafka: kafkaConnectionFromEnv(env),
    registry: {
      urls: (env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081').split(',').map((u) => u.trim()).filter(Boolean),
      ...(basicAuth ? { basicAuth } : {}),
      ...(bearerToken ? { bearerToken } : {}),
      ...(registryCa ? { ca: registryCa } : {}),
      timeoutMs: intFromEnv(env, 'SCHEMA_REGISTRY_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    redisUrl,
    ...(redisTls ? { redisTls } : {}),
    httpPort: intFromEnv(env, 'RECRYPT_HTTP_PORT', 8080, 0, 65_535),
    logLevel,
    kmsProps: localSecret ? { secret: localSecret } : {},
    // Stable across restarts on the same host (or pod): a restarted process reuses its transactional
    // ids, which aborts the open transaction a crashed predecessor left behind at once.
    instanceId: env.POD_NAME ?? env.HOSTNAME ?? hostname(),
    shutdownTimeoutMs: intFromEnv(env, 'RECRYPT_SHUTDOWN_TIMEOUT_MS', 30_000, 1000, 600_000),
    progressIntervalMs: intFromEnv(env, 'RECRYPT_PROGRESS_INTERVAL_MS', 10_000, 100, 3_600_000),
    kmsTimeoutMs: intFromEnv(env, 'RECRYPT_KMS_TIMEOUT_MS', 10_000, 100, 600_000),
    backfill: backfillFromEnv(env),
    redisTimeoutMs: intFromEnv(env, 'RECRYPT_REDIS_TIMEOUT_MS', 10_000, 100, 600_000),
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
