/**
 * The one way DEK material leaves crypto/: for the engine's worker threads (engine/threads/), which
 * cannot share a FieldCipher (a KeyObject and closures stay in their thread) and rebuild it from the
 * serialized Tink proto with cipherFromDekProto.
 *
 * Keeping a copy of a DEK's proto beside its cipher undoes the wipe keys/ does after unwrapping, so it
 * is off by default: only once this process has an engine thread pool (processing.workers > 0;
 * EnginePool calls retainDekMaterialForThreads when it is made, before any batch) does the factory
 * record each new cipher's proto, in a module-private WeakMap that lives as long as the cipher. Never in
 * a worker thread: a thread has its own copy of this module and nothing there calls the switch, so the
 * ciphers it rebuilds (from protos it then zeroes, thread-keyring.ts) keep nothing. A cipher made before
 * the switch, or elsewhere (a test's injection), has no material, so the engine keeps its records on the
 * main thread. Callers must never log the material, put it in an error, or keep it beyond handing it to
 * a thread.
 */
import type { DekAlgorithm } from '../model/index.js';
import type { FieldCipher } from './types.js';

export interface DekMaterial {
  readonly algorithm: DekAlgorithm;
  /** The serialized Tink key proto (a copy owned by this module). */
  readonly proto: Uint8Array;
}

const materials = new WeakMap<FieldCipher, DekMaterial>();
let retaining = false;

/**
 * From now on, ciphers made from a DEK proto keep a copy of it for the engine's worker threads. Called by
 * the engine's thread pool (main thread) when it is made, never in a worker thread. There is no way back:
 * the ciphers already made keep theirs as long as they live.
 */
export function retainDekMaterialForThreads(): void {
  retaining = true;
}

/** Called by the DEK cipher factory (dek-proto.ts) only; keeps nothing unless the pool switched retention on. */
export function rememberDekMaterial(cipher: FieldCipher, algorithm: DekAlgorithm, proto: Uint8Array): void {
  if (retaining) materials.set(cipher, { algorithm, proto: Uint8Array.from(proto) });
}

/** The material of a cipher crypto/ made from a DEK proto while retention was on; undefined for any other cipher. */
export function dekMaterialForThread(cipher: FieldCipher): DekMaterial | undefined {
  return materials.get(cipher);
}
