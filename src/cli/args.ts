/**
 * Argument parsing shared by every `recrypt` command: `--help` answers with the command's usage,
 * an unknown option is a usage error (exit 2) with the nearest known option, and a mistyped command
 * gets the nearest known command. Thin over node:util parseArgs, whose own errors are TypeErrors.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './common.js';

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

/** The candidate closest to `word` by edit distance, when it is close enough to be a likely typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the word (at least 2 edits) covers transpositions and a dropped letter, not a different word.
  const limit = Math.max(2, Math.floor(word.replace(/^-+/, '').length / 3));
  if (best !== undefined && (bestDistance <= limit || best.toLowerCase().startsWith(word.toLowerCase()))) return best;
  return undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[rows - 1]![cols - 1]!;
}
