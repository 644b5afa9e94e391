/**
 * A worker thread's keyring: the ciphers rebuilt from the DEK material the driver handed it
 * (protocol.ts KeyUpdate), by string keys, since DekRef objects do not keep their identity across
 * threads. A DEK it lacks is a miss in the kernel; the thread reports the record as not ok and the main
 * thread, which fetches DEKs, runs it.
 */
import { cipherFromDekProto, type FieldCipher } from '../../crypto/index.js';
import type { DekRef } from '../../model/index.js';
import type { Keyring, WriteKey } from '../kernel/outcome.js';
import { readString, refString, type KeyUpdate } from './protocol.js';

export class ThreadKeyring implements Keyring {
  private readonly reads = new Map<string, FieldCipher>();
  /** One WriteKey object per DEK version: the kernel's visitors rebuild their closures when it changes. */
  private readonly writes = new Map<string, WriteKey>();

  readCipher(ref: DekRef, version: number): FieldCipher | undefined {
    return this.reads.get(readString(ref, version));
  }

  writeKey(ref: DekRef): WriteKey | undefined {
    return this.writes.get(refString(ref));
  }

  apply(update: KeyUpdate): void {
    for (const read of update.reads) this.reads.set(read.key, cipherFromDekProto(read.algorithm, read.proto));
    for (const { key, dek } of update.writes) {
      if (dek === null) this.writes.delete(key);
      else this.writes.set(key, { version: dek.version, cipher: cipherFromDekProto(dek.algorithm, dek.proto) });
    }
    // The copies that crossed the thread are not needed once the ciphers hold the keys.
    for (const read of update.reads) read.proto.fill(0);
    for (const { dek } of update.writes) dek?.proto.fill(0);
  }
}
