/**
 * RegistryError: a RecryptError raised by the Schema Registry and DEK Registry clients. It carries the
 * HTTP status and Confluent's numeric `error_code` (e.g. 40401 subject not found, 40470 key not found,
 * 40971 key already exists) so callers can branch on them. The message names the method, the path
 * (without query), the status and the error_code only: response bodies may echo key material and are
 * never copied into an error.
 */
import { RecryptError, type ErrorCode } from '../util/errors.js';

export interface RegistryErrorDetails {
  method: string;
  /** Request path without query string, e.g. `/subjects/orders-value/versions`. */
  path: string;
  /** HTTP status; undefined when no response arrived (connection refused, timeout, abort). */
  status?: number;
  /** Confluent `error_code` from the response body, when it had one. */
  errorCode?: number;
  cause?: unknown;
  transient?: boolean;
}

export class RegistryError extends RecryptError {
  readonly status: number | undefined;
  readonly errorCode: number | undefined;
  readonly method: string;
  readonly path: string;

  constructor(code: ErrorCode, message: string, details: RegistryErrorDetails) {
    super(code, message, {
      ...(details.cause === undefined ? {} : { cause: details.cause }),
      ...(details.transient === undefined ? {} : { transient: details.transient }),
    });
    this.name = 'RegistryError';
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.method = details.method;
    this.path = details.path;
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}

/** Statuses worth retrying: request timeout, throttling and server-side failures. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Maps an HTTP error response to the RecryptError code it stands for. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'REGISTRY_AUTH';
  if (status === 404) return 'REGISTRY_NOT_FOUND';
  if (status === 409) return 'REGISTRY_CONFLICT';
  if (isRetriableStatus(status)) return 'REGISTRY_UNAVAILABLE';
  return 'REGISTRY_INVALID';
}

export function registryErrorForResponse(
  method: string,
  path: string,
  status: number,
  errorCode: number | undefined,
): RegistryError {
  const code = codeForStatus(status);
  const suffix = errorCode === undefined ? '' : `, error_code ${errorCode}`;
  return new RegistryError(code, `${method} ${path}: HTTP ${status}${suffix}`, {
    method,
    path,
    status,
    ...(errorCode === undefined ? {} : { errorCode }),
    // 408 and 429 map to REGISTRY_UNAVAILABLE, which is transient by default.
  });
}

export function registryErrorForNetwork(method: string, path: string, reason: string, cause: unknown): RegistryError {
  return new RegistryError('REGISTRY_UNAVAILABLE', `${method} ${path}: ${reason}`, { method, path, cause });
}
