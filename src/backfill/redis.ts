/**
 * Every Redis connection of a backfill (our own client and BullMQ's) is made from one policy, so an
 * unreachable Redis behaves the same everywhere: a command gives up after a bounded time with
 * REDIS_UNAVAILABLE, a worker reconnects with backoff for as long as it runs, and what reaches a log
 * or an error message is the URL without credentials and an error code, never ioredis' error objects.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { RecryptError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { isUntrustedCertificateCode } from '../util/tls.js';

export interface RedisPolicy {
  /**
   * Stop reconnecting once Redis has been unreachable this long: the client ends and every pending
   * and later call fails (the CLI turns that into REDIS_UNAVAILABLE). Unset: reconnect for ever.
   */
  readonly giveUpAfterMs?: number;
  /** A `rediss://` Redis's private CA (PEM; service config REDIS_TLS_CA_LOCATION); unset: the system's CAs. */
  readonly tls?: { readonly ca: string };
}

/** Reconnect delays: 250 ms doubling to 2 s, so a worker notices a Redis that is back within seconds. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(250 * 2 ** Math.min(Math.max(attempt - 1, 0), 3), 2_000);
}

/**
 * ioredis options for one connection (a fresh object each time: the retry strategy keeps the time the
 * connection went down). maxRetriesPerRequest stays null, as BullMQ requires: commands wait while the
 * client reconnects, and the policy, not a retry count, decides when to stop.
 */
export function redisOptions(policy: RedisPolicy = {}): RedisOptions {
  let downSince = Date.now();
  let calledBefore = false;
  const giveUp = policy.giveUpAfterMs;
  return {
    maxRetriesPerRequest: null,
    // A black-holed host would otherwise hold the first attempt for ioredis' 10 s default.
    ...(giveUp !== undefined ? { connectTimeout: Math.max(Math.min(giveUp, 10_000), 100) } : {}),
    // A Redis that accepts connections but never answers (frozen, black-holed behind a proxy) never
    // triggers a reconnect: bound each command too. Commands only: a worker (no giveUp) blocks on
    // BullMQ's blocking reads, which must not time out.
    ...(giveUp !== undefined ? { commandTimeout: Math.max(giveUp, 100) } : {}),
    // Used by ioredis only for a rediss:// URL (which switches TLS on); a redis:// URL stays plain.
    ...(policy.tls !== undefined ? { tls: { ca: policy.tls.ca } } : {}),
    retryStrategy: (attempt: number) => {
      // ioredis counts attempts from 1 again after each successful connection: a new outage.
      if (attempt === 1 && calledBefore) downSince = Date.now();
      calledBefore = true;
      const delay = reconnectDelayMs(attempt);
      if (giveUp === undefined) return delay;
      const left = downSince + giveUp - Date.now();
      return left <= 0 ? null : Math.min(delay, left);
    },
  };
}

export function redisClient(url: string, policy: RedisPolicy = {}): Redis {
  const redis = new Redis(url, redisOptions(policy));
  // Connection errors surface on the calls that need Redis (and in RedisHealth for workers); without a
  // listener ioredis prints each one as a multi-line stack on stderr.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * The URL as it may be shown: scheme, host, port and database, without user, password or query
 * (ioredis also reads `?password=`). Cut at the last '@' of the raw text before anything parses it: a
 * password may hold '/', '?', '#' or ':', which a URL parser would take for path, query or port.
 */
export function redactRedisUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  return scheme + rest.slice(rest.lastIndexOf('@') + 1).replace(/[?#].*$/s, '');
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** Errors that mean "Redis is not reachable" (as opposed to a refused command or a bad script). */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return err.name === 'MaxRetriesPerRequestError'
    || /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|ECONNREFUSED|Command timed out/.test(err.message);
}

/** A value-free name of a connection error for logs: the socket error code, else the error class. */
export function connectionErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  return err instanceof Error ? err.name : 'unknown';
}


/**
 * An error of the Redis connection itself that is not an outage, so no retry helps: refused
 * credentials (a reply such as WRONGPASS or NOAUTH: shown by its code only) or an untrusted TLS
 * certificate (REDIS_AUTH), or a server that does not speak Redis.
 */
export function redisRefused(url: string, err: unknown): RecryptError | undefined {
  if (!(err instanceof Error)) return undefined;
  const reply = /^(WRONGPASS|NOAUTH|NOPERM)\b/.exec(err.message)?.[1];
  if (err.name === 'ReplyError' && reply) {
    return new RecryptError('REDIS_AUTH', `Redis at ${redactRedisUrl(url)} refused the credentials (${reply}); check REDIS_USERNAME, REDIS_PASSWORD or the user info of REDIS_URL`);
  }
  const code = (err as { code?: unknown }).code;
  if (isUntrustedCertificateCode(code)) {
    return new RecryptError('REDIS_AUTH', `Redis at ${redactRedisUrl(url)}: TLS certificate not trusted (${code}); check REDIS_TLS_CA_LOCATION`);
  }
  if (err.name === 'ParserError' || /Unknown RESP type|Protocol error/.test(err.message)) {
    return new RecryptError('REDIS_UNAVAILABLE', `Redis at ${redactRedisUrl(url)} answers, but not as Redis; check the host and port of REDIS_URL`);
  }
  return undefined;
}

/**
 * For a long-running client (a worker's): resolves once Redis answers, or at its first connection error
 * (an outage: the client retries and RedisHealth logs it, as before); rejects with REDIS_AUTH, after
 * closing the client, when Redis refused the credentials or its certificate: retrying could only loop.
 */
export function credentialsAccepted(url: string, redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    const onReady = (): void => { done(); resolve(); };
    const onError = (err: unknown): void => {
      done();
      const refused = redisRefused(url, err);
      if (refused?.code !== 'REDIS_AUTH') return resolve();
      redis.disconnect();
      reject(refused);
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

export function redisUnavailable(url: string, waitedMs: number, cause?: string): RecryptError {
  return new RecryptError(
    'REDIS_UNAVAILABLE',
    `Redis at ${redactRedisUrl(url)} did not answer within ${Math.round(waitedMs / 100) / 10} s${cause ? ` (${cause})` : ''}; check REDIS_URL and that Redis is up`,
  );
}

/**
 * Follows one connection and logs its state changes once each: "Redis unreachable, retrying" when it
 * drops (or cannot connect at start), "Redis back" when it is ready again. Workers watch their own
 * client; BullMQ's connections to the same Redis go down and up with it, their errors are passed to
 * `failed` (which logs nothing for connection errors, so an outage is one line, not one per second).
 */
export class RedisHealth {
  private state: 'starting' | 'up' | 'down' = 'starting';
  private lastCause: string | undefined;

  constructor(private readonly url: string, private readonly logger: Logger) {}

  get down(): boolean {
    return this.state === 'down';
  }

  watch(redis: Redis): void {
    redis.on('error', (err: unknown) => {
      this.lastCause = connectionErrorCode(err);
    });
    redis.on('reconnecting', (delayMs: unknown) => this.markDown(typeof delayMs === 'number' ? delayMs : undefined));
    redis.on('ready', () => this.markUp());
  }

  /** An 'error' event of another connection (BullMQ's): connection errors are the outage already logged. */
  failed(err: unknown, what: string): void {
    if (isRedisConnectionError(err)) {
      this.lastCause = connectionErrorCode(err);
      return;
    }
    this.logger.warn(what, { error: err instanceof Error ? err : String(err) });
  }

  private markDown(retryInMs: number | undefined): void {
    if (this.state === 'down') return;
    this.state = 'down';
    this.logger.warn('Redis unreachable, retrying', { redis: redactRedisUrl(this.url), cause: this.lastCause ?? 'connection closed', retryInMs });
  }

  private markUp(): void {
    if (this.state === 'down') this.logger.info('Redis back', { redis: redactRedisUrl(this.url) });
    this.state = 'up';
    this.lastCause = undefined;
  }
}
