// Endpoints of the local stack for integration tests; fails loudly when the stack is not up.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start the stack with \`npm run stack:up\` (npm test does it)`);
  return value;
}

export const stack = {
  get kafkaBrokers(): string { return required('KAFKA_BOOTSTRAP_SERVERS'); },
  get redisUrl(): string { return required('REDIS_URL'); },
  get registryUrl(): string { return required('SCHEMA_REGISTRY_URL'); },
  get kmsEndpoint(): string { return required('AWS_ENDPOINT_URL_KMS'); },
  /** The local-kms secret the stack's dev registry and recrypt share. */
  get localSecret(): string { return process.env.LOCAL_SECRET ?? readFileSync(required('LOCAL_SECRET_FILE'), 'utf8').trim(); },
};

/** A name no other test (or earlier run) uses: tests never share topics, groups or subjects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
