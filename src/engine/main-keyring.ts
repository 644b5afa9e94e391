/**
 * The kernel's keyring on the main thread: read ciphers straight from keys/'s cache, write DEKs as the
 * driver resolved them for the batch, else from keys/'s cache too. The driver fetches what is missing
 * (DekManager.dekForRead / dekForWrite) and the kernel runs the part again.
 */
import type { DekRef } from '../model/index.js';
import type { DekManager, WriteDek } from '../keys/index.js';
import type { EncryptionParams } from '../rules/index.js';
import type { FieldCipher } from '../crypto/index.js';
import type { Keyring } from './kernel/outcome.js';

/** A read DEK the main thread used (the worker threads get it: threads/link.ts). */
export interface UsedRead {
  readonly ref: DekRef;
  readonly version: number;
  readonly cipher: FieldCipher;
}

export class MainKeyring implements Keyring {
  /** Write DEKs resolved by the driver, by the step's DekRef (one object per compiled step). */
  private readonly writes = new Map<DekRef, WriteDek>();
  /** What keys/ needs to look a write DEK up in its cache (its expiry and KEK), by DekRef. */
  private readonly params = new Map<DekRef, EncryptionParams>();

  /** With worker threads: the read DEKs handed out since the last drainReads(). */
  private readonly used: UsedRead[] | undefined;

  constructor(private readonly keys: DekManager, trackReads = false) {
    this.used = trackReads ? [] : undefined;
  }

  readCipher(ref: DekRef, version: number) {
    const cipher = this.keys.peekRead(ref, version);
    // The kernel's visitors keep the cipher per step and version, so this runs rarely, not per field.
    if (cipher !== undefined && this.used !== undefined) this.used.push({ ref, version, cipher });
    return cipher;
  }

  drainReads(): readonly UsedRead[] {
    return this.used?.splice(0) ?? [];
  }

  /** Every write step's DEK as the kernel would find it now. */
  *writeKeys(): Iterable<[DekRef, WriteDek | undefined]> {
    for (const ref of this.params.keys()) yield [ref, this.writeKey(ref)];
  }

  writeKey(ref: DekRef): WriteDek | undefined {
    const held = this.writes.get(ref);
    if (held !== undefined) return held;
    const params = this.params.get(ref);
    return params === undefined ? undefined : this.keys.peekWrite(ref, params);
  }

  /** A write step compiled: its DEK may be looked up in keys/'s cache from now on. */
  knowWrite(ref: DekRef, params: EncryptionParams): void {
    this.params.set(ref, params);
  }

  hold(ref: DekRef, dek: WriteDek): void {
    this.writes.set(ref, dek);
  }

  drop(ref: DekRef): void {
    this.writes.delete(ref);
  }
}
