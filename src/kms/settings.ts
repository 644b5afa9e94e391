/**
 * Where drivers read their explicit settings: a KEK's kmsProps (the client's config overlaid with the
 * KEK's own props) first, then environment variables, then files named by `<VAR>_FILE` (mounted
 * Kubernetes secrets). Empty strings count as unset. Values are secrets: never log or echo them.
 */
import { readFileSync } from 'node:fs';
import { RecryptError } from '../util/errors.js';
import type { KmsProps } from './kms-driver.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** First non-empty prop among `names`. */
export function prop(props: KmsProps, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = props[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/**
 * First non-empty env var among `names`, else the trimmed content of the file named by `<name>_FILE`.
 * A `_FILE` that cannot be read is a KMS_CONFIG error naming the variable (not the content).
 */
export function envSetting(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
  }
  for (const name of names) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    let content: string;
    try {
      content = readFileSync(file, 'utf8').trim();
    } catch {
      throw new RecryptError('KMS_CONFIG', `cannot read the file named by ${name}_FILE`);
    }
    if (content !== '') return content;
  }
  return undefined;
}

/** A prop, else an env var (or its `_FILE`). */
export function setting(props: KmsProps, propNames: readonly string[], env: Env, envNames: readonly string[]): string | undefined {
  return prop(props, ...propNames) ?? envSetting(env, ...envNames);
}

/** Parses a boolean-ish prop/env value (`true`, `1`, `yes`). */
export function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(true|1|yes|on)$/i.test(value.trim());
}
