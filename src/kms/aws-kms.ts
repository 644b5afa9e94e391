/**
 * aws-kms: AWS KMS Encrypt/Decrypt, no encryption context, as every Confluent client does. The key id
 * is a key or alias ARN, `arn:aws:kms:<region>:<account>:key/<id>` or `...:alias/<name>`; the region
 * comes from the ARN. Decrypt passes the KeyId too, so a ciphertext is only ever decrypted by the KEK
 * the DEK registry names.
 *
 * Credentials (Confluent's kmsProps names): `access.key.id` + `secret.access.key`, else `profile`
 * (shared config files); `role.arn` (or env AWS_ROLE_ARN when no web identity token file is set)
 * assumes that role through STS with `role.session.name` / `role.external.id` (or env
 * AWS_ROLE_SESSION_NAME / AWS_ROLE_EXTERNAL_ID) on top of those; with none of them the SDK's default
 * chain (env, files, IRSA web identity, container and instance metadata). The endpoint comes from the
 * SDK itself (AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL) unless the driver is given one.
 *
 * The SDK's own retries are off (maxAttempts 1): retries live in one place, the retry decorator.
 */
import { createHash } from 'node:crypto';
import type { KMSClient, KMSClientConfig } from '@aws-sdk/client-kms';
import type { KmsDriver, KmsProps } from './kms-driver.js';
import {
  isNetworkFailure,
  isTransientStatus,
  kmsError,
  numberProp,
  refusedCode,
  stringProp,
  type KmsOperation,
} from './kms-error.js';
import { prop, type Env } from './settings.js';
import { RecryptError, type ErrorCode } from '../util/errors.js';
import { ClientCache } from './client-cache.js';

export const AWS_KMS_TYPE = 'aws-kms';

/** kmsProps names, as Confluent's AwsKmsDriver reads them. */
export const AWS_KMS_PROPS = {
  accessKeyId: 'access.key.id',
  secretAccessKey: 'secret.access.key',
  profile: 'profile',
  roleArn: 'role.arn',
  roleSessionName: 'role.session.name',
  roleExternalId: 'role.external.id',
} as const;

const DEFAULT_SESSION_NAME = 'confluent-encrypt';
const DEFAULT_TIMEOUT_MS = 10_000;

/** The part of KMSClient the driver uses (so tests can inject a stub). */
export type AwsKmsClientLike = Pick<KMSClient, 'send'>;

export interface AwsKmsOptions {
  /** Endpoint override (e.g. a test server). Default: the SDK's (AWS_ENDPOINT_URL_KMS, else AWS). */
  endpoint?: string;
  /** Timeout of one request, connection included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Where AWS_ROLE_ARN and friends are read; defaults to process.env. */
  env?: Env;
  /** Builds the SDK client; injectable for tests. */
  clientFactory?: (config: KMSClientConfig) => AwsKmsClientLike | Promise<AwsKmsClientLike>;
}

type AwsCredentials = NonNullable<KMSClientConfig['credentials']>;

interface ParsedArn {
  readonly region: string;
}

type SdkModule = typeof import('@aws-sdk/client-kms');
let sdkModule: Promise<SdkModule> | undefined;
const loadSdk = (): Promise<SdkModule> => (sdkModule ??= import('@aws-sdk/client-kms'));

export class AwsKmsDriver implements KmsDriver {
  readonly kmsType = AWS_KMS_TYPE;
  readonly #options: AwsKmsOptions;
  readonly #env: Env;
  /** Clients by (region, credential identity, endpoint). Values are promises so concurrent first calls share one. */
  readonly #clients = new ClientCache<AwsKmsClientLike>();

  constructor(options: AwsKmsOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? process.env;
  }

  async wrap(kmsKeyId: string, plaintext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const client = await this.#client(kmsKeyId, props, 'wrap');
    const { EncryptCommand } = await loadSdk();
    try {
      const out = await client.send(new EncryptCommand({ KeyId: kmsKeyId, Plaintext: plaintext }), { abortSignal: this.#deadline() });
      if (out.CiphertextBlob === undefined) throw missing('wrap', kmsKeyId);
      return out.CiphertextBlob;
    } catch (err) {
      throw mapAwsError(err, 'wrap', kmsKeyId);
    }
  }

  async unwrap(kmsKeyId: string, ciphertext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const client = await this.#client(kmsKeyId, props, 'unwrap');
    const { DecryptCommand } = await loadSdk();
    try {
      const out = await client.send(new DecryptCommand({ KeyId: kmsKeyId, CiphertextBlob: ciphertext }), { abortSignal: this.#deadline() });
      if (out.Plaintext === undefined) throw missing('unwrap', kmsKeyId);
      return out.Plaintext;
    } catch (err) {
      throw mapAwsError(err, 'unwrap', kmsKeyId);
    }
  }

  #client(kmsKeyId: string, props: KmsProps, operation: KmsOperation): Promise<AwsKmsClientLike> {
    const { region } = parseAwsKeyArn(kmsKeyId, operation);
    const auth = this.#auth(props);
    const endpoint = this.#options.endpoint ?? this.#env['AWS_ENDPOINT_URL_KMS'] ?? this.#env['AWS_ENDPOINT_URL'] ?? '';
    const cacheKey = JSON.stringify([region, endpoint, auth.identity]);
    return this.#clients.get(cacheKey, () => this.#newClient(region, auth));
  }

  /**
   * The SDK's requestTimeout only logs a warning by default and leaves the call hanging; a KMS that
   * does not answer must fail (transiently) instead, so every call also carries an abort deadline.
   */
  #deadline(): AbortSignal {
    return AbortSignal.timeout(this.#options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  async #newClient(region: string, auth: AuthPlan): Promise<AwsKmsClientLike> {
    const timeout = this.#options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const config: KMSClientConfig = {
      region,
      maxAttempts: 1,
      requestHandler: { requestTimeout: timeout, connectionTimeout: timeout, throwOnRequestTimeout: true },
      ...(this.#options.endpoint === undefined ? {} : { endpoint: this.#options.endpoint }),
    };
    const credentials = await auth.credentials(region);
    if (credentials !== undefined) config.credentials = credentials;
    if (this.#options.clientFactory !== undefined) return this.#options.clientFactory(config);
    const { KMSClient: Client } = await loadSdk();
    return new Client(config);
  }

  /** Decides how to authenticate; `identity` is a cache key that holds no secret. */
  #auth(props: KmsProps): AuthPlan {
    const accessKeyId = prop(props, AWS_KMS_PROPS.accessKeyId);
    const secretAccessKey = prop(props, AWS_KMS_PROPS.secretAccessKey);
    const profile = prop(props, AWS_KMS_PROPS.profile);
    const roleArn = prop(props, AWS_KMS_PROPS.roleArn) ?? nonEmpty(this.#env['AWS_ROLE_ARN']);
    const sessionName = prop(props, AWS_KMS_PROPS.roleSessionName) ?? nonEmpty(this.#env['AWS_ROLE_SESSION_NAME']);
    const externalId = prop(props, AWS_KMS_PROPS.roleExternalId) ?? nonEmpty(this.#env['AWS_ROLE_EXTERNAL_ID']);
    // With a web identity token file the default chain already assumes AWS_ROLE_ARN (IRSA).
    const assumeRole = roleArn !== undefined && (prop(props, AWS_KMS_PROPS.roleArn) !== undefined || !nonEmpty(this.#env['AWS_WEB_IDENTITY_TOKEN_FILE']));

    let base: { identity: unknown[]; provider?: () => Promise<AwsCredentials> };
    if (accessKeyId !== undefined && secretAccessKey !== undefined) {
      const staticCreds = { accessKeyId, secretAccessKey };
      base = { identity: ['static', accessKeyId, fingerprint(secretAccessKey)], provider: async () => staticCreds };
    } else if (profile !== undefined) {
      base = {
        identity: ['profile', profile],
        provider: async () => (await import('@aws-sdk/credential-providers')).fromIni({ profile }),
      };
    } else {
      base = { identity: ['default'] };
    }
    if (!assumeRole) {
      return { identity: base.identity, credentials: async () => (base.provider === undefined ? undefined : base.provider()) };
    }
    return {
      identity: [...base.identity, 'role', roleArn, sessionName ?? DEFAULT_SESSION_NAME, externalId ?? ''],
      credentials: async (region) => {
        const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
        const master = base.provider === undefined ? undefined : await base.provider();
        return fromTemporaryCredentials({
          ...(master === undefined ? {} : { masterCredentials: master }),
          params: {
            RoleArn: roleArn,
            RoleSessionName: sessionName ?? DEFAULT_SESSION_NAME,
            ...(externalId === undefined ? {} : { ExternalId: externalId }),
          },
          clientConfig: { region },
        });
      },
    };
  }
}

interface AuthPlan {
  readonly identity: unknown[];
  credentials(region: string): Promise<AwsCredentials | undefined>;
}

/** Region from a key or alias ARN; KMS_CONFIG for anything else. */
export function parseAwsKeyArn(kmsKeyId: string, operation: KmsOperation = 'wrap'): ParsedArn {
  const parts = kmsKeyId.split(':');
  const resource = parts.slice(5).join(':');
  if (
    parts.length < 6 ||
    parts[0] !== 'arn' ||
    parts[2] !== 'kms' ||
    !parts[1] ||
    !parts[3] ||
    !(resource.startsWith('key/') || resource.startsWith('alias/')) ||
    resource.endsWith('/')
  ) {
    throw kmsError('KMS_CONFIG', AWS_KMS_TYPE, operation, kmsKeyId, 'the key id must be a key or alias ARN (arn:aws:kms:<region>:<account>:key/<id>)');
  }
  return { region: parts[3] };
}

const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'ExpiredToken',
  'SignatureDoesNotMatch',
]);
const BY_NAME: Readonly<Record<string, ErrorCode>> = {
  NotFoundException: 'KMS_KEY_NOT_FOUND',
  DisabledException: 'KMS_KEY_DISABLED',
  KMSInvalidStateException: 'KMS_KEY_DISABLED',
  InvalidCiphertextException: 'KMS_UNWRAP_FAILED',
  IncorrectKeyException: 'KMS_UNWRAP_FAILED',
  InvalidKeyUsageException: 'KMS_CONFIG',
  CredentialsProviderError: 'KMS_CONFIG',
  ThrottlingException: 'KMS_UNAVAILABLE',
  TooManyRequestsException: 'KMS_UNAVAILABLE',
  RequestLimitExceeded: 'KMS_UNAVAILABLE',
  KMSInternalException: 'KMS_UNAVAILABLE',
  KeyUnavailableException: 'KMS_UNAVAILABLE',
  DependencyTimeoutException: 'KMS_UNAVAILABLE',
  ServiceUnavailable: 'KMS_UNAVAILABLE',
  ServiceUnavailableException: 'KMS_UNAVAILABLE',
  InternalFailure: 'KMS_UNAVAILABLE',
  RequestTimeout: 'KMS_UNAVAILABLE',
  RequestTimeoutException: 'KMS_UNAVAILABLE',
};
const REASONS: Readonly<Partial<Record<ErrorCode, string>>> = {
  KMS_ACCESS_DENIED: 'access denied',
  KMS_KEY_NOT_FOUND: 'key not found',
  KMS_KEY_DISABLED: 'key disabled or not in a usable state',
  KMS_UNWRAP_FAILED: 'ciphertext rejected',
  KMS_CONFIG: 'request rejected',
  KMS_UNAVAILABLE: 'KMS unavailable',
};

/** Maps an AWS SDK (or network) error to the RecryptError the driver throws. */
export function mapAwsError(err: unknown, operation: KmsOperation, kmsKeyId: string): RecryptError {
  if (err instanceof RecryptError) return err;
  const name = stringProp(err, 'name') ?? 'Error';
  const status = numberProp(err, '$metadata', 'httpStatusCode') ?? numberProp(err, '$response', 'statusCode');
  let code: ErrorCode;
  if (DENIED.has(name)) code = 'KMS_ACCESS_DENIED';
  else if (BY_NAME[name] !== undefined) code = BY_NAME[name];
  else if (isNetworkFailure(err)) code = 'KMS_UNAVAILABLE';
  else if (isTransientStatus(status) || stringProp(err, '$fault') === 'server') code = 'KMS_UNAVAILABLE';
  else if (status === 401 || status === 403) code = 'KMS_ACCESS_DENIED';
  else if (status !== undefined && status >= 400) code = refusedCode(operation);
  else code = 'KMS_CONFIG';
  const reason = `${REASONS[code] ?? 'failed'} (${name}${status === undefined ? '' : `, HTTP ${status}`})`;
  return kmsError(code, AWS_KMS_TYPE, operation, kmsKeyId, reason, { name, ...(status === undefined ? {} : { status }) });
}

function missing(operation: KmsOperation, kmsKeyId: string): RecryptError {
  return kmsError('KMS_UNAVAILABLE', AWS_KMS_TYPE, operation, kmsKeyId, 'KMS answered without a result');
}

function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
