// Error classification of the azure-kms, gcp-kms and hcvault drivers, without servers.
import { describe, expect, it } from 'vitest';
import { mapAzureError, parseAzureKeyId } from '../../../src/kms/azure-kms.js';
import { mapGcpError } from '../../../src/kms/gcp-kms.js';
import { parseVaultKeyId, vaultError } from '../../../src/kms/hcvault.js';
import { isNetworkFailure } from '../../../src/kms/kms-error.js';

const AZ = 'https://v.vault.azure.net/keys/k/1';

describe('mapAzureError', () => {
  const rest = (statusCode: number, code: string, message = 'm') => Object.assign(new Error(message), { name: 'RestError', statusCode, code });
  it.each([
    [rest(401, 'Unauthorized'), 'KMS_ACCESS_DENIED'],
    [rest(403, 'Forbidden'), 'KMS_ACCESS_DENIED'],
    [rest(403, 'Forbidden', 'Operation decrypt is not allowed on a disabled key.'), 'KMS_KEY_DISABLED'],
    [rest(403, 'KeyDisabled'), 'KMS_KEY_DISABLED'],
    [rest(404, 'KeyNotFound'), 'KMS_KEY_NOT_FOUND'],
    [rest(429, 'Throttled'), 'KMS_UNAVAILABLE'],
    [rest(500, 'InternalServerError'), 'KMS_UNAVAILABLE'],
    [rest(503, 'ServiceUnavailable'), 'KMS_UNAVAILABLE'],
    [Object.assign(new Error('x'), { name: 'RestError', code: 'REQUEST_SEND_ERROR' }), 'KMS_UNAVAILABLE'],
    [Object.assign(new Error('x'), { name: 'CredentialUnavailableError' }), 'KMS_CONFIG'],
    [Object.assign(new Error('x'), { name: 'AuthenticationError', statusCode: 400 }), 'KMS_ACCESS_DENIED'],
    [Object.assign(new Error('x'), { name: 'AuthenticationError', statusCode: 503 }), 'KMS_UNAVAILABLE'],
    [new Error('Key https://v.vault.azure.net/keys/k/1 expired at 2020-01-01T00:00:00.000Z'), 'KMS_KEY_DISABLED'],
  ])('%#: -> %s', (err, code) => {
    expect(mapAzureError(err, 'wrap', AZ).code).toBe(code);
  });
  it('400 on unwrap is KMS_UNWRAP_FAILED, on wrap KMS_CONFIG', () => {
    expect(mapAzureError(rest(400, 'BadParameter'), 'unwrap', AZ).code).toBe('KMS_UNWRAP_FAILED');
    expect(mapAzureError(rest(400, 'BadParameter'), 'wrap', AZ).code).toBe('KMS_CONFIG');
  });
  it('parses key ids with and without a version; https only', () => {
    expect(parseAzureKeyId(AZ)).toEqual({ vaultUrl: 'https://v.vault.azure.net', name: 'k', version: '1' });
    expect(parseAzureKeyId('https://v.vault.azure.net/keys/k')).toEqual({ vaultUrl: 'https://v.vault.azure.net', name: 'k' });
    expect(() => parseAzureKeyId('http://v.vault.azure.net/keys/k/1')).toThrow(expect.objectContaining({ code: 'KMS_CONFIG' }));
    expect(() => parseAzureKeyId('https://v.vault.azure.net/secrets/k/1')).toThrow(expect.objectContaining({ code: 'KMS_CONFIG' }));
  });
});

describe('mapGcpError', () => {
  const KEY = 'projects/p/locations/l/keyRings/r/cryptoKeys/k';
  it.each([
    [3, 'unwrap', 'KMS_UNWRAP_FAILED'],
    [3, 'wrap', 'KMS_CONFIG'],
    [4, 'wrap', 'KMS_UNAVAILABLE'],
    [5, 'wrap', 'KMS_KEY_NOT_FOUND'],
    [7, 'wrap', 'KMS_ACCESS_DENIED'],
    [8, 'wrap', 'KMS_UNAVAILABLE'],
    [9, 'unwrap', 'KMS_KEY_DISABLED'],
    [13, 'wrap', 'KMS_UNAVAILABLE'],
    [14, 'wrap', 'KMS_UNAVAILABLE'],
    [16, 'wrap', 'KMS_ACCESS_DENIED'],
  ] as const)('gRPC code %s on %s -> %s', (grpc, op, code) => {
    expect(mapGcpError(Object.assign(new Error('m'), { code: grpc }), op, KEY).code).toBe(code);
  });
  it('network errors are transient; missing ADC is KMS_CONFIG', () => {
    expect(mapGcpError(Object.assign(new Error('m'), { code: 'ECONNREFUSED' }), 'wrap', KEY).code).toBe('KMS_UNAVAILABLE');
    expect(mapGcpError(new Error('Could not load the default credentials. Browse to ...'), 'wrap', KEY).code).toBe('KMS_CONFIG');
  });
});

describe('hcvault', () => {
  const KEY = 'https://vault:8200/transit/keys/k';
  it.each([
    [403, ['permission denied'], 'wrap', 'KMS_ACCESS_DENIED'],
    [400, ['encryption key not found'], 'unwrap', 'KMS_KEY_NOT_FOUND'],
    [404, [], 'wrap', 'KMS_KEY_NOT_FOUND'],
    [400, ['ciphertext or signature version is disallowed by policy (too old)'], 'unwrap', 'KMS_KEY_DISABLED'],
    [400, ['invalid ciphertext: no prefix'], 'unwrap', 'KMS_UNWRAP_FAILED'],
    [400, ['bad'], 'wrap', 'KMS_CONFIG'],
    [412, [], 'unwrap', 'KMS_UNAVAILABLE'],
    [429, [], 'wrap', 'KMS_UNAVAILABLE'],
    [500, [], 'wrap', 'KMS_UNAVAILABLE'],
    [503, ['Vault is sealed'], 'unwrap', 'KMS_UNAVAILABLE'],
  ] as const)('HTTP %s %j on %s -> %s', (status, errors, op, code) => {
    expect(vaultError(status, { errors }, op, KEY).code).toBe(code);
  });
  it('parses the address, mount (before /keys/) and name', () => {
    expect(parseVaultKeyId(KEY)).toEqual({ addr: 'https://vault:8200', mount: 'transit', name: 'k' });
    expect(parseVaultKeyId('http://127.0.0.1:8200/team/a/transit/keys/kek-1')).toEqual({ addr: 'http://127.0.0.1:8200', mount: 'team/a/transit', name: 'kek-1' });
    for (const bad of ['vault:8200/transit/keys/k', 'https://vault:8200/keys/k', 'https://vault:8200/transit/k', 'ftp://vault/transit/keys/k']) {
      expect(() => parseVaultKeyId(bad)).toThrow(expect.objectContaining({ code: 'KMS_CONFIG' }));
    }
  });
});

describe('isNetworkFailure', () => {
  it('sees socket errors through fetch\'s TypeError cause chain, and timeouts', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(isNetworkFailure(fetchFailed)).toBe(true);
    expect(isNetworkFailure(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(true);
    expect(isNetworkFailure(new Error('nope'))).toBe(false);
  });
});
