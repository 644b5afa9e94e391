/**
 * Structured logs: one JSON object per line on stderr. Callers pass names, ids, offsets and error
 * codes as fields, never record values, keys, DEKs or secrets; `error` fields are rendered as their
 * code and message only (RecryptError messages are value-free by construction).
 */
import { RecryptError } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined | null | RecryptError | Error>>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function render(value: unknown): unknown {
  if (value instanceof RecryptError) return { code: value.code, transient: value.transient, message: value.message };
  // Foreign errors can quote inputs: keep only their class name.
  if (value instanceof Error) return { code: 'INTERNAL', type: value.name };
  return value;
}

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; base?: LogFields } = {}): Logger {
  const threshold = ORDER[options.level ?? ((process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info')] ?? ORDER.info;
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const make = (base: LogFields): Logger => {
    const log = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
      if (ORDER[level] < threshold) return;
      const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message };
      for (const [k, v] of Object.entries({ ...base, ...fields })) if (v !== undefined) entry[k] = render(v);
      write(JSON.stringify(entry));
    };
    return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (more) => make({ ...base, ...more }) };
  };
  return make(options.base ?? {});
}

export const silentLogger: Logger = createLogger({ write: () => undefined });
