/**
 * What the engine tells dlq/ about a record whose rule failed: the source record decoded afresh from
 * its bytes (never the half-transformed value: when rule k of n fails on write, rules before k have
 * already encrypted their fields in that value, and the rest have not), with its tagged fields
 * decrypted where the cached DEKs allow, and every tagged value known or suspected to be plaintext.
 *
 * Decryption here never fails the record: a value that does not decrypt stays as it is. It counts as
 * ciphertext ("opaque", not looked for by the guard) when it failed authentication or its DEK cannot be
 * had; a value that is not even ciphertext-shaped (not base64, too short) may be plaintext a careless
 * writer left there, so the guard looks for it.
 */
import type { FieldInfo } from '../formats/index.js';
import type { DecodedSource, FailedRecord, Plaintext, SourceView } from '../dlq/index.js';
import type { DekManager } from '../keys/index.js';
import { RecryptError, isTransient } from '../util/errors.js';
import type { SourceRecord } from '../util/records.js';
import { frameOf, schemaRefText, type Frame, type Located } from '../wire/index.js';
import { collectDerived, hasCelTransforms } from './cel-needles.js';
import { DEK_MISSING, decryptField } from './field-crypto.js';
import { dlqTagging, type FieldStep, type PayloadStep, type Side } from './plan.js';

export interface ViewPlan {
  readonly read: Side;
  readonly write: Side;
  readonly convert: ((value: unknown) => unknown) | null;
}

interface Tagging {
  readonly tagged: DecodedSource['tagged'];
  readonly isTagged: (field: FieldInfo) => boolean;
  readonly taggedFields: readonly string[];
  readonly fullyEncrypted: boolean;
}

const taggings = new WeakMap<Side, Tagging>();

function taggingOf(plan: ViewPlan): Tagging {
  let t = taggings.get(plan.read);
  if (!t) {
    const { tagged, covered } = dlqTagging(plan.read.schema, plan.write.schema, plan.write.codec);
    const fields = plan.read.codec.fields().filter(tagged);
    t = {
      tagged: plan.read.codec.compileWalker(tagged),
      isTagged: tagged,
      taggedFields: [...new Set(fields.map((f) => f.fullName))],
      fullyEncrypted: !plan.read.disabledByEnableAt && fields.every(covered),
    };
    taggings.set(plan.read, t);
  }
  return t;
}

/** The schema id or GUID a record's part names, when its framing could be read (wire/'s locate). */
export function schemaIdOf(located: Located | undefined): string | undefined {
  return located === undefined ? undefined : schemaRefText(located.ref);
}

/** A record that cannot be read at all: dlq/ gets its coordinates and the error, no payload. */
export function unreadableRecord(record: SourceRecord, located: Located | undefined, error: RecryptError): FailedRecord {
  const schemaId = schemaIdOf(located);
  return { record, error, ...(schemaId === undefined ? {} : { schemaId }) };
}

const contentKey = (v: Plaintext): string => (typeof v === 'string' ? `s${v}` : `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1')}`);

interface Pass {
  readonly decoded?: DecodedSource;
  readonly opaque: Set<string>;
  readonly misses: Array<{ step: FieldStep | PayloadStep; version: number }>;
}

const PAYLOAD_FIELD: FieldInfo = { name: '(payload)', fullName: '(payload)', inlineTags: [], kind: 'bytes' };

class Decrypter {
  readonly opaque = new Set<string>();
  readonly misses: Array<{ step: FieldStep | PayloadStep; version: number }> = [];
  constructor(private readonly keys: DekManager) {}

  /** Decrypts or leaves the value; records why it could not. */
  visit(step: FieldStep | PayloadStep): (value: unknown, field: FieldInfo) => unknown {
    const { expiryDays } = step.params;
    return (value, field) => {
      let missing = -1;
      try {
        const plaintext = decryptField(value, field, expiryDays > 0, (version) => {
          const cipher = this.keys.peekRead(step.dek, version);
          if (cipher === undefined) missing = version;
          return cipher;
        });
        if (plaintext !== DEK_MISSING) return plaintext;
        // Its DEK is not in hand (yet): opaque, and the version to fetch.
        this.misses.push({ step, version: missing });
        if (typeof value === 'string' || value instanceof Uint8Array) this.opaque.add(contentKey(value));
        return value;
      } catch (err) {
        const notCiphertext = err instanceof RecryptError && err.code === 'CRYPTO_BAD_CIPHERTEXT';
        if (!notCiphertext && (typeof value === 'string' || value instanceof Uint8Array)) this.opaque.add(contentKey(value));
        return value;
      }
    };
  }
}

function decodePass(frame: Frame, plan: ViewPlan, tagging: Tagging, keys: DekManager): Pass {
  const d = new Decrypter(keys);
  let payload: Buffer = frame.payload;
  for (const step of plan.read.encoding) {
    if (step.kind !== 'payload') continue;
    const before = payload;
    payload = d.visit(step)(payload, PAYLOAD_FIELD) as Buffer;
    if (payload === before) return { opaque: d.opaque, misses: d.misses };
  }
  let value: unknown;
  try {
    value = plan.read.codec.decode(payload);
  } catch {
    return { opaque: d.opaque, misses: d.misses };
  }
  for (const step of plan.read.domain) {
    if (step.kind === 'field' && step.walker !== null) value = step.walker(value, d.visit(step));
  }
  return { decoded: { codec: plan.read.codec, value, tagged: tagging.tagged, taggedFields: tagging.taggedFields }, opaque: d.opaque, misses: d.misses };
}

function collect(into: Map<string, Plaintext>, opaque: ReadonlySet<string>): (value: unknown, field: FieldInfo) => unknown {
  return (value, field) => {
    const isText = field.kind === 'string' && typeof value === 'string';
    const isBytes = field.kind === 'bytes' && value instanceof Uint8Array;
    if ((isText || isBytes) && (value as Plaintext).length > 0) {
      const key = contentKey(value as Plaintext);
      if (!opaque.has(key) && !into.has(key)) into.set(key, isText ? (value as string) : Buffer.from(value as Uint8Array));
    }
    return value;
  };
}

/**
 * The source view of a record part whose plan exists, from its located frame (wire/'s locate). DEK
 * versions the cache lacks are fetched once (a permanent failure leaves their fields opaque; a
 * transient one propagates: the batch is retried).
 */
export async function buildSourceView(located: Located, plan: ViewPlan, keys: DekManager): Promise<SourceView> {
  const isProtobuf = plan.read.schema.schemaType === 'PROTOBUF';
  const frame = frameOf(located, isProtobuf);
  const tagging = taggingOf(plan);
  let pass = decodePass(frame, plan, tagging, keys);
  if (pass.misses.length > 0) {
    for (const { step, version } of pass.misses) {
      try {
        await keys.dekForRead(step.dek, step.params, version);
      } catch (err) {
        if (isTransient(err)) throw err;
      }
    }
    pass = decodePass(frame, plan, tagging, keys);
  }

  const plaintexts = new Map<string, Plaintext>();
  if (pass.decoded !== undefined) {
    pass.decoded.tagged?.(pass.decoded.value, collect(plaintexts, pass.opaque));
    // The target's rules may tag fields under names of their own: look at the value in the target's shape too.
    if (plan.convert !== null) {
      try {
        const fresh = decodePass(frame, plan, tagging, keys).decoded;
        const converted = fresh === undefined ? undefined : plan.convert(fresh.value);
        for (const step of plan.write.domain) {
          if (step.kind === 'field' && step.walker !== null && converted !== undefined) step.walker(converted, collect(plaintexts, pass.opaque));
        }
      } catch {
        // Not convertible: the writer-side values are all there is.
      }
    }
    // Values CEL_FIELD transforms derive from the plaintext are needles too (cel-needles.ts).
    if (hasCelTransforms(plan.read) || hasCelTransforms(plan.write)) {
      const copy = decodePass(frame, plan, tagging, keys).decoded;
      if (copy !== undefined) collectDerived(plan, copy.value, tagging.isTagged, collect(plaintexts, pass.opaque));
    }
  }
  const writer = plan.read.schema;
  return {
    writer: {
      id: writer.id, ...(writer.guid ? { guid: writer.guid } : {}), info: writer.info,
      ...(plan.read.messageIndexes ? { messageIndexes: plan.read.messageIndexes } : {}),
      payloadEncrypted: plan.read.encoding.some((s) => s.kind === 'payload'),
    },
    ...(pass.decoded ? { decoded: pass.decoded } : {}),
    plaintexts: [...plaintexts.values()],
    sourceFullyEncrypted: tagging.fullyEncrypted,
  };
}
