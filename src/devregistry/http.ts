/**
 * HTTP plumbing for the dev registry: Confluent-style errors (`{error_code, message}` with the status
 * Confluent's server uses), body reading with a size cap, JSON responses, and a tiny path router.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** An error answered as `{error_code, message}` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// Confluent Schema Registry error codes (io.confluent.kafka.schemaregistry.rest.exceptions.Errors)
export const subjectNotFound = (s: string) => new ApiError(404, 40401, `Subject '${s}' not found.`);
export const versionNotFound = (v: number | string) => new ApiError(404, 40402, `Version ${v} not found.`);
export const schemaNotFound = (what?: string | number) =>
  new ApiError(404, 40403, what === undefined ? 'Schema not found' : `Schema ${what} not found`);
export const subjectSoftDeleted = (s: string) =>
  new ApiError(404, 40404, `Subject '${s}' was soft deleted.Set permanent=true to delete permanently`);
export const subjectNotSoftDeleted = (s: string) =>
  new ApiError(404, 40405, `Subject '${s}' was not deleted first before being permanently deleted`);
export const versionSoftDeleted = (s: string, v: number) =>
  new ApiError(404, 40406, `Subject '${s}' Version ${v} was soft deleted.Set permanent=true to delete permanently`);
export const versionNotSoftDeleted = (s: string, v: number) =>
  new ApiError(404, 40407, `Subject '${s}' Version ${v} was not deleted first before being permanently deleted`);
export const subjectCompatibilityNotConfigured = (s: string) =>
  new ApiError(404, 40408, `Subject '${s}' does not have subject-level compatibility configured`);
export const invalidSchema = (detail: string) => new ApiError(422, 42201, `Invalid schema: ${detail}`);
export const invalidVersion = (v: string) =>
  new ApiError(422, 42202, `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);

/** Highest version number the registries accept (2^31-1). */
export const MAX_VERSION = 2 ** 31 - 1;

/** Version path parameter: "latest" or -1 (latest), else 1..2^31-1; anything else is 42202. */
export function parseVersionId(raw: string): number | 'latest' {
  if (raw === 'latest' || raw === '-1') return 'latest';
  if (!/^[0-9]+$/.test(raw)) throw invalidVersion(raw);
  const n = Number(raw);
  if (n < 1 || n > MAX_VERSION) throw invalidVersion(raw);
  return n;
}
export const invalidCompatibility = (level: string) => new ApiError(422, 42203, `Invalid compatibility level: ${level}`);
export const invalidSubject = (s: string) => new ApiError(422, 42208, `The specified subject '${s}' is not valid.`);

// Confluent DEK Registry error codes (io.confluent.dekregistry.web.rest.exceptions.DekRegistryErrors)
export const keyNotFound = (name: string) => new ApiError(404, 40470, `Key '${name}' not found`);
export const keyNotSoftDeleted = (name: string) =>
  new ApiError(404, 40471, `Key '${name}' was not deleted first before being permanently deleted`);
export const keySoftDeleted = (name: string) => new ApiError(404, 40472, `Key '${name}' must be undeleted first`);
export const keyAlreadyExists = (name: string) => new ApiError(409, 40971, `Key '${name}' already exists; use a different value`);
export const invalidKey = (field: string) => new ApiError(422, 42271, `Invalid or missing key info: ${field}`);
export const keyReferenceExists = (name: string) => new ApiError(422, 42272, `Key '${name}' is still referenced by data encryption keys`);
export const dekGenerationFailed = (detail: string) => new ApiError(500, 50070, `Could not generate dek: ${detail}`);

// rest-utils generic mappings: the error_code equals the status
export const malformedJson = () => new ApiError(400, 400, 'Malformed JSON in request body');
export const notFoundRoute = () => new ApiError(404, 404, 'HTTP 404 Not Found');
export const methodNotAllowed = () => new ApiError(405, 405, 'HTTP 405 Method Not Allowed');
export const bodyTooLarge = () => new ApiError(413, 413, 'Request body too large');

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.statusCode = status;
  if (text !== '') {
    res.setHeader('content-type', CONTENT_TYPE);
    res.setHeader('content-length', Buffer.byteLength(text));
  }
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', CONTENT_TYPE);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.status, { error_code: err.errorCode, message: err.message });
}

/** Reads the body (capped); returns the parsed JSON, or undefined for an empty body. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw bodyTooLarge();
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedJson();
  }
}

/** A JSON object body, or 400 for anything else (arrays, strings, numbers). Empty bodies read as {}. */
export async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(req);
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 400, 'Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** Jersey's boolean query parsing: "true" (any case) is true, anything else false. */
export function boolParam(query: URLSearchParams, name: string): boolean {
  return (query.get(name) ?? '').toLowerCase() === 'true';
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

interface Route {
  pattern: string[];
  handlers: Map<string, Handler>;
}

/** Matches decoded path segments against patterns like `subjects/:subject/versions/:version`. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const segments = pattern.split('/').filter((s) => s !== '');
    let route = this.routes.find((r) => r.pattern.join('/') === segments.join('/'));
    if (route === undefined) {
      route = { pattern: segments, handlers: new Map() };
      this.routes.push(route);
    }
    route.handlers.set(method, handler);
    return this;
  }

  /** The handler for a request, or an ApiError 404 (no route) / 405 (route without this method). */
  match(method: string, segments: string[]): { handler: Handler; params: Record<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchPattern(route.pattern, segments);
      if (params === undefined) continue;
      pathMatched = true;
      const handler = route.handlers.get(method);
      if (handler !== undefined) return { handler, params };
    }
    throw pathMatched ? methodNotAllowed() : notFoundRoute();
  }
}

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segments[i] as string;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}
