/**
 * hcvault: HashiCorp Vault (or OpenBao) transit over plain HTTP with node's fetch, no SDK.
 *
 * Key id `http(s)://host:8200/<mount>/keys/<name>`, e.g. `https://vault:8200/transit/keys/kek1`: the
 * mount is the path before `/keys/` (it may have several segments), the key name the segment after.
 *   wrap:   POST {addr}/v1/{mount}/encrypt/{name} {"plaintext": base64}  -> data.ciphertext `vault:v1:...`
 *   unwrap: POST {addr}/v1/{mount}/decrypt/{name} {"ciphertext": "vault:v1:..."} -> data.plaintext base64
 * The stored wrapped DEK is the UTF-8 of the `vault:v1:...` string, as in every Confluent client.
 *
 * Auth, first that is set: the prop `token.id` (Confluent's name; `token` also accepted); AppRole from
 * props `approle.role.id` + `approle.secret.id`; AppRole from env VAULT_APPROLE_ROLE_ID +
 * VAULT_APPROLE_SECRET_ID; env VAULT_TOKEN; the file named by VAULT_TOKEN_FILE (each env var also
 * as `<VAR>_FILE`). AppRole logs in at /v1/auth/{approle.mount or approle}/login and caches the
 * client token until shortly before its lease ends; a 403 with a cached AppRole token logs in again
 * once. Namespace: prop `namespace`, else env VAULT_NAMESPACE, sent as X-Vault-Namespace.
 *
 * Errors: 401/403 KMS_ACCESS_DENIED; 404 or "encryption key not found" KMS_KEY_NOT_FOUND; a
 * ciphertext version below the key's min_decryption_version KMS_KEY_DISABLED; other 400s on unwrap
 * KMS_UNWRAP_FAILED; 412, 429, 5xx (sealed, standby), timeouts and network errors KMS_UNAVAILABLE.
 * Vault's error text is read for classification only and never copied into our errors.
 */
import { createHash } from 'node:crypto';
import { RecryptError, type ErrorCode } from '../util/errors.js';
import type { KmsDriver, KmsProps } from './kms-driver.js';
import { isNetworkFailure, isTransientStatus, kmsError, type KmsOperation } from './kms-error.js';
import { envSetting, prop, type Env } from './settings.js';

export const HCVAULT_TYPE = 'hcvault';

/** kmsProps names (Confluent's, plus `token`, `approle.mount`). */
export const HCVAULT_PROPS = {
  token: 'token.id',
  tokenAlias: 'token',
  namespace: 'namespace',
  roleId: 'approle.role.id',
  secretId: 'approle.secret.id',
  approleMount: 'approle.mount',
} as const;

const DEFAULT_TIMEOUT_MS = 10_000;
/** Renew an AppRole token this long before its lease ends (or 10% of a short lease). */
const LEASE_MARGIN_MS = 30_000;
const VAULT_PREFIX = 'vault:';

export interface HcVaultOptions {
  /** Timeout of one HTTP request (login included). Default 10 s. */
  requestTimeoutMs?: number;
  /** Where VAULT_* variables are read; defaults to process.env. */
  env?: Env;
  /** Injectable fetch (tests); defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Injectable clock (tests). */
  now?: () => number;
}

interface VaultKey {
  readonly addr: string;
  readonly mount: string;
  readonly name: string;
}

type AppRoleAuth = { readonly kind: 'approle'; readonly roleId: string; readonly secretId: string; readonly mount: string };
type Auth = { readonly kind: 'token'; readonly token: string } | AppRoleAuth;

interface CachedToken {
  readonly token: string;
  /** ms epoch; Infinity for non-expiring tokens. */
  readonly renewAt: number;
}

export class HcVaultDriver implements KmsDriver {
  readonly kmsType = HCVAULT_TYPE;
  readonly #timeoutMs: number;
  readonly #env: Env;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  /** AppRole client tokens by (addr, namespace, mount, role id, secret id fingerprint). */
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(options: HcVaultOptions = {}) {
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#env = options.env ?? process.env;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
  }

  async wrap(kmsKeyId: string, plaintext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const key = parseVaultKeyId(kmsKeyId, 'wrap');
    const body = { plaintext: Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).toString('base64') };
    const data = await this.#transit(key, kmsKeyId, props, 'wrap', body);
    const ciphertext = data['ciphertext'];
    if (typeof ciphertext !== 'string' || !ciphertext.startsWith(VAULT_PREFIX)) {
      throw kmsError('KMS_UNAVAILABLE', HCVAULT_TYPE, 'wrap', kmsKeyId, 'Vault answered without a vault: ciphertext');
    }
    return Buffer.from(ciphertext, 'utf8');
  }

  async unwrap(kmsKeyId: string, ciphertext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const key = parseVaultKeyId(kmsKeyId, 'unwrap');
    const text = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength).toString('utf8');
    if (!/^vault:v\d+:[A-Za-z0-9+/=]+$/.test(text)) {
      throw kmsError('KMS_UNWRAP_FAILED', HCVAULT_TYPE, 'unwrap', kmsKeyId, 'wrapped DEK is not a vault:v<n>: ciphertext');
    }
    const data = await this.#transit(key, kmsKeyId, props, 'unwrap', { ciphertext: text });
    const plaintext = data['plaintext'];
    if (typeof plaintext !== 'string') {
      throw kmsError('KMS_UNAVAILABLE', HCVAULT_TYPE, 'unwrap', kmsKeyId, 'Vault answered without a plaintext');
    }
    return Buffer.from(plaintext, 'base64');
  }

  async #transit(key: VaultKey, kmsKeyId: string, props: KmsProps, operation: KmsOperation, body: object): Promise<Record<string, unknown>> {
    const namespace = prop(props, HCVAULT_PROPS.namespace) ?? envSetting(this.#env, 'VAULT_NAMESPACE');
    const auth = this.#auth(props, kmsKeyId, operation);
    const path = `/v1/${key.mount}/${operation === 'wrap' ? 'encrypt' : 'decrypt'}/${encodeURIComponent(key.name)}`;
    for (let loginAgain = auth.kind === 'approle'; ; loginAgain = false) {
      const token = await this.#token(auth, key, namespace, kmsKeyId, operation);
      const res = await this.#post(key.addr + path, body, { 'X-Vault-Token': token.token, ...nsHeader(namespace) }, kmsKeyId, operation);
      if (res.status === 403 && loginAgain && auth.kind === 'approle') {
        // The cached AppRole token may have been revoked or expired early: log in once more.
        this.#tokens.delete(approleCacheKey(key.addr, namespace, auth));
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        const data = (res.json as { data?: unknown } | undefined)?.data;
        if (data === null || typeof data !== 'object') {
          throw kmsError('KMS_UNAVAILABLE', HCVAULT_TYPE, operation, kmsKeyId, `Vault answered HTTP ${res.status} without data`);
        }
        return data as Record<string, unknown>;
      }
      throw vaultError(res.status, res.json, operation, kmsKeyId);
    }
  }

  #auth(props: KmsProps, kmsKeyId: string, operation: KmsOperation): Auth {
    const mount = prop(props, HCVAULT_PROPS.approleMount) ?? envSetting(this.#env, 'VAULT_APPROLE_MOUNT') ?? 'approle';
    const propToken = prop(props, HCVAULT_PROPS.token, HCVAULT_PROPS.tokenAlias);
    if (propToken !== undefined) return { kind: 'token', token: propToken };
    const propRole = prop(props, HCVAULT_PROPS.roleId);
    const propSecret = prop(props, HCVAULT_PROPS.secretId);
    if (propRole !== undefined && propSecret !== undefined) return { kind: 'approle', roleId: propRole, secretId: propSecret, mount };
    const envRole = envSetting(this.#env, 'VAULT_APPROLE_ROLE_ID');
    const envSecret = envSetting(this.#env, 'VAULT_APPROLE_SECRET_ID');
    if (envRole !== undefined && envSecret !== undefined) return { kind: 'approle', roleId: envRole, secretId: envSecret, mount };
    const envToken = envSetting(this.#env, 'VAULT_TOKEN');
    if (envToken !== undefined) return { kind: 'token', token: envToken };
    throw kmsError(
      'KMS_CONFIG',
      HCVAULT_TYPE,
      operation,
      kmsKeyId,
      'no Vault credentials: set the prop token.id or approle.role.id/approle.secret.id, or env VAULT_TOKEN(_FILE) or VAULT_APPROLE_ROLE_ID/VAULT_APPROLE_SECRET_ID',
    );
  }

  #token(auth: Auth, key: VaultKey, namespace: string | undefined, kmsKeyId: string, operation: KmsOperation): Promise<CachedToken> {
    if (auth.kind === 'token') return Promise.resolve({ token: auth.token, renewAt: Infinity });
    const cacheKey = approleCacheKey(key.addr, namespace, auth);
    const cached = this.#tokens.get(cacheKey);
    if (cached !== undefined) {
      return cached.then((t) => {
        if (this.#now() < t.renewAt) return t;
        if (this.#tokens.get(cacheKey) === cached) this.#tokens.delete(cacheKey);
        return this.#token(auth, key, namespace, kmsKeyId, operation);
      });
    }
    const login = this.#login(auth, key.addr, namespace, kmsKeyId, operation);
    this.#tokens.set(cacheKey, login);
    login.catch(() => {
      if (this.#tokens.get(cacheKey) === login) this.#tokens.delete(cacheKey);
    });
    return login;
  }

  async #login(auth: AppRoleAuth, addr: string, namespace: string | undefined, kmsKeyId: string, operation: KmsOperation): Promise<CachedToken> {
    const started = this.#now();
    const res = await this.#post(
      `${addr}/v1/auth/${auth.mount}/login`,
      { role_id: auth.roleId, secret_id: auth.secretId },
      nsHeader(namespace),
      kmsKeyId,
      operation,
    );
    if (res.status < 200 || res.status >= 300) {
      const code: ErrorCode = isTransientStatus(res.status) || res.status === 412 ? 'KMS_UNAVAILABLE' : 'KMS_ACCESS_DENIED';
      throw kmsError(code, HCVAULT_TYPE, operation, kmsKeyId, `AppRole login refused (HTTP ${res.status})`, { name: 'approle-login', status: res.status });
    }
    const authBody = (res.json as { auth?: { client_token?: unknown; lease_duration?: unknown } } | undefined)?.auth;
    const token = authBody?.client_token;
    if (typeof token !== 'string' || token === '') {
      throw kmsError('KMS_ACCESS_DENIED', HCVAULT_TYPE, operation, kmsKeyId, 'AppRole login returned no client token');
    }
    const leaseSeconds = typeof authBody?.lease_duration === 'number' ? authBody.lease_duration : 0;
    const leaseMs = leaseSeconds * 1000;
    const renewAt = leaseMs <= 0 ? Infinity : started + leaseMs - Math.min(LEASE_MARGIN_MS, leaseMs / 10);
    return { token, renewAt };
  }

  async #post(url: string, body: object, headers: Record<string, string>, kmsKeyId: string, operation: KmsOperation): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const reason = isNetworkFailure(err) ? 'Vault unreachable or timed out' : 'request to Vault failed';
      throw kmsError('KMS_UNAVAILABLE', HCVAULT_TYPE, operation, kmsKeyId, reason, { name: errName(err) });
    }
    let json: unknown;
    try {
      const text = await res.text();
      json = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      if (res.ok) throw kmsError('KMS_UNAVAILABLE', HCVAULT_TYPE, operation, kmsKeyId, 'Vault answered with a body that is not JSON', { name: errName(err), status: res.status });
      json = undefined;
    }
    return { status: res.status, json };
  }
}

/** Splits `http(s)://host:port/<mount>/keys/<name>`; KMS_CONFIG when it is not that shape. */
export function parseVaultKeyId(kmsKeyId: string, operation: KmsOperation = 'wrap'): VaultKey {
  let url: URL;
  try {
    url = new URL(kmsKeyId);
  } catch {
    throw badKeyId(kmsKeyId, operation);
  }
  const match = /^\/(.+)\/keys\/([^/]+)\/?$/.exec(url.pathname);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || match === null || url.username !== '' || url.password !== '' || url.search !== '') {
    throw badKeyId(kmsKeyId, operation);
  }
  const mount = match[1]!.replace(/^v1\//, '');
  return { addr: `${url.protocol}//${url.host}`, mount, name: decodeURIComponent(match[2]!) };
}

function badKeyId(kmsKeyId: string, operation: KmsOperation): RecryptError {
  return kmsError('KMS_CONFIG', HCVAULT_TYPE, operation, kmsKeyId, 'the key id must look like http(s)://host:8200/<mount>/keys/<name>');
}

/** Classifies a non-2xx Vault answer; Vault's error text is only matched, never copied. */
export function vaultError(status: number, json: unknown, operation: KmsOperation, kmsKeyId: string): RecryptError {
  const errors = (json as { errors?: unknown } | undefined)?.errors;
  const text = Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string').join('\n').toLowerCase() : '';
  let code: ErrorCode;
  let reason: string;
  if (status === 401 || status === 403) [code, reason] = ['KMS_ACCESS_DENIED', 'permission denied'];
  else if (status === 404 || text.includes('key not found') || text.includes('no handler for route')) [code, reason] = ['KMS_KEY_NOT_FOUND', 'key not found'];
  else if (text.includes('disallowed by policy') || text.includes('too old') || text.includes('disabled')) [code, reason] = ['KMS_KEY_DISABLED', 'key version not allowed'];
  else if (isTransientStatus(status) || status === 412) [code, reason] = ['KMS_UNAVAILABLE', 'Vault unavailable'];
  else if (operation === 'unwrap') [code, reason] = ['KMS_UNWRAP_FAILED', 'ciphertext rejected'];
  else [code, reason] = ['KMS_CONFIG', 'request rejected'];
  return kmsError(code, HCVAULT_TYPE, operation, kmsKeyId, `${reason} (HTTP ${status})`, { name: 'vault', status });
}

function approleCacheKey(addr: string, namespace: string | undefined, auth: AppRoleAuth): string {
  const secret = createHash('sha256').update(auth.secretId).digest('hex').slice(0, 16);
  return JSON.stringify([addr, namespace ?? '', auth.mount, auth.roleId, secret]);
}

function nsHeader(namespace: string | undefined): Record<string, string> {
  return namespace === undefined ? {} : { 'X-Vault-Namespace': namespace };
}

function errName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}
