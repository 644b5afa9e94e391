// Hand-built Avro bytes and a child-process runner for the Avro tests that feed garbled payloads.
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Zig-zag varint bytes of a long. */
export function zz(n: number | bigint): number[] {
  const v = BigInt(n);
  let u = v >= 0n ? v * 2n : -v * 2n - 1n;
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}

/** An Avro string/bytes encoding. */
export const str = (s: string | Uint8Array): number[] => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
  return [...zz(b.length), ...b];
};

export const bytesOf = (...parts: number[][]): Buffer => Buffer.from(parts.flat());

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The URL to import src/formats from in a child's code. */
export const FORMATS_URL = pathToFileURL(`${REPO}src/formats/index.ts`).href;

/**
 * Runs ES module `code` in a child process (with tsx); its stdout, or null when it did not finish within
 * `timeoutMs` (killed): a regression that loops fails the test instead of hanging the suite.
 */
export function runInChild(code: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err && err.killed) resolve(null);
        else if (err) reject(new Error(`child failed: ${stderr}`));
        else resolve(stdout);
      });
  });
}
