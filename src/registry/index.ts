export * from './types.js';
export * from './registry-error.js';
export * from './http-client.js';
export * from './schema-registry-client.js';
export * from './dek-registry-client.js';
export { stableStringify } from './stable-json.js';
export { contextOfSubject } from './context.js';
