/**
 * The kernel's field visitors: what a step does to one field (engine/field-crypto.ts), with the DEK
 * from the keyring and the operation counted. Compiled once per step (a write step's again when its DEK
 * changes), never per record; the counters are plain integers.
 *
 * A DEK the keyring lacks is not thrown: the visitor notes the step and version (`missStep`,
 * `missVersion`), leaves the value as it is, and leaves every later field alone; the kernel reads the
 * note when the step's walk returns and hands back a DEK miss.
 */
import type { FieldCipher } from '../../crypto/index.js';
import type { DekAlgorithm } from '../../model/index.js';
import type { FieldInfo } from '../../formats/index.js';
import { RecryptError } from '../../util/errors.js';
import { DEK_MISSING, decryptEncoded, decryptField, encryptEncoded, encryptField } from '../field-crypto.js';
import type { FieldStep, PayloadStep } from '../plan.js';
import type { Keyring, WriteKey } from './outcome.js';

export interface EngineStats {
  readonly encrypted: Record<DekAlgorithm, number>;
  readonly decrypted: Record<DekAlgorithm, number>;
  /** DEKs fetched because they were not cached (each once, unless a fetch failed and was retried). */
  dekMisses: number;
  /** Writer schemas compiled into a plan (first sight of a schema on a topic). */
  schemaMisses: number;
}

export function newCounters(): EngineStats {
  return {
    encrypted: { AES128_GCM: 0, AES256_GCM: 0, AES256_SIV: 0 },
    decrypted: { AES128_GCM: 0, AES256_GCM: 0, AES256_SIV: 0 },
    dekMisses: 0,
    schemaMisses: 0,
  };
}

type KeyedStep = FieldStep | PayloadStep;
export type Visit = (value: unknown, field: FieldInfo) => unknown;
export type VisitEncoded = (encoded: Buffer | null, field: FieldInfo) => Buffer | null;

/** Both forms of a write step's visitor: one pair of closures per (step, DEK), not per record. */
interface WriteVisitors {
  readonly dek: WriteKey;
  readonly visit: Visit;
  readonly visitEncoded: VisitEncoded;
}

export class Visitors {
  /** Field operations since the last drain (the DEK and schema miss counts are the driver's). */
  counters = newCounters();
  /** The step whose DEK the keyring lacked in this attempt, and the version (undefined: its write DEK). */
  missStep: KeyedStep | undefined;
  missVersion: number | undefined;
  private readonly writes = new Map<KeyedStep, WriteVisitors>();
  private readonly reads = new Map<KeyedStep, Visit>();
  private readonly encodedReads = new Map<KeyedStep, VisitEncoded>();

  constructor(private readonly keyring: Keyring) {}

  /** The counters since the last call; visitors hold the counter objects, so they are rebuilt. */
  drain(): EngineStats {
    const stats = this.counters;
    this.counters = newCounters();
    this.writes.clear();
    this.reads.clear();
    this.encodedReads.clear();
    return stats;
  }

  /** A write step's visitors, or undefined when the keyring lacks its DEK. */
  write(step: KeyedStep): WriteVisitors | undefined {
    const dek = this.keyring.writeKey(step.dek);
    if (dek === undefined) return undefined;
    const cached = this.writes.get(step);
    if (cached !== undefined && cached.dek === dek) return cached;
    const version = step.params.expiryDays > 0 ? dek.version : undefined;
    const counts = this.counters.encrypted;
    const algorithm = step.params.algorithm;
    const visitors: WriteVisitors = {
      dek,
      visit: (value, field) => {
        if (value !== null && value !== undefined) counts[algorithm] += 1;
        return encryptField(value, field, dek.cipher, version);
      },
      visitEncoded: (encoded) => {
        if (encoded !== null) counts[algorithm] += 1;
        return encryptEncoded(encoded, dek.cipher, version);
      },
    };
    this.writes.set(step, visitors);
    return visitors;
  }

  /** A read step's visitor on encoded field bytes (the splicer's); spliced plans have no tolerant step. */
  readEncoded(step: FieldStep): VisitEncoded {
    let visit = this.encodedReads.get(step);
    if (visit !== undefined) return visit;
    const { algorithm, expiryDays } = step.params;
    const cipherFor = this.readCiphers(step);
    const decrypted = this.counters.decrypted;
    visit = (encoded, field) => {
      if (this.missStep !== undefined) return encoded;
      const plaintext = decryptEncoded(encoded, field, expiryDays > 0, cipherFor);
      if (plaintext === DEK_MISSING) return encoded;
      if (encoded !== null) decrypted[algorithm] += 1;
      return plaintext;
    };
    this.encodedReads.set(step, visit);
    return visit;
  }

  /** A read step's visitor on decoded values; tolerant steps of one record share `peeled`. */
  read(step: KeyedStep, peeled?: Set<unknown>): Visit {
    if (peeled !== undefined) return this.decryptVisitor(step, peeled);
    let visit = this.reads.get(step);
    if (visit === undefined) {
      visit = this.decryptVisitor(step);
      this.reads.set(step, visit);
    }
    return visit;
  }

  /** A read step's cipher per DEK version from the keyring (the last one kept); undefined notes the miss. */
  private readCiphers(step: KeyedStep): (version: number) => FieldCipher | undefined {
    const keyring = this.keyring;
    let lastVersion = -1;
    let lastCipher: FieldCipher | undefined;
    return (version) => {
      if (version === lastVersion && lastCipher !== undefined) return lastCipher;
      const cipher = keyring.readCipher(step.dek, version);
      if (cipher === undefined) {
        this.missStep = step;
        this.missVersion = version;
        return undefined;
      }
      lastVersion = version;
      lastCipher = cipher;
      return cipher;
    };
  }

  /**
   * `peeled` collects what tolerant steps decrypted. Rules of one same-tag set select the same fields
   * and, with the same KEK, the same DEK: a one-layer ciphertext then decrypts under the tolerant step
   * already, and the primary step finds plaintext. A value a tolerant step produced is authenticated
   * plaintext, so when the primary step cannot decrypt it, it stays as it is.
   */
  private decryptVisitor(step: KeyedStep, peeled?: Set<unknown>): Visit {
    const { algorithm, expiryDays } = step.params;
    const cipherFor = this.readCiphers(step);
    const tolerant = step.tolerant === true;
    const decrypted = this.counters.decrypted;
    return (value, field) => {
      if (this.missStep !== undefined) return value;
      try {
        const plaintext = decryptField(value, field, expiryDays > 0, cipherFor);
        if (plaintext === DEK_MISSING) return value;
        if (value !== null && value !== undefined) decrypted[algorithm] += 1;
        if (tolerant) peeled?.add(plaintext);
        return plaintext;
      } catch (err) {
        const notCiphertext = err instanceof RecryptError && (err.code === 'CRYPTO_DECRYPT' || err.code === 'CRYPTO_BAD_CIPHERTEXT');
        // A tolerant step (see plan.ts) leaves a value that is not its ciphertext as it is.
        if (notCiphertext && (tolerant || peeled?.has(value) === true)) return value;
        throw err;
      }
    };
  }
}
