// crypto/thread-material.ts: a cipher made from a DEK proto keeps a copy of the proto (for the engine's
// worker threads) only once a thread pool started in this process; before that, and inside a thread,
// nothing is kept, so keys/' wipe of the unwrapped material is the last copy gone.
// Vitest runs each test file in its own module graph: retention starts off here.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { cipherFromDekProto, dekMaterialForThread, newDekMaterial } from '../../../src/crypto/index.js';
import { EnginePool } from '../../../src/engine/index.js';

let pool: EnginePool | undefined;
afterAll(() => pool?.close());

/** Runs the probe thread (thread-material-probe.ts) from sources, as pool.ts starts its threads. */
function probe(proto: Uint8Array): Promise<{ built: boolean; kept: boolean }> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./thread-material-probe.ts', import.meta.url).href;
  const boot = 'const { workerData } = require("node:worker_threads");\n'
    + 'import(workerData.tsx).then((api) => { api.register(); return import(workerData.entry); });';
  const worker = new Worker(boot, { eval: true, workerData: { tsx, entry, proto } });
  return new Promise<{ built: boolean; kept: boolean }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => worker.terminate());
}

describe('DEK material for the engine threads', () => {
  it('is kept for no cipher while no thread pool started (processing.workers: 0, rewrap, plan)', () => {
    const cipher = cipherFromDekProto('AES256_GCM', newDekMaterial('AES256_GCM'));
    expect(dekMaterialForThread(cipher)).toBeUndefined();
  });

  it('is kept for the ciphers made once a pool exists, not for those made before', () => {
    const before = cipherFromDekProto('AES256_SIV', newDekMaterial('AES256_SIV'));
    pool = new EnginePool({ threads: 1 });
    const proto = newDekMaterial('AES256_SIV');
    const after = cipherFromDekProto('AES256_SIV', proto);
    expect(dekMaterialForThread(before)).toBeUndefined();
    const material = dekMaterialForThread(after);
    expect(material?.algorithm).toBe('AES256_SIV');
    expect(Buffer.from(material!.proto).equals(Buffer.from(proto))).toBe(true);
    expect(material!.proto).not.toBe(proto); // crypto/'s own copy
  });

  it('is never kept for a cipher a worker thread rebuilds, even with a pool in the main thread', async () => {
    pool ??= new EnginePool({ threads: 1 });
    pool.warm();
    expect(await probe(newDekMaterial('AES256_GCM'))).toEqual({ built: true, kept: false });
  });
});
