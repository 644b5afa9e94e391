import { afterEach, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/server.js';

const registries: DevRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

async function registry(auth: { basic?: string; bearerToken?: string }): Promise<DevRegistry> {
  const r = await startDevRegistry({ port: 0, auth, localSecret: 'unit-test-secret' });
  registries.push(r);
  return r;
}

const get = (url: string, authorization?: string) =>
  fetch(`${url}/subjects`, authorization === undefined ? {} : { headers: { authorization } });
const basic = (userInfo: string) => `Basic ${Buffer.from(userInfo).toString('base64')}`;

describe('dev registry auth', () => {
  it('answers 401 with Confluent\'s body to a caller without credentials, and never echoes what was sent', async () => {
    const r = await registry({ basic: 'recrypt:s3cret-canary' });
    const none = await get(r.url);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error_code: 401, message: 'Unauthorized' });
    const wrong = await get(r.url, basic('recrypt:wrong-canary'));
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('canary');
  });

  it('accepts the configured basic credentials only', async () => {
    const r = await registry({ basic: 'recrypt:s3cret' });
    expect((await get(r.url, basic('recrypt:s3cret'))).status).toBe(200);
    expect((await get(r.url, basic('recrypt:s3cre'))).status).toBe(401);
    expect((await get(r.url, basic('other:s3cret'))).status).toBe(401);
    expect((await get(r.url, 'Bearer s3cret')).status).toBe(401);
  });

  it('accepts the bearer token beside basic auth', async () => {
    const r = await registry({ basic: 'recrypt:s3cret', bearerToken: 'tok-123' });
    expect((await get(r.url, 'Bearer tok-123')).status).toBe(200);
    expect((await get(r.url, 'bearer tok-123')).status).toBe(200);
    expect((await get(r.url, 'Bearer tok-12')).status).toBe(401);
    expect((await get(r.url, basic('recrypt:s3cret'))).status).toBe(200);
  });

  it('is open when no credential is configured', async () => {
    const r = await registry({});
    expect((await get(r.url)).status).toBe(200);
  });
});
