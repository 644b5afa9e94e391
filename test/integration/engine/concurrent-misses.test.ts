// processing.maxInFlight: a batch whose records need many DEKs it has not seen (one per source topic here)
// fetches them up to maxInFlight at a time, through a registry that answers slowly; records still come
// out in order and identical to a one-at-a-time run, each DEK is fetched once, and a DEK that does not
// exist still fails only its own record.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { haltOf, output } from './harness.js';

const schema = JSON.stringify({
  type: 'record', name: 'Msg', fields: [{ name: 'text', type: 'string', 'confluent:tags': ['PII'] }, { name: 'n', type: 'int' }],
});
const msgType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
const TOPICS = 12;
const DELAY_MS = 60;

/** An HTTP proxy in front of the registry that delays DEK registry calls and records their concurrency. */
interface SlowProxy {
  readonly url: string;
  readonly stats: { inFlight: number; maxInFlight: number; dekGets: Map<string, number> };
  close(): Promise<void>;
}

async function slowProxy(target: string): Promise<SlowProxy> {
  const upstream = new URL(target);
  const stats = { inFlight: 0, maxInFlight: 0, dekGets: new Map<string, number>() };
  const server = http.createServer((req, res) => {
    const isDek = (req.url ?? '').startsWith('/dek-registry/') && (req.url ?? '').includes('/deks/');
    const forward = () => {
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => { if (isDek) stats.inFlight -= 1; });
      });
      req.pipe(out);
    };
    if (!isDek) return forward();
    const path = (req.url ?? '').split('?')[0]!;
    stats.dekGets.set(path, (stats.dekGets.get(path) ?? 0) + 1);
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    setTimeout(forward, DELAY_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

/** TOPICS encrypted topics (each its own subject, so its own DEK) and one record from each. */
async function recordsUnderManyDeks() {
  const kek = uniqueName('kek');
  const plainTopic = uniqueName('plain');
  await register(registry.url, `${plainTopic}-value`, { schemaType: 'AVRO', schema });
  const writer = officialSerdes(registry.url, 'AVRO');
  const records = [];
  for (let i = 0; i < TOPICS; i++) {
    const topic = uniqueName(`enc${i}`);
    await register(registry.url, `${topic}-value`, { schemaType: 'AVRO', schema, ruleSet: { domainRules: [encryptRule('encryptPII', kek)] } });
    records.push(sourceRecord(topic, await writer.serializer.serialize(topic, { text: `secret ${i}`, n: i }), i));
  }
  return { plainTopic, records };
}

describe('processing.maxInFlight', () => {
  it('fetches a batch’s missing DEKs up to maxInFlight at a time, each once, with the same output in order', async () => {
    const { plainTopic, records } = await recordsUnderManyDeks();
    const runs: Array<{ maxInFlight: number; values: Buffer[]; maxSeen: number; ms: number }> = [];
    for (const maxInFlight of [1, 4]) {
      const proxy = await slowProxy(registry.url);
      try {
        const engine = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic, engineUrl: proxy.url, maxInFlight });
        const started = Date.now();
        const results = await engine.transformer.process(records);
        const ms = Date.now() - started;
        const values = results.map((r) => output(r));
        // Every DEK was fetched once (single-flight and caches), whatever the concurrency.
        expect(proxy.stats.dekGets.size).toBe(TOPICS);
        expect([...proxy.stats.dekGets.values()].every((n) => n === 1)).toBe(true);
        expect(engine.transformer.drainStats().dekMisses).toBe(TOPICS);
        runs.push({ maxInFlight, values, maxSeen: proxy.stats.maxInFlight, ms });
      } finally {
        await proxy.close();
      }
    }
    const [one, four] = runs as [typeof runs[0], typeof runs[0]];
    expect(one.maxSeen).toBe(1);
    expect(four.maxSeen).toBeGreaterThan(1);
    expect(four.maxSeen).toBeLessThanOrEqual(4);
    // Same bytes, same order: the plaintext records in source order.
    four.values.forEach((v, i) => expect(v.equals(one.values[i]!)).toBe(true));
    four.values.forEach((v, i) => expect(msgType.fromBuffer(v.subarray(5))).toEqual({ text: `secret ${i}`, n: i }));
  });

  it('a DEK that does not exist fails only its record; the others decrypt', async () => {
    const { plainTopic, records } = await recordsUnderManyDeks();
    // Record 3 claims DEK version 7 of its subject, which was never created (ciphertext with expiry prefix).
    const forged = Buffer.from(records[3]!.value!);
    const decoded = msgType.fromBuffer(forged.subarray(5)) as { text: string; n: number };
    const ciphertext = Buffer.from(decoded.text, 'base64');
    decoded.text = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), ciphertext]).toString('base64');
    const broken = [...records];
    broken[3] = { ...records[3]!, value: Buffer.concat([forged.subarray(0, 5), msgType.toBuffer(decoded)]) };
    const engine = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${plainTopic}-value`, targetTopic: plainTopic, maxInFlight: 8 });
    const results = await engine.transformer.process(broken);
    results.forEach((r, i) => {
      if (i === 3) expect(haltOf(r).code).toMatch(/CRYPTO_|DEK_NOT_FOUND|ENGINE_RULE_FAILED/);
      else expect(msgType.fromBuffer(output(r).subarray(5))).toEqual({ text: `secret ${i}`, n: i });
    });
  });
});
