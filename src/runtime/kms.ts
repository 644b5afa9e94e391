/**
 * The KMS drivers a job runtime uses: every driver of kms/ behind its retry and metrics decorators,
 * with the local-kms secret and the request timeout from the configuration.
 */
import { createKmsDriverRegistry } from '../kms/driver-registry.js';
import type { KmsDriverRegistry } from '../kms/kms-driver.js';
import type { RuntimeConfig } from './config.js';
import type { RuntimeMetrics } from './metrics.js';

export function kmsRegistryFor(config: RuntimeConfig, metrics?: Pick<RuntimeMetrics, 'kmsCount' | 'kmsTime'>): KmsDriverRegistry {
  const secret = config.kmsProps['secret'];
  const requestTimeoutMs = config.kmsTimeoutMs;
  return createKmsDriverRegistry({
    aws: { requestTimeoutMs }, azure: { requestTimeoutMs }, gcp: { requestTimeoutMs }, hcvault: { requestTimeoutMs },
    ...(secret ? { local: { secret } } : {}),
    ...(metrics ? { count: metrics.kmsCount, time: metrics.kmsTime } : {}),
  });
}
