/**
 * Every error recrypt raises is a RecryptError with a code from this closed set. The code says what
 * went wrong; `transient` says whether retrying the same work later can help (KMS, registry or broker
 * unreachable) or not (bad bytes, tampered ciphertext, missing key). Messages never carry record
 * values, keys, DEKs, KMS plaintext or secrets: callers pass names, ids and offsets only.
 * Every code is raised somewhere in src/ and has a row in docs/operations.md ("Error codes");
 * test/unit/util/error-codes.test.ts checks both, so a code is added or removed here and there together.
 */

export const ERROR_CODES = {
  // wire/
  WIRE_TRUNCATED: { transient: false, doc: 'payload shorter than its framing requires' },
  WIRE_UNKNOWN_MAGIC: { transient: false, doc: 'first byte is not a known Confluent magic byte' },
  WIRE_BAD_INDEXES: { transient: false, doc: 'protobuf message indexes are malformed' },
  WIRE_BAD_HEADER: { transient: false, doc: 'schema id header is malformed' },
  // formats/
  FORMAT_DECODE: { transient: false, doc: 'payload does not decode with its writer schema' },
  FORMAT_ENCODE: { transient: false, doc: 'value does not encode with the target schema' },
  FORMAT_SCHEMA: { transient: false, doc: 'schema text is invalid or unsupported' },
  FORMAT_RESOLUTION: { transient: false, doc: 'writer schema cannot be resolved to the target schema' },
  // rules/
  RULE_INVALID: { transient: false, doc: 'rule or rule set is invalid (bad mode, action or params)' },
  RULE_UNSUPPORTED_FIELD_TYPE: { transient: false, doc: 'a tagged field is neither string nor bytes' },
  RULE_CONDITION_FAILED: { transient: false, doc: 'a CEL or CEL_FIELD condition was false for the record' },
  RULE_EXPRESSION_FAILED: { transient: false, doc: 'a CEL or CEL_FIELD expression or a JSONata migration did not evaluate on the record, or its result does not fit the field or the target schema' },
  // crypto/
  CRYPTO_BAD_KEY: { transient: false, doc: 'DEK material has the wrong size or proto layout' },
  CRYPTO_DECRYPT: { transient: false, doc: 'ciphertext failed authentication (tampered or wrong key)' },
  CRYPTO_BAD_CIPHERTEXT: { transient: false, doc: 'ciphertext is too short, not base64, or lacks its version prefix' },
  CRYPTO_UNKNOWN_ALGORITHM: { transient: false, doc: 'DEK algorithm is not one of AES128_GCM, AES256_GCM, AES256_SIV' },
  // kms/
  KMS_UNAVAILABLE: { transient: true, doc: 'KMS unreachable, throttled, timed out or returned 5xx' },
  KMS_ACCESS_DENIED: { transient: false, doc: 'KMS refused the caller' },
  KMS_KEY_NOT_FOUND: { transient: false, doc: 'KMS key does not exist' },
  KMS_KEY_DISABLED: { transient: false, doc: 'KMS key is disabled or pending deletion' },
  KMS_UNWRAP_FAILED: { transient: false, doc: 'KMS could not decrypt the wrapped DEK' },
  KMS_UNSUPPORTED_TYPE: { transient: false, doc: 'no driver for this kms type' },
  KMS_CONFIG: { transient: false, doc: 'KMS driver configuration is missing or invalid' },
  // registry/
  REGISTRY_UNAVAILABLE: { transient: true, doc: 'registry unreachable, timed out or returned 5xx' },
  REGISTRY_NOT_FOUND: { transient: false, doc: 'subject, version, schema, KEK or DEK not found' },
  REGISTRY_CONFLICT: { transient: false, doc: 'resource already exists (409)' },
  REGISTRY_INVALID: { transient: false, doc: 'registry rejected the request (4xx)' },
  REGISTRY_AUTH: { transient: false, doc: 'registry refused the credentials (401/403) or its TLS certificate is not trusted' },
  // keys/
  KEK_MISMATCH: { transient: false, doc: 'registered KEK differs from the rule (kms type or key id)' },
  KEK_NOT_FOUND: { transient: false, doc: 'KEK not registered and the rule cannot create it' },
  DEK_NOT_FOUND: { transient: false, doc: 'DEK version referenced by a ciphertext does not exist' },
  JOIN_GROUP_DIVERGED: { transient: false, doc: 'a subject of a join group holds a DEK whose key material differs from the group anchor\'s' },
  // engine/
  ENGINE_UNKNOWN_SCHEMA: { transient: false, doc: 'schema id or GUID not found in the registry' },
  ENGINE_WORKER: { transient: true, doc: 'an engine worker thread (`processing.workers`) failed or exited; the pool replaces it and the batch is retried' },
  // dlq/
  DLQ_PLAINTEXT_BLOCKED: { transient: false, doc: 'the DLQ guard found tagged plaintext in an outgoing DLQ record' },
  DLQ_BUILD_FAILED: { transient: false, doc: 'the DLQ record could not be redacted or encrypted' },
  DLQ_STORM: { transient: false, doc: 'more than dlq.maxRatio of the last dlq.window records went to the DLQ: halted' },
  // jobs/ and config
  JOB_INVALID: { transient: false, doc: 'job definition is invalid' },
  JOB_UNSAFE: { transient: false, doc: 'job would let plaintext out (refused by policy)' },
  CONFIG_INVALID: { transient: false, doc: 'service configuration is invalid' },
  // kafka/ and backfill/
  KAFKA_UNAVAILABLE: { transient: true, doc: 'broker unreachable or request timed out' },
  KAFKA_AUTH: { transient: false, doc: 'broker refused the SASL credentials or its TLS certificate is not trusted' },
  KAFKA_FENCED: { transient: false, doc: 'producer fenced by a newer instance with the same transactional id' },
  KAFKA_TRANSACTION: { transient: true, doc: 'transaction aborted by the broker; retried from the last commit' },
  KAFKA_TOPIC: { transient: false, doc: 'topic missing or cannot be created' },
  RECORD_TOO_LARGE: { transient: false, doc: 'an output record exceeds the producer message.max.bytes or the target topic max.message.bytes' },
  KAFKA_PRODUCE: { transient: false, doc: 'the broker refused an output record for a reason retrying cannot fix' },
  REDIS_UNAVAILABLE: { transient: true, doc: 'Redis (the backfill queue) unreachable or not answering' },
  REDIS_AUTH: { transient: false, doc: 'Redis refused the credentials (WRONGPASS, NOAUTH, NOPERM) or its TLS certificate is not trusted' },
  BACKFILL_STATE: { transient: false, doc: 'backfill state in Redis is missing or inconsistent' },
  INTERNAL: { transient: false, doc: 'a bug: an invariant did not hold' },
} as const satisfies Record<string, { transient: boolean; doc: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface RecryptErrorOptions {
  cause?: unknown;
  /** Overrides the code's default classification (e.g. a 429 from a registry is transient). */
  transient?: boolean;
}

export class RecryptError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options: RecryptErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecryptError';
    this.code = code;
    this.transient = options.transient ?? ERROR_CODES[code].transient;
  }

  /** "CODE: message", the only rendering used for logs, DLQ headers and metrics labels (code only). */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isRecryptError(err: unknown): err is RecryptError {
  return err instanceof RecryptError;
}

/** Transient errors are retried with backoff and never sent to a DLQ; unknown errors are permanent. */
export function isTransient(err: unknown): boolean {
  return err instanceof RecryptError && err.transient;
}

/** Stable, value-free description of any thrown thing: safe for logs and DLQ headers. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof RecryptError ? err.code : 'INTERNAL';
}
