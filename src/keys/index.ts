/** keys/: KEK and DEK lifecycle, caches and single-flight. The only owner of DEK caches. */
export {
  DekManager,
  DEFAULT_LATEST_TTL_MS,
  DEFAULT_MAX_CACHED_DEKS,
  type DekCrypto,
  type DekManagerOptions,
  type WriteDek,
} from './dek-manager.js';
export type { KeysLogFields, KeysLogger, KeysMetric, KeysMetricLabels, KeysMetricsHook } from './hooks.js';
export { checkKek, checkRuleSetKeks, probeKmsKey, writeEncryptionParams, WRONG_KEY_RUNBOOK, type KekCheck, type KekCheckDeps } from './kek-check.js';
export { kmsKeyIdsFor, kmsPropsFor } from './kek-kms.js';
export { DekRewrapper, describeDek, type DekRewrapperOptions } from './rewrap.js';
// The KMS types callers hand to keys/ (a driver registry and base props): audit/ reaches KMS only here.
export type { KmsDriverRegistry, KmsProps } from '../kms/index.js';
export { dekCacheKey, dekRefOf, isDekExpired, MILLIS_PER_DAY } from './key-ids.js';
export { joinGroup, joinGroupScope, JoinGroups, JOIN_GROUP_SCOPE_PREFIX, NO_JOIN_GROUPS, type JoinGroup } from './join-groups.js';
