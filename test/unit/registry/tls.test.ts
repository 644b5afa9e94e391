// The registry client over HTTPS: it trusts a private CA given as `ca` (SCHEMA_REGISTRY_SSL_CA_LOCATION),
// sends basic or bearer credentials, and fails at once, without retries, when the certificate is not
// trusted or the credentials are refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryHttpClient } from '../../../src/registry/http-client.js';
import { RegistryError } from '../../../src/registry/registry-error.js';

interface Pki { ca: string; otherCa: string; cert: string; key: string }

/** A CA, a certificate for 127.0.0.1 signed by it, and an unrelated second CA (openssl, as the stack does). */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'recrypt-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const name of ['ca', 'other']) {
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  }
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('x509', '-req', '-days', '2', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-extfile', 'ext', '-out', 'server.crt');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: read('ca.crt'), otherCa: read('other.crt'), cert: read('server.crt'), key: read('server.key') };
}

let pki: Pki;
let server: Server;
let url: string;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  pki = makePki();
  server = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    seen.push(req.headers.authorization);
    const ok = req.headers.authorization === `Basic ${Buffer.from('key:secret').toString('base64')}` || req.headers.authorization === 'Bearer tok';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? ['orders-value'] : { error_code: 401, message: 'Unauthorized' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(options: Partial<ConstructorParameters<typeof RegistryHttpClient>[0]>) {
  const sleeps: number[] = [];
  return { sleeps, c: new RegistryHttpClient({ baseUrls: url, maxRetries: 3, sleep: async (ms) => { sleeps.push(ms); }, ...options }) };
}

async function caught(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RegistryError);
    return err as RegistryError;
  }
  throw new Error('expected a RegistryError');
}

describe('RegistryHttpClient over HTTPS', () => {
  it('trusts the given CA and sends basic auth', async () => {
    await expect(client({ ca: pki.ca, basicAuth: 'key:secret' }).c.request('GET', '/subjects')).resolves.toEqual(['orders-value']);
  });

  it('sends a bearer token', async () => {
    await expect(client({ ca: pki.ca, bearerToken: 'tok' }).c.request('GET', '/subjects')).resolves.toEqual(['orders-value']);
  });

  it('refused credentials: REGISTRY_AUTH, permanent, no retry, the secret nowhere in the error', async () => {
    const before = seen.length;
    const { c, sleeps } = client({ ca: pki.ca, basicAuth: 'key:canary-wrong' });
    const err = await caught(c.request('GET', '/subjects'));
    expect(err.code).toBe('REGISTRY_AUTH');
    expect(err.transient).toBe(false);
    expect(seen.length - before).toBe(1);
    expect(sleeps).toEqual([]);
    expect(`${err.message} ${String(err)}`).not.toContain('canary');
  });

  it('a certificate that does not chain to the given CA (or, without one, to the system CAs): REGISTRY_AUTH at once', async () => {
    for (const options of [{ ca: pki.otherCa }, {}]) {
      const before = seen.length;
      const { c, sleeps } = client({ ...options, basicAuth: 'key:secret' });
      const err = await caught(c.request('GET', '/subjects'));
      expect(err.code).toBe('REGISTRY_AUTH');
      expect(err.message).toMatch(/^GET \/subjects: TLS certificate not trusted \([A-Z_]+\); check SCHEMA_REGISTRY_SSL_CA_LOCATION$/);
      expect(sleeps).toEqual([]);
      expect(seen.length).toBe(before);
    }
  });
});
