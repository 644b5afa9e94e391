// azure-kms with `encrypt.azure.key.version.save`: the `azure:v1:<32-hex version>:<ciphertext>` layout of
// Confluent's Go and JS Azure drivers (azure_aead.go / azure-client.ts, July 2026; @confluentinc/schemaregistry
// 1.10.1 predates it, so the layout is checked byte for byte here instead). Key Vault is the REST fake of
// azure-kms.test.ts, one fake per key version: requests for a version go to its fake, versionless ones to
// the fake of the key's current version, so rotating the key is switching `latest`.
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry } from '../../../src/devregistry/server.js';
import { DekManager } from '../../../src/keys/index.js';
import { AzureKmsDriver } from '../../../src/kms/azure-kms.js';
import { dekRefOf } from '../../../src/model/index.js';
import { DekRegistryClient } from '../../../src/registry/dek-registry-client.js';
import { resolveEncryptionParams } from '../../../src/rules/encryption-params.js';
import { canaryDek, expectNoLeak, rejection } from '../../unit/kms/leak-check.js';
import { AZURE_FAKE_TOKEN, AzureKeyVaultFake } from './fakes/azure-keyvault-fake.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const ODD = 'v2-not-hex';
const SAVE = { 'encrypt.azure.key.version.save': 'true' };
const HOST = 'recrypt-test.vault.azure.net';
const VERSIONLESS = `https://${HOST}/keys/kek1`;
const credential: TokenCredential = { getToken: async () => ({ token: AZURE_FAKE_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) };

const fakes = new Map<string, AzureKeyVaultFake>();
let latest = A;
/** Paths the vault saw, across all versions. */
const seen: string[] = [];

function versionRouter(): HttpClient {
  const inner = createDefaultHttpClient();
  return {
    sendRequest: (request) => {
      const url = new URL(request.url);
      const version = /^\/keys\/[^/]+\/([^/]+)/.exec(url.pathname)?.[1];
      const fake = fakes.get(version !== undefined && fakes.has(version) ? version : latest)!;
      if (request.headers.get('authorization') !== undefined) seen.push(`${request.method} ${url.pathname}`);
      return inner.sendRequest({ ...request, url: `${fake.http.url}${url.pathname}${url.search}`, allowInsecureConnection: true });
    },
  };
}

/** A fresh driver: no client or key cached from an earlier test. */
const newDriver = (): AzureKmsDriver => new AzureKmsDriver({ credential, clientOptions: { httpClient: versionRouter() }, requestTimeoutMs: 5_000 });

async function publicKeyOf(version: string) {
  const res = await fetch(`${fakes.get(version)!.http.url}/keys/kek1/${version}?api-version=7.5`, { headers: { authorization: `Bearer ${AZURE_FAKE_TOKEN}` } });
  const jwk = ((await res.json()) as { key: { n: string; e: string } }).key;
  return createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
}

const header = (version: string): Buffer => Buffer.from(`azure:v1:${version}:`, 'ascii');

beforeAll(async () => {
  for (const version of [A, B, ODD]) {
    const fake = await new AzureKeyVaultFake(HOST).start();
    fake.createKey('kek1', version);
    fakes.set(version, fake);
  }
});
afterAll(async () => { await Promise.all([...fakes.values()].map((f) => f.close())); });

describe('azure-kms: encrypt.azure.key.version.save', () => {
  it('prefixes the wrapped DEK with the version Key Vault used for a versionless key id, and unwraps it after the key is rotated', async () => {
    latest = A;
    const dek = canaryDek();
    const wrapped = Buffer.from(await newDriver().wrap(VERSIONLESS, dek, SAVE));
    expect(wrapped.subarray(0, 42).equals(header(A))).toBe(true);
    expect(wrapped.length).toBe(42 + 256); // RSA-2048 ciphertext after the 42-byte header
    expectNoLeak(wrapped.toString('latin1'), dek);

    latest = B; // rotated: the versionless key id now means B
    seen.length = 0;
    expect(Buffer.from(await newDriver().unwrap(VERSIONLESS, wrapped, {})).equals(dek)).toBe(true);
    expect(seen.some((s) => s.startsWith(`POST /keys/kek1/${A}/decrypt`) || s.startsWith(`GET /keys/kek1/${A}`))).toBe(true);
    expect(seen.some((s) => s.includes(`/keys/kek1/${B}`))).toBe(false);
    // a pinned key id of another version does not matter either: the prefix decides
    expect(Buffer.from(await newDriver().unwrap(`${VERSIONLESS}/${B}`, wrapped, SAVE)).equals(dek)).toBe(true);
  });

  it('without the setting there is no prefix, and such a DEK no longer unwraps through a versionless id once the key rotated', async () => {
    latest = A;
    const dek = canaryDek();
    const wrapped = Buffer.from(await newDriver().wrap(VERSIONLESS, dek, { 'encrypt.azure.key.version.save': 'false' }));
    expect(wrapped.length).toBe(256);
    expect(Buffer.from(await newDriver().unwrap(VERSIONLESS, wrapped, {})).equals(dek)).toBe(true);
    latest = B;
    expect(await rejection(newDriver().unwrap(VERSIONLESS, wrapped, {}))).toMatchObject({ code: 'KMS_UNWRAP_FAILED' });
  });

  it('a pinned key id writes its own version; the setting is read case-insensitively', async () => {
    latest = A;
    const dek = canaryDek();
    const wrapped = Buffer.from(await newDriver().wrap(`${VERSIONLESS}/${B}`, dek, { 'encrypt.azure.key.version.save': 'TRUE' }));
    expect(wrapped.subarray(0, 42).equals(header(B))).toBe(true);
    expect(Buffer.from(await newDriver().unwrap(`${VERSIONLESS}/${B}`, wrapped, {})).equals(dek)).toBe(true);
  });

  it('unwraps the layout another client wrote: azure:v1: + version + : + RSA-OAEP-256 ciphertext of that version', async () => {
    latest = B;
    const dek = canaryDek();
    const rsa = publicEncrypt({ key: await publicKeyOf(A), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dek);
    const wrapped = Buffer.concat([header(A), rsa]);
    expect(Buffer.from(await newDriver().unwrap(VERSIONLESS, wrapped, {})).equals(dek)).toBe(true);
  });

  it('a prefix whose version is not 32 hex characters is KMS_UNWRAP_FAILED before any Key Vault call', async () => {
    seen.length = 0;
    const tampered = Buffer.concat([Buffer.from('azure:v1:'), Buffer.from('../../keys/other/aaaaaaaaaaaaaaa'), Buffer.from(':'), Buffer.alloc(256, 7)]);
    expect(tampered.subarray(9, 41).length).toBe(32);
    const err = await rejection(newDriver().unwrap(VERSIONLESS, tampered, {}));
    expect(err).toMatchObject({ code: 'KMS_UNWRAP_FAILED', transient: false });
    expect(seen).toEqual([]);
  });

  it('a key version that cannot fit the prefix is KMS_CONFIG on wrap (as Confluent refuses it)', async () => {
    latest = ODD;
    expect(await rejection(newDriver().wrap(VERSIONLESS, canaryDek(), SAVE))).toMatchObject({ code: 'KMS_CONFIG', transient: false });
    // without the setting the same key wraps
    expect((await newDriver().wrap(VERSIONLESS, canaryDek(), {})).length).toBe(256);
  });
});

describe('azure-kms key version through recrypt\'s keys layer and the dev registry', () => {
  it('a KEK whose kmsProps set encrypt.azure.key.version.save gets prefixed DEKs, which decrypt after the key rotated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'azure-version-'));
    const registry = await startDevRegistry({ port: 0, host: '127.0.0.1', dataDir: dir });
    try {
      latest = A;
      const kekName = `azkek_${Date.now()}`;
      const deks = new DekRegistryClient({ baseUrls: [registry.url] });
      await deks.createKek({ name: kekName, kmsType: 'azure-kms', kmsKeyId: VERSIONLESS, kmsProps: SAVE });
      const rule = { name: 'enc', type: 'ENCRYPT', params: { 'encrypt.kek.name': kekName } };
      const params = resolveEncryptionParams(rule, undefined);
      const ref = dekRefOf(params, 'orders-value');
      const manager = (): DekManager => new DekManager({ dekRegistry: deks, kms: { get: () => newDriver() } });

      const write = await manager().dekForWrite(ref, params);
      const ciphertext = write.cipher.encrypt(Buffer.from('hello world'));
      const stored = await deks.getDek(kekName, 'orders-value', 1, 'AES256_GCM');
      expect(Buffer.from(stored!.encryptedKeyMaterial!, 'base64').subarray(0, 42).toString('latin1')).toBe(`azure:v1:${A}:`);

      latest = B;
      const read = await manager().dekForRead(ref, params, 1);
      expect(read.decrypt(ciphertext).toString('utf8')).toBe('hello world');
    } finally {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
