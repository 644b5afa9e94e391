// hcvault driver against an HTTP fake of Vault's transit and AppRole REST calls (test/integration/kms/
// fakes/vault-fake.ts). No Vault or OpenBao server installs from the registries this machine reaches
// (the Go module proxy refuses github.com/openbao/openbao/v2; Vault has no package on PyPI or npm).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HcVaultClient } from '@confluentinc/schemaregistry/dist/rules/encryption/hcvault/hcvault-client.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HcVaultDriver } from '../../../src/kms/hcvault.js';
import { withMetrics, type KmsCallLabels } from '../../../src/kms/metrics.js';
import { withRetry } from '../../../src/kms/retry.js';
import { RecryptError } from '../../../src/util/errors.js';
import { canaryDek, expectNoLeak, rejection } from '../../unit/kms/leak-check.js';
import { closedPort } from './fakes/http-fake.js';
import { VaultFake } from './fakes/vault-fake.js';

const TOKEN = 'hvs.root-token-for-tests';
const ROLE = { roleId: 'role-1234', secretId: 'secret-5678', leaseSeconds: 3600 };
const FAST_RETRY = { attempts: 3, baseMs: 1, maxMs: 5 };

describe('hcvault driver (Vault transit HTTP fake)', () => {
  let vault: VaultFake;
  let keyId: string;
  const driver = new HcVaultDriver({ env: {}, requestTimeoutMs: 2_000 });

  beforeAll(async () => {
    vault = await new VaultFake({ tokens: [TOKEN], approle: ROLE }).start();
    vault.createKey('transit', 'kek1');
    keyId = `${vault.addr}/transit/keys/kek1`;
  });
  afterAll(() => vault.close());
  afterEach(() => vault.http.reset());

  it('wraps to a vault:v1: string stored as UTF-8 and unwraps it (token prop token.id)', async () => {
    const dek = canaryDek();
    const wrapped = await driver.wrap(keyId, dek, { 'token.id': TOKEN });
    expect(Buffer.from(wrapped).toString('utf8')).toMatch(/^vault:v1:[A-Za-z0-9+/=]+$/);
    expect(Buffer.from(await driver.unwrap(keyId, wrapped, { 'token.id': TOKEN })).equals(dek)).toBe(true);
    const [enc, dec] = vault.http.calls;
    expect(enc!.path).toBe('/v1/transit/encrypt/kek1');
    expect(enc!.headers['x-vault-token']).toBe(TOKEN);
    expect(enc!.body).toEqual({ plaintext: dek.toString('base64') });
    expect(dec!.path).toBe('/v1/transit/decrypt/kek1');
    expect(dec!.body).toEqual({ ciphertext: Buffer.from(wrapped).toString('utf8') });
  });

  it('interoperates with Confluent\'s HcVaultClient (node-vault) both ways, token and AppRole', async () => {
    const confluent = new HcVaultClient(`hcvault://${keyId}`, undefined, TOKEN, undefined, undefined);
    const dek = canaryDek();
    const byConfluent = await confluent.encrypt(dek);
    expect(Buffer.from(await driver.unwrap(keyId, byConfluent, { 'token.id': TOKEN })).equals(dek)).toBe(true);
    const byUs = await driver.wrap(keyId, dek, { 'token.id': TOKEN });
    expect((await confluent.decrypt(Buffer.from(byUs))).equals(dek)).toBe(true);
    const viaAppRole = new HcVaultClient(`hcvault://${keyId}`, undefined, undefined, ROLE.roleId, ROLE.secretId);
    expect((await viaAppRole.decrypt(Buffer.from(byUs))).equals(dek)).toBe(true);
    // Same REST calls as ours: the fake saw the same paths from both clients.
    expect(new Set(vault.http.calls.map((c) => c.path))).toEqual(new Set(['/v1/transit/encrypt/kek1', '/v1/transit/decrypt/kek1', '/v1/auth/approle/login']));
  });

  it('takes the mount from the path before /keys/ (nested mounts too)', async () => {
    vault.createKey('team/transit', 'kek2');
    const nested = `${vault.addr}/team/transit/keys/kek2`;
    const dek = canaryDek();
    const wrapped = await driver.wrap(nested, dek, { token: TOKEN });
    expect(Buffer.from(await driver.unwrap(nested, wrapped, { token: TOKEN })).equals(dek)).toBe(true);
    expect(vault.http.calls[0]!.path).toBe('/v1/team/transit/encrypt/kek2');
  });

  it('reads VAULT_TOKEN, then VAULT_TOKEN_FILE', async () => {
    const dek = canaryDek();
    const fromEnv = new HcVaultDriver({ env: { VAULT_TOKEN: TOKEN } });
    expect(Buffer.from(await fromEnv.unwrap(keyId, await fromEnv.wrap(keyId, dek, {}), {})).equals(dek)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'recrypt-vault-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const fromFile = new HcVaultDriver({ env: { VAULT_TOKEN_FILE: join(dir, 'token') } });
    expect(Buffer.from(await fromFile.unwrap(keyId, await fromFile.wrap(keyId, dek, {}), {})).equals(dek)).toBe(true);
  });

  it('logs in with AppRole once and caches the client token until its lease ends', async () => {
    let now = Date.now();
    const approle = new HcVaultDriver({ env: {}, now: () => now });
    const props = { 'approle.role.id': ROLE.roleId, 'approle.secret.id': ROLE.secretId };
    const before = vault.logins;
    const dek = canaryDek();
    const wrapped = await approle.wrap(keyId, dek, props);
    await approle.unwrap(keyId, wrapped, props);
    await approle.unwrap(keyId, wrapped, props);
    expect(vault.logins - before).toBe(1);
    const login = vault.http.callsTo(/approle\/login/)[0]!;
    expect(login.body).toEqual({ role_id: ROLE.roleId, secret_id: ROLE.secretId });
    // Past the lease (minus its margin) the driver logs in again.
    now += ROLE.leaseSeconds * 1000;
    await approle.unwrap(keyId, wrapped, props);
    expect(vault.logins - before).toBe(2);
  });

  it('logs in again once when Vault refuses a cached AppRole token (revoked)', async () => {
    const approle = new HcVaultDriver({ env: { VAULT_APPROLE_ROLE_ID: ROLE.roleId, VAULT_APPROLE_SECRET_ID: ROLE.secretId } });
    const dek = canaryDek();
    const wrapped = await approle.wrap(keyId, dek, {});
    vault.revokeLoginTokens();
    expect(Buffer.from(await approle.unwrap(keyId, wrapped, {})).equals(dek)).toBe(true);
  });

  it('bad AppRole credentials -> KMS_ACCESS_DENIED', async () => {
    const err = await rejection(driver.wrap(keyId, canaryDek(), { 'approle.role.id': ROLE.roleId, 'approle.secret.id': 'wrong' }));
    expect(err).toMatchObject({ code: 'KMS_ACCESS_DENIED', transient: false });
  });

  it('sends the namespace as X-Vault-Namespace (prop, else VAULT_NAMESPACE) on login and transit calls', async () => {
    const nsVault = await new VaultFake({ tokens: [TOKEN], approle: ROLE, namespace: 'team-a' }).start();
    try {
      nsVault.createKey('transit', 'kek1');
      const nsKey = `${nsVault.addr}/transit/keys/kek1`;
      const dek = canaryDek();
      const viaProp = await driver.wrap(nsKey, dek, { 'token.id': TOKEN, namespace: 'team-a' });
      const viaEnv = new HcVaultDriver({ env: { VAULT_NAMESPACE: 'team-a', VAULT_APPROLE_ROLE_ID: ROLE.roleId, VAULT_APPROLE_SECRET_ID: ROLE.secretId } });
      expect(Buffer.from(await viaEnv.unwrap(nsKey, viaProp, {})).equals(dek)).toBe(true);
      expect(nsVault.http.calls.every((c) => c.headers['x-vault-namespace'] === 'team-a')).toBe(true);
      expect(nsVault.http.callsTo(/approle\/login/)).toHaveLength(1);
      const err = await rejection(driver.wrap(nsKey, dek, { 'token.id': TOKEN }));
      expect(err).toMatchObject({ code: 'KMS_ACCESS_DENIED' });
    } finally {
      await nsVault.close();
    }
  });

  it('maps errors: 403, unknown key, disallowed version, tampered ciphertext, not a vault string, 5xx', async () => {
    const props = { 'token.id': TOKEN };
    expect(await rejection(driver.wrap(keyId, canaryDek(), { 'token.id': 'bad' }))).toMatchObject({ code: 'KMS_ACCESS_DENIED', transient: false });
    expect(await rejection(driver.unwrap(`${vault.addr}/transit/keys/nope`, Buffer.from('vault:v1:AAAA'), props))).toMatchObject({ code: 'KMS_KEY_NOT_FOUND', transient: false });
    expect(await rejection(driver.wrap(`${vault.addr}/transit/keys/nope`, canaryDek(), props))).toMatchObject({ code: 'KMS_KEY_NOT_FOUND' });
    expect(await rejection(driver.wrap(`${vault.addr}/nomount/keys/x`, canaryDek(), { 'token.id': TOKEN }))).toMatchObject({ code: 'KMS_KEY_NOT_FOUND' });

    vault.createKey('transit', 'rotating');
    const rotating = `${vault.addr}/transit/keys/rotating`;
    const old = await driver.wrap(rotating, canaryDek(), props);
    vault.rotateKey('transit', 'rotating');
    vault.setMinDecryptionVersion('transit', 'rotating', 2);
    expect(await rejection(driver.unwrap(rotating, old, props))).toMatchObject({ code: 'KMS_KEY_DISABLED', transient: false });

    const wrapped = Buffer.from(await driver.wrap(keyId, canaryDek(), props)).toString('utf8');
    const raw = Buffer.from(wrapped.slice('vault:v1:'.length), 'base64');
    raw[raw.length - 1]! ^= 1;
    const tampered = Buffer.from(`vault:v1:${raw.toString('base64')}`);
    expect(await rejection(driver.unwrap(keyId, tampered, props))).toMatchObject({ code: 'KMS_UNWRAP_FAILED', transient: false });
    const calls = vault.http.calls.length;
    expect(await rejection(driver.unwrap(keyId, Buffer.from([1, 2, 3]), props))).toMatchObject({ code: 'KMS_UNWRAP_FAILED' });
    expect(vault.http.calls.length).toBe(calls); // rejected locally

    vault.http.failNext(1, { status: 503, body: { errors: ['Vault is sealed'] } });
    expect(await rejection(driver.wrap(keyId, canaryDek(), props))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    vault.http.failNext(1, { status: 429, body: { errors: ['request path "transit/encrypt/kek1": rate limit quota exceeded'] } });
    expect(await rejection(driver.wrap(keyId, canaryDek(), props))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
  });

  it('missing credentials and malformed key ids are KMS_CONFIG', async () => {
    expect(await rejection(driver.wrap(keyId, canaryDek(), {}))).toMatchObject({ code: 'KMS_CONFIG' });
    expect(await rejection(driver.wrap('vault.local/transit/kek1', canaryDek(), { token: TOKEN }))).toMatchObject({ code: 'KMS_CONFIG' });
    expect(await rejection(driver.wrap(`${vault.addr}/transit/kek1`, canaryDek(), { token: TOKEN }))).toMatchObject({ code: 'KMS_CONFIG' });
  });

  it('unreachable Vault and timeouts are KMS_UNAVAILABLE (transient)', async () => {
    const port = await closedPort();
    const err = await rejection(driver.wrap(`http://127.0.0.1:${port}/transit/keys/kek1`, canaryDek(), { token: TOKEN }));
    expect(err).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    const slow = new HcVaultDriver({
      env: {},
      requestTimeoutMs: 50,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))),
    });
    expect(await rejection(slow.wrap(keyId, canaryDek(), { token: TOKEN }))).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
  });

  it('with the retry decorator: 5xx twice then success -> success after 3 calls', async () => {
    const counted: KmsCallLabels[] = [];
    const decorated = withRetry(withMetrics(driver, (l) => counted.push(l)), FAST_RETRY);
    vault.http.failNext(2, { status: 500, body: { errors: ['internal error'] }, match: /encrypt/ });
    const dek = canaryDek();
    const wrapped = await decorated.wrap(keyId, dek, { token: TOKEN });
    expect(vault.http.callsTo(/\/encrypt\//)).toHaveLength(3);
    expect(counted.map((l) => l.outcome)).toEqual(['KMS_UNAVAILABLE', 'KMS_UNAVAILABLE', 'ok']);
    expect(Buffer.from(await decorated.unwrap(keyId, wrapped, { token: TOKEN })).equals(dek)).toBe(true);
  });

  it('with the retry decorator: permanent errors are not retried', async () => {
    const decorated = withRetry(driver, FAST_RETRY);
    await rejection(decorated.wrap(keyId, canaryDek(), { token: 'bad' }));
    expect(vault.http.callsTo(/\/encrypt\//)).toHaveLength(1);
  });

  it('canary: neither the DEK nor the token or AppRole secret appears in any error', async () => {
    const dek = canaryDek();
    const wrapped = await driver.wrap(keyId, dek, { token: TOKEN });
    const errors: unknown[] = [];
    for (const status of [400, 403, 404, 500, 503]) {
      vault.http.failNext(1, { status, body: { errors: [`echo ${dek.toString('base64')} ${TOKEN}`] } });
      errors.push(await rejection(driver.wrap(keyId, dek, { token: TOKEN })));
      vault.http.failNext(1, { status, body: { errors: [`echo ${dek.toString('base64')}`] } });
      errors.push(await rejection(driver.unwrap(keyId, wrapped, { token: TOKEN })));
    }
    errors.push(await rejection(driver.wrap(keyId, dek, { 'approle.role.id': ROLE.roleId, 'approle.secret.id': 'wrong-secret-xyz' })));
    errors.push(await rejection(driver.wrap(`http://127.0.0.1:${await closedPort()}/transit/keys/k`, dek, { token: TOKEN })));
    for (const err of errors) {
      expect(err).toBeInstanceOf(RecryptError);
      expectNoLeak(err, dek, TOKEN, 'wrong-secret-xyz', ROLE.secretId);
    }
  });
});
