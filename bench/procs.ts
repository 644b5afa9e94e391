/**
 * Building the CLI the stack-bound suites run, and running processes watched through /proc
 * (bench/e2e-proc.ts): `start` for processes a suite signals itself (backfill workers), `watch` for one
 * that runs to its end under a time limit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcMonitor, type ProcSample } from './e2e-proc.js';
import { ROOT } from './stack.js';

export interface Commands {
  /** The build directory (job files may go there too); removeBuild deletes it. */
  readonly dir: string;
  /** node + bin/recrypt.js of the build (or the sources' bin/recrypt.js through tsx). */
  readonly recrypt: readonly string[];
  /** node + each extra entry's compiled file (or the .ts through tsx), by the entry's path under bench/. */
  readonly entries: Readonly<Record<string, readonly string[]>>;
  readonly compiled: boolean;
  readonly seconds: number;
  readonly note?: string;
}

/**
 * Compiles src/ (and the given bench/ entries, e.g. 'e2e-child') to .bench/<dir>-<pid> with tsc (emit only:
 * type errors are the typecheck's business) and runs the real bin/recrypt.js against it, so that the
 * measured process starts like an installed recrypt (no tsx). The repository's own dist/ is left alone:
 * other tests run bin/recrypt.js and must keep getting the sources. Falls back to tsx when the build fails.
 * The directory is this process's own: two bench runs at once (a shared machine) must not delete each
 * other's build.
 */
export async function buildCommands(dirName: string, benchEntries: readonly string[], log: (line: string) => void): Promise<Commands> {
  const started = Date.now();
  const dir = join(ROOT, '.bench', `${dirName}-${process.pid}`);
  const out = join(dir, 'out');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: { rootDir: '../..', outDir: 'out', noCheck: true, sourceMap: false, incremental: false },
    // All of src/, as npm run build does: entries no import reaches (the engine's worker-thread main) too.
    include: ['../../src/**/*.ts'],
    files: benchEntries.map((e) => `../../bench/${e}.ts`),
  }, null, 2)}\n`);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await runQuiet(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]);
  const compiled = existsSync(join(out, 'src', 'cli', 'main.js')) && benchEntries.every((e) => existsSync(join(out, 'bench', `${e}.js`)));
  if (compiled) {
    // bin/recrypt.js runs ../dist/cli/main.js when it exists: give it one next to a copy of itself.
    copyFileSync(join(ROOT, 'bin', 'recrypt.js'), join(dir, 'bin', 'recrypt.js'));
    symlinkSync(join(out, 'src'), join(dir, 'dist'));
    const note = result.code === 0 ? undefined : `tsc exited ${result.code} but emitted: ${result.output.split('\n')[0] ?? ''}`;
    if (note) log(`build: ${note}`);
    return {
      dir,
      recrypt: [process.execPath, join(dir, 'bin', 'recrypt.js')],
      entries: Object.fromEntries(benchEntries.map((e) => [e, [process.execPath, join(out, 'bench', `${e}.js`)]])),
      compiled: true, seconds: (Date.now() - started) / 1000, ...(note ? { note } : {}),
    };
  }
  const note = `build failed (${result.output.split('\n').slice(0, 3).join(' | ')}); running the sources through tsx`;
  log(`build: ${note}`);
  return {
    dir,
    recrypt: [process.execPath, join(ROOT, 'bin', 'recrypt.js')],
    entries: Object.fromEntries(benchEntries.map((e) => [e, [process.execPath, '--import', 'tsx', join(ROOT, 'bench', `${e}.ts`)]])),
    compiled: false, seconds: (Date.now() - started) / 1000, note,
  };
}

export function removeBuild(commands: Commands): void {
  rmSync(commands.dir, { recursive: true, force: true });
}

function runQuiet(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('close', (code) => resolve({ code, output }));
  });
}

export interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Date.now() at spawn and at exit. */
  readonly startedAt: number;
  readonly exitedAt: number;
}

export interface Proc {
  readonly child: ChildProcess;
  readonly monitor: ProcMonitor;
  readonly exited: Promise<Exited>;
}

export interface StartOptions {
  /** Keep only the last this many characters of stderr (long worker logs); default all. */
  readonly stderrTail?: number;
  /** Also sample this process's CPU (the broker). */
  readonly brokerPid?: number;
}

export function start(command: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv, options: StartOptions = {}): Proc {
  const startedAt = Date.now();
  const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const monitor = new ProcMonitor(child.pid!, options.brokerPid);
  let stdout = '';
  let stderr = '';
  const tail = options.stderrTail;
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr = tail === undefined ? stderr + d.toString() : (stderr + d.toString()).slice(-tail); });
  // 'exit' comes before the pipes are drained; the exit time is taken there, the output at 'close'.
  let exitedAt = 0;
  child.on('exit', () => { exitedAt = Date.now(); monitor.stop(); });
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => { monitor.stop(); resolve({ code, signal, stdout, stderr, startedAt, exitedAt: exitedAt || Date.now() }); });
  });
  return { child, monitor, exited };
}

export interface Watched extends Exited {
  readonly samples: readonly ProcSample[];
  readonly peakRss: number;
}

/** Runs a command to its end, sampling its /proc entries every 100 ms; SIGKILLs it (by its pid) after `timeoutMs`. */
export async function watch(command: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number, brokerPid?: number): Promise<Watched> {
  const p = start(command, [], env, brokerPid === undefined ? {} : { brokerPid });
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  try {
    const exited = await p.exited;
    return { ...exited, samples: p.monitor.samples, peakRss: p.monitor.peakRss };
  } finally {
    clearTimeout(timer);
  }
}

export const cpuOf = (p: Proc): number => {
  const s = p.monitor.samples;
  return s.length > 1 ? s[s.length - 1]!.cpu - s[0]!.cpu : 0;
};
