/**
 * The external tools of the shipping checks, as scripts/tools.sh installs them under
 * ~/.cache/recrypt (RECRYPT_CACHE_DIR). A tool that is missing gives a reason: the one tools.sh
 * recorded when it could not install it, or a hint to run tools.sh.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../../..');
export const CACHE_DIR = process.env['RECRYPT_CACHE_DIR'] ?? join(homedir(), '.cache/recrypt');
export const BIN = join(CACHE_DIR, 'bin');

export type Tool = { readonly path: string; readonly missing?: undefined } | { readonly path?: undefined; readonly missing: string };

function unavailableReason(name: string): string {
  const marker = join(BIN, `.unavailable-${name}`);
  if (existsSync(marker)) return `${name} could not be installed on this machine: ${readFileSync(marker, 'utf8').trim()}`;
  return `${name} is not installed: run scripts/tools.sh (npm test does)`;
}

/** An executable from the tools cache, else from PATH. */
export function findTool(name: string): Tool {
  const cached = join(BIN, name);
  if (existsSync(cached)) return { path: cached };
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return { path: which.stdout.trim() };
  return { missing: unavailableReason(name) };
}

/** The ServiceMonitor model of @kubernetes-models/prometheus-operator (installed by tools.sh). */
export function serviceMonitorModule(): Tool {
  const path = join(CACHE_DIR, 'k8s-models/node_modules/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/index.js');
  return existsSync(path) ? { path } : { missing: unavailableReason('k8s-models') };
}

export function run(cmd: string, args: readonly string[], options: { cwd?: string } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(cmd, args, { cwd: options.cwd ?? ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return result;
}

/** Names a describe block so a skip says why in the test report. */
export function titled(title: string, tool: Tool): string {
  if (tool.missing === undefined) return title;
  console.warn(`[ship] skipping "${title}": ${tool.missing}`);
  return `${title} (skipped: ${tool.missing})`;
}
