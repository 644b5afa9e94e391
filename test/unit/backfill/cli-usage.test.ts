// `recrypt backfill ...` and `recrypt worker` usage, in process (issue 21, defect 7 for the backfill
// commands): each subcommand answers --help with its options and an example (exit 0, nothing read or
// connected), unknown options and a typo'd subcommand are usage errors (exit 2) with "did you mean".
import { describe, expect, it } from 'vitest';
import { captureCli, cli } from '../cli/in-process.js';
import { redactRedisUrl, redisRefused } from '../../../src/backfill/redis.js';

captureCli();

describe('recrypt backfill --help', () => {
  const commands: Array<[string[], RegExp]> = [
    [['backfill', 'submit'], /--job NAME/],
    [['backfill', 'status'], /--interval SECONDS/],
    [['backfill', 'verify'], /--json/],
    [['backfill', 'pause'], /recrypt backfill pause NAME/],
    [['backfill', 'resume'], /recrypt backfill resume NAME/],
    [['backfill', 'cancel'], /recrypt backfill cancel NAME/],
    [['worker'], /--concurrency N/],
  ];
  for (const [command, options] of commands) {
    it(`${command.join(' ')} --help prints its usage with options and an example, exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        // A NAME or FILE before the flag must not be read or looked up.
        const r = await cli(...command, 'no-such-file.yaml', flag);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(options);
        expect(r.stdout).toMatch(/example:\n\s+recrypt /);
      }
    });
  }

  it('backfill --help and backfill help list the subcommands; backfill help status is status --help', async () => {
    for (const argv of [['backfill', '--help'], ['backfill', 'help']]) {
      const r = await cli(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/recrypt backfill submit FILE/);
      expect(r.stdout).toMatch(/RECRYPT_REDIS_TIMEOUT_MS/);
    }
    const status = await cli('backfill', 'help', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/usage: recrypt backfill status NAME/);
  });
});

describe('recrypt backfill usage errors', () => {
  it('a typo\'d subcommand suggests the nearest one (exit 2)', async () => {
    const r = await cli('backfill', 'stauts', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown backfill command stauts \(did you mean status\?\)/);
    expect(r.stderr).toMatch(/recrypt backfill submit FILE/);
    const submit = await cli('backfill', 'sumbit', 'x');
    expect(submit.stderr).toMatch(/did you mean submit\?/);
  });

  it('no subcommand is a usage error', async () => {
    const r = await cli('backfill');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/backfill needs a command/);
  });

  it('an unknown option gets the nearest one and the subcommand\'s own usage (exit 2, no TypeError)', async () => {
    const r = await cli('backfill', 'status', 'x', '--wiat');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/backfill status: unknown option --wiat \(did you mean --wait\?\)/);
    expect(r.stderr).toMatch(/usage: recrypt backfill status NAME/);
    expect(r.stderr).not.toMatch(/TypeError/);
    const w = await cli('worker', 'jobs/', '--concurency', '2');
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/did you mean --concurrency\?/);
    expect(w.stderr).toMatch(/usage: recrypt worker FILE/);
    const pause = await cli('backfill', 'pause', 'x', '--force');
    expect(pause.code).toBe(2);
    expect(pause.stderr).toMatch(/backfill pause: unknown option --force; it takes no options/);
  });

  it('a missing NAME prints the subcommand\'s usage', async () => {
    const r = await cli('backfill', 'verify');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/backfill verify: needs exactly one NAME/);
    expect(r.stderr).toMatch(/usage: recrypt backfill verify NAME/);
  });
});

describe('redactRedisUrl', () => {
  it('keeps scheme, host, port and database; drops user, password and query', () => {
    expect(redactRedisUrl('redis://:s3cret@redis.internal:6380')).toBe('redis://redis.internal:6380');
    expect(redactRedisUrl('rediss://user:s3cret@redis.internal:6380/2')).toBe('rediss://redis.internal:6380/2');
    expect(redactRedisUrl('redis://redis.internal?password=s3cret')).toBe('redis://redis.internal');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url user:s3cret@host')).not.toContain('s3cret');
  });
});

describe('redactRedisUrl, URLs that do not parse', () => {
  it('never shows what precedes the last @', () => {
    expect(redactRedisUrl('redis://:pa/ss@host:6379')).toBe('redis://host:6379');
    expect(redactRedisUrl('redis://:p?w@host')).toBe('redis://host');
    // Passwords that start with digits and hold '#', '/' or '?' parse as a port plus path/query/fragment.
    expect(redactRedisUrl('redis://user:12#34@host')).toBe('redis://host');
    expect(redactRedisUrl('redis://user:9999/abc?x@host:6380/1')).toBe('redis://host:6380/1');
    expect(redactRedisUrl('rediss://user:1/2#3?4@host')).toBe('rediss://host');
  });
});

describe('redisRefused', () => {
  it('refused credentials are REDIS_AUTH (permanent) by their reply code, never the password', () => {
    const reply = Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), { name: 'ReplyError' });
    const err = redisRefused('redis://:s3cret@redis.internal:6380', reply);
    expect(err?.code).toBe('REDIS_AUTH');
    expect(err?.transient).toBe(false);
    expect(err?.message).toBe('Redis at redis://redis.internal:6380 refused the credentials (WRONGPASS); check REDIS_USERNAME, REDIS_PASSWORD or the user info of REDIS_URL');
    const noauth = Object.assign(new Error('NOAUTH Authentication required.'), { name: 'ReplyError' });
    expect(redisRefused('rediss://redis.internal:6380', noauth)?.code).toBe('REDIS_AUTH');
  });

  it('an untrusted TLS certificate is REDIS_AUTH too: no retry makes it trusted', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const err = redisRefused('rediss://:s3cret@redis.internal:6380', tls);
    expect(err?.code).toBe('REDIS_AUTH');
    expect(err?.message).toBe('Redis at rediss://redis.internal:6380: TLS certificate not trusted (SELF_SIGNED_CERT_IN_CHAIN); check REDIS_TLS_CA_LOCATION');
  });

  it('a server that does not speak Redis is REDIS_UNAVAILABLE; other errors are not its business', () => {
    expect(redisRefused('redis://h:1', new Error('Unknown RESP type 72 "H". Please report this.'))?.code).toBe('REDIS_UNAVAILABLE');
    expect(redisRefused('redis://h:1', new Error('something else'))).toBeUndefined();
  });
});
