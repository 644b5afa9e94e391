export type { RegistryConnection, RuntimeConfig } from './config.js';
export type { RuntimeMetrics } from './metrics.js';
export { kmsRegistryFor } from './kms.js';
export { readOnlyDekRegistry, readOnlyRegistryClients, readOnlySchemaRegistry, registryClients, type RegistryClients } from './registry.js';
export { createJobRuntime, JobRuntime, type RuntimeOptions } from './job-runtime.js';
export { latestOrNull, withRuleDefaults } from './target-rules.js';
export { prepareJob, type PreparedJob, type TopicRoute } from './prepare.js';
export { startJob, type JobRun, type RunOptions } from './start.js';
export { sizeLimitProblems, topicLimits, type TopicLimits, type TopicPair } from './topic-limits.js';
