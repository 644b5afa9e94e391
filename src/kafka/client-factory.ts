/**
 * The only place recrypt creates Kafka clients: librdkafka consumers and producers (through
 * @confluentinc/kafka-javascript) and kafkajs's admin client (topics.ts: the bindings have no
 * DescribeConfigs). Every client gets the connection's base settings (bootstrap servers, client id,
 * security) under the caller's own. A test hands the pipeline a factory of fakes instead.
 */
import kafka from '@confluentinc/kafka-javascript';
import kafkajs from 'kafkajs';
import { baseClientConfig, type KafkaConnection } from './connection.js';
import type { NativeConsumer, NativeProducer } from './native.js';

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
    admin: (clientId) => kafkajsClient(connection, clientId).admin(),
  };
}

function kafkajsClient(connection: KafkaConnection, clientId: string) {
  const p = connection.properties;
  const protocol = String(p['security.protocol'] ?? 'PLAINTEXT').toUpperCase();
  const mechanism = String(p['sasl.mechanism'] ?? p['sasl.mechanisms'] ?? '').toLowerCase();
  const sasl = protocol.startsWith('SASL')
    ? { mechanism, username: String(p['sasl.username'] ?? ''), password: String(p['sasl.password'] ?? '') }
    : undefined;
  return new kafkajs.Kafka({
    brokers: connection.bootstrapServers.split(',').map((b) => b.trim()),
    clientId,
    ssl: protocol.endsWith('SSL'),
    ...(sasl ? { sasl: sasl as never } : {}),
    logLevel: kafkajs.logLevel.NOTHING,
  });
}
