/**
 * How every KMS driver turns a provider failure into a RecryptError. One rule for all of them: if the
 * KMS answered and refused (4xx), the failure is permanent for that KEK; if it did not answer, timed
 * out, throttled or answered 5xx, it is transient (KMS_UNAVAILABLE) and retrying later can help.
 *
 * Messages name the kms type, the operation and the key id, and a short reason (the provider's error
 * name/code and HTTP status). The provider's own error object is never attached as `cause`: SDK
 * errors may carry the request (and so the DEK being wrapped) or the response body. A value-free
 * summary of it is attached instead.
 */
import { RecryptError, type ErrorCode } from '../util/errors.js';

export type KmsOperation = 'wrap' | 'unwrap';

/** Network-level failures: the request did not get an answer. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'TimeoutException', 'FetchError']);

/** A provider failure reduced to value-free facts. */
export interface ProviderFailure {
  /** Provider error name or code, e.g. `NotFoundException`, `KeyNotFound`, `NOT_FOUND`. */
  readonly name?: string;
  /** HTTP status when the KMS answered. */
  readonly status?: number;
}

/** Builds the RecryptError a driver throws. `reason` is short, value-free text (no provider messages). */
export function kmsError(
  code: ErrorCode,
  kmsType: string,
  operation: KmsOperation | 'auth',
  keyId: string,
  reason: string,
  failure?: ProviderFailure,
): RecryptError {
  const cause = failure === undefined ? undefined : summarize(failure);
  return new RecryptError(code, `${kmsType} ${operation} with key ${keyId} failed: ${reason}`, cause === undefined ? {} : { cause });
}

function summarize(failure: ProviderFailure): Error | undefined {
  const parts: string[] = [];
  if (failure.name !== undefined && failure.name !== '') parts.push(safeToken(failure.name));
  if (failure.status !== undefined) parts.push(`HTTP ${failure.status}`);
  if (parts.length === 0) return undefined;
  const err = new Error(parts.join(', '));
  err.name = 'KmsProviderFailure';
  return err;
}

/** Provider error names are identifiers; anything else is cut so no free text slips through. */
export function safeToken(value: string): string {
  const token = value.replace(/[^A-Za-z0-9_.:-]/g, '').slice(0, 80);
  return token === '' ? 'unknown' : token;
}

/** True when `err` (or its cause chain) is a network failure or a timeout: nothing answered. */
export function isNetworkFailure(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown; name?: unknown; errno?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (typeof e.name === 'string' && NETWORK_NAMES.has(e.name)) return true;
    if (typeof e.errno === 'string' && NETWORK_CODES.has(e.errno)) return true;
    // fetch() reports every connection failure as TypeError('fetch failed') with the socket error as cause.
    if (e.name === 'TypeError' && current instanceof Error && current.message === 'fetch failed') return true;
    current = e.cause;
  }
  return false;
}

/** HTTP statuses that mean "try again later". */
export function isTransientStatus(status: number | undefined): boolean {
  return status !== undefined && (status >= 500 || status === 429 || status === 408);
}

/** Reads a numeric property such as `statusCode` or `$metadata.httpStatusCode` safely. */
export function numberProp(obj: unknown, ...path: string[]): number | undefined {
  let current: unknown = obj;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'number' ? current : undefined;
}

/** Reads a string property safely. */
export function stringProp(obj: unknown, ...path: string[]): string | undefined {
  let current: unknown = obj;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'string' ? current : undefined;
}

/** The reason text for a permanent refusal the driver cannot classify further. */
export function refusedCode(operation: KmsOperation): ErrorCode {
  return operation === 'unwrap' ? 'KMS_UNWRAP_FAILED' : 'KMS_CONFIG';
}
