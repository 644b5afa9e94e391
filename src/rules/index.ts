/** rules/: Confluent rule-set semantics. Pure: no I/O. */
export * from './actions.js';
export * from './tags.js';
export * from './rule-selection.js';
export * from './encryption-params.js';
export * from './cel/index.js';
export * from './migrations.js';
