// The closed set of error codes (src/util/errors.ts) stays honest: every code is raised somewhere in
// src/ (no dead codes), and docs/operations.md documents each with its class and meaning.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../../src/util/errors.js';

const root = resolve(import.meta.dirname, '../../..');
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

/** Comment lines (`//`, `/*`, ` * ` of a block) are dropped; code lines are kept whole. */
function withoutCommentLines(text: string): string {
  return text.replace(/^\s*(\/\/|\/\*|\*).*$/gm, '');
}

/** src/**\/*.ts except errors.ts itself, without comment lines (a code named in a comment is not raised). */
function sourceTexts(): Map<string, string> {
  const texts = new Map<string, string>();
  const src = join(root, 'src');
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const name = relative(root, path);
    if (name === join('src', 'util', 'errors.ts')) continue;
    texts.set(name, withoutCommentLines(readFileSync(path, 'utf8')));
  }
  return texts;
}

/**
 * A code counts as raised where it appears as a string literal that is not only compared against:
 * `new RecryptError('CODE', ...)`, a status-to-code map, a ternary choosing a code, a set of codes.
 */
function raisedIn(code: ErrorCode, texts: Map<string, string>): string[] {
  const literal = new RegExp(`(===|!==|case)?\\s*(['"])${code}\\2(\\s*[!=]==)?`, 'g');
  const files: string[] = [];
  for (const [name, text] of texts) {
    for (const match of text.matchAll(literal)) {
      if (match[1] === undefined && match[3] === undefined) {
        files.push(name);
        break;
      }
    }
  }
  return files;
}

/** The rows of the "Error codes" table in docs/operations.md: code -> [class, meaning]. */
function documentedCodes(): Map<string, [string, string]> {
  const doc = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
  const start = doc.indexOf('\n## Error codes\n');
  expect(start, 'docs/operations.md has an "## Error codes" section').toBeGreaterThan(0);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, [string, string]>();
  for (const m of section.matchAll(/^\| `([A-Z_]+)` \| ([a-z]+) \| (.*) \|$/gm)) rows.set(m[1]!, [m[2]!, m[3]!]);
  return rows;
}

const row = (code: ErrorCode): string =>
  `| \`${code}\` | ${ERROR_CODES[code].transient ? 'transient' : 'permanent'} | ${ERROR_CODES[code].doc} |`;

describe('error codes', () => {
  it('every code is raised somewhere in src/', () => {
    const texts = sourceTexts();
    expect(texts.size).toBeGreaterThan(50);
    const neverRaised = codes.filter((code) => raisedIn(code, texts).length === 0);
    expect(neverRaised, 'codes no code in src/ raises: remove them from ERROR_CODES').toEqual([]);
  });

  it('every code is documented in docs/operations.md with its class and meaning, and nothing else is', () => {
    const rows = documentedCodes();
    const expected = codes.map(row);
    const actual = codes.map((code) => {
      const r = rows.get(code);
      return r === undefined ? `(missing) ${code}` : `| \`${code}\` | ${r[0]} | ${r[1]} |`;
    });
    // On failure the expected rows are the table to paste into docs/operations.md.
    expect(actual).toEqual(expected);
    expect([...rows.keys()].filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });

  it('the scan would notice a code that is only compared against or named in a comment', () => {
    const texts = new Map([
      ['a.ts', "if (err.code === 'KAFKA_FENCED') return;\nswitch (c) { case 'KAFKA_FENCED': }\nif ('KAFKA_FENCED' !== c) return;\n"],
      ['c.ts', withoutCommentLines("// new RecryptError('KAFKA_FENCED', ...)\n/**\n * 'KAFKA_FENCED' when fenced\n */\n")],
      ['b.ts', "throw new RecryptError('KAFKA_TOPIC', 'x');\n"],
    ]);
    expect(raisedIn('KAFKA_FENCED', texts)).toEqual([]);
    expect(raisedIn('KAFKA_TOPIC', texts)).toEqual(['b.ts']);
  });
});
