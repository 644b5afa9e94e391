/**
 * A snapshot of the CLI for the whole run: src/ compiled once (tsc, emit only) to the run's directory,
 * with a copy of bin/recrypt.js beside it, so that a replacement started 50 minutes in runs the same
 * code as the first instance, whatever changes in the working tree meanwhile, and starts without tsx.
 * Falls back to the sources (bin/recrypt.js through tsx) when the build fails.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './stack.js';

export interface RecryptCommand {
  /** node and its arguments up to (and including) bin/recrypt.js. */
  readonly argv: readonly string[];
  readonly compiled: boolean;
  readonly note: string;
}

export async function buildRecrypt(dir: string): Promise<RecryptCommand> {
  const started = Date.now();
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const rel = relative(dir, ROOT);
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({
    extends: join(rel, 'tsconfig.json'),
    compilerOptions: { rootDir: join(rel, 'src'), outDir: 'dist', noCheck: true, sourceMap: false, incremental: false, declaration: false },
    // All of src/, as npm run build does: the engine's worker-thread main is reached by no import.
    include: [join(rel, 'src/**/*.ts')],
  }, null, 2)}\n`);
  const output = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { text += d.toString(); });
    child.on('close', () => resolve(text));
  });
  if (existsSync(join(dir, 'dist', 'cli', 'main.js'))) {
    // bin/recrypt.js runs ../dist/cli/main.js when it exists; the CLI reads its version from ../../package.json.
    copyFileSync(join(ROOT, 'bin', 'recrypt.js'), join(dir, 'bin', 'recrypt.js'));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    return { argv: [process.execPath, join(dir, 'bin', 'recrypt.js')], compiled: true, note: `src compiled in ${Math.round((Date.now() - started) / 1000)} s` };
  }
  return {
    argv: [process.execPath, join(ROOT, 'bin', 'recrypt.js')], compiled: false,
    note: `build failed (${output.split('\n').slice(0, 2).join(' | ')}): running the sources`,
  };
}
