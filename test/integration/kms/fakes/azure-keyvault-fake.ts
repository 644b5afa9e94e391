// An HTTP fake of exactly the Azure Key Vault REST calls that @azure/keyvault-keys' CryptographyClient
// makes for RSA-OAEP-256 encrypt/decrypt (what Confluent's azurekms driver calls):
//   GET  /keys/{name}/{version}?api-version=...          (the client fetches the key once; 403 -> remote only)
//   POST /keys/{name}/{version}/encrypt?api-version=...  {"alg": "RSA-OAEP-256", "value": base64url}
//   POST /keys/{name}/{version}/decrypt?api-version=...
// with Key Vault's challenge auth (a request without a bearer token gets 401 + WWW-Authenticate) and its
// error shape {"error": {"code", "message", "innererror"}}. The SDK talks https to
// <vault>.vault.azure.net; tests redirect its requests here with an httpClient (see azure-kms.test.ts).
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { HttpFake, type FakeRequest, type FakeResponse } from './http-fake.js';

export const AZURE_FAKE_TOKEN = 'dummy-bearer-token';

interface FakeKey {
  readonly version: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  enabled: boolean;
  forbidden: boolean;
}

export class AzureKeyVaultFake {
  readonly http: HttpFake;
  readonly #keys = new Map<string, FakeKey>();
  /** Host the SDK thinks it talks to, e.g. recrypt-test.vault.azure.net. */
  readonly vaultHost: string;

  constructor(vaultHost = 'recrypt-test.vault.azure.net') {
    this.vaultHost = vaultHost;
    this.http = new HttpFake((req) => this.#handle(req));
  }

  async start(): Promise<this> {
    await this.http.start();
    return this;
  }

  /** Creates an RSA key; returns its key id URL as Key Vault would name it. */
  createKey(name: string, version = 'b86c2e6ad9054f4abf69cc185b99aa60'): string {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#keys.set(name, { version, privateKey, publicKey, enabled: true, forbidden: false });
    return this.keyId(name, version);
  }

  keyId(name: string, version: string): string {
    return `https://${this.vaultHost}/keys/${name}/${version}`;
  }

  setEnabled(name: string, enabled: boolean): void {
    this.#keys.get(name)!.enabled = enabled;
  }

  /** The caller lacks permissions on this key (RBAC / access policy). */
  setForbidden(name: string, forbidden: boolean): void {
    this.#keys.get(name)!.forbidden = forbidden;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  #handle(req: FakeRequest): FakeResponse {
    if (!req.query.get('api-version')) return error(400, 'MissingApiVersionParameter', 'api-version is required');
    const auth = req.headers['authorization'];
    if (auth === undefined) {
      return {
        status: 401,
        headers: {
          'WWW-Authenticate': 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001", resource="https://vault.azure.net"',
        },
        body: error(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.').body,
      };
    }
    if (auth !== `Bearer ${AZURE_FAKE_TOKEN}`) return error(401, 'Unauthorized', 'AKV10032: Invalid issuer.');
    const match = /^\/keys\/([^/]+)(?:\/([^/]*))?(?:\/(encrypt|decrypt))?$/.exec(req.path);
    if (match === null) return error(404, 'NotFound', 'unknown path');
    const [, name, version, op] = match;
    const key = this.#keys.get(name!);
    if (key === undefined || (version !== undefined && version !== '' && version !== key.version)) {
      return error(404, 'KeyNotFound', `A key with (name/id) ${name}/${version ?? ''} was not found in this key vault.`);
    }
    if (key.forbidden) {
      return error(403, 'Forbidden', `The user does not have keys ${op ?? 'get'} permission on key vault.`, 'ForbiddenByPolicy');
    }
    if (!key.enabled) return error(403, 'Forbidden', `Operation ${op ?? 'get'} is not allowed on a disabled key.`, 'KeyDisabled');
    const kid = this.keyId(name!, key.version);
    if (req.method === 'GET' && op === undefined) {
      const jwk = key.publicKey.export({ format: 'jwk' });
      return {
        status: 200,
        body: {
          key: { kid, kty: 'RSA', key_ops: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'], n: jwk.n, e: jwk.e },
          attributes: { enabled: true, created: 1_700_000_000, updated: 1_700_000_000, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
        },
      };
    }
    if (req.method !== 'POST' || op === undefined) return error(405, 'MethodNotAllowed', 'unsupported');
    const body = (req.body ?? {}) as { alg?: unknown; value?: unknown };
    if (body.alg !== 'RSA-OAEP-256' || typeof body.value !== 'string') return error(400, 'BadParameter', 'Property alg or value is invalid.');
    const input = Buffer.from(body.value, 'base64url');
    const options = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
    try {
      const out = op === 'encrypt' ? publicEncrypt({ key: key.publicKey, ...options }, input) : privateDecrypt({ key: key.privateKey, ...options }, input);
      return { status: 200, body: { kid, value: out.toString('base64url') } };
    } catch {
      return error(400, 'BadParameter', 'Bad Request');
    }
  }
}

function error(status: number, code: string, message: string, inner?: string): FakeResponse {
  return { status, body: { error: { code, message, ...(inner === undefined ? {} : { innererror: { code: inner } }) } } };
}
