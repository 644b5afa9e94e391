/**
 * The one way DEK material leaves crypto/: for the engine's worker threads (engine/threads/), which
 * cannot share a FieldCipher (a KeyObject and closures stay in their thread) and rebuild it from the
 * serialized Tink proto with cipherFromDekProto. The factory records each cipher's proto in a
 * module-private WeakMap; nothing else can read it, and a cipher made elsewhere (a test's injection)
 * has none, so the engine keeps its records on the main thread. Callers must never log the material,
 * put it in an error, or keep it beyond handing it to a thread.
 */
import type { DekAlgorithm } from '../model/index.js';
import type { FieldCipher } from './types.js';

export interface DekMaterial {
  readonly algorithm: DekAlgorithm;
  /** The serialized Tink key proto (a copy owned by this module). */
  readonly proto: Uint8Array;
}

const materials = new WeakMap<FieldCipher, DekMaterial>();

/** Called by the DEK cipher factory (dek-proto.ts) only. */
export function rememberDekMaterial(cipher: FieldCipher, algorithm: DekAlgorithm, proto: Uint8Array): void {
  materials.set(cipher, { algorithm, proto: Uint8Array.from(proto) });
}

/** The material of a cipher crypto/ made from a DEK proto; undefined for any other cipher. */
export function dekMaterialForThread(cipher: FieldCipher): DekMaterial | undefined {
  return materials.get(cipher);
}
