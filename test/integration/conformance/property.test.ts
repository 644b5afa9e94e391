// Property-based conformance with the Go client: random schemas (field types, nesting, which fields are
// tagged) and random values, for each format; 2,000 records per format per run (at least 1,000 asked). For every
// record: Go writes -> recrypt decrypts -> Go reads the original; Go's plaintext -> recrypt encrypts
// -> Go reads the original; and no tagged string is left in any ciphertext. For Avro and JSON Schema
// the JS serdes read recrypt's records too (their Protobuf serde fails on tagged repeated strings).
// The generated Protobuf shapes stay within what the Go client handles (go-client-pins.test.ts):
// tags on top-level fields, nested messages always set, repeated and map fields never empty, no
// repeated messages, no empty tagged bytes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SECRET, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { startSerializedFormatProxy, type Proxy } from '../engine/proto-descriptors.js';
import { expectNoSecrets } from '../engine/harness.js';
import { ALGORITHMS, createCell, encryptRule, kmsParams } from './cell.js';
import { GoClient, type Format } from './go-client.js';

const SCHEMAS_PER_RUN = 20;
const RECORDS_PER_SCHEMA = 100;

let registry: TestRegistry;
let proxy: Proxy;
let go: GoClient;
beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startSerializedFormatProxy(registry.url);
  go = new GoClient(registry.url, { LOCAL_SECRET });
});
afterAll(async () => {
  await go?.close();
  await proxy?.close();
  await registry?.close();
});

/** A generated schema: its text, its value generator, and how to list a value's tagged strings. */
interface Generated {
  readonly schema: string;
  readonly typeName?: string;
  readonly value: fc.Arbitrary<Record<string, unknown>>;
}

// Tagged strings carry a marker so that a leak is found by a plain byte search.
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const secretText = text.map((s) => `pii:${s}`);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d));
const bytes = fc.uint8Array({ minLength: 1, maxLength: 24 }).map((b) => Buffer.concat([Buffer.from('pii:'), Buffer.from(b)]));

type Kind = 'string' | 'bytes' | 'int' | 'double' | 'bool' | 'strings' | 'map' | 'optional' | 'record';
const KINDS: readonly Kind[] = ['string', 'bytes', 'int', 'double', 'bool', 'strings', 'map', 'optional', 'record'];
const TAGGABLE = new Set<Kind>(['string', 'bytes', 'strings', 'map', 'optional']);

interface FieldPlan { kind: Kind; tagged: boolean; children?: FieldPlan[] }

const fieldPlan = (depth: number): fc.Arbitrary<FieldPlan> =>
  fc.constantFrom(...KINDS.filter((k) => depth < 2 || k !== 'record')).chain((kind): fc.Arbitrary<FieldPlan> =>
    kind === 'record'
      ? fc.array(fieldPlan(depth + 1), { minLength: 1, maxLength: 4 }).map((children) => ({ kind, tagged: false, children }))
      : fc.boolean().map((tagged) => ({ kind, tagged: tagged && TAGGABLE.has(kind) })));
const recordPlan = fc.array(fieldPlan(0), { minLength: 1, maxLength: 6 });

// --- Avro -------------------------------------------------------------------------------------------
function avroGen(plan: FieldPlan[], name: string): { type: unknown; value: fc.Arbitrary<Record<string, unknown>> } {
  const fields: unknown[] = [];
  const values: Record<string, fc.Arbitrary<unknown>> = {};
  plan.forEach((f, i) => {
    const fname = `f${i}`;
    const tag = f.tagged ? { 'confluent:tags': ['PII'] } : {};
    const str = f.tagged ? secretText : text;
    switch (f.kind) {
      case 'string': fields.push({ name: fname, type: 'string', ...tag }); values[fname] = str; break;
      case 'bytes': fields.push({ name: fname, type: 'bytes', ...tag }); values[fname] = bytes; break;
      case 'int': fields.push({ name: fname, type: 'long' }); values[fname] = fc.integer({ min: -(2 ** 52), max: 2 ** 52 }); break;
      case 'double': fields.push({ name: fname, type: 'double' }); values[fname] = finite; break;
      case 'bool': fields.push({ name: fname, type: 'boolean' }); values[fname] = fc.boolean(); break;
      case 'strings': fields.push({ name: fname, type: { type: 'array', items: 'string' }, ...tag }); values[fname] = fc.array(str, { maxLength: 3 }); break;
      case 'map': fields.push({ name: fname, type: { type: 'map', values: 'string' }, ...tag }); values[fname] = fc.dictionary(text, str, { maxKeys: 3 }); break;
      case 'optional': fields.push({ name: fname, type: ['null', 'string'], default: null, ...tag }); values[fname] = fc.option(str, { nil: null }); break;
      case 'record': {
        const inner = avroGen(f.children!, `${name}_${fname}`);
        fields.push({ name: fname, type: inner.type });
        values[fname] = inner.value;
        break;
      }
    }
  });
  return { type: { type: 'record', name, fields }, value: fc.record(values) };
}

// --- JSON Schema ------------------------------------------------------------------------------------
function jsonGen(plan: FieldPlan[]): { type: Record<string, unknown>; value: fc.Arbitrary<Record<string, unknown>> } {
  const properties: Record<string, unknown> = {};
  const values: Record<string, fc.Arbitrary<unknown>> = {};
  plan.forEach((f, i) => {
    const fname = `f${i}`;
    const tag = f.tagged ? { 'confluent:tags': ['PII'] } : {};
    const str = f.tagged ? secretText : text;
    switch (f.kind) {
      case 'string': case 'bytes': properties[fname] = { type: 'string', ...tag }; values[fname] = str; break;
      case 'int': properties[fname] = { type: 'integer' }; values[fname] = fc.maxSafeInteger(); break;
      case 'double': properties[fname] = { type: 'number' }; values[fname] = finite; break;
      case 'bool': properties[fname] = { type: 'boolean' }; values[fname] = fc.boolean(); break;
      case 'strings': properties[fname] = { type: 'array', items: { type: 'string' }, ...tag }; values[fname] = fc.array(str, { maxLength: 3 }); break;
      case 'map': properties[fname] = { type: 'object', additionalProperties: { type: 'string' } }; values[fname] = fc.dictionary(text.map((k) => `k${k}`), text, { maxKeys: 3 }); break;
      case 'optional': properties[fname] = { oneOf: [{ type: 'null' }, { type: 'string' }], ...tag }; values[fname] = fc.option(str, { nil: null }); break;
      case 'record': {
        const inner = jsonGen(f.children!);
        properties[fname] = inner.type;
        values[fname] = inner.value;
        break;
      }
    }
  });
  return { type: { type: 'object', properties }, value: fc.record(values) };
}

// --- Protobuf -----------------------------------------------------------------------------------------
function protoGen(plan: FieldPlan[], name: string, top: boolean, out: string[]): fc.Arbitrary<Record<string, unknown>> {
  const lines: string[] = [];
  const values: Record<string, fc.Arbitrary<unknown>> = {};
  plan.forEach((f, i) => {
    const fname = `f${i}`;
    const n = i + 1;
    const tagged = top && f.tagged && f.kind !== 'map';
    const tag = tagged ? ' [(confluent.field_meta).tags = "PII"]' : '';
    const str = tagged ? secretText : text;
    switch (f.kind) {
      case 'string': lines.push(`string ${fname} = ${n}${tag};`); values[fname] = str; break;
      case 'bytes': lines.push(`bytes ${fname} = ${n}${tag};`); values[fname] = tagged ? bytes : fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)); break;
      case 'int': lines.push(`int64 ${fname} = ${n};`); values[fname] = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }); break;
      case 'double': lines.push(`double ${fname} = ${n};`); values[fname] = finite; break;
      case 'bool': lines.push(`bool ${fname} = ${n};`); values[fname] = fc.boolean(); break;
      // The Go client panics on an empty repeated or map field (go-client-pins.test.ts): never empty here.
      case 'strings': lines.push(`repeated string ${fname} = ${n}${tag};`); values[fname] = fc.array(str, { minLength: 1, maxLength: 3 }); break;
      case 'map': lines.push(`map<string, string> ${fname} = ${n};`); values[fname] = fc.dictionary(text, text, { minKeys: 1, maxKeys: 3 }); break;
      case 'optional': lines.push(`optional string ${fname} = ${n}${tag};`); values[fname] = fc.option(str, { nil: undefined }); break;
      case 'record': {
        const inner = `${name}_${fname}`;
        values[fname] = protoGen(f.children!, inner, false, out);
        lines.push(`${inner} ${fname} = ${n};`);
        break;
      }
    }
  });
  out.push(`message ${name} {\n  ${lines.join('\n  ')}\n}`);
  return fc.record(values, { requiredKeys: Object.keys(values).filter((k) => plan[Number(k.slice(1))]!.kind !== 'optional') });
}

function generate(format: Format, plan: FieldPlan[]): Generated {
  switch (format) {
    case 'AVRO': {
      const { type, value } = avroGen(plan, 'R');
      return { schema: JSON.stringify({ ...(type as object), namespace: 'conformance.prop' }), value };
    }
    case 'JSON': {
      const { type, value } = jsonGen(plan);
      return { schema: JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'R', ...type }), value };
    }
    case 'PROTOBUF': {
      const messages: string[] = [];
      const value = protoGen(plan, 'R', true, messages);
      return { schema: `syntax = "proto3";\npackage conformance.prop;\nimport "confluent/meta.proto";\n${messages.join('\n')}\n`, typeName: 'conformance.prop.R', value };
    }
  }
}

function taggedStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string' && value.startsWith('pii:') && value.length >= 8) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => taggedStrings(v, out));
  else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) Object.values(value).forEach((v) => taggedStrings(v, out));
  return out;
}

describe.each(['AVRO', 'PROTOBUF', 'JSON'] as const)('%s: random schemas and values', (format) => {
  it(`Go <-> recrypt, ${SCHEMAS_PER_RUN * RECORDS_PER_SCHEMA} records`, async () => {
    let records = 0;
    const run = recordPlan.chain((plan) => {
      const generated = generate(format, plan);
      const schema = { schema: generated.schema, typeName: generated.typeName };
      return fc.tuple(fc.constant(schema), fc.array(generated.value, { minLength: RECORDS_PER_SCHEMA, maxLength: RECORDS_PER_SCHEMA }), fc.constantFrom(...ALGORITHMS));
    });
    await fc.assert(fc.asyncProperty(run, async ([generated, values, algorithm]) => {
      const cell = await createCell(registry.url, go, {
        format, schema: generated.schema, protoUrl: proxy.url, ...(generated.typeName ? { typeName: generated.typeName } : {}),
        rules: (kek) => [encryptRule('encryptPII', kek, { ...kmsParams('local-kms', ''), 'encrypt.dek.algorithm': algorithm })],
      });
      // Many requests in flight to the one Go process; recrypt's engine takes them one by one.
      const [goCiphers, goPlains] = await Promise.all([
        Promise.all(values.map((v) => cell.goWrite(cell.enc, v))),
        Promise.all(values.map((v) => cell.goWrite(cell.plain, v))),
      ]);
      const decrypted: Buffer[] = [];
      const encrypted: Buffer[] = [];
      for (let i = 0; i < values.length; i++) {
        const secrets = taggedStrings(values[i]);
        expectNoSecrets(goCiphers[i]!, secrets);
        decrypted.push(await cell.recryptDecrypt(goCiphers[i]!));
        encrypted.push(await cell.recryptEncrypt(goPlains[i]!));
        expectNoSecrets(encrypted[i]!, secrets);
      }
      const [fromDecrypt, fromEncrypt] = await Promise.all([
        Promise.all(decrypted.map((b) => cell.goRead(cell.plain, b))),
        Promise.all(encrypted.map((b) => cell.goRead(cell.enc, b))),
      ]);
      for (let i = 0; i < values.length; i++) {
        const want = cell.goValue(values[i]);
        expect(fromDecrypt[i], 'Go writes, recrypt decrypts, Go reads').toEqual(want);
        expect(fromEncrypt[i], 'recrypt encrypts, Go reads').toEqual(want);
        if (format !== 'PROTOBUF') expect(await cell.jsRead(cell.enc, encrypted[i]!), 'recrypt encrypts, JS reads').toEqual(cell.jsExpected(values[i]));
      }
      records += values.length;
    }), { numRuns: SCHEMAS_PER_RUN });
    expect(records).toBeGreaterThanOrEqual(1000);
  });
});
