export { RecordTransformer } from './record-transformer.js';
export { PartsTransformer } from './part-driver.js';
export type { OutputPartitioning, PartsOptions, RecordEngine } from './part-driver.js';
export { keyHashPartition, murmur2 } from './murmur2.js';
export type { EngineStats, JobMode, RuleFailureEvent, TransformTarget, TransformerOptions } from './record-transformer.js';
export { SchemaStore, schemaTypeOf } from './schema-store.js';
export { migrationResolver, type MigrationResolver } from './migration-plans.js';
export type { LoadedSchema } from './schema-store.js';
export { compileSide, encryptingSteps, idleSteps, isCelStep, isKeyedStep } from './plan.js';
export { celFieldSelector } from './cel-step.js';
export type { FieldStep, PayloadStep, Side, Step } from './plan.js';
export { recordName, sourceSubject } from './subjects.js';
export type { SubjectNameStrategy } from './subjects.js';
// Field values decrypted outside the kernel (audit/'s inspect): the same operations, no crypto/ import there.
export { DEK_MISSING, decryptEncoded, decryptField } from './field-crypto.js';
export type { CipherFor } from './field-crypto.js';
// Worker threads for the kernel's fast path (processing.workers): runtime/ makes one pool per job.
export { EnginePool, DEFAULT_MIN_SLICE_RECORDS, type EnginePoolOptions } from './threads/pool.js';
