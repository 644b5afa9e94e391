/**
 * Structured logs: pino JSON lines on stderr. Callers pass names, ids, offsets and error codes as
 * fields, never record values, keys, DEKs or secrets. Two nets catch mistakes: errors are rendered as
 * their code and message only (RecryptError messages are value-free by construction; foreign errors
 * may quote inputs, so only their class name is kept), and pino redacts fields whose names suggest
 * secrets or payloads.
 */
import { pino, destination as pinoDestination, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { RecryptError } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogValue = string | number | boolean | undefined | null | RecryptError | Error;
export type LogFields = Readonly<Record<string, LogValue>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const REDACTED_KEYS = ['value', 'key', 'payload', 'plaintext', 'keyMaterial', 'encryptedKeyMaterial', 'secret', 'password', 'token', 'headers'];

function render(value: LogValue): unknown {
  if (value instanceof RecryptError) return { code: value.code, transient: value.transient, message: value.message };
  if (value instanceof Error) return { code: 'INTERNAL', type: value.name };
  return value;
}

function renderFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = render(v);
  return out;
}

function wrap(base: PinoLogger): Logger {
  return {
    debug: (msg, fields) => base.debug(renderFields(fields), msg),
    info: (msg, fields) => base.info(renderFields(fields), msg),
    warn: (msg, fields) => base.warn(renderFields(fields), msg),
    error: (msg, fields) => base.error(renderFields(fields), msg),
    child: (fields) => wrap(base.child(renderFields(fields))),
  };
}

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; base?: LogFields } = {}): Logger {
  // The level comes from configuration (service/config.ts reads LOG_LEVEL); util/ reads no env.
  const level = options.level ?? 'info';
  const destination: DestinationStream = options.write
    ? { write: (line: string) => options.write!(line.replace(/\n$/, '')) }
    : pinoDestination({ fd: 2, sync: true });
  const base = pino({
    level,
    base: null,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' },
  }, destination);
  return wrap(options.base ? base.child(renderFields(options.base)) : base);
}

export const silentLogger: Logger = createLogger({ write: () => undefined });

/** A library's warning text as one line: its lines joined, blank ones dropped, length bounded. */
function oneLine(text: string): string {
  const joined = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).join(' | ');
  return joined.length > 2000 ? `${joined.slice(0, 2000)}...` : joined;
}

/**
 * Routes what libraries print as warnings into `logger`, one JSON line each: process warnings
 * (process.emitWarning: Node deprecations, the AWS SDK's version notices) replace Node's default
 * printer, and console.warn (the AWS SDK's credential-source notice) becomes logger.warn. Their
 * multi-line text would otherwise break a JSON log stream. Installed once per process by the
 * long-running commands; a later call re-targets the routes to the new logger. A foreign Error
 * argument keeps only its class name (its message may quote inputs), as in every log line.
 */
export function routeWarningsToLog(logger: Logger): void {
  warningLogger = logger;
  if (warningsRouted) return;
  warningsRouted = true;
  // Node prints warnings through a 'warning' listener of its own; without it nothing reaches stderr raw.
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    warningLogger.warn(oneLine(warning.message), { type: warning.name, warningCode: warning.code });
  });
  console.warn = (...args: unknown[]) => {
    warningLogger.warn(oneLine(args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.name : typeof a)).join(' ')));
  };
}

let warningsRouted = false;
let warningLogger: Logger = silentLogger;
