/**
 * Schema Registry and DEK Registry clients of a job runtime. `recrypt plan` gets read-only ones: a
 * write (registering a schema version, creating a KEK or DEK) is refused with INTERNAL, so a dry run
 * can never change the registry, whatever code path it takes.
 */
import { DekRegistryClient, SchemaRegistryClient } from '../registry/index.js';
import type { DekRegistryApi, SchemaRegistryApi } from '../registry/types.js';
import { RecryptError } from '../util/errors.js';
import type { RuntimeConfig } from './config.js';

export interface RegistryClients {
  readonly schemaRegistry: SchemaRegistryApi;
  readonly dekRegistry: DekRegistryApi;
}

/** Clients of the configured registry (the full REST clients: audit and rewrap use more than the API). */
export function registryClients(config: RuntimeConfig): { readonly schemaRegistry: SchemaRegistryClient; readonly dekRegistry: DekRegistryClient } {
  const http = {
    baseUrls: [...config.registry.urls], timeoutMs: config.registry.timeoutMs,
    ...(config.registry.basicAuth ? { basicAuth: config.registry.basicAuth } : {}),
    ...(config.registry.bearerToken ? { bearerToken: config.registry.bearerToken } : {}),
    ...(config.registry.ca ? { ca: config.registry.ca } : {}),
  };
  return { schemaRegistry: new SchemaRegistryClient(http), dekRegistry: new DekRegistryClient(http) };
}

/** The same clients behind wrappers that refuse every write. */
export function readOnlyRegistryClients(config: RuntimeConfig): RegistryClients {
  const { schemaRegistry, dekRegistry } = registryClients(config);
  return { schemaRegistry: readOnlySchemaRegistry(schemaRegistry), dekRegistry: readOnlyDekRegistry(dekRegistry) };
}

function refused(what: string): never {
  throw new RecryptError('INTERNAL', `read-only registry: ${what} refused (a dry run registers nothing)`);
}

/** Reads pass through; `register` is refused. */
export function readOnlySchemaRegistry(inner: SchemaRegistryApi): SchemaRegistryApi {
  return {
    getById: (id, subject) => inner.getById(id, subject),
    getByGuid: (guid) => inner.getByGuid(guid),
    getLatest: (subject) => inner.getLatest(subject),
    getVersion: (subject, version) => inner.getVersion(subject, version),
    getLatestWithMetadata: (subject, metadata) => inner.getLatestWithMetadata(subject, metadata),
    lookup: (subject, schema) => inner.lookup(subject, schema),
    register: async (subject) => refused(`registering a schema version under ${subject}`),
  };
}

/** Reads pass through; creating a KEK or a DEK is refused. */
export function readOnlyDekRegistry(inner: DekRegistryApi): DekRegistryApi {
  return {
    getKek: (name, deleted) => inner.getKek(name, deleted),
    getDek: (kekName, subject, version, algorithm, deleted) => inner.getDek(kekName, subject, version, algorithm, deleted),
    createKek: async (request) => refused(`creating KEK ${request.name}`),
    createDek: async (kekName) => refused(`creating a DEK under KEK ${kekName}`),
  };
}
