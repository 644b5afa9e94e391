// `recrypt dlq replay` on the real stack (Kafka, dev registry, Redis), for each DLQ payload policy: a
// reencrypt job sends the records whose tagged int fails the target's rule to the DLQ; a dry run says
// what a replay would do and writes nothing; the cause is fixed (a target schema version without the
// tag); the replay writes each replayable record exactly once into the target (read_committed, fields
// decrypting to the source values), lists what it cannot replay, and a second replay writes nothing.
// Canaries planted in every tagged source field appear in no output, log, metric, Redis key or error.
import { afterAll, describe, expect, it } from 'vitest';
import { REPLAY_ATTEMPTS_HEADER } from '../../../src/dlq/index.js';
import { DekRegistryClient, SchemaRegistryClient } from '../../../src/registry/index.js';
import { dryRunReplay, type ReplayReport } from '../../../src/runtime/dlq-replay-plan.js';
import { startReplay } from '../../../src/runtime/dlq-replay.js';
import { createJobRuntime } from '../../../src/runtime/index.js';
import { loadServiceConfig } from '../../../src/service/config.js';
import { JobMetrics } from '../../../src/service/metrics.js';
import type { Job } from '../../../src/jobs/index.js';
import { createLogger } from '../../../src/util/logger.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { officialSerdes } from '../helpers/csfle.js';
import { consumeRaw, createTopic, deleteTopics, kafka, produceRaw, type RawRecord } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { assertNoCanaryAnywhere, canary, leaksIn, loadJob, runToEnd, type Running } from './harness.js';

/** `age` is a nullable int: untagged at the source; the first target schema tags it D, which an ENCRYPT rule cannot encrypt. */
function customerSchema(ageTags: string[]) {
  return {
    type: 'record', name: 'Customer', namespace: 'replaytest',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string', 'confluent:tags': ['A'] },
      { name: 'email', type: 'string', 'confluent:tags': ['A'] },
      { name: 'country', type: 'string' },
      { name: 'secret', type: 'bytes', 'confluent:tags': ['A'] },
      { name: 'age', type: ['null', 'int'], default: null, ...(ageTags.length ? { 'confluent:tags': ageTags } : {}) },
    ],
  };
}
const sourceText = JSON.stringify(customerSchema([]));
const failingTargetText = JSON.stringify(customerSchema(['D']));

interface Customer { id: number; name: string; email: string; country: string; secret: Buffer; age: number | null }

const allCanaries: string[] = [];
function customer(id: number): Customer {
  const c = () => { const v = canary(); allCanaries.push(v); return v; };
  // Odd ids carry an age: the target's rule D fails on them (RULE_UNSUPPORTED_FIELD_TYPE, a record failure).
  return { id, name: c(), email: c(), country: 'NL', secret: Buffer.from(c()), age: id % 2 === 1 ? 40 + id : null };
}

const registry = () => new SchemaRegistryClient({ baseUrls: [stack.registryUrl] });
const dekRegistry = () => new DekRegistryClient({ baseUrls: [stack.registryUrl] });
const DAY_MS = 86_400_000;
const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

function jobYaml(name: string, o: { source: string; target: string; dlqTopic: string; payload: string; sourceKek: string; targetKek: string }): string {
  const dlqKek = o.payload === 'encrypted' ? `    kek: { name: ${uniqueName('kek-dlq')}, kmsType: local-kms, kmsKeyId: dlq-key }\n` : '';
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: reencrypt
  source:
    topic: ${o.source}
    startAt: earliest
    stopAt: end
  target:
    topic: ${o.target}
    createTopic: true
  rules:
    domainRules:
      - name: reenc
        type: ENCRYPT
        tags: [A]
        params: { encrypt.kek.name: ${o.targetKek}, encrypt.kms.type: local-kms, encrypt.kms.key.id: mykey }
        onFailure: ERROR,ERROR
      - name: ageRule
        type: ENCRYPT
        tags: [D]
        params: { encrypt.kek.name: ${o.targetKek}, encrypt.kms.type: local-kms, encrypt.kms.key.id: mykey }
        onFailure: DLQ,ERROR
  dlq:
    topic: ${o.dlqTopic}
    payload: ${o.payload}
${dlqKek}  processing:
    batchSize: 50
    retryBackoffMs: 200
    retryBackoffMaxMs: 1000
`;
}

/** A runtime whose log lines and metrics the canary check can read. */
function replayRuntime(job: Job): { runtime: ReturnType<typeof createJobRuntime>; running: Pick<Running, 'logs' | 'metrics'> } {
  const logs: string[] = [];
  const metrics = new JobMetrics();
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line), base: { job: job.metadata.name } });
  return { runtime: createJobRuntime(loadServiceConfig(process.env), job, { logger, metrics }), running: { logs, metrics } };
}

async function replay(job: Job, maxAttempts?: number) {
  const { runtime, running } = replayRuntime(job);
  const run = await startReplay(runtime, maxAttempts === undefined ? {} : { maxAttempts });
  const { summary, reports } = await run.done;
  return { summary, reports, running };
}

const header = (r: RawRecord, name: string): string | undefined => r.headers[name]?.toString();

/**
 * Why the odd records fail, and the fix:
 * - age: the target subject's text tags the nullable int age D, and the job's rule D (onFailure DLQ)
 *   cannot encrypt an int (a write failure); fixed by a target schema version without the tag;
 * - dek: the odd records were written under later versions of the source KEK's DEK, deleted for good
 *   (a read failure, DEK_NOT_FOUND, the source rule's read action DLQ); fixed by registering them again
 *   from their saved wrapped material. This one suits the `source` payload, allowed only where every tagged source field is ciphertext (with the
 *   target tagging age, the source's plaintext age would make the DLQ record refuse to build).
 */
type Cause = 'age' | 'dek';

describe('recrypt dlq replay', () => {
  it.each([
    ['reference', 'age'], ['redacted', 'age'], ['encrypted', 'age'], ['source', 'dek'], ['reference', 'dek'],
  ] as [string, Cause][])('payload %s, failure %s: dry run, fix, replay exactly once, unreplayable listed, no canary anywhere', async (payload, cause) => {
    const source = await createTopic('replay-src', 1);
    const target = uniqueName('replay-tgt');
    const dlqTopic = uniqueName('replay-dlq');
    created.push(source, target, dlqTopic);
    const sourceKek = uniqueName('kek-src');
    const targetKek = uniqueName('kek-tgt');
    // The source: tagged fields encrypted by Confluent's serializer (so every policy, `source` too, applies).
    const sourceRule = { name: 'src', kind: 'TRANSFORM' as const, mode: 'WRITEREAD' as const, type: 'ENCRYPT', tags: ['A'], onFailure: 'ERROR,DLQ', disabled: false,
      params: { 'encrypt.kek.name': sourceKek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey', 'encrypt.dek.expiry.days': '1' } };
    await registry().register(`${source}-value`, { schemaType: 'AVRO', schema: sourceText, ruleSet: { domainRules: [sourceRule] } });
    if (cause === 'age') await registry().register(`${target}-value`, { schemaType: 'AVRO', schema: failingTargetText });
    // Even records under DEK version 1; odd ones two days later, when version 1 has expired: version 2.
    let now = Date.now();
    const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret, clock: () => now });
    const people = Array.from({ length: 6 }, (_, i) => customer(i));
    const values: Buffer[] = new Array(people.length);
    for (const odd of [0, 1]) {
      now = Date.now() + odd * 2 * DAY_MS;
      for (let i = odd; i < people.length; i += 2) values[i] = Buffer.from(await official.serializer.serialize(source, structuredClone(people[i]!)));
    }
    await produceRaw(source, values.map((value, i) => ({ key: Buffer.from(`o${i}`), value, headers: { trace: Buffer.from(`t${i}`) } })));
    // Readers still read a soft-deleted DEK (as Confluent's do): the versions after 1 (the serializer's
    // clock is past each new version's expiry, so each odd record made one) are deleted for good, their
    // wrapped material kept aside.
    const subject = `${source}-value`;
    const lost: { version: number; material: string }[] = [];
    if (cause === 'dek') {
      for (let version = 2; ; version++) {
        const dek = await dekRegistry().getDek(sourceKek, subject, version, 'AES256_GCM');
        if (dek === null) break;
        lost.push({ version, material: dek.encryptedKeyMaterial! });
        await dekRegistry().deleteDekVersion(sourceKek, subject, version, 'AES256_GCM');
        await dekRegistry().deleteDekVersion(sourceKek, subject, version, 'AES256_GCM', true);
      }
      expect(lost.length).toBeGreaterThanOrEqual(1);
    }
    const failing = cause === 'age'
      ? { rule: 'ageRule', exception: 'RULE_UNSUPPORTED_FIELD_TYPE: RecryptError' }
      : { rule: 'src', exception: 'DEK_NOT_FOUND: RecryptError' };
    const fix = async () => {
      if (cause === 'dek') {
        // Restored from a backup: the same wrapped key material under the same versions.
        for (const { version, material } of lost) await dekRegistry().createDek(sourceKek, { subject, version, algorithm: 'AES256_GCM', encryptedKeyMaterial: material });
        return;
      }
      // A target schema version that no longer tags age (same rules, so the job registers nothing new).
      const latest = await registry().getLatest(`${target}-value`);
      await registry().register(`${target}-value`, { schemaType: 'AVRO', schema: JSON.stringify(customerSchema([])), ruleSet: latest.ruleSet! });
    };

    const name = uniqueName('replay').toLowerCase();
    const yaml = jobYaml(name, { source, target, dlqTopic, payload, sourceKek, targetKek });
    const job = loadJob(yaml);
    const live = await runToEnd(job);
    expect(live.summary.partitions[0]?.halted).toBeUndefined();
    expect(live.summary.halted).toBe(false);
    expect(live.summary).toMatchObject({ written: 3, dlq: 3 });
    const dlqBefore = await consumeRaw(dlqTopic, { count: 3 });
    expect(dlqBefore.map((r) => header(r, '__source.offset'))).toEqual(['1', '3', '5']);
    expect(dlqBefore.every((r) => header(r, '__dlq.payload') === payload && header(r, '__rule.name') === failing.rule)).toBe(true);

    // The DLQ offsets the replay has not committed past (transaction markers take offsets too).
    let pending = dlqBefore.map((r) => Number(r.offset));
    if (payload === 'redacted' || cause === 'dek') {
      // Replayed before the cause is fixed: each fails again, back into the DLQ one attempt further, never into the target.
      const early = await replay(job, 2);
      expect(early.summary.halted).toBe(false);
      expect(early.reports.map((r) => r.result)).toEqual(['dlq-again', 'dlq-again', 'dlq-again']);
      const again = await consumeRaw(dlqTopic, { count: 6 });
      pending = again.slice(3).map((r) => Number(r.offset));
      expect(again.slice(3).map((r) => [header(r, '__source.offset'), header(r, REPLAY_ATTEMPTS_HEADER)])).toEqual([['1', '1'], ['3', '1'], ['5', '1']]);
      expect(await consumeRaw(target, { count: 3 })).toHaveLength(3);
    }

    // The source record at offset 1 is no longer retained: only a `source` payload can stand in for it.
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.deleteTopicRecords({ topic: source, partitions: [{ partition: 0, offset: '2' }] });
    } finally {
      await admin.disconnect();
    }

    // Dry run: per record what the replay would do; writes nothing, commits nothing.
    const dry = replayRuntime(job);
    const planned = await dryRunReplay(dry.runtime);
    expect(planned.map((r) => r.dlq.offset)).toEqual(pending);
    expect(planned.map((r) => r.source?.offset)).toEqual([1, 3, 5]);
    const expectDecisions = (reports: readonly ReplayReport[]) => {
      expect(reports[0]!.decision).toMatchObject(payload === 'source'
        ? { replay: true, from: 'dlq-payload' }
        : { replay: false, why: expect.stringContaining('no longer in its topic') });
      for (const r of reports.slice(1)) expect(r.decision).toMatchObject({ replay: true, from: 'source-record' });
      for (const r of reports) expect(r).toMatchObject({ policy: payload, ...failing });
    };
    expectDecisions(planned);
    // The command says the same, one line per DLQ record; exit 4 while a record cannot be replayed.
    const viaCli = await recrypt(['dlq', 'replay', writeJobFile(yaml), '--dry-run']);
    expect(viaCli.code, viaCli.stderr).toBe(payload === 'source' ? 0 : 4);
    const lines = viaCli.stdout.split('\n').filter((l) => l.startsWith('dlq '));
    expect(lines.map((l) => /NOT replayable/.test(l))).toEqual([payload !== 'source', false, false]);
    const replays = payload === 'redacted' || cause === 'dek' ? ', replays 1' : '';
    expect(lines[0]).toContain(`source ${source}/0@1  [${payload}, ${failing.rule}, ${failing.exception}${replays}]`);
    expect(viaCli.stdout).toMatch(/dry run: 3 DLQ records, .* nothing written/);
    expect(leaksIn(Buffer.from(viaCli.stdout + viaCli.stderr), allCanaries)).toEqual([]);
    expect(await consumeRaw(target, { idleMs: 2000 })).toHaveLength(3);

    await fix();

    const first = await replay(job);
    expect(first.summary.halted).toBe(false);
    expect(first.reports.map((r) => r.dlq.offset)).toEqual(pending);
    expectDecisions(first.reports);
    expect(first.reports.map((r) => r.result)).toEqual([payload === 'source' ? 'written' : undefined, 'written', 'written']);

    const replayed = payload === 'source' ? [1, 3, 5] : [3, 5];
    const outcome = await assertNoCanaryAnywhere({ ...first.running, run: undefined as never, transient: [] }, { target: [target], dlq: [dlqTopic] }, allCanaries);
    // Exactly once, after the live job's records, in DLQ order; each decrypts to its source record.
    expect(outcome.target).toHaveLength(3 + replayed.length);
    const decoded = await Promise.all(outcome.target.map(async (r) => (await official.deserializer.deserialize(target, r.value!)) as Customer));
    expect(decoded.map((c) => Number(c.id))).toEqual([0, 2, 4, ...replayed]);
    outcome.target.forEach((r, i) => {
      const id = Number(decoded[i]!.id);
      expect({ ...decoded[i]!, id }).toEqual(people[id]);
      // From the source record: key and headers as they were; from a `source` payload: no key, no headers.
      if (id === 1) expect([r.key, header(r, 'trace')]).toEqual([null, undefined]);
      else expect([r.key!.toString(), header(r, 'trace')]).toEqual([`o${id}`, `t${id}`]);
    });

    // Replayed once: a second replay (the command, this time) starts after what the first committed.
    const second = await recrypt(['dlq', 'replay', writeJobFile(yaml)]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/dlq replay: 0 DLQ records: 0 written to the target, 0 back in the DLQ, 0 not replayable/);
    expect(leaksIn(Buffer.from(second.stdout + second.stderr), allCanaries)).toEqual([]);
    expect(await consumeRaw(target, { idleMs: 2000 })).toHaveLength(3 + replayed.length);
    expect((await dryRunReplay(replayRuntime(job).runtime))).toEqual([]);

    // The reports are coordinates, headers' names and codes: no canary in them or in the dry run's logs.
    expect(leaksIn(Buffer.from(JSON.stringify([...planned, ...first.reports])), allCanaries)).toEqual([]);
    expect(leaksIn(Buffer.from(dry.running.logs.join('\n')), allCanaries)).toEqual([]);
  });
});
