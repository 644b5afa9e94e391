/** The model/ public API: shared plain types. Imports nothing of src/ (see docs/architecture.md). */
export type {
  SchemaType,
  RuleKind,
  RuleMode,
  Rule,
  RuleSet,
  SchemaMetadata,
  SchemaReference,
  SchemaInfo,
} from './schema.js';
export type { DekAlgorithm, DekRef } from './dek.js';
export { dekRefOf } from './dek.js';
