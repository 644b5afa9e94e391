/** kms/: one small interface (kms-driver.ts), a driver per KMS type, decorators, and the registry. */
export type { KmsDriver, KmsDriverRegistry, KmsProps } from './kms-driver.js';
export { createKmsDriverRegistry, type KmsRegistryConfig, type RecryptKmsDriverRegistry } from './driver-registry.js';
export { withRetry, backoffMs, DEFAULT_RETRY, type RetryOptions } from './retry.js';
export { withMetrics, type KmsCallCounter, type KmsCallLabels, type KmsCallTimer } from './metrics.js';
export { AwsKmsDriver, AWS_KMS_TYPE, AWS_KMS_PROPS, type AwsKmsOptions } from './aws-kms.js';
export { AzureKmsDriver, AZURE_KMS_TYPE, AZURE_KMS_PROPS, type AzureKmsOptions } from './azure-kms.js';
export { GcpKmsDriver, GCP_KMS_TYPE, GCP_KMS_PROPS, type GcpKmsOptions } from './gcp-kms.js';
export { HcVaultDriver, HCVAULT_TYPE, HCVAULT_PROPS, type HcVaultOptions } from './hcvault.js';
export { LocalKmsDriver, LOCAL_KMS_TYPE, type LocalKmsOptions } from './local-kms.js';
export type { KmsOperation } from './kms-error.js';
