/** Printing tables and writing the JSON results under .bench/ (git-ignored). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Machine {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly commit: string | null;
}

export function machine(root: string): Machine {
  const list = cpus();
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = null; // not a git checkout: the results still stand
  }
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown', cpus: list.length, memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version, platform: `${process.platform}-${process.arch}`, commit,
  };
}

/** Right-aligns every column but the first; `rows[0]` is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

export const rate = (n: number): string => Math.round(n).toLocaleString('en-US');
export const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;

/** Writes `<root>/.bench/<name>-<UTC timestamp>.json` and returns its path. */
export function writeResults(root: string, name: string, data: unknown): string {
  const dir = join(root, '.bench');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `${name}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
