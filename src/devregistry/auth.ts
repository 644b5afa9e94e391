/**
 * Who may call the dev registry when it stands in for a secured Schema Registry: HTTP basic auth with
 * one `user:password` and/or one bearer token, as Confluent's server and Confluent Cloud take them.
 * Credentials are compared in constant time (over SHA-256 digests, so lengths leak nothing either) and
 * a refusal is Confluent's 401 body; nothing of what the caller sent is echoed or logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from './http.js';

export interface DevRegistryAuth {
  /** `user:password` accepted as `Authorization: Basic base64(user:password)`. */
  readonly basic?: string;
  /** Token accepted as `Authorization: Bearer TOKEN`. */
  readonly bearerToken?: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

function same(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export const unauthorized = (): ApiError => new ApiError(401, 401, 'Unauthorized');

/** Throws 401 unless the request carries one of the accepted credentials; no auth configured: open. */
export function checkAuth(req: IncomingMessage, auth: DevRegistryAuth | undefined): void {
  if (auth === undefined || (auth.basic === undefined && auth.bearerToken === undefined)) return;
  const header = req.headers.authorization ?? '';
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header.toLowerCase() : header.slice(0, space).toLowerCase();
  const value = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme === 'basic' && auth.basic !== undefined && same(Buffer.from(value, 'base64').toString('utf8'), auth.basic)) return;
  if (scheme === 'bearer' && auth.bearerToken !== undefined && same(value, auth.bearerToken)) return;
  throw unauthorized();
}
