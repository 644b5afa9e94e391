/**
 * A small REST client for Confluent Schema Registry and its DEK Registry, on node's global fetch.
 *
 * - Several base URLs: each attempt walks them in turn, starting with the one that last answered;
 *   a transient failure (connection error, timeout, 408/429/5xx) moves on to the next URL.
 * - Retries: when every URL failed transiently, wait a full-jitter exponential backoff
 *   (random in [0, min(max, base * 2^n))) and try again, at most `maxRetries` more times.
 *   Other 4xx responses are never retried.
 * - Auth: basic (`user:pass`, or credentials embedded in a base URL) or bearer (a token or a provider).
 * - TLS: `https` base URLs are verified against the system's CAs, or only against `ca` (a PEM bundle,
 *   e.g. a private CA) when given; that path goes through undici's own fetch with its own dispatcher,
 *   the library node's fetch is built on.
 * - Errors: RegistryError with the HTTP status and Confluent's `error_code`; the message holds the
 *   method, path, status and error_code only, never a body.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { RecryptError } from '../util/errors.js';
import { RegistryError, isRetriableStatus, registryErrorForNetwork, registryErrorForResponse } from './registry-error.js';
import { isUntrustedCertificateCode } from '../util/tls.js';

export const SCHEMA_REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const ACCEPT = 'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5';

export type BearerTokenProvider = () => string | Promise<string>;

export interface RegistryHttpOptions {
  /** One or more base URLs (or one comma-separated string), e.g. `https://psrc-xxxx.confluent.cloud`. */
  baseUrls: readonly string[] | string;
  /** Basic auth `user:pass` (Confluent Cloud: API key and secret). */
  basicAuth?: string;
  /** Bearer token, or a function returning the current one (called for every request). */
  bearerToken?: string | BearerTokenProvider;
  /** PEM CA certificate(s) that `https` base URLs must chain to, instead of the system's CAs. */
  ca?: string;
  /** Extra headers on every request, e.g. `target-sr-cluster` and `Confluent-Identity-Pool-Id`. */
  headers?: Readonly<Record<string, string>>;
  /** Per-request timeout in ms (default 30000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** Backoff base in ms (default 1000). */
  retryBaseMs?: number;
  /** Backoff cap in ms (default 20000). */
  retryMaxMs?: number;
  /** Random source in [0, 1) for jitter; tests pin it. */
  random?: () => number;
  /** Sleep used between retries; tests may observe it. */
  sleep?: (ms: number) => Promise<void>;
}

export type QueryValue = string | number | boolean | undefined | null;
/** Query parameters; an array value repeats the key (e.g. `key=a&key=b`). */
export type Query = Readonly<Record<string, QueryValue | readonly QueryValue[]>>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

const DEFAULTS = Object.freeze({ timeoutMs: 30_000, maxRetries: 3, retryBaseMs: 1_000, retryMaxMs: 20_000 });

/** Full-jitter exponential backoff: a uniform delay in [0, min(maxMs, baseMs * 2^retry)). */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
}

interface BaseUrl {
  url: string;
  /** `user:pass` embedded in the URL, moved out because fetch refuses URLs with credentials. */
  userInfo?: string;
}

function parseBaseUrls(input: readonly string[] | string): BaseUrl[] {
  const raw = typeof input === 'string' ? input.split(',') : [...input];
  const out: BaseUrl[] = [];
  for (const entry of raw) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      // the parser's message would echo the URL, which may hold credentials
      throw new RecryptError('CONFIG_INVALID', 'registry base URL is not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new RecryptError('CONFIG_INVALID', `registry base URL must be http or https, got ${parsed.protocol}`);
    }
    let userInfo: string | undefined;
    if (parsed.username !== '' || parsed.password !== '') {
      userInfo = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      parsed.username = '';
      parsed.password = '';
    }
    const url = parsed.toString().replace(/\/+$/, '');
    out.push(userInfo === undefined ? { url } : { url, userInfo });
  }
  if (out.length === 0) {
    throw new RecryptError('CONFIG_INVALID', 'no registry base URL configured');
  }
  return out;
}

export function buildQuery(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values as QueryValue[]) {
      if (v === undefined || v === null) continue;
      params.append(key, String(v));
    }
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

/** Percent-encodes one path segment (subjects may contain `/`, `:` and other reserved characters). */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}

export class RegistryHttpClient {
  private readonly baseUrls: BaseUrl[];
  private readonly opts: Required<Pick<RegistryHttpOptions, 'timeoutMs' | 'maxRetries' | 'retryBaseMs' | 'retryMaxMs'>>;
  private readonly basicAuth: string | undefined;
  private readonly bearerToken: string | BearerTokenProvider | undefined;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly send: (url: string, init: RequestInit) => Promise<Response>;
  /** Index of the base URL that answered last; the next request starts there. */
  private preferred = 0;

  constructor(options: RegistryHttpOptions) {
    this.baseUrls = parseBaseUrls(options.baseUrls);
    this.opts = Object.freeze({
      timeoutMs: positive(options.timeoutMs, DEFAULTS.timeoutMs),
      maxRetries: Math.max(0, Math.floor(options.maxRetries ?? DEFAULTS.maxRetries)),
      retryBaseMs: Math.max(0, options.retryBaseMs ?? DEFAULTS.retryBaseMs),
      retryMaxMs: Math.max(0, options.retryMaxMs ?? DEFAULTS.retryMaxMs),
    });
    if (options.basicAuth !== undefined && options.bearerToken !== undefined) {
      throw new RecryptError('CONFIG_INVALID', 'registry auth: set basic or bearer, not both');
    }
    this.basicAuth = options.basicAuth;
    this.bearerToken = options.bearerToken;
    this.headers = Object.freeze({ ...(options.headers ?? {}) });
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.send = options.ca === undefined ? (url, init) => fetch(url, init) : fetchTrusting(options.ca);
  }

  /** The base URLs in use (credentials removed). */
  get urls(): readonly string[] {
    return this.baseUrls.map((b) => b.url);
  }

  /**
   * Sends one request and returns the parsed JSON body (undefined for an empty body). Throws
   * RegistryError: REGISTRY_NOT_FOUND (404), REGISTRY_CONFLICT (409), REGISTRY_AUTH (401/403),
   * REGISTRY_INVALID (other 4xx), REGISTRY_UNAVAILABLE (5xx, 408, 429, network, timeout; transient).
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const target = path + buildQuery(options.query);
    let lastError: RegistryError | undefined;
    for (let attempt = 0; attempt <= this.opts.maxRetries; attempt++) {
      if (attempt > 0) {
        await this.sleep(backoffDelay(attempt - 1, this.opts.retryBaseMs, this.opts.retryMaxMs, this.random));
      }
      const start = this.preferred;
      for (let i = 0; i < this.baseUrls.length; i++) {
        const index = (start + i) % this.baseUrls.length;
        const base = this.baseUrls[index] as BaseUrl;
        try {
          const result = await this.once<T>(base, method, path, target, options);
          this.preferred = index;
          return result;
        } catch (err) {
          if (!(err instanceof RegistryError) || !err.transient || options.signal?.aborted === true) throw err;
          lastError = err;
        }
      }
    }
    throw lastError ?? registryErrorForNetwork(method, path, 'no attempt made', undefined);
  }

  private async authorization(base: BaseUrl): Promise<string | undefined> {
    if (this.bearerToken !== undefined) {
      const token = typeof this.bearerToken === 'string' ? this.bearerToken : await this.bearerToken();
      return `Bearer ${token}`;
    }
    const userInfo = this.basicAuth ?? base.userInfo;
    if (userInfo !== undefined) return `Basic ${Buffer.from(userInfo, 'utf8').toString('base64')}`;
    return undefined;
  }

  private async once<T>(base: BaseUrl, method: string, path: string, target: string, options: RequestOptions): Promise<T> {
    const headers: Record<string, string> = {
      accept: ACCEPT,
      ...this.headers,
    };
    const auth = await this.authorization(base);
    if (auth !== undefined) headers['authorization'] = auth;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = SCHEMA_REGISTRY_CONTENT_TYPE;
    }
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);

    let response: Response;
    let text: string;
    try {
      response = await this.send(base.url + target, { method, headers, ...(body === undefined ? {} : { body }), signal });
      text = await response.text();
    } catch (cause) {
      if (options.signal?.aborted === true) {
        throw new RegistryError('REGISTRY_UNAVAILABLE', `${method} ${path}: aborted`, { method, path, cause, transient: false });
      }
      const reason = networkReason(cause);
      // No retry makes an untrusted certificate trusted: permanent, like refused credentials.
      if (isUntrustedCertificateCode(reason)) {
        throw new RegistryError('REGISTRY_AUTH', `${method} ${path}: TLS certificate not trusted (${reason}); check SCHEMA_REGISTRY_SSL_CA_LOCATION`, { method, path, cause });
      }
      throw registryErrorForNetwork(method, path, timeout.aborted ? `timed out after ${this.opts.timeoutMs} ms` : `connection failed (${reason})`, cause);
    }

    if (response.status < 200 || response.status > 299) {
      throw registryErrorForResponse(method, path, response.status, errorCodeOf(text));
    }
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RegistryError('REGISTRY_INVALID', `${method} ${path}: HTTP ${response.status} with a body that is not JSON`, {
        method,
        path,
        status: response.status,
        transient: isRetriableStatus(response.status),
      });
    }
  }
}

/** fetch whose TLS connections accept only certificates chaining to `ca`. */
function fetchTrusting(ca: string): (url: string, init: RequestInit) => Promise<Response> {
  const dispatcher = new Agent({ connect: { ca } });
  return async (url, init) => (await undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as unknown as Response;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Reads Confluent's numeric `error_code` out of an error body; never returns anything else of it. */
function errorCodeOf(text: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') {
      const code = (parsed as { error_code?: unknown }).error_code;
      if (typeof code === 'number' && Number.isInteger(code)) return code;
    }
  } catch {
    // not JSON (a proxy page, an empty body): the status alone speaks
  }
  return undefined;
}


/** A short, value-free reason for a failed fetch: the system error code when there is one. */
function networkReason(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return nameOf(err);
}

function nameOf(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
