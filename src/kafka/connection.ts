/**
 * How recrypt reaches the brokers. Built by service/config from env (KAFKA_BOOTSTRAP_SERVERS, and
 * security settings with secrets from env or mounted files); never part of a job.
 */
export interface KafkaConnection {
  readonly bootstrapServers: string;
  /** Extra librdkafka properties (security.protocol, sasl.*, ssl.*), secrets already resolved. */
  readonly properties: Readonly<Record<string, string | number | boolean>>;
}

/** Base librdkafka settings shared by every client recrypt creates. */
export function baseClientConfig(connection: KafkaConnection, clientId: string): Record<string, string | number | boolean> {
  return {
    'bootstrap.servers': connection.bootstrapServers,
    'client.id': clientId,
    // librdkafka logs go nowhere by default; errors surface through the calls themselves.
    'log_level': 3,
    ...connection.properties,
  };
}
