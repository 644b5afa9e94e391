/**
 * azure-kms: Azure Key Vault (or Managed HSM) RSA-OAEP-256 through @azure/keyvault-keys'
 * CryptographyClient, `encrypt`/`decrypt` as Confluent's azurekms driver calls them (RSA-OAEP-256
 * encrypt and wrapKey give interchangeable ciphertexts; we use the same REST operations Confluent uses).
 * Key id: `https://<vault>.vault.azure.net/keys/<name>/<version>` (version optional: latest).
 *
 * Credentials: kmsProps `tenant.id` + `client.id` + `client.secret` (Confluent's names) give a
 * ClientSecretCredential; otherwise the driver's credential, by default DefaultAzureCredential (env
 * AZURE_*, workload identity, managed identity, Azure CLI). The SDK's retries are off: the retry
 * decorator is the one place that retries.
 *
 * `encrypt.azure.key.version.save=true` (kmsProps or config) prefixes wrapped DEKs with the key version
 * (`azure:v1:<version>:`, azure-key-version.ts); unwrap reads the prefix whatever the setting.
 *
 * Errors: 401/403 KMS_ACCESS_DENIED (KMS_KEY_DISABLED when Key Vault says the key is disabled),
 * 404 KMS_KEY_NOT_FOUND, 400 on decrypt KMS_UNWRAP_FAILED, 408/429/5xx/network KMS_UNAVAILABLE,
 * expired or not-yet-valid key KMS_KEY_DISABLED, missing credentials KMS_CONFIG.
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import type { CryptographyClient, CryptographyClientOptions } from '@azure/keyvault-keys';
import { RecryptError, type ErrorCode } from '../util/errors.js';
import type { KmsDriver, KmsProps } from './kms-driver.js';
import { isNetworkFailure, isTransientStatus, kmsError, numberProp, refusedCode, safeToken, stringProp, type KmsOperation } from './kms-error.js';
import { prop } from './settings.js';
import { ClientCache } from './client-cache.js';
import { AZURE_KEY_VERSION_SAVE, isPrefixableVersion, keyVersionSaveEnabled, splitKeyVersion, withKeyVersion } from './azure-key-version.js';

export const AZURE_KMS_TYPE = 'azure-kms';
export const AZURE_ALGORITHM = 'RSA-OAEP-256';

/** kmsProps names, as Confluent's AzureKmsDriver reads them. */
export const AZURE_KMS_PROPS = {
  tenantId: 'tenant.id',
  clientId: 'client.id',
  clientSecret: 'client.secret',
} as const;

const DEFAULT_TIMEOUT_MS = 10_000;

export interface AzureKmsOptions {
  /** Used when a KEK's props carry no client secret. Default: DefaultAzureCredential. */
  credential?: TokenCredential;
  /** Builds the credential for KEKs whose props carry tenant.id/client.id/client.secret. Default: ClientSecretCredential. */
  clientSecretCredential?: (tenantId: string, clientId: string, clientSecret: string) => TokenCredential;
  /** Extra CryptographyClient options (e.g. an httpClient in tests). Retries are always off. */
  clientOptions?: CryptographyClientOptions;
  /** Timeout of one operation, token acquisition included. Default 10 s. */
  requestTimeoutMs?: number;
}

type KeysModule = typeof import('@azure/keyvault-keys');
type IdentityModule = typeof import('@azure/identity');
let keysModule: Promise<KeysModule> | undefined;
let identityModule: Promise<IdentityModule> | undefined;
const loadKeys = (): Promise<KeysModule> => (keysModule ??= import('@azure/keyvault-keys'));
const loadIdentity = (): Promise<IdentityModule> => (identityModule ??= import('@azure/identity'));

export class AzureKmsDriver implements KmsDriver {
  readonly kmsType = AZURE_KMS_TYPE;
  readonly #options: AzureKmsOptions;
  readonly #timeoutMs: number;
  #defaultCredential: Promise<TokenCredential> | undefined;
  readonly #credentials = new Map<string, Promise<TokenCredential>>();
  readonly #clients = new ClientCache<CryptographyClient>();

  constructor(options: AzureKmsOptions = {}) {
    this.#options = options;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async wrap(kmsKeyId: string, plaintext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const client = await this.#client(kmsKeyId, props, 'wrap');
    let out: Awaited<ReturnType<CryptographyClient['encrypt']>>;
    try {
      out = await client.encrypt({ algorithm: AZURE_ALGORITHM, plaintext }, { abortSignal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (err) {
      throw mapAzureError(err, 'wrap', kmsKeyId);
    }
    if (!keyVersionSaveEnabled(prop(props, AZURE_KEY_VERSION_SAVE))) return out.result;
    // A pinned key id names its version; a versionless one is resolved by Key Vault, which reports the
    // version it used as the result's key id (Confluent's drivers resolve the same latest version).
    const version = parseAzureKeyId(kmsKeyId).version ?? versionOfKid(out.keyID);
    if (version === undefined || !isPrefixableVersion(version)) {
      throw kmsError('KMS_CONFIG', AZURE_KMS_TYPE, 'wrap', kmsKeyId, `${AZURE_KEY_VERSION_SAVE} needs a 32-hex-character key version for the azure:v1: prefix`);
    }
    return withKeyVersion(version, out.result);
  }

  /** Unwraps with the key version an `azure:v1:` prefix records, else with the key id as given. */
  async unwrap(kmsKeyId: string, wrapped: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const split = splitKeyVersion(wrapped);
    if (split.kind === 'bad-version') {
      throw kmsError('KMS_UNWRAP_FAILED', AZURE_KMS_TYPE, 'unwrap', kmsKeyId, 'the azure:v1: prefix of the wrapped DEK carries an invalid key version');
    }
    const target = split.kind === 'versioned' ? withVersion(kmsKeyId, split.version) : kmsKeyId;
    const client = await this.#client(target, props, 'unwrap');
    try {
      const out = await client.decrypt({ algorithm: AZURE_ALGORITHM, ciphertext: split.ciphertext }, { abortSignal: AbortSignal.timeout(this.#timeoutMs) });
      return out.result;
    } catch (err) {
      throw mapAzureError(err, 'unwrap', target);
    }
  }

  async #client(kmsKeyId: string, props: KmsProps, operation: KmsOperation): Promise<CryptographyClient> {
    parseAzureKeyId(kmsKeyId, operation);
    const tenantId = prop(props, AZURE_KMS_PROPS.tenantId);
    const clientId = prop(props, AZURE_KMS_PROPS.clientId);
    const clientSecret = prop(props, AZURE_KMS_PROPS.clientSecret);
    const explicit = tenantId !== undefined && clientId !== undefined && clientSecret !== undefined;
    const identity = explicit ? JSON.stringify([tenantId, clientId, fingerprint(clientSecret)]) : 'default';
    const cacheKey = JSON.stringify([kmsKeyId, identity]);
    const client = this.#clients.get(cacheKey, () => {
      const credential = explicit ? this.#secretCredential(identity, tenantId, clientId, clientSecret) : this.#fallbackCredential();
      return credential.then(async (cred) => {
        const { CryptographyClient: Client } = await loadKeys();
        return new Client(kmsKeyId, cred, { ...this.#options.clientOptions, retryOptions: { maxRetries: 0 } });
      });
    });
    try {
      return await client;
    } catch (err) {
      throw mapAzureError(err, operation, kmsKeyId);
    }
  }

  #secretCredential(identity: string, tenantId: string, clientId: string, clientSecret: string): Promise<TokenCredential> {
    let credential = this.#credentials.get(identity);
    if (credential === undefined) {
      const factory = this.#options.clientSecretCredential;
      credential =
        factory !== undefined
          ? Promise.resolve(factory(tenantId, clientId, clientSecret))
          : loadIdentity().then(({ ClientSecretCredential }) => new ClientSecretCredential(tenantId, clientId, clientSecret));
      this.#credentials.set(identity, credential);
    }
    return credential;
  }

  #fallbackCredential(): Promise<TokenCredential> {
    if (this.#options.credential !== undefined) return Promise.resolve(this.#options.credential);
    return (this.#defaultCredential ??= loadIdentity().then(({ DefaultAzureCredential }) => new DefaultAzureCredential()));
  }
}

/** Checks `https://host/keys/<name>[/<version>]`; KMS_CONFIG otherwise. */
export function parseAzureKeyId(kmsKeyId: string, operation: KmsOperation = 'wrap'): { vaultUrl: string; name: string; version?: string } {
  let url: URL;
  try {
    url = new URL(kmsKeyId);
  } catch {
    throw badKeyId(kmsKeyId, operation);
  }
  const match = /^\/keys\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (url.protocol !== 'https:' || match === null || url.search !== '' || url.username !== '') throw badKeyId(kmsKeyId, operation);
  return { vaultUrl: url.origin, name: match[1]!, ...(match[2] === undefined ? {} : { version: match[2] }) };
}

/** The key id with its version replaced (or added): where an `azure:v1:` prefix sends an unwrap. */
function withVersion(kmsKeyId: string, version: string): string {
  const { vaultUrl, name } = parseAzureKeyId(kmsKeyId, 'unwrap');
  return `${vaultUrl}/keys/${name}/${version}`;
}

/** The version segment of a Key Vault key id (`kid`), if it has one. */
function versionOfKid(kid: string | undefined): string | undefined {
  if (kid === undefined) return undefined;
  try {
    return parseAzureKeyId(kid).version;
  } catch {
    return undefined;
  }
}

function badKeyId(kmsKeyId: string, operation: KmsOperation): RecryptError {
  return kmsError('KMS_CONFIG', AZURE_KMS_TYPE, operation, kmsKeyId, 'the key id must look like https://<vault>.vault.azure.net/keys/<name>/<version>');
}

const REASONS: Readonly<Partial<Record<ErrorCode, string>>> = {
  KMS_ACCESS_DENIED: 'access denied',
  KMS_KEY_NOT_FOUND: 'key not found',
  KMS_KEY_DISABLED: 'key disabled, expired or not yet valid',
  KMS_UNWRAP_FAILED: 'ciphertext rejected',
  KMS_CONFIG: 'request rejected or credentials missing',
  KMS_UNAVAILABLE: 'Key Vault unavailable',
};

/** Maps an Azure SDK / identity / network error. Reads Key Vault's message only to classify it. */
export function mapAzureError(err: unknown, operation: KmsOperation, kmsKeyId: string): RecryptError {
  if (err instanceof RecryptError) return err;
  const name = stringProp(err, 'name') ?? 'Error';
  const providerCode = stringProp(err, 'code');
  const status = numberProp(err, 'statusCode');
  const message = (stringProp(err, 'message') ?? '').toLowerCase();
  let code: ErrorCode;
  if (name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError') code = 'KMS_CONFIG';
  else if (name === 'AuthenticationError' || name === 'AuthenticationRequiredError') {
    code = status === undefined || isTransientStatus(status) ? 'KMS_UNAVAILABLE' : 'KMS_ACCESS_DENIED';
  } else if ((status === 401 || status === 403) && (providerCode === 'KeyDisabled' || message.includes('disabled'))) code = 'KMS_KEY_DISABLED';
  else if (status === 401 || status === 403) code = 'KMS_ACCESS_DENIED';
  else if (status === 404 || providerCode === 'KeyNotFound') code = 'KMS_KEY_NOT_FOUND';
  else if (isTransientStatus(status)) code = 'KMS_UNAVAILABLE';
  else if (status !== undefined && status >= 400) code = refusedCode(operation);
  else if (isNetworkFailure(err) || providerCode === 'REQUEST_SEND_ERROR') code = 'KMS_UNAVAILABLE';
  // CryptographyClient's own checks before any request (key expiry, not-before, key operations).
  else if (/can't be used before|expired at/.test(message)) code = 'KMS_KEY_DISABLED';
  else code = 'KMS_CONFIG';
  const label = safeToken(providerCode ?? name);
  const reason = `${REASONS[code] ?? 'failed'} (${label}${status === undefined ? '' : `, HTTP ${status}`})`;
  return kmsError(code, AZURE_KMS_TYPE, operation, kmsKeyId, reason, { name: label, ...(status === undefined ? {} : { status }) });
}

function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}
