/**
 * What the kernel (kernel/transform.ts) hands back for one record part, and what it looks DEKs up in.
 *
 * An Outcome is data, never a thrown signal: the kernel returns it, the driver (record-transformer.ts)
 * acts on it: fetches the missing schema or DEK and runs the part again, applies the rule's action,
 * routes to the DLQ or halts. A Keyring is a synchronous lookup of DEK ciphers: on the main thread
 * over keys/'s caches (main-keyring.ts); a worker thread can build one from DEK material handed to it.
 */
import type { FieldCipher } from '../../crypto/index.js';
import type { DekRef } from '../../model/index.js';
import type { RuleAction, RuleDirection } from '../../rules/index.js';
import type { RecryptError } from '../../util/errors.js';
import type { SchemaRef } from '../../wire/index.js';
import type { FieldStep, PayloadStep, Step } from '../plan.js';
import type { Plan } from '../plan-table.js';

/** The DEK a rule encrypts with now: its version (written into the ciphertext with DEK expiry) and cipher. */
export interface WriteKey {
  readonly version: number;
  readonly cipher: FieldCipher;
}

export interface Keyring {
  /** The cipher of version `version` of the DEK `ref`, when in hand. */
  readCipher(ref: DekRef, version: number): FieldCipher | undefined;
  /** The DEK `ref` encrypts with now, when in hand. */
  writeKey(ref: DekRef): WriteKey | undefined;
}

/** The part's new bytes (null: the part was absent, a tombstone); `dropHeader`: its schema id header goes. */
export interface Transformed {
  readonly kind: 'ok';
  readonly bytes: Buffer | null;
  /** The schema id now travels in the bytes: a stale id header would make readers pick the writer schema. */
  readonly dropHeader: boolean;
}

/** The part names a writer schema (and, for protobuf, message) no plan exists for yet. */
export interface SchemaMiss {
  readonly kind: 'schema-miss';
  /** Plans are per topic (subject name strategies). */
  readonly topic: string;
  readonly ref: SchemaRef;
  /** Protobuf message indexes; undefined until the schema's type says whether the frame carries them. */
  readonly indexes: readonly number[] | undefined;
}

/** A DEK not in the keyring: `version` undefined means the DEK the step writes with. */
export interface DekMiss {
  readonly kind: 'dek-miss';
  readonly step: FieldStep | PayloadStep;
  readonly dek: DekRef;
  readonly version: number | undefined;
}

/**
 * A rule failed permanently on this part; `action` is its onFailure as it applies here (write-side NONE
 * without the job's opt-in, or DLQ without a DLQ topic, became ERROR). `keyFailure`: the rule's key cannot
 * be used (engine/key-failures.ts), so the action is ERROR whatever the rule says.
 */
export interface RuleFailure {
  readonly kind: 'rule-failure';
  readonly step: Step;
  readonly direction: RuleDirection;
  readonly action: RuleAction;
  readonly error: RecryptError;
  readonly keyFailure: boolean;
}

/**
 * Anything else the part met: bytes that do not read (framing, decode), a value that does not encode,
 * a transient error, a bug. Caught at the kernel's boundary; the driver classifies it.
 */
export interface Failed {
  readonly kind: 'failed';
  readonly error: unknown;
}

/**
 * The plan migrates between versions of the writer's subject (plan.migration): the decoded value after
 * the READ rules. JSONata evaluates asynchronously, so the driver migrates it (engine/migrate.ts) and
 * hands it back to Kernel.resume for the WRITE rules and the encoding.
 */
export interface Migrate {
  readonly kind: 'migrate';
  readonly plan: Plan;
  readonly value: unknown;
  readonly dropHeader: boolean;
}

export type Outcome = Transformed | SchemaMiss | DekMiss | RuleFailure | Failed | Migrate;

/** A schema or DEK not in hand: fetching it and running again can succeed. */
export function isMiss(outcome: Outcome): outcome is SchemaMiss | DekMiss {
  return outcome.kind === 'schema-miss' || outcome.kind === 'dek-miss';
}

/** What turns a rule's action into the action taken here (job options, known when the kernel is built). */
export interface ActionPolicy {
  /** Lets write-side NONE send a field out unencrypted; off unless a job opts in by name. */
  readonly allowPlaintextOnEncryptFailure: boolean;
  /** Whether a DLQ action can be taken for the step (a DLQ writer and a topic for it); else it is ERROR. */
  readonly dlqAccepts: (step: Step) => boolean;
}
