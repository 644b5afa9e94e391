/**
 * What the job runtime needs of the service configuration (service/config.ts loads it from env, once,
 * and its ServiceConfig extends this): brokers, registry, KMS base props and timeouts, the instance id.
 */
import type { KafkaConnection } from '../kafka/connection.js';

export interface RegistryConnection {
  readonly urls: readonly string[];
  readonly basicAuth?: string;
  readonly bearerToken?: string;
  /** PEM CA the registry's HTTPS certificate must chain to (a private CA). */
  readonly ca?: string;
  readonly timeoutMs: number;
}

export interface RuntimeConfig {
  readonly kafka: KafkaConnection;
  readonly registry: RegistryConnection;
  /** Base KMS props every KEK starts from (its kmsProps override them), e.g. the local-kms secret. */
  readonly kmsProps: Readonly<Record<string, string>>;
  /** Identifies this process in transactional ids and logs (the pod name on Kubernetes). */
  readonly instanceId: string;
  /** Per KMS request; a KMS that does not answer in time is a transient failure. */
  readonly kmsTimeoutMs: number;
}
