/**
 * The KMS drivers this process uses: every driver of kms/ behind its retry and metrics decorators,
 * with the local-kms secret from the service config.
 */
import { createKmsDriverRegistry } from '../kms/driver-registry.js';
import type { KmsDriverRegistry } from '../kms/kms-driver.js';
import type { ServiceConfig } from './config.js';
import type { JobMetrics } from './metrics.js';

export function kmsRegistryFor(config: ServiceConfig, metrics?: JobMetrics): KmsDriverRegistry {
  const secret = config.kmsProps['secret'];
  const requestTimeoutMs = config.kmsTimeoutMs;
  return createKmsDriverRegistry({
    aws: { requestTimeoutMs }, azure: { requestTimeoutMs }, gcp: { requestTimeoutMs }, hcvault: { requestTimeoutMs },
    ...(secret ? { local: { secret } } : {}),
    ...(metrics ? { count: metrics.kmsCount, time: metrics.kmsTime } : {}),
  });
}
