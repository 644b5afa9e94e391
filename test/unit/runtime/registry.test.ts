// `recrypt plan` runs on the job runtime with registry clients that refuse every write: reads pass
// through unchanged, a write is refused before anything reaches the registry.
import { describe, expect, it } from 'vitest';
import type { DekRegistryApi, RegisteredSchema, SchemaRegistryApi } from '../../../src/registry/types.js';
import { readOnlyDekRegistry, readOnlyRegistryClients, readOnlySchemaRegistry } from '../../../src/runtime/index.js';
import { RecryptError } from '../../../src/util/errors.js';

const SCHEMA: RegisteredSchema = { id: 7, version: 2, subject: 's', schemaType: 'AVRO', schema: '"string"' };

function recordingSchemaRegistry(calls: string[]): SchemaRegistryApi {
  const read = (name: string) => async (): Promise<RegisteredSchema> => { calls.push(name); return SCHEMA; };
  return {
    getById: read('getById'), getByGuid: read('getByGuid'), getLatest: read('getLatest'), getVersion: read('getVersion'),
    getLatestWithMetadata: read('getLatestWithMetadata'), lookup: read('lookup'), register: read('register'),
  };
}

function recordingDekRegistry(calls: string[]): DekRegistryApi {
  return {
    getKek: async () => { calls.push('getKek'); return null; },
    getDek: async () => { calls.push('getDek'); return null; },
    createKek: async () => { calls.push('createKek'); throw new Error('not reached'); },
    createDek: async () => { calls.push('createDek'); throw new Error('not reached'); },
  };
}

async function refusal(work: Promise<unknown>): Promise<RecryptError> {
  const err = await work.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RecryptError);
  return err as RecryptError;
}

describe('read-only registry clients', () => {
  it('schema registry: reads pass through, register is refused without a call', async () => {
    const calls: string[] = [];
    const registry = readOnlySchemaRegistry(recordingSchemaRegistry(calls));
    expect(await registry.getById(7, 's')).toBe(SCHEMA);
    expect(await registry.getByGuid('g')).toBe(SCHEMA);
    expect(await registry.getLatest('s')).toBe(SCHEMA);
    expect(await registry.getVersion('s', 2)).toBe(SCHEMA);
    expect(await registry.getLatestWithMetadata('s', { a: 'b' })).toBe(SCHEMA);
    expect(await registry.lookup('s', SCHEMA)).toBe(SCHEMA);
    const err = await refusal(registry.register('orders-value', SCHEMA));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toContain('orders-value');
    expect(calls).toEqual(['getById', 'getByGuid', 'getLatest', 'getVersion', 'getLatestWithMetadata', 'lookup']);
  });

  it('DEK registry: reads pass through, creating a KEK or a DEK is refused without a call', async () => {
    const calls: string[] = [];
    const registry = readOnlyDekRegistry(recordingDekRegistry(calls));
    expect(await registry.getKek('k')).toBeNull();
    expect(await registry.getDek('k', 's', 1, 'AES256_GCM')).toBeNull();
    expect((await refusal(registry.createKek({ name: 'k', kmsType: 'local-kms', kmsKeyId: 'x' }))).code).toBe('INTERNAL');
    expect((await refusal(registry.createDek('k', { subject: 's' }))).code).toBe('INTERNAL');
    expect(calls).toEqual(['getKek', 'getDek']);
  });

  it('readOnlyRegistryClients refuses writes before any request (no registry needs to listen)', async () => {
    const { schemaRegistry, dekRegistry } = readOnlyRegistryClients({
      kafka: { bootstrapServers: '127.0.0.1:1', properties: {} },
      registry: { urls: ['http://127.0.0.1:1'], timeoutMs: 100 },
      kmsProps: {}, instanceId: 'test', kmsTimeoutMs: 100,
    });
    expect((await refusal(schemaRegistry.register('s', SCHEMA))).code).toBe('INTERNAL');
    expect((await refusal(dekRegistry.createKek({ name: 'k', kmsType: 'local-kms', kmsKeyId: 'x' }))).code).toBe('INTERNAL');
  });
});
