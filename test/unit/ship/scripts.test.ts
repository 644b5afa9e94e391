/**
 * Which entry point installs what: the chart checks' tools (scripts/tools.sh builds helm from source,
 * minutes on a new machine) are installed by `npm test` (and so `.ci/run`), before vitest runs the
 * chart tests, and never by `npm run demo` or the stack scripts, which do not use them. Follows the
 * `bash "$ROOT/scripts/..."` calls of each script transitively.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './tools.js';

/** The scripts a script runs, in order (`bash "$ROOT/scripts/x.sh"` or `bash scripts/x.sh`), comments stripped. */
function calls(script: string): string[] {
  const text = readFileSync(join(ROOT, script), 'utf8').replace(/(^|\s)#.*$/gm, '$1');
  return [...text.matchAll(/\bbash\s+"?(?:\$ROOT\/)?(scripts\/[\w/.-]+\.sh)"?/g)].map((m) => m[1]!);
}

function reaches(script: string, seen = new Set<string>()): Set<string> {
  for (const next of calls(script)) {
    if (seen.has(next)) continue;
    seen.add(next);
    reaches(next, seen);
  }
  return seen;
}

describe('scripts: the chart tools are installed where the chart tests need them only', () => {
  it('demo.sh does run bootstrap (the walk follows calls)', () => expect([...reaches('scripts/demo.sh')]).toContain('scripts/bootstrap.sh'));

  it.each(['scripts/demo.sh', 'scripts/bootstrap.sh', 'scripts/stack/up.sh', 'scripts/bench.sh'])('%s does not install the chart tools', (script) => {
    expect([...reaches(script)]).not.toContain('scripts/tools.sh');
  });

  it('npm test runs tools.sh (after bootstrap, before vitest), and .ci/run runs npm test', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test']).toBe('bash scripts/test.sh');
    expect(pkg.scripts['demo']).toBe('bash scripts/demo.sh');
    expect(calls('scripts/test.sh').slice(0, 2)).toEqual(['scripts/bootstrap.sh', 'scripts/tools.sh']);
    const test = readFileSync(join(ROOT, 'scripts/test.sh'), 'utf8');
    expect(test.indexOf('scripts/tools.sh')).toBeLessThan(test.indexOf('npx vitest run'));
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test\b/m);
  });
});
