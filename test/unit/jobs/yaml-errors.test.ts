/**
 * YAML syntax errors point at the line:column the user has to fix. The yaml library places a missing
 * closing quote or bracket at the end of the unterminated node, after its newline: reported as is, the
 * error was one line late (or past the end of the file). Other errors keep the library's position.
 */
import { describe, expect, it } from 'vitest';
import { formatProblems, validateJobFiles } from '../../../src/jobs/index.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

/** VALID_JOB with one exact fragment replaced (fails loudly when it is not there). */
function edit(from: string, to: string): string {
  if (!VALID_JOB.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return VALID_JOB.replace(from, to);
}

async function syntaxErrors(yaml: string): Promise<string[]> {
  const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
  const result = await validateJobFiles([file]);
  expect(result.ok).toBe(false);
  return formatProblems(result.problems.filter((p) => /YAML syntax error/.test(p.message))).map((l) => l.slice(file.length + 1));
}

// VALID_JOB: line 8 is `    topic: customers`, line 10 `    topic: customers.enc`, line 15 `        tags: [PII]`,
// line 17 `          encrypt.kek.name: pii-kek`, line 18 (the last) `        onFailure: ERROR,NONE`.
const CASES: ReadonlyArray<{ name: string; yaml: string; want: string[] }> = [
  { name: 'unclosed [ mid-file', yaml: edit('    topic: customers\n', '    topic: [customers\n'), want: ['8:12: YAML syntax error (BAD_INDENT): Flow sequence in block collection must be sufficiently indented and end with a ]'] },
  { name: 'unclosed [ on the last line', yaml: edit('onFailure: ERROR,NONE\n', 'onFailure: [ERROR,NONE\n'), want: ['18:20: YAML syntax error (BAD_INDENT): Flow sequence in block collection must be sufficiently indented and end with a ]'] },
  { name: 'unclosed { mid-file', yaml: edit('    topic: customers.enc\n', '    topic: {name: customers.enc\n'), want: ['10:12: YAML syntax error (BAD_INDENT): Flow map in block collection must be sufficiently indented and end with a }'] },
  { name: 'unclosed double quote on the last line', yaml: edit('onFailure: ERROR,NONE\n', 'onFailure: "ERROR,NONE\n'), want: ['18:20: YAML syntax error (MISSING_CHAR): Missing closing "quote'] },
  { name: 'unclosed single quote mid-file (swallows the rest of the file)', yaml: edit('encrypt.kek.name: pii-kek\n', "encrypt.kek.name: 'pii-kek\n"), want: ["17:29: YAML syntax error (MISSING_CHAR): Missing closing 'quote"] },
  { name: 'unclosed [ in a flow sequence spanning lines', yaml: edit('        tags: [PII]\n', '        tags: [PII,\n          GDPR\n'), want: ['15:15: YAML syntax error (BAD_INDENT): Flow sequence in block collection must be sufficiently indented and end with a ]'] },
  { name: 'a key without a colon (position kept)', yaml: edit('  target:\n', '  bogus\n  target:\n'), want: ['9:3: YAML syntax error (MULTILINE_IMPLICIT_KEY): Implicit keys need to be on a single line'] },
  { name: 'a mapping item out of column (position kept)', yaml: edit('  target:\n', '   extra: 1\n  target:\n'), want: ['9:1: YAML syntax error (BAD_INDENT): All mapping items must start at the same column'] },
  { name: 'a duplicate key (position kept)', yaml: edit('  target:\n', '  mode: decrypt\n  target:\n'), want: ['9:3: YAML syntax error (DUPLICATE_KEY): Map keys must be unique'] },
];

describe('YAML syntax errors: exact line:column', () => {
  it.each(CASES)('$name', async ({ yaml, want }) => {
    expect(await syntaxErrors(yaml)).toEqual(want);
  });

  it('several errors in one file, and in a second document, each at its own line', async () => {
    const first = edit('    topic: customers\n', '    topic: [customers\n');
    const second = edit('  name: customers-backfill', '  name: orders').replace('onFailure: ERROR,NONE\n', 'onFailure: "ERROR,NONE\n');
    const lines = VALID_JOB.split('\n').length; // the --- line is line `lines`
    expect(await syntaxErrors(`${first}---\n${second}`)).toEqual([
      '8:12: YAML syntax error (BAD_INDENT): Flow sequence in block collection must be sufficiently indented and end with a ]',
      `${lines + 18}:20: YAML syntax error (MISSING_CHAR): Missing closing "quote`,
    ]);
  });
});
