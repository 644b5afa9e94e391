/**
 * Schema Registry and DEK Registry data shapes, as Confluent's REST API spells them
 * (shared/CSFLE-NOTES.md sections 4 and 6). The plain schema and rule types live in model/ and are
 * re-exported here, so importers above registry/ keep one import line.
 */

import type { DekAlgorithm, SchemaInfo } from '../model/index.js';

export type {
  SchemaType,
  RuleKind,
  RuleMode,
  Rule,
  RuleSet,
  SchemaMetadata,
  SchemaReference,
  SchemaInfo,
  DekAlgorithm,
} from '../model/index.js';

/** A schema as the registry returns it for a subject version. */
export interface RegisteredSchema extends SchemaInfo {
  id: number;
  guid?: string;
  subject?: string;
  version?: number;
}

export interface Kek {
  name: string;
  kmsType: string;
  kmsKeyId: string;
  kmsProps?: Record<string, string>;
  doc?: string;
  shared: boolean;
  ts?: number;
  deleted?: boolean;
}

export interface CreateKekRequest {
  name: string;
  kmsType: string;
  kmsKeyId: string;
  kmsProps?: Record<string, string>;
  doc?: string;
  shared?: boolean;
}

export interface Dek {
  kekName: string;
  subject: string;
  version: number;
  algorithm: DekAlgorithm;
  /** base64 of the KMS ciphertext of the Tink key proto. */
  encryptedKeyMaterial?: string;
  /** base64 of the Tink key proto; present only for shared KEKs. Never log. */
  keyMaterial?: string;
  ts: number;
  deleted?: boolean;
}

export interface CreateDekRequest {
  subject: string;
  version?: number;
  algorithm?: DekAlgorithm;
  encryptedKeyMaterial?: string;
}

/** What the engine and keys/ need from a Schema Registry; implemented by registry/schema-registry-client. */
export interface SchemaRegistryApi {
  getById(id: number, subject?: string): Promise<RegisteredSchema>;
  getByGuid(guid: string): Promise<RegisteredSchema>;
  getLatest(subject: string): Promise<RegisteredSchema>;
  getVersion(subject: string, version: number): Promise<RegisteredSchema>;
  getLatestWithMetadata(subject: string, metadata: Record<string, string>): Promise<RegisteredSchema>;
  register(subject: string, schema: SchemaInfo, normalize?: boolean): Promise<RegisteredSchema>;
  lookup(subject: string, schema: SchemaInfo): Promise<RegisteredSchema>;
}

/** What keys/ needs from a DEK Registry; implemented by registry/dek-registry-client. */
export interface DekRegistryApi {
  /** null when the KEK does not exist. `context`: the Schema Registry context (contextOfSubject), default if absent. */
  getKek(name: string, deleted?: boolean, context?: string): Promise<Kek | null>;
  /** Throws RecryptError REGISTRY_CONFLICT on 409. `context` as for getKek. */
  createKek(request: CreateKekRequest, context?: string): Promise<Kek>;
  /** version -1 means latest; null when not found. */
  getDek(kekName: string, subject: string, version: number, algorithm: DekAlgorithm, deleted?: boolean): Promise<Dek | null>;
  /** Throws RecryptError REGISTRY_CONFLICT on 409. */
  createDek(kekName: string, request: CreateDekRequest): Promise<Dek>;
}
