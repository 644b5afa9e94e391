// The engine's kernel (src/engine/kernel/) is synchronous so that a worker thread can run it alone
// (issue #22): its files hold no `async`, no `await`, no promise, and import neither keys/ nor dlq/.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const KERNEL_DIR = join(import.meta.dirname, '../../../src/engine/kernel');

/** The source without comments, so that a comment may say "no await". */
function code(file: string): string {
  return readFileSync(join(KERNEL_DIR, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

describe('engine kernel', () => {
  const files = readdirSync(KERNEL_DIR).filter((f) => f.endsWith('.ts'));

  it('has its files (transform, outcome, visitors)', () => {
    expect(files).toEqual(expect.arrayContaining(['transform.ts', 'outcome.ts', 'visitors.ts']));
  });

  it.each(files)('%s has no async, no await, no promise', (file) => {
    const text = code(file);
    expect(text).not.toMatch(/\basync\b/);
    expect(text).not.toMatch(/\bawait\b/);
    expect(text).not.toMatch(/\bPromise\b|\.then\(/);
  });

  it.each(files)('%s imports neither keys/ nor dlq/ (a keyring and outcomes are its whole world)', (file) => {
    const imports = [...code(file).matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => /\/(keys|dlq|kafka)\//.test(i))).toEqual([]);
  });
});
