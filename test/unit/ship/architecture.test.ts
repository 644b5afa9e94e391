/**
 * docs/architecture.md keeps up with the code: every folder of src/ sits on a level of
 * .dependency-cruiser.cjs and has its row in the map, and every rule the config enforces is explained
 * there. A new module or rule fails here until the map says what it is.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './tools.js';

interface Rule {
  readonly name: string;
  readonly from: { readonly path?: string };
  readonly to: { readonly path?: string | readonly string[] };
}

const map = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: readonly Rule[] };
const modules = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

/** `^src/(a|b)/` -> [a, b] */
const namesIn = (path: string | readonly string[] | undefined): string[] =>
  [path ?? []].flat().flatMap((p) => /^\^src\/\(([a-z|]+)\)\/$/.exec(p)?.[1]?.split('|') ?? []);

describe('docs/architecture.md', () => {
  it('every module of src/ is on a level of the dependency rules', () => {
    const levels = config.forbidden.filter((r) => /^level-\d+-imports-up$/.test(r.name));
    const onLevels = new Set(levels.flatMap((r) => [...namesIn(r.from.path), ...namesIn(r.to.path)]));
    expect(modules.length).toBeGreaterThan(10);
    expect(modules.filter((m) => !onLevels.has(m)), 'add these to the levels of .dependency-cruiser.cjs').toEqual([]);
  });

  it('every module of src/ has its row in the map and its place in the level tree', () => {
    expect(modules.filter((m) => !map.includes(`\n| \`${m}/\` |`)), 'add a row to the Modules table').toEqual([]);
    const tree = map.slice(map.indexOf('\n## Levels'), map.indexOf('\n## Modules'));
    expect(modules.filter((m) => !new RegExp(`\\s${m}/\\s`).test(tree)), 'add these to the level tree').toEqual([]);
  });

  it('every dependency rule is explained', () => {
    const names = config.forbidden.map((r) => r.name).filter((n) => !/^level-\d+-imports-up$/.test(n));
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !map.includes(`\`${n}\``)), 'explain these rules in docs/architecture.md').toEqual([]);
  });
});

describe('src/ file size', () => {
  // Small modules with one job each: a file past 400 lines is a module waiting to be split.
  it('no file in src/ is over 400 lines', () => {
    const files = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(100);
    const over = files
      .map((f) => ({ file: f, lines: readFileSync(join(ROOT, 'src', f), 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > 400);
    expect(over).toEqual([]);
  });
});
