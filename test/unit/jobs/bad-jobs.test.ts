import { describe, expect, it } from 'vitest';
import { formatProblems, validateJobFiles, type Problem } from '../../../src/jobs/index.js';
import { VALID_JOB, writeJobFiles } from './helpers.js';

interface Expected {
  line: number;
  column: number;
  path: string;
  code?: Problem['code'];
  message: RegExp;
}

/** Replaces one exact line fragment of VALID_JOB (fails loudly when it is not there). */
function edit(from: string, to: string, base = VALID_JOB): string {
  if (!base.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return base.replace(from, to);
}

const CASES: ReadonlyArray<{ name: string; yaml: string; expect: Expected[] }> = [
  {
    name: 'missing spec.mode points at the spec mapping',
    yaml: edit('  mode: encrypt\n', ''),
    expect: [{ line: 5, column: 1, path: 'spec.mode', message: /missing required field mode \(expected one of encrypt, decrypt, reencrypt\)/ }],
  },
  {
    name: 'unknown field (typo) points at the key',
    yaml: edit('  target:\n', '  targt: {}\n  target:\n'),
    expect: [{ line: 9, column: 3, path: 'spec.targt', message: /unknown field \(did you mean target\?\)/ }],
  },
  {
    name: 'bad enum points at the value',
    yaml: edit('  mode: encrypt', '  mode: encrpyt'),
    expect: [{ line: 6, column: 9, path: 'spec.mode', message: /not an allowed value \(expected one of encrypt, decrypt, reencrypt\)/ }],
  },
  {
    name: 'a key without a value',
    yaml: edit('  mode: encrypt', '  mode:'),
    expect: [{ line: 6, column: 3, path: 'spec.mode', message: /missing value \(expected one of encrypt, decrypt, reencrypt\)/ }],
  },
  {
    name: 'bad metadata.name',
    yaml: edit('  name: customers-backfill', '  name: Customers_Backfill'),
    expect: [{ line: 4, column: 9, path: 'metadata.name', message: /invalid format \(expected lowercase letters/ }],
  },
  {
    name: 'two source selectors point at the second one',
    yaml: edit('    topic: customers\n', '    topic: customers\n    topicPattern: cust.*\n'),
    expect: [{ line: 9, column: 5, path: 'spec.source.topicPattern', message: /set only one of topic, topics, topicPattern/ }],
  },
  {
    name: 'no source selector points at the source mapping',
    yaml: edit('    topic: customers\n', '    startAt: earliest\n'),
    expect: [{ line: 7, column: 3, path: 'spec.source', message: /missing one of topic, topics, topicPattern/ }],
  },
  {
    name: 'several source topics with a target lacking {topic}',
    yaml: edit('    topic: customers\n', '    topics: [customers, orders]\n'),
    expect: [{ line: 10, column: 12, path: 'spec.target.topic', message: /must contain \{topic\}/ }],
  },
  {
    name: 'a placeholder other than {topic}',
    yaml: edit('    topic: customers.enc', "    topic: '{name}.enc'"),
    expect: [{ line: 10, column: 12, path: 'spec.target.topic', message: /invalid format \(expected a topic name made of/ }],
  },
  {
    name: 'encrypted DLQ without kek points at the dlq mapping',
    yaml: `${VALID_JOB}  dlq:\n    topic: customers.dlq\n    payload: encrypted\n`,
    expect: [{ line: 19, column: 3, path: 'spec.dlq.kek', message: /missing field kek, required when payload is encrypted/ }],
  },
  {
    name: 'write-side NONE on an ENCRYPT rule is refused',
    yaml: edit('onFailure: ERROR,NONE', 'onFailure: NONE,ERROR'),
    expect: [{ line: 18, column: 20, path: 'spec.rules.domainRules[0].onFailure', code: 'JOB_UNSAFE', message: /write-side onFailure NONE .*allowPlaintextOnEncryptFailure/ }],
  },
  {
    name: 'write-side NONE on a WRITE rule is refused',
    yaml: edit('        onFailure: ERROR,NONE', '        mode: WRITE\n        onFailure: NONE'),
    expect: [{ line: 19, column: 20, path: 'spec.rules.domainRules[0].onFailure', code: 'JOB_UNSAFE', message: /write-side onFailure NONE/ }],
  },
  {
    name: 'mode decrypt with an ENCRYPT rule',
    yaml: edit('  mode: encrypt', '  mode: decrypt'),
    expect: [{ line: 14, column: 15, path: 'spec.rules.domainRules[0].type', code: 'JOB_INVALID', message: /mode decrypt but spec.rules carries ENCRYPT rule encryptPII/ }],
  },
  {
    name: 'mode encrypt with rules but no ENCRYPT rule',
    yaml: edit('        type: ENCRYPT', '        type: CEL_FIELD'),
    expect: [
      { line: 11, column: 3, path: 'spec.rules', code: 'JOB_UNSAFE', message: /mode encrypt but spec.rules has no enabled ENCRYPT rule/ },
    ],
  },
  {
    name: 'ENCRYPT rule without a KEK name',
    yaml: edit('          encrypt.kek.name: pii-kek', '          encrypt.kms.type: aws-kms'),
    expect: [{ line: 16, column: 9, path: 'spec.rules.domainRules[0].params', message: /ENCRYPT rule encryptPII has no KEK/ }],
  },
  {
    name: 'DLQ payload source in mode encrypt',
    yaml: `${VALID_JOB}  dlq:\n    topic: customers.dlq\n    payload: source\n`,
    expect: [{ line: 21, column: 14, path: 'spec.dlq.payload', code: 'JOB_UNSAFE', message: /plaintext source records in the DLQ/ }],
  },
  {
    name: 'a number where a string is expected',
    yaml: edit('          encrypt.kek.name: pii-kek', '          encrypt.kek.name: pii-kek\n          encrypt.dek.expiry.days: 30'),
    expect: [{ line: 18, column: 36, path: 'spec.rules.domainRules[0].params["encrypt.dek.expiry.days"]', message: /wrong type \(expected a string; quote numbers/ }],
  },
  {
    name: 'processing out of bounds',
    yaml: `${VALID_JOB}  processing:\n    batchSize: 0\n`,
    expect: [{ line: 20, column: 16, path: 'spec.processing.batchSize', message: /out of range \(expected an integer from 1 to 100000\)/ }],
  },
  {
    name: 'YAML syntax error with line and column (the unclosed bracket, not the line after it)',
    yaml: edit('    topic: customers\n', '    topic: [customers\n'),
    expect: [{ line: 8, column: 12, path: '', message: /YAML syntax error/ }],
  },
];

describe('bad jobs: every problem has file:line:column and the field path', () => {
  it.each(CASES)('$name', async ({ yaml, expect: wanted }) => {
    const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
    const result = await validateJobFiles([file]);
    const errors = result.problems.filter((p) => p.severity === 'error');
    expect(result.ok).toBe(false);
    expect(result.jobs).toEqual([]);
    const lines = formatProblems(errors);
    expect(errors, lines.join('\n')).toHaveLength(wanted.length);
    wanted.forEach((w, i) => {
      const p = errors[i] as Problem;
      expect({ file: p.file, line: p.line, column: p.column, path: p.path }, lines.join('\n')).toEqual({ file, line: w.line, column: w.column, path: w.path });
      if (w.code !== undefined) expect(p.code).toBe(w.code);
      const prefix = w.path === '' ? `${file}:${w.line}:${w.column}: ` : `${file}:${w.line}:${w.column}: ${w.path}: `;
      expect(lines[i]?.startsWith(prefix), lines[i]).toBe(true);
      expect(lines[i]).toMatch(w.message);
    });
  });

  it('write-side NONE is allowed with the opt-in (a warning remains)', async () => {
    const yaml = edit('onFailure: ERROR,NONE', 'onFailure: NONE,ERROR').replace('  mode: encrypt\n', '  mode: encrypt\n  allowPlaintextOnEncryptFailure: true\n');
    const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
    const result = await validateJobFiles([file]);
    expect(result.ok).toBe(true);
    expect(result.jobs).toHaveLength(1);
    expect(formatProblems(result.problems)).toEqual([
      `${file}:7:35: warning: spec.allowPlaintextOnEncryptFailure: fields may be written UNENCRYPTED when encryption fails (write-side NONE allowed)`,
    ]);
  });

  it('duplicate names across two files point at the second', async () => {
    const [a, b] = writeJobFiles({ 'a.yaml': VALID_JOB, 'b.yaml': `# same name\n${VALID_JOB}` }) as [string, string];
    const result = await validateJobFiles([a, b]);
    expect(formatProblems(result.problems)).toEqual([
      `${b}:5:9: metadata.name: duplicate job name customers-backfill, first defined at ${a}:4:9 (expected a name unique across all job files (it names the consumer group and transactional ids))`,
    ]);
    expect(result.jobs).toEqual([]);
  });

  it('multi-document file: an error in the 2nd document has its own line numbers', async () => {
    const second = edit('  name: customers-backfill', '  name: orders').replace('  mode: encrypt', '  mode: bogus');
    const [file] = writeJobFiles({ 'multi.yaml': `${VALID_JOB}---\n${second}` }) as [string];
    const result = await validateJobFiles([file]);
    const lines = VALID_JOB.split('\n').length; // the --- line is line `lines`
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ file, document: 1, line: lines + 6, column: 9, path: 'spec.mode', job: 'orders' });
  });

  it('a syntax error in one document leaves the others checked', async () => {
    const [file] = writeJobFiles({ 'multi.yaml': `${VALID_JOB}---\nkind: [\n---\n${edit('  mode: encrypt', '  mode: x', VALID_JOB.replace('customers-backfill', 'third'))}` }) as [string];
    const result = await validateJobFiles([file]);
    const paths = result.problems.map((p) => `${p.document}:${p.path}`);
    expect(paths).toContain('2:spec.mode');
    expect(result.problems.some((p) => p.document === 1 && /YAML syntax error/.test(p.message))).toBe(true);
  });

  it('a missing file is a problem, not an exception', async () => {
    const result = await validateJobFiles(['/definitely/not/here.yaml']);
    expect(formatProblems(result.problems)).toEqual(['/definitely/not/here.yaml: cannot read the file (ENOENT)']);
    expect(result.ok).toBe(false);
  });

  it('an empty file holds no job', async () => {
    const [file] = writeJobFiles({ 'empty.yaml': '# nothing\n---\n' }) as [string];
    const result = await validateJobFiles([file]);
    expect(formatProblems(result.problems)).toEqual([`${file}:1:1: the file holds no job`]);
  });

  it('a document that is not a mapping', async () => {
    const [file] = writeJobFiles({ 'list.yaml': '- a\n- b\n' }) as [string];
    const result = await validateJobFiles([file]);
    expect(formatProblems(result.problems)).toEqual([`${file}:1:1: wrong type (expected a mapping)`]);
  });
});
