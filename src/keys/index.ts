/** keys/: KEK and DEK lifecycle, caches and single-flight. The only owner of DEK caches. */
export {
  DekManager,
  DEFAULT_LATEST_TTL_MS,
  DEFAULT_MAX_CACHED_DEKS,
  type DekCrypto,
  type DekManagerOptions,
  type KeysLogFields,
  type KeysLogger,
  type KeysMetric,
  type KeysMetricLabels,
  type KeysMetricsHook,
  type WriteDek,
} from './dek-manager.js';
export { checkKek, checkRuleSetKeks, probeKmsKey, writeEncryptionParams, WRONG_KEY_RUNBOOK, type KekCheck, type KekCheckDeps } from './kek-check.js';
export { kmsKeyIdsFor, kmsPropsFor } from './kek-kms.js';
export { dekCacheKey, dekRefOf, isDekExpired, MILLIS_PER_DAY } from './key-ids.js';
