// A broker that refuses connections is an outage (transient), not a missing topic (permanent).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTopic, ensureMirroredTopic, listTopics } from '../../../src/kafka/topics.js';
import { RecryptError } from '../../../src/util/errors.js';

let port = 0;
beforeAll(async () => {
  // A port nobody listens on: bind one, learn its number, close it.
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
});
afterAll(() => undefined);

const refused = () => ({ bootstrapServers: `127.0.0.1:${port}`, properties: {} });

async function codeOf(call: () => Promise<unknown>): Promise<{ code: string; transient: boolean }> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(RecryptError);
    return { code: (err as RecryptError).code, transient: (err as RecryptError).transient };
  }
  throw new Error('expected a failure');
}

describe('topic admin calls with the broker unreachable', () => {
  it('describeTopic fails with KAFKA_UNAVAILABLE (transient)', async () => {
    expect(await codeOf(() => describeTopic(refused(), 'any-topic'))).toEqual({ code: 'KAFKA_UNAVAILABLE', transient: true });
  }, 60_000);

  it('ensureMirroredTopic and listTopics fail with KAFKA_UNAVAILABLE', async () => {
    expect((await codeOf(() => ensureMirroredTopic(refused(), 'a', 'b', { create: true }))).code).toBe('KAFKA_UNAVAILABLE');
    expect((await codeOf(() => listTopics(refused()))).code).toBe('KAFKA_UNAVAILABLE');
  }, 120_000);
});
