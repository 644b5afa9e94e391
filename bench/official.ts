/**
 * Confluent's own way of doing the job: `@confluentinc/schemaregistry`'s AvroDeserializer then
 * AvroSerializer, with the FieldEncryptionExecutor and local-kms, one record at a time as a consumer's
 * eachMessage handler would, against the same registry and DEKs as recrypt.
 */
import {
  AvroDeserializer, AvroSerializer, FieldEncryptionExecutor, LocalKmsDriver, RuleRegistry, SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { LOCAL_SECRET } from './fixture.js';

export interface OfficialSerdes {
  /** Deserializes `value` read from `from`, serializes the result for `to`. */
  transform(from: string, to: string, value: Buffer): Promise<Buffer>;
  /** Deserializes `value` read from `topic` (used to check every contender's output). */
  read(topic: string, value: Buffer): Promise<unknown>;
}

export function officialSerdes(url: string): OfficialSerdes {
  LocalKmsDriver.register();
  // Its own executor registry: Confluent's default one is process-global.
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new SchemaRegistryClient({ baseURLs: [url], cacheCapacity: 1000 });
  const ruleConfig = { secret: LOCAL_SECRET };
  const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig }, rules);
  const deserializer = new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules);
  return {
    async transform(from, to, value) {
      const record: unknown = await deserializer.deserialize(from, value);
      return serializer.serialize(to, record);
    },
    read: (topic, value) => deserializer.deserialize(topic, value) as Promise<unknown>,
  };
}
