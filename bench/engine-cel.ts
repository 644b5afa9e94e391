/**
 * The engine's cost of a CEL condition per record (issue 25), on the kernel alone (no registry, no
 * Kafka: the plans compiled from the bench Customer schema, a keyring holding one AES256_GCM DEK), one
 * core, contenders interleaved (stats.ts):
 *   encrypt:            plain -> ENCRYPT on PII (the in-place path, as bench/engine.ts's plain->gcm);
 *   encrypt-general:    the same on the general path (a CEL_FIELD rule on a tag no field carries turns the
 *                       in-place path off and evaluates nothing): what leaving the in-place path costs;
 *   encrypt+cel:        the same with a CEL CONDITION `message.balance >= 0.0` first (the general path:
 *                       decode, condition over the record as CEL values, walk, encode);
 *   encrypt+cel+mask:   and a CEL_FIELD mask on the tagged email before ENCRYPT.
 * Every output is checked first: it reads back under the DEK to the source record (the mask applied).
 * Run: node --expose-gc --import tsx bench/engine-cel.ts [records] [repetitions]
 * Exported for bench/run.ts's engine suite (wiring it in is bench/'s owner's call).
 */
import { createAesGcmFieldCipher } from '../src/crypto/index.js';
import { Kernel } from '../src/engine/kernel/transform.js';
import type { Keyring, WriteKey } from '../src/engine/kernel/outcome.js';
import { compileSide } from '../src/engine/plan.js';
import { planOf, PlanTable } from '../src/engine/plan-table.js';
import type { LoadedSchema } from '../src/engine/schema-store.js';
import { createCodec } from '../src/formats/index.js';
import type { Rule } from '../src/model/index.js';
import { encodeFrame } from '../src/wire/index.js';
import { CUSTOMER_SCHEMA, customers, type Customer } from './customer.js';
import { measureInterleaved, type RateSample } from './stats.js';

const TOPIC = 'bench-cel';
const SOURCE_ID = 1;
const ENCRYPT: Rule = { name: 'encryptPII', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'bench-kek' } };
const CONDITION: Rule = { name: 'positiveBalance', type: 'CEL', kind: 'CONDITION', mode: 'WRITE', expr: 'message.balance >= 0.0' };
const IDLE: Rule = { name: 'idle', type: 'CEL_FIELD', kind: 'TRANSFORM', mode: 'WRITE', tags: ['NO_SUCH_TAG'], expr: 'value' };
const MASK: Rule = { name: 'maskEmail', type: 'CEL_FIELD', kind: 'TRANSFORM', mode: 'WRITE', tags: ['PII', 'MASK'], expr: "name == 'email' ; value.substring(0, 3) + '***'" };

export const CEL_ROWS = { encrypt: [ENCRYPT], 'encrypt-general': [IDLE, ENCRYPT], 'encrypt+cel': [CONDITION, ENCRYPT], 'encrypt+cel+mask': [CONDITION, MASK, ENCRYPT] } as const;
export type CelRow = keyof typeof CEL_ROWS;

const loaded = (id: number, rules: readonly Rule[]): LoadedSchema => ({
  id, schemaType: 'AVRO', references: new Map(),
  info: { id, schemaType: 'AVRO', schema: CUSTOMER_SCHEMA, ...(rules.length ? { ruleSet: { domainRules: [...rules] } } : {}) },
});

function tableFor(rules: readonly Rule[], targetId: number): PlanTable {
  const from = loaded(SOURCE_ID, []);
  const to = loaded(targetId, rules);
  const plans = new PlanTable();
  plans.setSchemaType(TOPIC, { id: SOURCE_ID }, 'AVRO');
  plans.set(TOPIC, { id: SOURCE_ID }, undefined, planOf(compileSide(from, createCodec(from.info), 'read', `${TOPIC}-value`), compileSide(to, createCodec(to.info), 'write', `${TOPIC}-value`), false));
  return plans;
}

export interface CelBenchResult {
  readonly records: number;
  readonly rows: Readonly<Record<CelRow, RateSample>>;
}

export async function runEngineCelBench(records = 20_000, repetitions = 7): Promise<CelBenchResult> {
  const cipher = createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 3));
  const write: WriteKey = { version: 1, cipher };
  const keyring: Keyring = { readCipher: () => cipher, writeKey: () => write };
  const codec = createCodec({ schema: CUSTOMER_SCHEMA });
  const people = customers(records);
  const input = people.map((c) => ({ topic: TOPIC, key: null, value: encodeFrame(SOURCE_ID, codec.encode({ ...c })), headers: [] }));
  const rows = Object.keys(CEL_ROWS) as CelRow[];
  const contenders = {} as Record<CelRow, { records: number; warmups: number; run: () => unknown }>;
  rows.forEach((row, i) => {
    const plans = tableFor(CEL_ROWS[row], 10 + i);
    const kernel = new Kernel(keyring, { allowPlaintextOnEncryptFailure: false, dlqAccepts: () => false });
    const none = new Set<never>();
    const runAll = (): Buffer[] => input.map((r) => {
      const out = kernel.transform(r, 'value', plans, none);
      if (out.kind !== 'ok' || out.bytes === null) throw new Error(`${row}: ${out.kind}`);
      return out.bytes;
    });
    // Check before timing: the PII fields decrypt to the source's (the email masked where the row masks it).
    runAll().slice(0, 100).forEach((bytes, n) => {
      const back = codec.decode(bytes.subarray(5)) as Customer;
      const source = people[n]!;
      const email = cipher.decrypt(Buffer.from(back.email, 'base64')).toString();
      const wanted = row === 'encrypt+cel+mask' ? `${source.email.slice(0, 3)}***` : source.email;
      if (cipher.decrypt(Buffer.from(back.name, 'base64')).toString() !== source.name || email !== wanted || back.balance !== source.balance) {
        throw new Error(`${row}: record #${n} does not read back`);
      }
    });
    contenders[row] = { records, warmups: 2, run: runAll };
  });
  return { records, rows: await measureInterleaved(contenders, repetitions) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.argv[2] ?? 20_000);
  const repetitions = Number(process.argv[3] ?? 7);
  const result = await runEngineCelBench(records, repetitions);
  const base = result.rows.encrypt.median;
  for (const [row, s] of Object.entries(result.rows)) {
    const perRecordUs = (1e6 / s.median).toFixed(2);
    console.log(`${row.padEnd(18)} ${Math.round(s.median).toLocaleString('en').padStart(10)} rec/s  ${perRecordUs} us/record  ${(s.median / base).toFixed(2)}x of encrypt`);
  }
}
