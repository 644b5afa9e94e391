// A worker's first contact with Redis: refused credentials (or certificate) end it with REDIS_AUTH and
// close the client; an outage or an answer lets it go on as before.
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { credentialsAccepted } from '../../../src/backfill/redis.js';
import { RecryptError } from '../../../src/util/errors.js';

function fakeRedis(status = 'connecting') {
  const emitter = new EventEmitter();
  let disconnected = 0;
  const redis = Object.assign(emitter, { status, disconnect: () => { disconnected++; } }) as unknown as Redis;
  return { redis, emitter, disconnected: () => disconnected };
}
const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('credentialsAccepted', () => {
  it('rejects with REDIS_AUTH on WRONGPASS, closes the client, and names no password', async () => {
    const { redis, emitter, disconnected } = fakeRedis();
    const check = credentialsAccepted('rediss://:canary-pw@redis.internal:6380', redis);
    emitter.emit('error', reply('WRONGPASS invalid username-password pair or user is disabled.'));
    const err = await check.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RecryptError);
    expect((err as RecryptError).code).toBe('REDIS_AUTH');
    expect((err as RecryptError).message).not.toContain('canary');
    expect(disconnected()).toBe(1);
    expect(emitter.listenerCount('error')).toBe(0);
  });

  it('rejects with REDIS_AUTH on an untrusted certificate', async () => {
    const { redis, emitter } = fakeRedis();
    const check = credentialsAccepted('rediss://redis.internal:6380', redis);
    emitter.emit('error', Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }));
    await expect(check).rejects.toMatchObject({ code: 'REDIS_AUTH' });
  });

  it('resolves on ready, on an outage (the worker retries), and at once when already ready', async () => {
    const up = fakeRedis();
    const ready = credentialsAccepted('redis://h:1', up.redis);
    up.emitter.emit('ready');
    await expect(ready).resolves.toBeUndefined();
    expect(up.emitter.listenerCount('ready')).toBe(0);

    const down = fakeRedis();
    const outage = credentialsAccepted('redis://h:1', down.redis);
    down.emitter.emit('error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    await expect(outage).resolves.toBeUndefined();
    expect(down.disconnected()).toBe(0);

    await expect(credentialsAccepted('redis://h:1', fakeRedis('ready').redis)).resolves.toBeUndefined();
  });
});
