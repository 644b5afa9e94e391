// Transport settings of every client recrypt builds come from env and `_FILE` mounts, read here once:
// Kafka SASL, the registry's CA, Redis credentials and CA. Secrets never appear in a refusal.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactRedisUrl } from '../../../src/backfill/index.js';
import { kafkaConnectionFromEnv, loadServiceConfig, redisUrlFromEnv } from '../../../src/service/config.js';
import { RecryptError } from '../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'recrypt-transport-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function refusal(env: NodeJS.ProcessEnv): RecryptError {
  try {
    loadServiceConfig(env);
  } catch (err) {
    if (err instanceof RecryptError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('Kafka SASL from env and _FILE mounts', () => {
  it('KAFKA_SASL_USERNAME_FILE and KAFKA_SASL_PASSWORD_FILE become sasl.username and sasl.password beside the KAFKA_PROP_* settings', () => {
    const kafka = kafkaConnectionFromEnv({
      KAFKA_BOOTSTRAP_SERVERS: 'b1:9093', KAFKA_PROP_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_PROP_SASL_MECHANISMS: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME_FILE: file('kafka-user', 'api-key\n'), KAFKA_SASL_PASSWORD_FILE: file('kafka-pass', 'canary-pass\n'),
    });
    expect(kafka.properties).toEqual({
      'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'api-key', 'sasl.password': 'canary-pass',
    });
  });

  it('KAFKA_SASL_PASSWORD wins over KAFKA_PROP_SASL_PASSWORD, and loadServiceConfig carries it', () => {
    const config = loadServiceConfig({ KAFKA_PROP_SASL_PASSWORD: 'old', KAFKA_SASL_PASSWORD: 'new', KAFKA_SASL_USERNAME: 'u' });
    expect(config.kafka.properties['sasl.password']).toBe('new');
    expect(config.kafka.properties['sasl.username']).toBe('u');
  });

  it('a KAFKA_PROP_SSL_CA_LOCATION that cannot be read, or holds no certificate, is CONFIG_INVALID at start', () => {
    expect(refusal({ KAFKA_PROP_SSL_CA_LOCATION: join(dir, 'missing.crt') }).message).toBe('KAFKA_PROP_SSL_CA_LOCATION names a file that cannot be read');
    expect(refusal({ KAFKA_PROP_SSL_CA_LOCATION: file('not-pem', 'hello') }).message).toBe('KAFKA_PROP_SSL_CA_LOCATION names a file that holds no PEM certificate');
  });

  it('a KAFKA_PROP_SSL_CA_LOCATION librdkafka reads itself (a directory of certificates, or probe) is taken as it is', () => {
    for (const location of [dir, 'probe']) {
      expect(loadServiceConfig({ KAFKA_PROP_SSL_CA_LOCATION: location }).kafka.properties['ssl.ca.location']).toBe(location);
    }
  });
});

describe('registry transport', () => {
  it('basic auth from _FILE, and the CA from SCHEMA_REGISTRY_SSL_CA_LOCATION', () => {
    const config = loadServiceConfig({
      SCHEMA_REGISTRY_URL: 'https://sr.internal', SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO_FILE: file('sr-user-info', 'key:canary-secret\n'),
      SCHEMA_REGISTRY_SSL_CA_LOCATION: file('ca.crt', PEM),
    });
    expect(config.registry).toMatchObject({ urls: ['https://sr.internal'], basicAuth: 'key:canary-secret', ca: PEM });
  });

  it('a bearer token from SCHEMA_REGISTRY_BEARER_TOKEN_FILE', () => {
    const config = loadServiceConfig({ SCHEMA_REGISTRY_BEARER_TOKEN_FILE: file('token', 'tok\n') });
    expect(config.registry.bearerToken).toBe('tok');
    expect(config.registry.ca).toBeUndefined();
  });
});

describe('Redis transport', () => {
  it('REDIS_PASSWORD_FILE and REDIS_USERNAME go into the URL, percent-encoded; shown only without them', () => {
    const password = 'p@ss:w/rd#?%canary';
    const url = redisUrlFromEnv({ REDIS_URL: 'rediss://redis.internal:6380/2', REDIS_USERNAME: 'recrypt', REDIS_PASSWORD_FILE: file('redis-pass', `${password}\n`) });
    const parsed = new URL(url);
    expect(parsed.protocol).toBe('rediss:');
    expect(decodeURIComponent(parsed.username)).toBe('recrypt');
    expect(decodeURIComponent(parsed.password)).toBe(password);
    expect(parsed.host).toBe('redis.internal:6380');
    expect(parsed.pathname).toBe('/2');
    expect(redactRedisUrl(url)).toBe('rediss://redis.internal:6380/2');
  });

  it('without REDIS_USERNAME / REDIS_PASSWORD the URL is used as given', () => {
    expect(redisUrlFromEnv({ REDIS_URL: 'redis://:inline@h:1' })).toBe('redis://:inline@h:1');
    expect(redisUrlFromEnv({})).toBe('redis://127.0.0.1:6379');
  });

  it('REDIS_TLS_CA_LOCATION gives the CA to a rediss:// URL and is refused with redis://', () => {
    const ca = file('redis-ca.crt', PEM);
    expect(loadServiceConfig({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_LOCATION: ca }).redisTls).toEqual({ ca: PEM });
    expect(refusal({ REDIS_URL: 'redis://h:6379', REDIS_TLS_CA_LOCATION: ca }).message).toBe('REDIS_TLS_CA_LOCATION needs a rediss:// REDIS_URL');
    expect(loadServiceConfig({}).redisTls).toBeUndefined();
  });

  it('a REDIS_URL that does not parse is refused without echoing it (it may hold a password)', () => {
    const err = refusal({ REDIS_URL: 'not a url canary-pass', REDIS_PASSWORD: 'x' });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).not.toContain('canary');
  });
});
