/**
 * gcp-kms: Google Cloud KMS Encrypt/Decrypt through @google-cloud/kms, no additional authenticated
 * data, as Confluent's gcpkms driver calls them. Key id:
 * `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`.
 *
 * Credentials: kmsProps `client.id` + `client.email` + `private.key.id` + `private.key` (and optional
 * `account.type`, default `service_account`), Confluent's names, build a service account credential;
 * otherwise Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, Workload Identity,
 * metadata server).
 *
 * Transport: gRPC by default; prop `fallback` or env GCP_KMS_FALLBACK (`true` or `rest`) selects the
 * client's HTTP/1.1 REST fallback. Endpoint override: prop `endpoint` or env GCP_KMS_ENDPOINT, as
 * `host[:port]` or `https://host[:port]` or `http://host:port` (plain HTTP implies the REST fallback;
 * it exists for emulators and tests). The client's own retries are off (retry decorator).
 *
 * Errors (gRPC status, also what the REST fallback reports): PERMISSION_DENIED/UNAUTHENTICATED
 * KMS_ACCESS_DENIED; NOT_FOUND KMS_KEY_NOT_FOUND; FAILED_PRECONDITION (key version disabled or
 * destroyed) KMS_KEY_DISABLED; INVALID_ARGUMENT on decrypt KMS_UNWRAP_FAILED; UNAVAILABLE,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, ABORTED, network errors KMS_UNAVAILABLE.
 */
import { createHash } from 'node:crypto';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { RecryptError, type ErrorCode } from '../util/errors.js';
import type { KmsDriver, KmsProps } from './kms-driver.js';
import { isNetworkFailure, isTransientStatus, kmsError, numberProp, refusedCode, stringProp, type KmsOperation } from './kms-error.js';
import { envSetting, prop, setting, truthy, type Env } from './settings.js';
import { ClientCache } from './client-cache.js';

export const GCP_KMS_TYPE = 'gcp-kms';

/** kmsProps names: Confluent's credential props, plus recrypt's `endpoint` and `fallback`. */
export const GCP_KMS_PROPS = {
  accountType: 'account.type',
  clientId: 'client.id',
  clientEmail: 'client.email',
  privateKeyId: 'private.key.id',
  privateKey: 'private.key',
  endpoint: 'endpoint',
  fallback: 'fallback',
} as const;

const DEFAULT_TIMEOUT_MS = 10_000;
const KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/** The part of the client the driver uses. */
export type GcpKmsClientLike = Pick<KeyManagementServiceClient, 'encrypt' | 'decrypt'>;
type ClientOptions = NonNullable<ConstructorParameters<typeof KeyManagementServiceClient>[0]>;

export interface GcpKmsOptions {
  /** Endpoint override (see file comment); a prop or GCP_KMS_ENDPOINT wins over it. */
  endpoint?: string;
  /** Use the REST fallback; a prop or GCP_KMS_FALLBACK wins over it. */
  fallback?: boolean;
  /** Extra client options, e.g. an `authClient` in tests. */
  clientOptions?: ClientOptions;
  /** Timeout of one call. Default 10 s. */
  requestTimeoutMs?: number;
  /** Where GCP_KMS_* variables are read; defaults to process.env. */
  env?: Env;
}

type KmsModule = typeof import('@google-cloud/kms');
let kmsModule: Promise<KmsModule> | undefined;
const loadKms = (): Promise<KmsModule> => (kmsModule ??= import('@google-cloud/kms'));

export class GcpKmsDriver implements KmsDriver {
  readonly kmsType = GCP_KMS_TYPE;
  readonly #options: GcpKmsOptions;
  readonly #env: Env;
  readonly #timeoutMs: number;
  readonly #clients = new ClientCache<GcpKmsClientLike>();

  constructor(options: GcpKmsOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async wrap(kmsKeyId: string, plaintext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const client = await this.#client(kmsKeyId, props, 'wrap');
    try {
      const [out] = await client.encrypt({ name: kmsKeyId, plaintext }, { timeout: this.#timeoutMs, retry: null });
      return bytes(out.ciphertext, 'wrap', kmsKeyId);
    } catch (err) {
      throw mapGcpError(err, 'wrap', kmsKeyId);
    }
  }

  async unwrap(kmsKeyId: string, ciphertext: Uint8Array, props: KmsProps): Promise<Uint8Array> {
    const client = await this.#client(kmsKeyId, props, 'unwrap');
    try {
      const [out] = await client.decrypt({ name: kmsKeyId, ciphertext }, { timeout: this.#timeoutMs, retry: null });
      return bytes(out.plaintext, 'unwrap', kmsKeyId);
    } catch (err) {
      throw mapGcpError(err, 'unwrap', kmsKeyId);
    }
  }

  async #client(kmsKeyId: string, props: KmsProps, operation: KmsOperation): Promise<GcpKmsClientLike> {
    if (!KEY_NAME.test(kmsKeyId)) {
      throw kmsError('KMS_CONFIG', GCP_KMS_TYPE, operation, kmsKeyId, 'the key id must look like projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>');
    }
    const transport = this.#transport(props, kmsKeyId, operation);
    const credentials = credentialsFrom(props);
    const identity = credentials === undefined ? 'adc' : [credentials.client_email, credentials.private_key_id, fingerprint(credentials.private_key)];
    const cacheKey = JSON.stringify([transport, identity]);
    const client = this.#clients.get(cacheKey, () => loadKms().then(({ KeyManagementServiceClient: Client }) => {
      const opts: ClientOptions = { ...this.#options.clientOptions, ...transport };
      if (credentials !== undefined) opts.credentials = credentials;
      return new Client(opts);
    }));
    try {
      return await client;
    } catch (err) {
      throw mapGcpError(err, operation, kmsKeyId);
    }
  }

  #transport(props: KmsProps, kmsKeyId: string, operation: KmsOperation): { fallback?: boolean; apiEndpoint?: string; port?: number; protocol?: string } {
    const fallbackSetting = setting(props, [GCP_KMS_PROPS.fallback], this.#env, ['GCP_KMS_FALLBACK']);
    let fallback = fallbackSetting === undefined ? this.#options.fallback === true : truthy(fallbackSetting) || fallbackSetting.trim().toLowerCase() === 'rest';
    const endpoint = prop(props, GCP_KMS_PROPS.endpoint) ?? envSetting(this.#env, 'GCP_KMS_ENDPOINT') ?? this.#options.endpoint;
    if (endpoint === undefined) return fallback ? { fallback } : {};
    const parsed = /^(?:(https?):\/\/)?([^/:]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(endpoint.trim());
    if (parsed === null) {
      throw kmsError('KMS_CONFIG', GCP_KMS_TYPE, operation, kmsKeyId, 'the GCP KMS endpoint must be host[:port] or http(s)://host[:port]');
    }
    const [, scheme, host, port] = parsed;
    if (scheme === 'http') fallback = true;
    return {
      ...(fallback ? { fallback } : {}),
      apiEndpoint: host!,
      ...(port === undefined ? {} : { port: Number(port) }),
      ...(scheme === undefined ? {} : { protocol: scheme }),
    };
  }
}

interface ServiceAccountCredentials {
  type: string;
  client_id: string;
  client_email: string;
  private_key_id: string;
  private_key: string;
}

function credentialsFrom(props: KmsProps): ServiceAccountCredentials | undefined {
  const clientId = prop(props, GCP_KMS_PROPS.clientId);
  const clientEmail = prop(props, GCP_KMS_PROPS.clientEmail);
  const privateKeyId = prop(props, GCP_KMS_PROPS.privateKeyId);
  const privateKey = prop(props, GCP_KMS_PROPS.privateKey);
  if (clientId === undefined || clientEmail === undefined || privateKeyId === undefined || privateKey === undefined) return undefined;
  return {
    type: prop(props, GCP_KMS_PROPS.accountType) ?? 'service_account',
    client_id: clientId,
    client_email: clientEmail,
    private_key_id: privateKeyId,
    // PEM keys often travel through env/JSON with escaped newlines.
    private_key: privateKey.includes('\\n') ? privateKey.replace(/\\n/g, '\n') : privateKey,
  };
}

function bytes(value: Uint8Array | string | null | undefined, operation: KmsOperation, kmsKeyId: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  throw kmsError('KMS_UNAVAILABLE', GCP_KMS_TYPE, operation, kmsKeyId, 'Cloud KMS answered without a result');
}

/** gRPC status codes (google.rpc.Code). */
const GRPC: Readonly<Record<number, [string, ErrorCode | 'refused']>> = {
  1: ['CANCELLED', 'KMS_UNAVAILABLE'],
  2: ['UNKNOWN', 'KMS_UNAVAILABLE'],
  3: ['INVALID_ARGUMENT', 'refused'],
  4: ['DEADLINE_EXCEEDED', 'KMS_UNAVAILABLE'],
  5: ['NOT_FOUND', 'KMS_KEY_NOT_FOUND'],
  6: ['ALREADY_EXISTS', 'refused'],
  7: ['PERMISSION_DENIED', 'KMS_ACCESS_DENIED'],
  8: ['RESOURCE_EXHAUSTED', 'KMS_UNAVAILABLE'],
  9: ['FAILED_PRECONDITION', 'KMS_KEY_DISABLED'],
  10: ['ABORTED', 'KMS_UNAVAILABLE'],
  11: ['OUT_OF_RANGE', 'refused'],
  12: ['UNIMPLEMENTED', 'KMS_CONFIG'],
  13: ['INTERNAL', 'KMS_UNAVAILABLE'],
  14: ['UNAVAILABLE', 'KMS_UNAVAILABLE'],
  15: ['DATA_LOSS', 'KMS_UNAVAILABLE'],
  16: ['UNAUTHENTICATED', 'KMS_ACCESS_DENIED'],
};
const REASONS: Readonly<Partial<Record<ErrorCode, string>>> = {
  KMS_ACCESS_DENIED: 'access denied',
  KMS_KEY_NOT_FOUND: 'key not found',
  KMS_KEY_DISABLED: 'key version disabled or destroyed',
  KMS_UNWRAP_FAILED: 'ciphertext rejected',
  KMS_CONFIG: 'request rejected or credentials missing',
  KMS_UNAVAILABLE: 'Cloud KMS unavailable',
};

/** Maps a google-gax / auth / network error to the RecryptError the driver throws. */
export function mapGcpError(err: unknown, operation: KmsOperation, kmsKeyId: string): RecryptError {
  if (err instanceof RecryptError) return err;
  const grpcCode = numberProp(err, 'code');
  const httpStatus = numberProp(err, 'status') ?? numberProp(err, 'response', 'status');
  let code: ErrorCode;
  let label: string;
  const known = grpcCode === undefined ? undefined : GRPC[grpcCode];
  if (known !== undefined) {
    label = known[0];
    code = known[1] === 'refused' ? refusedCode(operation) : known[1];
  } else if (isNetworkFailure(err)) {
    [label, code] = [stringProp(err, 'code') ?? stringProp(err, 'name') ?? 'network', 'KMS_UNAVAILABLE'];
  } else if (httpStatus !== undefined) {
    label = `HTTP ${httpStatus}`;
    code = isTransientStatus(httpStatus) ? 'KMS_UNAVAILABLE' : httpStatus === 401 || httpStatus === 403 ? 'KMS_ACCESS_DENIED' : httpStatus === 404 ? 'KMS_KEY_NOT_FOUND' : refusedCode(operation);
  } else if (/could not load the default credentials|no authentication was provided/i.test(stringProp(err, 'message') ?? '')) {
    [label, code] = ['credentials', 'KMS_CONFIG'];
  } else {
    [label, code] = [stringProp(err, 'name') ?? 'Error', 'KMS_CONFIG'];
  }
  const reason = `${REASONS[code] ?? 'failed'} (${label})`;
  return kmsError(code, GCP_KMS_TYPE, operation, kmsKeyId, reason, { name: label, ...(httpStatus === undefined ? {} : { status: httpStatus }) });
}

function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}
