// Runs `recrypt` in-process (main()) with console output captured, for the usage suites: exit code,
// stdout and stderr, as a spawned CLI would report them. Call captureCli() at the top of a suite.
import { afterEach, beforeEach, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let out: string[] = [];
let err: string[] = [];

export function captureCli(): void {
  beforeEach(() => {
    out = [];
    err = [];
    process.exitCode = undefined;
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
}

export async function cli(...argv: string[]): Promise<CliRun> {
  out = [];
  err = [];
  await main(argv);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
