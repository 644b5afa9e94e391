/** rules/cel: CEL and CEL_FIELD rule programs, compiled once per plan and run synchronously. */
export * from './program.js';
export * from './run.js';
export * from './values.js';
