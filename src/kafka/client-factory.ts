/**
 * The only place recrypt creates Kafka clients: librdkafka consumers and producers (through
 * @confluentinc/kafka-javascript) and kafkajs's admin client (topics.ts: the bindings have no
 * DescribeConfigs). Every client gets the connection's base settings (bootstrap servers, client id,
 * security) under the caller's own. A test hands the pipeline a factory of fakes instead.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import kafka from '@confluentinc/kafka-javascript';
import kafkajs from 'kafkajs';
import { RecryptError } from '../util/errors.js';
import { baseClientConfig, type KafkaConnection } from './connection.js';
import type { NativeConsumer, NativeProducer } from './native.js';
import { isUntrustedCertificateCode } from '../util/tls.js';

/** librdkafka settings; a consumer's may include `rebalance_cb`. */
export type ClientConfig = Readonly<Record<string, string | number | boolean | ((...args: never[]) => void)>>;
export type KafkaAdmin = ReturnType<InstanceType<typeof kafkajs.Kafka>['admin']>;

export interface KafkaClients {
  /** A consumer with `config` over the connection's base settings; `topicConfig`: default topic settings (auto.offset.reset). */
  consumer(clientId: string, config: ClientConfig, topicConfig?: ClientConfig): NativeConsumer;
  /** A producer with `config` over the connection's base settings. */
  producer(clientId: string, config: ClientConfig): NativeProducer;
  /** A kafkajs admin client (not connected). */
  admin(clientId: string): KafkaAdmin;
}

export function kafkaClients(connection: KafkaConnection): KafkaClients {
  return {
    consumer: (clientId, config, topicConfig = {}) =>
      new kafka.KafkaConsumer({ ...baseClientConfig(connection, clientId), ...config } as never, topicConfig as never) as NativeConsumer,
    producer: (clientId, config) => new kafka.Producer({ ...baseClientConfig(connection, clientId), ...config } as never),
    admin: (clientId) => failingFastOnAuth(kafkajsClient(connection, clientId).admin()),
  };
}

/**
 * kafkajs reports refused credentials (and an untrusted broker certificate) like any other failure;
 * a retry cannot fix either, so connect() turns them into KAFKA_AUTH (permanent), which the admin's
 * callers pass through. kafkajs's SASL messages name the mechanism and the broker's answer, not the
 * password.
 */
function failingFastOnAuth(admin: KafkaAdmin): KafkaAdmin {
  const connect = admin.connect.bind(admin);
  admin.connect = async () => {
    try {
      await connect();
    } catch (err) {
      const refused = authFailure(err);
      throw refused === undefined ? err : new RecryptError('KAFKA_AUTH', `Kafka refused the connection: ${refused}; check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, the SASL mechanism and ssl.ca.location`, { cause: err });
    }
  };
  return admin;
}


/** A value-free reason when `err` (or an error it wraps) is a SASL refusal or an untrusted certificate. */
function authFailure(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e = err as { name?: string; code?: unknown; cause?: unknown; originalError?: unknown } | undefined; e && typeof e === 'object' && !seen.has(e);
    e = (e.originalError ?? e.cause) as typeof e) {
    seen.add(e);
    if (e.name === 'KafkaJSSASLAuthenticationError') return 'SASL authentication failed';
    if (isUntrustedCertificateCode(e.code)) return `broker certificate not trusted (${e.code})`;
  }
  return undefined;
}

/** The PEM certificates at a librdkafka ssl.ca.location: one file, or each .pem/.crt file of a directory. */
function caPems(location: string): string[] {
  if (!statSync(location).isDirectory()) return [readFileSync(location, 'utf8')];
  return readdirSync(location).filter((f) => /\.(pem|crt)$/i.test(f)).map((f) => readFileSync(join(location, f), 'utf8'));
}

function kafkajsClient(connection: KafkaConnection, clientId: string) {
  const p = connection.properties;
  const protocol = String(p['security.protocol'] ?? 'PLAINTEXT').toUpperCase();
  const mechanism = String(p['sasl.mechanism'] ?? p['sasl.mechanisms'] ?? '').toLowerCase();
  const sasl = protocol.startsWith('SASL')
    ? { mechanism, username: String(p['sasl.username'] ?? ''), password: String(p['sasl.password'] ?? '') }
    : undefined;
  const ca = p['ssl.ca.location'];
  return new kafkajs.Kafka({
    brokers: connection.bootstrapServers.split(',').map((b) => b.trim()),
    clientId,
    // librdkafka reads ssl.ca.location itself; kafkajs takes the PEMs (none for `probe`: the system's).
    ssl: protocol.endsWith('SSL') && ca !== undefined && ca !== 'probe' ? { ca: caPems(String(ca)) } : protocol.endsWith('SSL'),
    ...(sasl ? { sasl: sasl as never } : {}),
    logLevel: kafkajs.logLevel.NOTHING,
  });
}
