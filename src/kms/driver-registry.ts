/**
 * The one place where KMS drivers are built and decorated: every driver is wrapped as
 * retry(metrics(driver)), so metrics count each real KMS call (retries included) and retries apply to
 * transient failures only. keys/ gets a KmsDriverRegistry and never sees an undecorated driver.
 * SDKs load lazily on a driver's first call, so unused KMS types cost nothing at start-up.
 */
import { RecryptError } from '../util/errors.js';
import { AwsKmsDriver, type AwsKmsOptions } from './aws-kms.js';
import { AzureKmsDriver, type AzureKmsOptions } from './azure-kms.js';
import { GcpKmsDriver, type GcpKmsOptions } from './gcp-kms.js';
import { HcVaultDriver, type HcVaultOptions } from './hcvault.js';
import type { KmsDriver, KmsDriverRegistry } from './kms-driver.js';
import { LocalKmsDriver, type LocalKmsOptions } from './local-kms.js';
import { withMetrics, type KmsCallCounter, type KmsCallTimer } from './metrics.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';

export interface KmsRegistryConfig {
  /** Retry policy for transient failures; default DEFAULT_RETRY (4 attempts, 100 ms base, 2 s cap). */
  readonly retry?: RetryOptions;
  /** Called once per KMS call with {kmsType, operation, outcome}. */
  readonly count?: KmsCallCounter;
  /** Called once per KMS call with its latency in seconds. */
  readonly time?: KmsCallTimer;
  readonly aws?: AwsKmsOptions;
  readonly azure?: AzureKmsOptions;
  readonly gcp?: GcpKmsOptions;
  readonly hcvault?: HcVaultOptions;
  readonly local?: LocalKmsOptions;
  /** Replaces or adds drivers by kmsType (tests, custom KMSs); decorated like the built-in ones. */
  readonly drivers?: readonly KmsDriver[];
}

export interface RecryptKmsDriverRegistry extends KmsDriverRegistry {
  /** The kms types served, sorted. */
  kmsTypes(): string[];
}

export function createKmsDriverRegistry(config: KmsRegistryConfig = {}): RecryptKmsDriverRegistry {
  const raw: KmsDriver[] = [
    new AwsKmsDriver(config.aws),
    new AzureKmsDriver(config.azure),
    new GcpKmsDriver(config.gcp),
    new HcVaultDriver(config.hcvault),
    new LocalKmsDriver(config.local),
    ...(config.drivers ?? []),
  ];
  const count: KmsCallCounter = config.count ?? (() => undefined);
  const retry = config.retry ?? DEFAULT_RETRY;
  const drivers = new Map<string, KmsDriver>();
  for (const driver of raw) {
    drivers.set(driver.kmsType, withRetry(withMetrics(driver, count, config.time), retry));
  }
  return Object.freeze({
    get(kmsType: string): KmsDriver {
      const driver = drivers.get(kmsType);
      if (driver === undefined) {
        throw new RecryptError('KMS_UNSUPPORTED_TYPE', `no KMS driver for kms type "${kmsType}"; known: ${[...drivers.keys()].sort().join(', ')}`);
      }
      return driver;
    },
    kmsTypes(): string[] {
      return [...drivers.keys()].sort();
    },
  });
}
