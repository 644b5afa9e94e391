// The fleet under chaos: three `recrypt serve` instances of one encrypt job (AWS KMS through moto)
// over a 12-partition topic that a producer keeps writing, on a private stack of the test's own (the
// shared one is never touched). At seeded random times: one SIGKILLed and replaced under its name (a
// StatefulSet pod), one SIGTERMed and replaced, a fourth added and removed, the broker restarted, the
// KMS frozen past its timeout while a replacement needs it, the registry restarted. Then a
// read_committed reader checks the target against the source: every record exactly once, in partition
// order, decrypting (Confluent's deserializer) to the source plaintext; the poison records once each in
// the DLQ; the canary planted in every PII field in no log, /metrics scrape, target or DLQ record.
// RECRYPT_CHAOS_SEED replays a schedule; the figures go to the output and to .stack/chaos-figures.json.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsDriver as OfficialAwsKmsDriver } from '@confluentinc/schemaregistry';
import kafkaJs from '@confluentinc/kafka-javascript';
import avro from 'avsc';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officialSerdes, register } from '../helpers/csfle.js';
import { CUSTOMER_SCHEMA, frame, type Customer } from '../helpers/customers.js';
import { consumeRaw, createTopic, type RawRecord, type RawRecordInput } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/stack.js';
import { chaosPlan, type ChaosKind } from './chaos-plan.js';
import { Fleet, waitFor } from './fleet.js';
import { LagMonitor } from './lag-monitor.js';
import { startPrivateStack, type PrivateStack } from './private-stack.js';

const { KafkaJS } = kafkaJs;
const ROOT = resolve(import.meta.dirname, '../../..');
const SEED = Number(process.env.RECRYPT_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
const PARTITIONS = 12;
const FLEET = ['chaos-0', 'chaos-1', 'chaos-2'];
const EXTRA = 'chaos-3';
/** The producer's pace: 20 records every 200 ms, about 100 records/s. */
const BATCH = 20;
const PACE_MS = 200;
/** One record in POISON_EVERY is not Confluent framing: it must land in the DLQ, once. */
const POISON_EVERY = 499;
const KMS_TIMEOUT_MS = 1500;
const SESSION_TIMEOUT_MS = 10_000;

const customerType = avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema);
const saved: Record<string, string | undefined> = {};
let stack: PrivateStack | undefined;
let fleet: Fleet | undefined;
let workDir = '';

function setEnv(name: string, value: string | undefined): void {
  if (!(name in saved)) saved[name] = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

beforeAll(async () => {
  stack = await startPrivateStack(`chaos-${process.pid}`);
  // The helpers (kafka.ts, the official serdes' AWS driver) read these: point them at the private stack.
  for (const [name, value] of Object.entries(stack.env)) setEnv(name, value);
  setEnv('LOCAL_SECRET', undefined);
  // The last run's job and logs stay (under .stack/, ignored by git) for a post-mortem.
  workDir = resolve(process.env.RECRYPT_STACK_DIR ?? resolve(ROOT, '.stack'), 'chaos-last');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
}, 300_000);

afterAll(async () => {
  await fleet?.killAll();
  if (stack && workDir) cpSync(join(stack.dir, 'logs'), join(workDir, 'stack-logs'), { recursive: true });
  await stack?.destroy();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}, 120_000);

function person(seq: number, canary: string): Customer {
  return { id: seq, name: `${canary}N${seq}`, email: `${canary}e${seq}@example.com`, country: ['NL', 'DE', 'FR'][seq % 3]!, balance: seq / 8 };
}

function sourceRecord(seq: number, schemaId: number, canary: string): RawRecordInput {
  const poison = seq % POISON_EVERY === POISON_EVERY - 1;
  return {
    key: Buffer.from(`k${seq}`), partition: seq % PARTITIONS, headers: { seq: Buffer.from(String(seq)) },
    value: poison ? Buffer.from(`not confluent framing ${canary}P${seq}`) : frame(schemaId, customerType.toBuffer(person(seq, canary))),
  };
}

function jobYaml(name: string, source: string, target: string, dlq: string, kek: string, keyArn: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  source: { topic: ${source}, startAt: earliest }
  target: { topic: ${target}, createTopic: true }
  dlq: { topic: ${dlq} }
  processing: { batchSize: 200, workers: 0, retryBackoffMs: 200, retryBackoffMaxMs: 2000 }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: ${kek}, encrypt.kms.type: aws-kms, encrypt.kms.key.id: "${keyArn}" }
        onFailure: ERROR,ERROR
`;
}

interface LogEvent { at: number; msg: string; partitions: number[] }

/** The assignment and revocation lines of every instance's log, in time order. */
function rebalanceEvents(logs: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of logs.split('\n')) {
    if (!line.includes('"partitions assigned"') && !line.includes('"partitions revoked"')) continue;
    try {
      const entry = JSON.parse(line) as { time: string; msg: string; partitions?: string };
      const partitions = (entry.partitions ?? '').split(',').filter(Boolean).map((tp) => Number(tp.slice(tp.lastIndexOf('/') + 1)));
      if (partitions.length) events.push({ at: Date.parse(entry.time), msg: entry.msg, partitions });
    } catch { /* not a JSON line */ }
  }
  return events.sort((a, b) => a.at - b.at);
}

describe('a fleet of recrypt serve under chaos', () => {
  it(`loses nothing, duplicates nothing and leaks nothing (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const startedAt = Date.now();
    console.log(`[chaos] RECRYPT_CHAOS_SEED=${SEED}`);
    const env = stack!.env;
    const canary = `canary${randomBytes(4).toString('hex')}`;
    const kms = new KMSClient({ region: 'us-east-1', endpoint: env.AWS_ENDPOINT_URL_KMS });
    const keyArn = (await kms.send(new CreateKeyCommand({ Description: 'recrypt chaos' }))).KeyMetadata!.Arn!;
    kms.destroy();

    const source = await createTopic('chaos-src', PARTITIONS, { 'retention.ms': '-1' });
    const target = uniqueName('chaos-enc');
    const dlq = uniqueName('chaos-dlq');
    const schemaId = await register(env.SCHEMA_REGISTRY_URL!, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const jobName = uniqueName('chaos').toLowerCase();
    const jobsDir = join(workDir, 'jobs');
    const logDir = join(workDir, 'logs');
    mkdirSync(jobsDir);
    mkdirSync(logDir);
    writeFileSync(join(jobsDir, 'job.yaml'), jobYaml(jobName, source, target, dlq, uniqueName('chaos-kek'), keyArn));

    // --- the producer: keeps writing until told to stop; librdkafka rides out the broker restart ---
    // Its own client, silent: librdkafka's complaints while the broker restarts are expected.
    const producer = new KafkaJS.Kafka({ kafkaJS: { brokers: [env.KAFKA_BOOTSTRAP_SERVERS!], logLevel: KafkaJS.logLevel.NOTHING } })
      .producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
    let produced = 0;
    let producing = true;
    const producerLoop = (async () => {
      while (producing) {
        const batch = Array.from({ length: BATCH }, (_, i) => sourceRecord(produced + i, schemaId, canary));
        await producer.send({ topic: source, messages: batch.map((r) => ({ key: r.key!, value: r.value, partition: r.partition!, headers: r.headers! })) });
        produced += BATCH;
        await new Promise((r) => setTimeout(r, PACE_MS));
      }
    })();

    // --- the fleet ---
    fleet = new Fleet(jobsDir, logDir, {
      ...process.env, ...env, REDIS_URL: undefined, LOCAL_SECRET: undefined,
      LOG_LEVEL: 'debug', RECRYPT_KMS_TIMEOUT_MS: String(KMS_TIMEOUT_MS), RECRYPT_SHUTDOWN_TIMEOUT_MS: '30000',
      // A killed pod's partitions wait for the group to notice it is gone: 10 s here (librdkafka's default is 45 s).
      KAFKA_PROP_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS), KAFKA_PROP_HEARTBEAT_INTERVAL_MS: '1000',
    });
    const f = fleet;
    const monitor = new LagMonitor(env.KAFKA_BOOTSTRAP_SERVERS!, `recrypt-${jobName}`, source);
    await monitor.start();
    const exits: { name: string; signal: string; code: number | null }[] = [];
    let kmsFailureSeen = false;
    const steps: { kind: ChaosKind; at: number; endedAt: number; detail: string }[] = [];

    /** Every partition has committed something since `since` (the fleet makes progress everywhere). */
    const steady = async (what: string, since: number, timeoutMs = 120_000) => {
      const base = Array.from({ length: PARTITIONS }, (_, p) => monitor.committed(p));
      const behind = () => Array.from({ length: PARTITIONS }, (_, p) => p)
        .filter((p) => !(monitor.advances.get(p) ?? []).some((a) => a.at > since && a.offset > base[p]!));
      await waitFor(`every partition to commit again (${what})`, () => (behind().length === 0 ? true : undefined), timeoutMs, 300)
        .catch((err: Error) => {
          throw new Error(`${err.message}: partitions ${behind().join(',')} committed nothing since; committed/end per partition: ` +
            `${monitor.lastSeen}; logs in ${logDir}`);
        });
    };
    const replace = async (name: string, signal: 'SIGKILL' | 'SIGTERM') => {
      const exit = await f.stop(name, signal);
      exits.push({ name, signal, code: exit.code });
      return f.start(name);
    };

    try {
      const initial = await Promise.all(FLEET.map((name) => f.start(name)));
      await Promise.all(initial.map((i) => f.ready(i)));
      await steady('fleet formed', Date.now());
      const chaosStart = Date.now();
      const plan = chaosPlan(SEED, FLEET.length);
      console.log(`[chaos] schedule: ${plan.map((s) => `${s.kind}@+${s.delayMs}ms/${FLEET[s.target]}`).join(' ')}`);

      for (const step of plan) {
        await new Promise((r) => setTimeout(r, step.delayMs));
        await f.scrapeAll();
        const at = Date.now();
        const victim = FLEET[step.target]!;
        let detail = '';
        switch (step.kind) {
          case 'kill': {
            await f.ready(await replace(victim, 'SIGKILL'));
            detail = `SIGKILL ${victim}, replaced`;
            break;
          }
          case 'terminate': {
            await f.ready(await replace(victim, 'SIGTERM'));
            detail = `SIGTERM ${victim}, replaced`;
            break;
          }
          case 'scale-out-in': {
            const extra = await f.start(EXTRA);
            await f.ready(extra);
            await waitFor(`${EXTRA} assigned partitions`, () => (rebalanceEvents(f.logs()).some((e) => e.msg === 'partitions assigned' && e.at >= at) ? true : undefined));
            await steady(`${EXTRA} joined`, Date.now());
            await f.scrapeAll();
            const exit = await f.stop(EXTRA, 'SIGTERM');
            exits.push({ name: EXTRA, signal: 'SIGTERM', code: exit.code });
            detail = `${EXTRA} added and removed`;
            break;
          }
          case 'broker-restart': {
            const stop = await stack!.restart('kafka');
            detail = `broker down ${Date.now() - at} ms (its shutdown ${stop.stopMs} ms${stop.killed ? ', SIGKILLed after 30 s' : ''})`;
            break;
          }
          case 'kms-freeze': {
            // Only an instance that has not unwrapped the DEK yet needs the KMS: freeze it, then replace one.
            // It asks once it has partitions (after the group drops the killed member): the KMS stays
            // frozen until the replacement's log shows a KMS call that failed, then one timeout more.
            stack!.freeze('moto');
            const frozenAt = Date.now();
            let thawedAt = 0;
            try {
              const replacement = await replace(victim, 'SIGKILL');
              kmsFailureSeen = await waitFor('a KMS failure in the replacement', () => (/"code":"KMS_[A-Z_]+"/.test(readFileSync(replacement.logFile, 'utf8')) ? true : undefined), 60_000, 300)
                .catch(() => false);
              await new Promise((r) => setTimeout(r, KMS_TIMEOUT_MS));
            } finally {
              stack!.thaw('moto');
              thawedAt = Date.now();
            }
            await f.ready(f.instance(victim)!);
            detail = `KMS frozen ${thawedAt - frozenAt} ms (timeout ${KMS_TIMEOUT_MS} ms) while ${victim} was replaced after SIGKILL; ` +
              `the replacement's KMS calls failed: ${kmsFailureSeen}`;
            break;
          }
          case 'registry-restart': {
            const stop = await stack!.restart('registry');
            detail = `registry down ${Date.now() - at} ms (its shutdown ${stop.stopMs} ms${stop.killed ? ', SIGKILLed after 30 s' : ''})`;
            break;
          }
        }
        await steady(step.kind, Date.now());
        steps.push({ kind: step.kind, at, endedAt: Date.now(), detail });
        console.log(`[chaos] +${Math.round((at - chaosStart) / 1000)}s ${step.kind}: ${detail}; recovered in ${Date.now() - at} ms`);
      }

      // --- drain: stop producing, wait until every partition's committed offset is its end offset ---
      await new Promise((r) => setTimeout(r, 2000));
      producing = false;
      await producerLoop;
      await producer.disconnect();
      await waitFor('the fleet to catch up (lag 0)', () => (monitor.lastLag === 0 ? true : undefined), 180_000, 400)
        .catch((err: Error) => { throw new Error(`${err.message}; committed/end per partition: ${monitor.lastSeen}; logs in ${logDir}`); });
      await f.scrapeAll();
      for (const name of f.names) {
        const exit = await f.stop(name, 'SIGTERM');
        exits.push({ name, signal: 'SIGTERM', code: exit.code });
      }
    } finally {
      producing = false;
      await producerLoop.catch(() => undefined);
      await monitor.stop();
    }

    // --- the check: target against source, read_committed ---
    const sourceRecords = await consumeRaw(source, { count: produced, idleMs: 60_000 });
    expect(sourceRecords).toHaveLength(produced);
    const isPoison = (r: RawRecord) => !r.value || r.value[0] !== 0;
    const expected = sourceRecords.filter((r) => !isPoison(r));
    const poison = sourceRecords.filter(isPoison);
    // One more than expected, read until 10 s idle: a duplicate would show as an extra record.
    const targetRecords = await consumeRaw(target, { count: expected.length + 1, idleMs: 10_000 });
    const dlqRecords = await consumeRaw(dlq, { count: poison.length + 1, idleMs: 10_000 });

    const seen = new Map<string, number>();
    for (const r of targetRecords) seen.set(r.key!.toString(), (seen.get(r.key!.toString()) ?? 0) + 1);
    const lost = expected.filter((r) => !seen.has(r.key!.toString())).length;
    const duplicated = [...seen.values()].reduce((n, c) => n + c - 1, 0);

    // Figures: rebalances and the pause each caused, from the instances' logs and the group's commits.
    const logs = f.logs();
    const chaosFrom = steps[0]?.at ?? Date.now();
    const assigned = rebalanceEvents(logs).filter((e) => e.at >= chaosFrom);
    let rebalances = 0;
    let last = 0;
    for (const e of assigned) { if (e.at - last > 1500) rebalances += 1; last = e.at; }
    const pauses: Record<string, number> = {};
    for (const e of assigned.filter((a) => a.msg === 'partitions assigned')) {
      const cause = [...steps].reverse().find((s) => s.at <= e.at)?.kind ?? 'start';
      for (const p of e.partitions) {
        const pause = monitor.pauseAround(p, e.at);
        if (pause !== undefined) pauses[cause] = Math.max(pauses[cause] ?? 0, pause);
      }
    }
    const abortsByCode = f.counterBy('recrypt_transaction_aborts_total', 'code');
    const figures = {
      seed: SEED, at: new Date().toISOString(), durationS: Math.round((Date.now() - startedAt) / 1000),
      instances: FLEET.length, partitions: PARTITIONS,
      records: sourceRecords.length, written: targetRecords.length, dlq: dlqRecords.length, poison: poison.length,
      lost, duplicated,
      kills: exits.filter((e) => e.signal === 'SIGKILL').length,
      terminations: exits.filter((e) => e.signal === 'SIGTERM').length,
      rebalances, maxLag: monitor.maxLag,
      rebalancePauseMs: {
        graceful: Math.max(pauses.terminate ?? 0, pauses['scale-out-in'] ?? 0),
        afterKill: Math.max(pauses.kill ?? 0, pauses['kms-freeze'] ?? 0),
        byCause: pauses,
      },
      // Rebalance cost: what the fleet aborted (and replayed), by cause, as its /metrics counted it.
      transactionAborts: { total: Object.values(abortsByCode).reduce((a, b) => a + b, 0), byCode: abortsByCode },
      sessionTimeoutMs: SESSION_TIMEOUT_MS, kmsTimeoutMs: KMS_TIMEOUT_MS,
      steps: steps.map((s) => ({ kind: s.kind, detail: s.detail, recoveredMs: s.endedAt - s.at })),
      monitor: { polls: monitor.polls, failedPolls: monitor.failedPolls },
    };
    const stackDir = process.env.RECRYPT_STACK_DIR ?? resolve(ROOT, '.stack');
    mkdirSync(stackDir, { recursive: true });
    writeFileSync(join(stackDir, 'chaos-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`[chaos] seed ${SEED}: ${figures.records} records (${figures.poison} poison -> DLQ ${figures.dlq}), ` +
      `${figures.kills} kills, ${figures.terminations} graceful stops, ${rebalances} rebalances, max lag ${figures.maxLag}, ` +
      `lost ${lost}, duplicated ${duplicated}; rebalance pause max ${figures.rebalancePauseMs.graceful} ms graceful, ` +
      `${figures.rebalancePauseMs.afterKill} ms after a SIGKILL (session timeout ${SESSION_TIMEOUT_MS} ms); ` +
      `transactions aborted ${figures.transactionAborts.total} ${JSON.stringify(abortsByCode)}; ${figures.durationS} s`);

    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(targetRecords).toHaveLength(expected.length);
    expect(kmsFailureSeen, 'the KMS freeze reached a KMS call').toBe(true);
    for (const e of exits.filter((x) => x.signal === 'SIGTERM')) expect(e, `${e.name} exit after SIGTERM`).toMatchObject({ code: 0 });

    // Partition order, keys, headers and timestamps kept; plaintext back through Confluent's deserializer.
    OfficialAwsKmsDriver.register();
    const official = officialSerdes(env.SCHEMA_REGISTRY_URL!, 'AVRO', {}, { secret: readFileSync(env.LOCAL_SECRET_FILE!, 'utf8').trim() });
    const byPartition = (records: RawRecord[], p: number) => records.filter((r) => r.partition === p);
    for (let p = 0; p < PARTITIONS; p++) {
      const want = byPartition(expected, p);
      const got = byPartition(targetRecords, p);
      expect(got.map((r) => r.key!.toString()), `partition ${p} order`).toEqual(want.map((r) => r.key!.toString()));
      for (let i = 0; i < got.length; i++) {
        const seq = Number(want[i]!.headers.seq!.toString());
        expect(got[i]!.timestamp).toBe(want[i]!.timestamp);
        expect(got[i]!.value!.includes(canary)).toBe(false);
        expect(await official.deserializer.deserialize(target, got[i]!.value!)).toEqual(person(seq, canary));
      }
    }

    // The poison records: once each in the DLQ, as references (no payload), the canary nowhere.
    const dlqPositions = dlqRecords.map((r) => `${r.headers['__source.partition']?.toString()}@${r.headers['__source.offset']?.toString()}`).sort();
    expect(dlqPositions).toEqual(poison.map((r) => `${r.partition}@${r.offset}`).sort());
    for (const r of dlqRecords) {
      expect(r.value?.includes(canary) ?? false).toBe(false);
      for (const h of Object.values(r.headers)) expect(h.includes(canary)).toBe(false);
    }
    expect(logs).not.toContain(canary);
    expect(f.scrapes.length).toBeGreaterThan(0);
    for (const text of f.scrapes) expect(text).not.toContain(canary);
  });
});
