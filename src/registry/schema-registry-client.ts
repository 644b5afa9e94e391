/**
 * Schema Registry REST client (shared/CSFLE-NOTES.md section 6), implementing SchemaRegistryApi.
 *
 * Caches (all bounded LRU): schemas by id and by GUID and subject versions forever (they never
 * change); register/lookup results forever; "latest" and metadata lookups for `latestTtlMs`.
 * Concurrent identical GETs share one request (single-flight).
 */
import { Lru } from '../util/lru.js';
import { SingleFlight } from '../util/single-flight.js';
import { RegistryHttpClient, seg, type RegistryHttpOptions } from './http-client.js';
import { stableStringify } from './stable-json.js';
import type {
  RegisteredSchema,
  RuleSet,
  SchemaInfo,
  SchemaMetadata,
  SchemaReference,
  SchemaRegistryApi,
  SchemaType,
} from './types.js';

export interface SchemaRegistryClientOptions extends RegistryHttpOptions {
  /** Entries per cache (default 1000). */
  cacheCapacity?: number;
  /** TTL of "latest" and metadata lookups in ms (default 60000; 0 disables caching them). */
  latestTtlMs?: number;
  now?: () => number;
}

/** A subject or global config as the registry returns it (`compatibilityLevel`) or takes it (`compatibility`). */
export interface RegistryConfig {
  compatibility?: string;
  compatibilityLevel?: string;
  normalize?: boolean;
  alias?: string;
  compatibilityGroup?: string;
  defaultMetadata?: SchemaMetadata;
  overrideMetadata?: SchemaMetadata;
  defaultRuleSet?: RuleSet;
  overrideRuleSet?: RuleSet;
  [key: string]: unknown;
}

export interface SubjectVersionRef {
  subject: string;
  version: number;
}

/** The raw shape of schema responses: every field optional, unknown fields ignored. */
interface SchemaResponse {
  id?: number;
  guid?: string;
  subject?: string;
  version?: number;
  schemaType?: SchemaType;
  schema?: string;
  references?: SchemaReference[];
  metadata?: SchemaMetadata;
  ruleSet?: RuleSet;
}

function toRegistered(data: SchemaResponse, fallback: Partial<RegisteredSchema> = {}): RegisteredSchema {
  const out: RegisteredSchema = {
    id: data.id ?? fallback.id ?? -1,
    schema: data.schema ?? fallback.schema ?? '',
  };
  const guid = data.guid ?? fallback.guid;
  if (guid !== undefined && guid !== '') out.guid = guid;
  const subject = data.subject ?? fallback.subject;
  if (subject !== undefined) out.subject = subject;
  const version = data.version ?? fallback.version;
  if (version !== undefined) out.version = version;
  const schemaType = data.schemaType ?? fallback.schemaType;
  if (schemaType !== undefined) out.schemaType = schemaType;
  const references = data.references ?? fallback.references;
  if (references !== undefined && references.length > 0) out.references = references;
  const metadata = data.metadata ?? fallback.metadata;
  if (metadata !== undefined && metadata !== null) out.metadata = metadata;
  const ruleSet = data.ruleSet ?? fallback.ruleSet;
  if (ruleSet !== undefined && ruleSet !== null) out.ruleSet = ruleSet;
  return out;
}

/** The request body for register and lookup: only the SchemaInfo fields. */
function schemaBody(info: SchemaInfo): SchemaInfo {
  const body: SchemaInfo = { schema: info.schema };
  if (info.schemaType !== undefined) body.schemaType = info.schemaType;
  if (info.references !== undefined) body.references = info.references;
  if (info.metadata !== undefined) body.metadata = info.metadata;
  if (info.ruleSet !== undefined) body.ruleSet = info.ruleSet;
  return body;
}

export class SchemaRegistryClient implements SchemaRegistryApi {
  readonly http: RegistryHttpClient;
  private readonly byId: Lru<string, RegisteredSchema>;
  private readonly byGuid: Lru<string, RegisteredSchema>;
  private readonly byVersion: Lru<string, RegisteredSchema>;
  private readonly byInfo: Lru<string, RegisteredSchema>;
  private readonly latest: Lru<string, RegisteredSchema>;
  private readonly byMetadata: Lru<string, RegisteredSchema>;
  private readonly flights = new SingleFlight<string, RegisteredSchema>();
  private readonly latestTtlMs: number;

  constructor(options: SchemaRegistryClientOptions | { http: RegistryHttpClient; cacheCapacity?: number; latestTtlMs?: number; now?: () => number }) {
    this.http = 'http' in options ? options.http : new RegistryHttpClient(options);
    const max = Math.max(1, Math.floor(options.cacheCapacity ?? 1000));
    const now = options.now ?? Date.now;
    this.latestTtlMs = options.latestTtlMs ?? 60_000;
    this.byId = new Lru(max);
    this.byGuid = new Lru(max);
    this.byVersion = new Lru(max);
    this.byInfo = new Lru(max);
    this.latest = new Lru(max, { ttlMs: Math.max(this.latestTtlMs, 1), now });
    this.byMetadata = new Lru(max, { ttlMs: Math.max(this.latestTtlMs, 1), now });
  }

  /** GET /schemas/ids/{id}?subject= */
  getById(id: number, subject?: string): Promise<RegisteredSchema> {
    const key = `${id}\u0000${subject ?? ''}`;
    return this.cached(this.byId, `id:${key}`, key, async () => {
      const data = await this.http.request<SchemaResponse>('GET', `/schemas/ids/${seg(id)}`, {
        query: { subject: subject === undefined || subject === '' ? undefined : subject },
      });
      const schema = toRegistered(data, { id });
      schema.id = id;
      if (schema.guid !== undefined) this.byGuid.set(schema.guid, schema);
      return schema;
    });
  }

  /** GET /schemas/guids/{guid}. `id` is -1 when the registry does not say it. */
  getByGuid(guid: string): Promise<RegisteredSchema> {
    return this.cached(this.byGuid, `guid:${guid}`, guid, async () => {
      const data = await this.http.request<SchemaResponse>('GET', `/schemas/guids/${seg(guid)}`);
      return toRegistered(data, { guid });
    });
  }

  /** GET /subjects/{s}/versions/latest, cached for latestTtlMs. */
  getLatest(subject: string): Promise<RegisteredSchema> {
    if (this.latestTtlMs <= 0) return this.fetchVersion(subject, 'latest');
    return this.cached(this.latest, `latest:${subject}`, subject, () => this.fetchVersion(subject, 'latest'));
  }

  /** GET /subjects/{s}/versions/{v}; version -1 means latest. */
  getVersion(subject: string, version: number, deleted = false): Promise<RegisteredSchema> {
    if (version === -1) return this.getLatest(subject);
    const key = `${subject}\u0000${version}\u0000${deleted}`;
    return this.cached(this.byVersion, `version:${key}`, key, () => this.fetchVersion(subject, String(version), deleted));
  }

  /** GET /subjects/{s}/metadata?key=K&value=V...: the latest version whose metadata properties match. */
  getLatestWithMetadata(subject: string, metadata: Record<string, string>, deleted = false): Promise<RegisteredSchema> {
    const keys = Object.keys(metadata).sort();
    const query = { deleted, key: keys, value: keys.map((k) => metadata[k] as string) };
    const load = async (): Promise<RegisteredSchema> => {
      const data = await this.http.request<SchemaResponse>('GET', `/subjects/${seg(subject)}/metadata`, { query });
      return toRegistered(data, { subject });
    };
    if (this.latestTtlMs <= 0) return load();
    const key = `${subject}\u0000${stableStringify(metadata)}\u0000${deleted}`;
    return this.cached(this.byMetadata, `metadata:${key}`, key, load);
  }

  /**
   * POST /subjects/{s}/versions. Returns the registered schema with id, GUID and version when the
   * registry reports them (Confluent Platform before 8.0 answers with `{id}` only).
   */
  async register(subject: string, schema: SchemaInfo, normalize = false): Promise<RegisteredSchema> {
    const key = `register\u0000${subject}\u0000${normalize}\u0000${stableStringify(schemaBody(schema))}`;
    const hit = this.byInfo.get(key);
    if (hit !== undefined) return hit;
    const data = await this.http.request<SchemaResponse>('POST', `/subjects/${seg(subject)}/versions`, {
      body: schemaBody(schema),
      query: { normalize },
    });
    const result = toRegistered(data, { ...schema, subject });
    this.byInfo.set(key, result);
    this.latest.delete(subject);
    this.byMetadata.deleteWhere((k) => k.startsWith(`${subject}\u0000`));
    return result;
  }

  /** POST /subjects/{s}: the version of this schema under the subject (404 when not registered). */
  async lookup(subject: string, schema: SchemaInfo, normalize = false, deleted = false): Promise<RegisteredSchema> {
    const key = `lookup\u0000${subject}\u0000${normalize}\u0000${deleted}\u0000${stableStringify(schemaBody(schema))}`;
    const hit = this.byInfo.get(key);
    if (hit !== undefined) return hit;
    const data = await this.http.request<SchemaResponse>('POST', `/subjects/${seg(subject)}`, {
      body: schemaBody(schema),
      query: { normalize, deleted },
    });
    const result = toRegistered(data, { ...schema, subject });
    this.byInfo.set(key, result);
    return result;
  }

  /** GET /subjects */
  getAllSubjects(deleted = false): Promise<string[]> {
    return this.http.request<string[]>('GET', '/subjects', { query: { deleted } });
  }

  /** GET /subjects/{s}/versions */
  getAllVersions(subject: string, deleted = false): Promise<number[]> {
    return this.http.request<number[]>('GET', `/subjects/${seg(subject)}/versions`, { query: { deleted } });
  }

  /** GET /schemas/ids/{id}/versions: every subject version that uses this schema id. */
  getIdVersions(id: number): Promise<SubjectVersionRef[]> {
    return this.http.request<SubjectVersionRef[]>('GET', `/schemas/ids/${seg(id)}/versions`);
  }

  /** DELETE /subjects/{s}(?permanent=true): returns the deleted versions. */
  async deleteSubject(subject: string, permanent = false): Promise<number[]> {
    const result = await this.http.request<number[]>('DELETE', `/subjects/${seg(subject)}`, { query: { permanent } });
    this.forgetSubject(subject);
    return result;
  }

  /** DELETE /subjects/{s}/versions/{v}(?permanent=true): returns the deleted version. */
  async deleteVersion(subject: string, version: number, permanent = false): Promise<number> {
    const result = await this.http.request<number>('DELETE', `/subjects/${seg(subject)}/versions/${seg(version)}`, {
      query: { permanent },
    });
    this.forgetSubject(subject);
    return result;
  }

  /** GET /config or /config/{s}. */
  getConfig(subject?: string, defaultToGlobal = false): Promise<RegistryConfig> {
    if (subject === undefined) return this.http.request<RegistryConfig>('GET', '/config');
    return this.http.request<RegistryConfig>('GET', `/config/${seg(subject)}`, { query: { defaultToGlobal: defaultToGlobal || undefined } });
  }

  /** PUT /config or /config/{s}. */
  updateConfig(config: RegistryConfig, subject?: string): Promise<RegistryConfig> {
    const path = subject === undefined ? '/config' : `/config/${seg(subject)}`;
    return this.http.request<RegistryConfig>('PUT', path, { body: config });
  }

  /** DELETE /config or /config/{s}: returns the config that was removed. */
  deleteConfig(subject?: string): Promise<RegistryConfig> {
    const path = subject === undefined ? '/config' : `/config/${seg(subject)}`;
    return this.http.request<RegistryConfig>('DELETE', path);
  }

  /** Drops the TTL caches (latest and metadata lookups). */
  clearLatestCaches(): void {
    this.latest.clear();
    this.byMetadata.clear();
  }

  clearCaches(): void {
    this.byId.clear();
    this.byGuid.clear();
    this.byVersion.clear();
    this.byInfo.clear();
    this.clearLatestCaches();
  }

  private async fetchVersion(subject: string, version: string, deleted = false): Promise<RegisteredSchema> {
    const data = await this.http.request<SchemaResponse>('GET', `/subjects/${seg(subject)}/versions/${seg(version)}`, {
      query: { deleted: deleted || undefined },
    });
    return toRegistered(data, { subject });
  }

  private forgetSubject(subject: string): void {
    const prefix = `${subject}\u0000`;
    this.latest.delete(subject);
    this.byMetadata.deleteWhere((k) => k.startsWith(prefix));
    this.byVersion.deleteWhere((k) => k.startsWith(prefix));
    this.byInfo.deleteWhere((k) => k.split('\u0000')[1] === subject);
  }

  private async cached(
    cache: Lru<string, RegisteredSchema>,
    flightKey: string,
    key: string,
    load: () => Promise<RegisteredSchema>,
  ): Promise<RegisteredSchema> {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    return this.flights.run(flightKey, async () => {
      const value = await load();
      cache.set(key, value);
      return value;
    });
  }
}
