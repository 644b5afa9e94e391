// `recrypt` usage handling, in process: every command answers --help with its options and an example
// (exit 0), unknown options and commands are usage errors (exit 2) with a "did you mean" hint and the
// command's own usage, and --version prints the package version.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { captureCli, cli } from './in-process.js';

const pkgVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

captureCli();

describe('recrypt --help', () => {
  const commands: Array<[string[], RegExp]> = [
    [['validate'], /recrypt validate FILE/],
    [['plan'], /--job NAME/],
    [['run'], /--job NAME/],
    [['serve'], /recrypt serve DIR/],
    [['dev-registry'], /--port N/],
    [['audit'], /--topic T/],
    [['inspect'], /--partition P/],
    [['rewrap-deks'], /--kms-key-id NEW/],
  ];
  for (const [command, options] of commands) {
    it(`${command.join(' ')} --help prints its usage with options and an example, exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const r = await cli(...command, flag);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(options);
        expect(r.stdout).toMatch(/example:\n\s+(\S+=\S+ )*recrypt /);
      }
    });
  }

  it('validate --help does not read a file named --help', async () => {
    const r = await cli('validate', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/ENOENT|cannot be read|not found/i);
  });

  it('help COMMAND is COMMAND --help', async () => {
    const r = await cli('help', 'run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: recrypt run FILE/);
  });

  it('no command prints the global usage', async () => {
    const r = await cli();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/commands:/);
  });
});

describe('recrypt usage errors', () => {
  it('an unknown option is a usage error (exit 2) with the nearest option and the command\'s own usage', async () => {
    const r = await cli('run', 'job.yaml', '--jbo', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --jbo \(did you mean --job\?\)/);
    expect(r.stderr).toMatch(/usage: recrypt run FILE/);
    expect(r.stderr).not.toMatch(/commands:/);
    expect(r.stderr).not.toMatch(/TypeError/);
  });

  it('an unknown option of plan, audit or rewrap-deks is a usage error with a hint', async () => {
    const plan = await cli('plan', 'job.yaml', '--jsno');
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(/did you mean --json\?/);
    const audit = await cli('audit', '--topci', 't');
    expect(audit.code).toBe(2);
    expect(audit.stderr).toMatch(/did you mean --topic\?/);
    expect(audit.stderr).not.toMatch(/rewrap-deks --kek/);
    const rewrap = await cli('rewrap-deks', '--kek', 'k', '--dryrun');
    expect(rewrap.code).toBe(2);
    expect(rewrap.stderr).toMatch(/did you mean --dry-run\?/);
  });

  it('a missing argument prints the command\'s usage', async () => {
    const r = await cli('run');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run: needs exactly one FILE/);
    expect(r.stderr).toMatch(/usage: recrypt run FILE/);
  });

  it('a typo\'d command suggests the nearest one', async () => {
    const r = await cli('rnu', 'job.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command rnu \(did you mean run\?\)/);
    const v = await cli('valdiate');
    expect(v.stderr).toMatch(/did you mean validate\?/);
  });

  it('inspect without --partition says the option is required', async () => {
    const r = await cli('inspect', '--topic', 't');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--partition is required/);
    expect(r.stderr).not.toMatch(/whole number/);
    expect(r.stderr).toMatch(/example:\n\s+recrypt inspect/);
  });

  it('dev-registry refuses a port out of range', async () => {
    const r = await cli('dev-registry', '--port', '70000');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be 0\.\.65535/);
  });
});

describe('recrypt --version', () => {
  it('prints the package.json version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli(flag);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkgVersion);
    }
  });
});
