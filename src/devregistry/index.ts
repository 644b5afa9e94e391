export { startDevRegistry, localKmsLookup, type DevRegistry, type DevRegistryOptions } from './server.js';
export type { KmsLookup, DekMaterialFactory } from './dek-api.js';
