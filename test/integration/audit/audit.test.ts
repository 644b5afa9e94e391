// `recrypt audit` and `recrypt inspect` end to end on the real stack: records encrypted by Confluent's
// serializer, plaintext planted at known offsets (under the encrypting schema, and under an older
// schema without the rule), undecodable records; the report names exactly those positions and never a
// value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officialSerdes, register } from '../helpers/csfle.js';
import { recrypt } from '../helpers/cli.js';
import { createTopic, deleteTopics, produceRaw, type RawRecordInput } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { localRule, people, PLAIN_SCHEMA, plainRecord, TAGGED_SCHEMA, withOffsets, type Customer } from './fixtures.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

interface Finding { partition: number; offset: number; field: string; rule: string; reason: string }

async function encryptedTopic(count: number, options: { partitions?: number; params?: Record<string, string> } = {}) {
  const topic = await createTopic('audit', options.partitions ?? 2);
  created.push(topic);
  const subject = `${topic}-value`;
  const kek = uniqueName('kek').replaceAll('-', '_');
  const plainId = await register(stack.registryUrl, subject, { schemaType: 'AVRO', schema: PLAIN_SCHEMA });
  const taggedId = await register(stack.registryUrl, subject, {
    schemaType: 'AVRO', schema: TAGGED_SCHEMA, ruleSet: { domainRules: [localRule(kek, options.params)] },
  });
  const serdes = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
  const customers = people(count);
  const records: RawRecordInput[] = [];
  for (const c of customers) {
    records.push({ key: Buffer.from(`c${c.id}`), value: Buffer.from(await serdes.serializer.serialize(topic, { ...c })), partition: c.id % (options.partitions ?? 2) });
  }
  return { topic, subject, kek, plainId, taggedId, customers, records, serdes };
}

describe('recrypt audit', () => {
  let fixture: Awaited<ReturnType<typeof encryptedTopic>>;
  beforeAll(async () => {
    fixture = await encryptedTopic(120);
    await produceRaw(fixture.topic, fixture.records);
  });

  it('passes a topic whose tagged fields are all encrypted (exit 0) and reports keys and coverage', async () => {
    const result = await recrypt(['audit', '--topic', fixture.topic, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.records).toBe(120);
    expect(report.clean).toBe(true);
    expect(report.plaintext.count).toBe(0);
    expect(report.undecodable.count).toBe(0);
    expect(report.schemas).toHaveLength(1);
    expect(report.schemas[0]).toMatchObject({ schemaId: fixture.taggedId, records: 120, latestSchemaId: fixture.taggedId, unprotectedFields: [] });
    expect(report.schemas[0].rules[0]).toMatchObject({ rule: 'encryptPII', kek: fixture.kek, algorithm: 'AES256_GCM', fields: ['audit.Customer.email', 'audit.Customer.name'] });
    // 120 names + 96 non-null e-mails, all under DEK version 1 (no expiry).
    expect(report.keys).toEqual([{ kek: fixture.kek, algorithm: 'AES256_GCM', version: 1, values: 120 + 96 }]);
    expect(report.recordsPerSecond).toBeGreaterThan(0);
    for (const c of fixture.customers) expect(result.stdout + result.stderr).not.toContain(c.name);
  });

  it('reports exactly the planted plaintext positions (exit 1), without values', async () => {
    const topic = await createTopic('audit-planted', 2);
    created.push(topic);
    const subject = `${topic}-value`;
    const kek = uniqueName('kek').replaceAll('-', '_');
    const plainId = await register(stack.registryUrl, subject, { schemaType: 'AVRO', schema: PLAIN_SCHEMA });
    const taggedId = await register(stack.registryUrl, subject, { schemaType: 'AVRO', schema: TAGGED_SCHEMA, ruleSet: { domainRules: [localRule(kek)] } });
    const serdes = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    const customers = people(200);
    // Planted: by id. Plaintext under the encrypting schema (a producer that skipped CSFLE) and records
    // written with the old schema, which has no ENCRYPT rule.
    const underRule = new Set([7, 50, 121]);
    const oldSchema = new Set([12, 13, 199]);
    const records: RawRecordInput[] = [];
    for (const c of customers) {
      const value = underRule.has(c.id) ? plainRecord(taggedId, c)
        : oldSchema.has(c.id) ? plainRecord(plainId, c)
        : Buffer.from(await serdes.serializer.serialize(topic, { ...c }));
      records.push({ key: Buffer.from(`c${c.id}`), value, partition: c.id % 2 });
    }
    const placed = withOffsets(records);
    await produceRaw(topic, records);

    const expected: Finding[] = [];
    for (const [i, r] of placed.entries()) {
      const c = customers[i]!;
      const reason = underRule.has(c.id) ? 'not-base64' : oldSchema.has(c.id) ? 'no-encrypt-rule' : undefined;
      if (reason === undefined) continue;
      expected.push({ partition: r.partition, offset: r.offset, field: 'audit.Customer.name', rule: 'encryptPII', reason });
      if (c.email !== null) expected.push({ partition: r.partition, offset: r.offset, field: 'audit.Customer.email', rule: 'encryptPII', reason });
    }
    expected.sort((a, b) => a.partition - b.partition || a.offset - b.offset || a.field.localeCompare(b.field));

    const result = await recrypt(['audit', '--topic', topic, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.records).toBe(200);
    // A plaintext name can happen to be valid base64 (letters and digits only): then it is too short.
    const shapeOf = (reason: string) => (reason === 'too-short' ? 'not-base64' : reason);
    expect(report.plaintext.findings.map(({ partition, offset, field, rule, reason }: Finding) => ({ partition, offset, field, rule, reason: shapeOf(reason) }))).toEqual(expected);
    expect(report.plaintext.records).toBe(underRule.size + oldSchema.size);
    const old = report.schemas.find((s: { schemaId: number }) => s.schemaId === plainId);
    expect(old).toMatchObject({ records: 3, rules: [], latestSchemaId: taggedId, unprotectedFields: ['audit.Customer.email', 'audit.Customer.name'] });

    const text = await recrypt(['audit', '--topic', topic]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/plaintext: \d+ values in 6 records/);
    expect(text.stdout).toContain(`partition ${expected[0]!.partition} offset ${expected[0]!.offset}: audit.Customer`);
    expect(text.stdout).toContain('FAIL');
    for (const c of customers) {
      expect(text.stdout + text.stderr + result.stdout).not.toContain(c.name);
      if (c.email) expect(text.stdout + result.stdout).not.toContain(c.email);
    }
  });

  it('reports tagged PII that no ENCRYPT rule covers (inline tags and metadata.tags), exit 1, in text and JSON', async () => {
    // Issue 21 #3: a schema tags name and email PII but carries no ENCRYPT rule; audit said "OK".
    const cases = [
      { label: 'inline', schema: { schemaType: 'AVRO' as const, schema: TAGGED_SCHEMA } },
      { label: 'metadata', schema: { schemaType: 'AVRO' as const, schema: PLAIN_SCHEMA, metadata: { tags: { 'audit.Customer.name': ['PII'], '**.email': ['PII'] } } } },
    ];
    for (const { label, schema } of cases) {
      const topic = await createTopic(`audit-untagged-${label}`, 1);
      created.push(topic);
      const id = await register(stack.registryUrl, `${topic}-value`, schema);
      const customers = people(12);
      await produceRaw(topic, customers.map((c) => ({ key: Buffer.from(`c${c.id}`), value: plainRecord(id, c), partition: 0 })));

      const json = await recrypt(['audit', '--topic', topic, '--json']);
      expect(json.code, `${label}: ${json.stderr}`).toBe(1);
      const report = JSON.parse(json.stdout);
      expect(report.clean).toBe(false);
      expect(report.schemas[0]).toMatchObject({ schemaId: id, rules: [], taggedUnencrypted: ['audit.Customer.email', 'audit.Customer.name'] });
      const expected = customers.flatMap((c, offset) => [
        ...(c.email === null ? [] : [{ partition: 0, offset, field: 'audit.Customer.email', rule: '(none)', reason: 'tagged-no-rule', tags: ['PII'] }]),
        { partition: 0, offset, field: 'audit.Customer.name', rule: '(none)', reason: 'tagged-no-rule', tags: ['PII'] },
      ]);
      expect(report.plaintext.findings.map(({ partition, offset, field, rule, reason, tags }: Finding & { tags: string[] }) => ({ partition, offset, field, rule, reason, tags }))).toEqual(expected);
      expect(report.plaintext.records).toBe(12);

      const text = await recrypt(['audit', '--topic', topic]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain('tagged, but NO rule encrypts: audit.Customer.email, audit.Customer.name');
      expect(text.stdout).toContain('partition 0 offset 0: audit.Customer.name (tagged PII, no rule encrypts it');
      expect(text.stdout).toContain('FAIL');
      expect(text.stdout).not.toContain('OK: every tagged field is ciphertext');
      for (const c of customers) {
        expect(text.stdout + text.stderr + json.stdout + json.stderr).not.toContain(c.name);
        if (c.email) expect(text.stdout + json.stdout).not.toContain(c.email);
      }
    }
  });

  it('lists undecodable records by offset and honours --from/--to', async () => {
    const topic = await createTopic('audit-bad', 1);
    created.push(topic);
    const good = fixture.records.slice(0, 6).map((r) => ({ ...r, partition: 0 }));
    await produceRaw(topic, [
      ...good.slice(0, 3),
      { value: Buffer.from('{"name":"not framed"}') },             // offset 3: bad magic
      { value: Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]) },   // offset 4: unknown schema id
      { value: Buffer.concat([fixture.records[0]!.value as Buffer].map((v) => v.subarray(0, 8))) }, // 5: truncated payload
      { value: null },                                              // 6: tombstone
      ...good.slice(3),
    ]);
    const all = JSON.parse((await recrypt(['audit', '--topic', topic, '--json'])).stdout);
    expect(all.records).toBe(10);
    expect(all.tombstones).toBe(1);
    expect(all.undecodable.records).toEqual([
      { partition: 0, offset: 3, code: 'WIRE_UNKNOWN_MAGIC' },
      { partition: 0, offset: 4, code: 'ENGINE_UNKNOWN_SCHEMA' },
      { partition: 0, offset: 5, code: 'FORMAT_DECODE' },
    ]);
    expect(all.clean).toBe(false);

    const ranged = await recrypt(['audit', '--topic', topic, '--from', '6', '--to', '9', '--json']);
    expect(ranged.code, ranged.stderr).toBe(0);
    const report = JSON.parse(ranged.stdout);
    expect(report.partitions).toEqual([{ partition: 0, from: 6, to: 9, records: 3 }]);
    expect(report.records).toBe(3);

    const future = await recrypt(['audit', '--topic', topic, '--from', new Date(Date.now() + 3_600_000).toISOString(), '--json']);
    expect(future.code, future.stderr).toBe(0);
    expect(JSON.parse(future.stdout).records).toBe(0);
  });

  it('inspect shows framing, DEK version and algorithm, and decrypts only with --decrypt', async () => {
    const f = await encryptedTopic(10, { partitions: 1, params: { 'encrypt.dek.expiry.days': '30', 'encrypt.dek.algorithm': 'AES256_SIV' } });
    await produceRaw(f.topic, f.records);
    const c: Customer = f.customers[3]!;
    const plain = await recrypt(['inspect', '--topic', f.topic, '--partition', '0', '--offset', '3']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain(`schema id ${f.taggedId}`);
    expect(plain.stdout).toMatch(/audit\.Customer\.name \(string\): ciphertext \S+\.\.\. \d+ bytes, kek \S+, AES256_SIV, DEK version 1, rule encryptPII/);
    expect(plain.stdout).toMatch(/audit\.Customer\.country \(string\): untagged \d bytes/);
    expect(plain.stdout).not.toContain(c.name);
    expect(plain.stdout).not.toContain(c.country === 'NL' ? '"NL"' : `"${c.country}"`);

    const decrypted = await recrypt(['inspect', '--topic', f.topic, '--partition', '0', '--offset', '3', '--decrypt', '--json']);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    const result = JSON.parse(decrypted.stdout);
    expect(result.decryptedValue).toEqual({ ...c });
    expect(result.fields.find((x: { field: string }) => x.field === 'audit.Customer.name')).toMatchObject({ status: 'ciphertext', dekVersion: 1, algorithm: 'AES256_SIV', decrypted: c.name });
    expect(decrypted.stderr).not.toContain(c.name);

    const missing = await recrypt(['inspect', '--topic', f.topic, '--partition', '0', '--offset', '99']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no record');
    const usage = await recrypt(['inspect', '--topic', f.topic, '--partition', 'x', '--offset', '1']);
    expect(usage.code).toBe(2);
  });
});
