/**
 * docs/operations.md keeps up with the code: every environment variable recrypt reads and every metric
 * it exports is in the configuration and metrics references. A new variable or metric fails here until
 * it is documented.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './tools.js';

const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
const section = (title: string) => {
  const start = docs.indexOf(`\n## ${title}`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end < 0 ? undefined : end);
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !f.includes('/devregistry/'));
}
const code = sources(join(ROOT, 'src')).map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));

/** Variables read from the environment: env.X, env['X'], and the names passed to the env helpers. */
function envVariables(): Map<string, string> {
  const found = new Map<string, string>();
  const NAME = /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+_?)'/g;
  for (const { file, text } of code) {
    for (const m of text.matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)/g)) found.set(m[1]!, file);
    for (const line of text.split('\n')) {
      if (!/(?:FromEnv|envSetting|setting)\(|_ENV\s*=|startsWith\('[A-Z_]+'\)/.test(line) || /^\s*(\*|\/\/)/.test(line)) continue;
      for (const m of line.matchAll(NAME)) found.set(m[1]!, file);
    }
  }
  return found;
}

describe('docs/operations.md', () => {
  it('the configuration reference lists every environment variable the code reads', () => {
    const reference = section('Configuration reference');
    const variables = envVariables();
    expect([...variables.keys()]).toEqual(expect.arrayContaining(['KAFKA_BOOTSTRAP_SERVERS', 'RECRYPT_SHUTDOWN_TIMEOUT_MS', 'VAULT_TOKEN', 'AWS_ROLE_ARN']));
    const missing = [...variables].filter(([name]) => !reference.includes(`\`${name}`)).map(([name, file]) => `${name} (${file.slice(ROOT.length + 1)})`);
    expect(missing, 'add these to the configuration reference of docs/operations.md').toEqual([]);
  });

  it('the metrics reference lists every metric the code exports', () => {
    const reference = section('Metrics reference');
    const metrics = new Set(code.flatMap(({ text }) => [...text.matchAll(/name: '(recrypt_[a-z_]+)'/g)].map((m) => m[1]!)));
    expect(metrics.size).toBeGreaterThan(5);
    const missing = [...metrics].filter((m) => !reference.includes(`\`${m}\``));
    expect(missing, 'add these to the metrics reference of docs/operations.md').toEqual([]);
  });

  it('documents the four runbooks', () => {
    for (const title of ['KMS outage', 'A halted partition', 'Replaying the DLQ', 'Rotating a KEK']) expect(docs).toContain(`\n### ${title}\n`);
  });
});
