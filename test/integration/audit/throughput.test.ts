// How fast `recrypt audit` reads: 200,000 encrypted records (Confluent's serializer wrote 500 distinct
// ones, repeated) over 3 partitions, audited end to end by the CLI. Prints records/s.
import { afterAll, describe, expect, it } from 'vitest';
import { officialSerdes, register } from '../helpers/csfle.js';
import { recrypt } from '../helpers/cli.js';
import { createTopic, deleteTopics, produceRaw, type RawRecordInput } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { localRule, people, TAGGED_SCHEMA } from './fixtures.js';

const RECORDS = 200_000;
const created: string[] = [];
afterAll(async () => { if (created.length && !process.env.KEEP_AUDIT_TOPIC) await deleteTopics(...created); });

describe('recrypt audit throughput', () => {
  it(`audits ${RECORDS} records`, async () => {
    const topic = await createTopic('audit-big', 3);
    created.push(topic);
    const kek = uniqueName('kek').replaceAll('-', '_');
    await register(stack.registryUrl, `${topic}-value`, { schemaType: 'AVRO', schema: TAGGED_SCHEMA, ruleSet: { domainRules: [localRule(kek)] } });
    const serdes = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    const values: Buffer[] = [];
    for (const c of people(500)) values.push(Buffer.from(await serdes.serializer.serialize(topic, { ...c })));
    for (let start = 0; start < RECORDS; start += 50_000) {
      const chunk: RawRecordInput[] = [];
      for (let i = start; i < start + 50_000; i++) chunk.push({ key: Buffer.from(`k${i}`), value: values[i % values.length]!, partition: i % 3 });
      await produceRaw(topic, chunk);
    }
    const result = await recrypt(['audit', '--topic', topic, '--json'], { timeoutMs: 300_000 });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.records).toBe(RECORDS);
    console.log(`${topic}: recrypt audit: ${report.records} records in ${(report.durationMs / 1000).toFixed(2)} s = ${report.recordsPerSecond} records/s`);
    expect(report.recordsPerSecond).toBeGreaterThan(5_000);
  }, 600_000);
});
