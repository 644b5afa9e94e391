// Loads the endpoints that `npm run stack:up` wrote to .stack/env into process.env (never overriding
// what the caller set), so integration tests talk to the real local stack.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const envFile = resolve(process.env.RECRYPT_STACK_DIR ?? resolve(import.meta.dirname, '../../.stack'), 'env');
if (existsSync(envFile)) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
  }
}
