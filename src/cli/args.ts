/**
 * Argument parsing shared by every `recrypt` command: `--help` answers with the command's usage,
 * an unknown option is a usage error (exit 2) with the nearest known option, and a mistyped command
 * gets the nearest known command. Thin over node:util parseArgs, whose own errors are TypeErrors.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { nearest } from '../util/nearest.js';
import { UsageError } from './common.js';

export { nearest };

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec<O extends OptionSpecs> {
  /** The command as typed, e.g. `backfill submit`. */
  readonly name: string;
  /** Usage text with the options and an example; printed for --help and after a usage error. */
  readonly usage: string;
  readonly options: O;
  readonly allowPositionals?: boolean;
}

/** Thrown by parseCommand when the user asked for --help: the usage was printed, nothing else to do. */
export class HelpShown extends Error {
  constructor() {
    super('help shown');
  }
}

/** A usage error that carries the usage text of the command it belongs to. */
export class CommandUsageError extends UsageError {
  declare readonly usage: string;
  constructor(message: string, usage: string) {
    super(message, usage);
  }
}

/** A command's spec with its option types kept literal (so parseCommand's values are typed). */
export function defineCommand<O extends OptionSpecs>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/** A usage error of `spec`'s command, e.g. a missing argument: printed with that command's usage. */
export function usageError(spec: CommandSpec<OptionSpecs>, message: string): CommandUsageError {
  return new CommandUsageError(`${spec.name}: ${message}`, spec.usage);
}

/** A required option's value, or a usage error that names the option. */
export function required<T>(spec: CommandSpec<OptionSpecs>, option: string, value: T | undefined): T {
  if (value === undefined || value === '') throw usageError(spec, `--${option} is required`);
  return value;
}

/**
 * Parses `args` for one command. `--help`/`-h` anywhere prints `usage` and throws HelpShown; unknown
 * options and missing option values become CommandUsageError with a "did you mean" hint.
 */
export function parseCommand<O extends OptionSpecs>(spec: CommandSpec<O>, args: readonly string[]) {
  if (args.some((a) => a === '--help' || a === '-h')) {
    console.log(spec.usage);
    throw new HelpShown();
  }
  try {
    return parseArgs({ args: [...args], options: spec.options, allowPositionals: spec.allowPositionals ?? false, strict: true });
  } catch (err) {
    throw new CommandUsageError(describeParseError(spec, err), spec.usage);
  }
}

function describeParseError(spec: CommandSpec<OptionSpecs>, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const known = Object.keys(spec.options).map((o) => `--${o}`);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /'([^']+)'/.exec(message)?.[1] ?? '';
    const option = given.split('=')[0]!;
    const hint = nearest(option, known);
    return `${spec.name}: unknown option ${option}${hint ? ` (did you mean ${hint}?)` : ''}${known.length ? `; options: ${known.join(', ')}` : '; it takes no options'}`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return `${spec.name}: unexpected argument ${/'([^']+)'/.exec(message)?.[1] ?? ''}`.trimEnd();
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /'(-[^']+)'/.exec(message)?.[1] ?? '';
    return `${spec.name}: option ${option.replace(/ .*/, '')} needs a value`;
  }
  return `${spec.name}: ${message}`;
}
