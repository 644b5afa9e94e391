import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envSetting, prop, setting, truthy } from '../../../src/kms/settings.js';

describe('kms settings', () => {
  it('props first (non-empty), then env, then <VAR>_FILE (trimmed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recrypt-kms-'));
    writeFileSync(join(dir, 'tok'), '  from-file\n');
    expect(prop({ a: '', b: 'x' }, 'a', 'b')).toBe('x');
    expect(setting({ 'token.id': 'p' }, ['token.id'], { VAULT_TOKEN: 'e' }, ['VAULT_TOKEN'])).toBe('p');
    expect(setting({}, ['token.id'], { VAULT_TOKEN: 'e' }, ['VAULT_TOKEN'])).toBe('e');
    expect(envSetting({ VAULT_TOKEN: '', VAULT_TOKEN_FILE: join(dir, 'tok') }, 'VAULT_TOKEN')).toBe('from-file');
    expect(envSetting({}, 'VAULT_TOKEN')).toBeUndefined();
  });

  it('an unreadable _FILE is KMS_CONFIG naming the variable only', () => {
    expect(() => envSetting({ VAULT_TOKEN_FILE: '/nonexistent/recrypt/tok' }, 'VAULT_TOKEN')).toThrow(
      expect.objectContaining({ code: 'KMS_CONFIG', message: 'cannot read the file named by VAULT_TOKEN_FILE' }),
    );
  });

  it('truthy', () => {
    expect(['true', 'TRUE', '1', 'yes', 'on'].every(truthy)).toBe(true);
    expect(['false', '0', '', 'rest'].some((v) => truthy(v))).toBe(false);
    expect(truthy(undefined)).toBe(false);
  });
});
