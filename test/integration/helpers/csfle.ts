// Builds recrypt's engine and Confluent's official serdes against one registry, for compatibility tests
// in both directions. Each call gets its own registry clients and caches.
import {
  AvroDeserializer, AvroSerializer, FieldEncryptionExecutor, JsonDeserializer, JsonSerializer, LocalKmsDriver,
  ProtobufDeserializer, ProtobufSerializer, RuleRegistry, SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/server.js';
import { RecordTransformer, SchemaStore, type JobMode, type SubjectNameStrategy } from '../../../src/engine/index.js';
import type { SourceRecord } from '../../../src/kafka/types.js';
import { DekManager } from '../../../src/keys/index.js';
import { LocalKmsDriver as RecryptLocalKms } from '../../../src/kms/local-kms.js';
import type { KmsDriver, KmsDriverRegistry } from '../../../src/kms/kms-driver.js';
import { DekRegistryClient, SchemaRegistryClient as RecryptSchemaRegistry } from '../../../src/registry/index.js';
import type { Rule, SchemaInfo } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';

export const LOCAL_SECRET = 'mysecret';

export interface TestRegistry {
  readonly url: string;
  close(): Promise<void>;
}

export async function startTestRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'recrypt-engine-'));
  const registry: DevRegistry = await startDevRegistry({ port: 0, host: '127.0.0.1', dataDir: dir, localSecret: LOCAL_SECRET });
  return { url: registry.url, close: async () => { await registry.close(); rmSync(dir, { recursive: true, force: true }); } };
}

export function encryptRule(name: string, kek: string, params: Record<string, string> = {}, tags = ['PII']): Rule {
  return {
    name, kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags, onFailure: 'ERROR,ERROR',
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey', ...params },
  };
}

export async function register(url: string, subject: string, schema: SchemaInfo): Promise<number> {
  const client = new RecryptSchemaRegistry({ baseUrls: [url] });
  return (await client.register(subject, schema)).id;
}

/** Confluent's serdes for one format, with their own executor registry (they are global otherwise). */
export function officialSerdes(
  url: string, format: 'AVRO' | 'PROTOBUF' | 'JSON', serializerConfig: Record<string, unknown> = {},
  options: { clock?: () => number; secret?: string } = {},
) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  const clock = options.clock;
  rules.registerExecutor(clock === undefined ? new FieldEncryptionExecutor() : new FieldEncryptionExecutor({ now: clock }));
  const client = new SchemaRegistryClient({ baseURLs: [url], cacheCapacity: 1000 });
  const ruleConfig = { secret: options.secret ?? LOCAL_SECRET };
  const ser = { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig, ...serializerConfig };
  const de = { ruleConfig };
  switch (format) {
    case 'AVRO':
      return { serializer: new AvroSerializer(client, SerdeType.VALUE, ser, rules), deserializer: new AvroDeserializer(client, SerdeType.VALUE, de, rules) };
    case 'PROTOBUF':
      return { serializer: new ProtobufSerializer(client, SerdeType.VALUE, ser, rules), deserializer: new ProtobufDeserializer(client, SerdeType.VALUE, de, rules) };
    case 'JSON':
      return { serializer: new JsonSerializer(client, SerdeType.VALUE, ser, rules), deserializer: new JsonDeserializer(client, SerdeType.VALUE, de, rules) };
  }
}

export interface EngineOptions {
  mode: JobMode;
  targetSubject: string;
  targetTopic: string;
  strategy?: SubjectNameStrategy;
  kms?: KmsDriver[];
  /** A whole KMS driver registry (e.g. createKmsDriverRegistry with counters); overrides `kms`. */
  kmsRegistry?: KmsDriverRegistry;
  allowPlaintextOnEncryptFailure?: boolean;
  /** Epoch-ms clock for the DekManager (DEK expiry); Date.now by default. */
  clock?: () => number;
  /** Where the engine's registry clients point after the target schema was fetched from `url` (default `url`). */
  engineUrl?: string;
  /** Distinct schemas and DEKs a batch fetches at once (default 64, the job default). */
  maxInFlight?: number;
}

/** recrypt's engine pointed at `url`, writing with the latest schema of the target subject. */
export async function recryptEngine(url: string, options: EngineOptions) {
  const engineUrl = options.engineUrl ?? url;
  const schemaRegistry = new RecryptSchemaRegistry({ baseUrls: [engineUrl] });
  const drivers = new Map<string, KmsDriver>([['local-kms', new RecryptLocalKms({ secret: LOCAL_SECRET })]]);
  for (const d of options.kms ?? []) drivers.set(d.kmsType, d);
  const keys = new DekManager({
    dekRegistry: new DekRegistryClient({ baseUrls: [engineUrl] }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    kms: options.kmsRegistry ?? { get: (type) => { const d = drivers.get(type); if (!d) throw new RecryptError('KMS_UNSUPPORTED_TYPE', `no ${type}`); return d; } },
    kmsProps: { secret: LOCAL_SECRET },
  });
  const schemas = new SchemaStore(schemaRegistry);
  const targetSchema = await new RecryptSchemaRegistry({ baseUrls: [url] }).getLatest(options.targetSubject);
  const target = await schemas.adopt(targetSchema, options.targetSubject);
  const transformer = new RecordTransformer({
    schemas, keys, mode: options.mode, subjectNameStrategy: options.strategy ?? 'topic',
    target: { schema: target, subject: options.targetSubject, topicFor: () => options.targetTopic },
    allowPlaintextOnEncryptFailure: options.allowPlaintextOnEncryptFailure ?? false,
    maxInFlight: options.maxInFlight ?? 64,
  });
  return { transformer, keys, schemas };
}

export function sourceRecord(topic: string, value: Buffer | null, offset = 0): SourceRecord {
  return { topic, partition: 0, offset, key: Buffer.from('k'), value, headers: [], timestamp: 1 };
}
