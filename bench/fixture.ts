/**
 * What every contender of the engine benchmark runs against: an in-process dev registry with three
 * subjects for the Customer schema (plain, AES256_GCM, AES256_SIV), and the two DEKs created up front
 * from key material the benchmark knows, so the raw loop can use the very same keys and its output can
 * be checked against recrypt's and Confluent's byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { startDevRegistry, type DevRegistry } from '../src/devregistry/server.js';
import { LocalKmsDriver } from '../src/kms/local-kms.js';
import { DekRegistryClient, SchemaRegistryClient } from '../src/registry/index.js';
import type { DekAlgorithm, Rule } from '../src/registry/types.js';
import { CUSTOMER_SCHEMA } from './customer.js';

export const LOCAL_SECRET = 'bench-local-secret';
const KMS_KEY_ID = 'bench-key';

export const TOPICS = { plain: 'customers-plain', gcm: 'customers-gcm', siv: 'customers-siv' } as const;
export type TopicName = keyof typeof TOPICS;
export const subjectOf = (topic: TopicName): string => `${TOPICS[topic]}-value`;

export interface BenchFixture {
  readonly url: string;
  /** Registered schema id of each subject. */
  readonly ids: Readonly<Record<TopicName, number>>;
  /** Raw DEK bytes: 32 for AES256_GCM, 64 for AES256_SIV (K1 | K2). Only the raw loop reads them. */
  readonly gcmKey: Buffer;
  readonly sivKey: Buffer;
  close(): Promise<void>;
}

function encryptRule(kek: string, algorithm: DekAlgorithm): Rule {
  return {
    name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': KMS_KEY_ID, 'encrypt.dek.algorithm': algorithm },
  };
}

/** Tink key proto as Confluent stores DEKs: AesGcmKey key_value is field 3, AesSivKey key_value field 2. */
function tinkProto(algorithm: 'AES256_GCM' | 'AES256_SIV', key: Buffer): Buffer {
  const field = algorithm === 'AES256_GCM' ? 3 : 2;
  return Buffer.concat([Buffer.from([(field << 3) | 2, key.length]), key]);
}

export async function startFixture(): Promise<BenchFixture> {
  const registry: DevRegistry = await startDevRegistry({ port: 0, host: '127.0.0.1', localSecret: LOCAL_SECRET, onInternalError: () => {} });
  try {
    const schemas = new SchemaRegistryClient({ baseUrls: [registry.url] });
    const deks = new DekRegistryClient({ baseUrls: [registry.url] });
    const kms = new LocalKmsDriver({ secret: LOCAL_SECRET });
    const gcmKey = randomBytes(32);
    const sivKey = randomBytes(64);
    const keys = [
      { kek: 'bench-kek-gcm', topic: 'gcm', algorithm: 'AES256_GCM', key: gcmKey },
      { kek: 'bench-kek-siv', topic: 'siv', algorithm: 'AES256_SIV', key: sivKey },
    ] as const;
    for (const k of keys) {
      await deks.createKek({ name: k.kek, kmsType: 'local-kms', kmsKeyId: KMS_KEY_ID });
      const wrapped = await kms.wrap(KMS_KEY_ID, tinkProto(k.algorithm, k.key), {});
      await deks.createDek(k.kek, {
        subject: subjectOf(k.topic), version: 1, algorithm: k.algorithm, encryptedKeyMaterial: Buffer.from(wrapped).toString('base64'),
      });
    }
    const ids = {
      plain: (await schemas.register(subjectOf('plain'), { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA })).id,
      gcm: (await schemas.register(subjectOf('gcm'), {
        schemaType: 'AVRO', schema: CUSTOMER_SCHEMA, ruleSet: { domainRules: [encryptRule('bench-kek-gcm', 'AES256_GCM')] },
      })).id,
      siv: (await schemas.register(subjectOf('siv'), {
        schemaType: 'AVRO', schema: CUSTOMER_SCHEMA, ruleSet: { domainRules: [encryptRule('bench-kek-siv', 'AES256_SIV')] },
      })).id,
    };
    if (new Set(Object.values(ids)).size !== 3) throw new Error(`expected three schema ids, got ${JSON.stringify(ids)}`);
    return { url: registry.url, ids, gcmKey, sivKey, close: () => registry.close() };
  } catch (err) {
    await registry.close();
    throw err;
  }
}
