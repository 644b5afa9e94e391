/**
 * The KMS drivers a job runtime uses: every driver of kms/ behind its retry and metrics decorators,
 * with the local-kms secret and the request timeout from the configuration. The secret is the one
 * service/config.ts read (LOCAL_SECRET, else the file at LOCAL_SECRET_FILE); local-kms is given no env
 * to look in, so no KMS driver of the runtime reads LOCAL_SECRET itself.
 */
import { createKmsDriverRegistry } from '../kms/driver-registry.js';
import type { KmsDriverRegistry } from '../kms/kms-driver.js';
import type { RuntimeConfig } from './config.js';
import type { RuntimeMetrics } from './metrics.js';

const NO_ENV: Readonly<Record<string, string | undefined>> = Object.freeze({});

export function kmsRegistryFor(config: RuntimeConfig, metrics?: Pick<RuntimeMetrics, 'kmsCount' | 'kmsTime'>): KmsDriverRegistry {
  const secret = config.kmsProps['secret'];
  const requestTimeoutMs = config.kmsTimeoutMs;
  return createKmsDriverRegistry({
    aws: { requestTimeoutMs }, azure: { requestTimeoutMs }, gcp: { requestTimeoutMs }, hcvault: { requestTimeoutMs },
    local: { ...(secret ? { secret } : {}), env: NO_ENV },
    ...(metrics ? { count: metrics.kmsCount, time: metrics.kmsTime } : {}),
  });
}
