// Bad input gets Confluent's status and error_code, never a 500 and never a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevRegistry } from '../../../src/devregistry/server.js';
import { call, start, tempDir, uniq } from './helpers.js';

let registry: DevRegistry;
let data: ReturnType<typeof tempDir>;
let kek: string;
let subject: string;

beforeAll(async () => {
  data = tempDir();
  registry = await start(data.dir);
  kek = uniq('kek');
  subject = `${uniq('topic')}-value`;
  await call(registry.url, 'POST', '/dek-registry/v1/keks', { name: kek, kmsType: 'local-kms', kmsKeyId: 'mykey' });
  await call(registry.url, 'POST', `/subjects/${subject}/versions`, { schema: '"string"' });
  await call(registry.url, 'POST', `/dek-registry/v1/keks/${kek}/deks/${subject}`, { subject, encryptedKeyMaterial: 'QUJD' });
});
afterAll(async () => {
  await registry.close();
  data.remove();
});

// bodies that mention `subject` or `kek` are functions: those are set in beforeAll
type Case = [label: string, method: string, path: () => string, body: string | object | (() => object) | undefined, status: number, errorCode: number];

const cases: Case[] = [
  // malformed JSON and wrong body shapes
  ['malformed JSON on register', 'POST', () => `/subjects/${subject}/versions`, '{"schema": ', 400, 400],
  ['malformed JSON on KEK create', 'POST', () => '/dek-registry/v1/keks', '{nope', 400, 400],
  ['malformed JSON on DEK create', 'POST', () => `/dek-registry/v1/keks/${kek}/deks/${subject}`, '[1,', 400, 400],
  ['array body on register', 'POST', () => `/subjects/${subject}/versions`, '[1,2]', 400, 400],
  ['malformed JSON on config', 'PUT', () => '/config', 'x', 400, 400],
  // schemas
  ['invalid Avro', 'POST', () => `/subjects/${uniq('s')}/versions`, { schema: '{"type": "record"' }, 422, 42201],
  ['Avro record without fields', 'POST', () => `/subjects/${uniq('s')}/versions`, { schema: '{"type":"record","name":"X"}' }, 422, 42201],
  ['unknown schema type', 'POST', () => `/subjects/${uniq('s')}/versions`, { schema: '"string"', schemaType: 'XML' }, 422, 42201],
  ['empty schema on a new subject', 'POST', () => `/subjects/${uniq('s')}/versions`, {}, 422, 42201],
  ['schema not a string', 'POST', () => `/subjects/${uniq('s')}/versions`, { schema: 42 }, 422, 42201],
  ['reference to a missing subject', 'POST', () => `/subjects/${uniq('s')}/versions`, { schema: '"Other"', references: [{ name: 'Other', subject: 'nope', version: 1 }] }, 422, 42201],
  ['bad rule mode', 'POST', () => `/subjects/${uniq('s')}/versions`, { schema: '"string"', ruleSet: { domainRules: [{ name: 'r', type: 'ENCRYPT', mode: 'SIDEWAYS' }] } }, 422, 42210],
  ['bad rule name', 'POST', () => `/subjects/${uniq('s')}/versions`, { schema: '"string"', ruleSet: { domainRules: [{ name: '1 bad', type: 'ENCRYPT' }] } }, 422, 42210],
  ['unknown subject (latest)', 'GET', () => `/subjects/${uniq('none')}/versions/latest`, undefined, 404, 40401],
  ['unknown subject (versions)', 'GET', () => `/subjects/${uniq('none')}/versions`, undefined, 404, 40401],
  ['unknown subject (lookup)', 'POST', () => `/subjects/${uniq('none')}`, { schema: '"string"' }, 404, 40401],
  ['unknown schema under a subject (lookup)', 'POST', () => `/subjects/${subject}`, { schema: '"int"' }, 404, 40403],
  ['unknown version', 'GET', () => `/subjects/${subject}/versions/99`, undefined, 404, 40402],
  ['invalid version', 'GET', () => `/subjects/${subject}/versions/zero`, undefined, 422, 42202],
  ['version 0', 'GET', () => `/subjects/${subject}/versions/0`, undefined, 422, 42202],
  ['unknown schema id', 'GET', () => '/schemas/ids/987654', undefined, 404, 40403],
  ['non-numeric schema id', 'GET', () => '/schemas/ids/abc', undefined, 404, 40403],
  ['unknown GUID', 'GET', () => '/schemas/guids/00000000-0000-4000-8000-000000000000', undefined, 404, 40403],
  ['unconfigured subject config', 'GET', () => `/config/${subject}`, undefined, 404, 40408],
  ['invalid compatibility', 'PUT', () => '/config', { compatibility: 'SOMETIMES' }, 422, 42203],
  ['permanent delete before soft delete', 'DELETE', () => `/subjects/${subject}?permanent=true`, undefined, 404, 40405],
  // KEKs
  ['KEK name starting with a digit', 'POST', () => '/dek-registry/v1/keks', { name: '1kek', kmsType: 'local-kms', kmsKeyId: 'k' }, 422, 42271],
  ['KEK name with a space', 'POST', () => '/dek-registry/v1/keks', { name: 'a kek', kmsType: 'local-kms', kmsKeyId: 'k' }, 422, 42271],
  ['KEK name too long', 'POST', () => '/dek-registry/v1/keks', { name: 'k'.repeat(65), kmsType: 'local-kms', kmsKeyId: 'k' }, 422, 42271],
  ['KEK without kmsKeyId', 'POST', () => '/dek-registry/v1/keks', { name: uniq('k'), kmsType: 'local-kms' }, 422, 42271],
  ['KEK without kmsType', 'POST', () => '/dek-registry/v1/keks', { name: uniq('k'), kmsKeyId: 'k' }, 422, 42271],
  ['existing KEK (even identical)', 'POST', () => '/dek-registry/v1/keks', () => ({ name: kek, kmsType: 'local-kms', kmsKeyId: 'mykey' }), 409, 40971],
  ['unknown KEK', 'GET', () => `/dek-registry/v1/keks/${uniq('none')}`, undefined, 404, 40470],
  ['invalid KEK name on GET', 'GET', () => '/dek-registry/v1/keks/bad%20name', undefined, 422, 42271],
  ['update unknown KEK', 'PUT', () => `/dek-registry/v1/keks/${uniq('none')}`, { doc: 'x' }, 404, 40470],
  ['delete KEK still used by DEKs', 'DELETE', () => `/dek-registry/v1/keks/${kek}`, undefined, 422, 42272],
  // DEKs
  ['DEK for a missing KEK', 'POST', () => `/dek-registry/v1/keks/${uniq('none')}/deks/${subject}`, () => ({ subject, encryptedKeyMaterial: 'QUJD' }), 404, 40470],
  ['DEK for a missing KEK (old path)', 'POST', () => `/dek-registry/v1/keks/${uniq('none')}/deks`, () => ({ subject, encryptedKeyMaterial: 'QUJD' }), 404, 40470],
  ['DEK without material under a non-shared KEK', 'POST', () => `/dek-registry/v1/keks/${kek}/deks/${uniq('s')}`, {}, 422, 42271],
  ['DEK without subject (old path)', 'POST', () => `/dek-registry/v1/keks/${kek}/deks`, { encryptedKeyMaterial: 'QUJD' }, 422, 42271],
  ['DEK with unknown algorithm', 'POST', () => `/dek-registry/v1/keks/${kek}/deks/${uniq('s')}`, { algorithm: 'ROT13', encryptedKeyMaterial: 'QUJD' }, 422, 42271],
  ['DEK with version 0', 'POST', () => `/dek-registry/v1/keks/${kek}/deks/${uniq('s')}`, { version: 0, encryptedKeyMaterial: 'QUJD' }, 422, 42271],
  ['DEK with non-base64 material', 'POST', () => `/dek-registry/v1/keks/${kek}/deks/${uniq('s')}`, { encryptedKeyMaterial: 'not base64!' }, 422, 42271],
  ['existing DEK (even identical)', 'POST', () => `/dek-registry/v1/keks/${kek}/deks/${subject}`, () => ({ subject, encryptedKeyMaterial: 'QUJD' }), 409, 40971],
  ['unknown DEK', 'GET', () => `/dek-registry/v1/keks/${kek}/deks/${uniq('none')}/versions/1`, undefined, 404, 40470],
  ['unknown DEK version', 'GET', () => `/dek-registry/v1/keks/${kek}/deks/${subject}/versions/7`, undefined, 404, 40470],
  ['invalid DEK version', 'GET', () => `/dek-registry/v1/keks/${kek}/deks/${subject}/versions/x`, undefined, 422, 42202],
  ['DEK for a missing KEK (GET)', 'GET', () => `/dek-registry/v1/keks/${uniq('none')}/deks/${subject}/versions/-1`, undefined, 404, 40470],
  ['permanent DEK delete before soft delete', 'DELETE', () => `/dek-registry/v1/keks/${kek}/deks/${subject}?permanent=true`, undefined, 404, 40471],
  // routing
  ['unknown path', 'GET', () => '/nothing/here', undefined, 404, 404],
  ['wrong method', 'PATCH', () => '/subjects', undefined, 405, 405],
];

describe('bad input matrix', () => {
  it.each(cases)('%s', async (_label, method, path, body, status, errorCode) => {
    const payload = typeof body === 'function' ? (body as () => object)() : body;
    const res = await call(registry.url, method, path(), payload);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error_code: errorCode });
    expect(typeof (res.body as { message: unknown }).message).toBe('string');
  });

  it('still serves after all of that', async () => {
    expect((await call(registry.url, 'GET', `/subjects/${subject}/versions/latest`)).status).toBe(200);
  });

  it('survives garbage on the socket and oversized bodies', async () => {
    const { connect } = await import('node:net');
    const { port } = new URL(registry.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
      socket.resume();
    });
    const huge = JSON.stringify({ schema: 'x'.repeat(17 * 1024 * 1024) });
    const res = await call(registry.url, 'POST', `/subjects/${uniq('big')}/versions`, huge).catch(() => ({ status: 413, body: {} }));
    expect(res.status).toBe(413);
    expect((await call(registry.url, 'GET', '/subjects')).status).toBe(200);
  });
});
