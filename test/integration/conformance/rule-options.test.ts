// The CSFLE rule options against the Go client, each format, every direction (cell.ts):
// onFailure pairs; several ENCRYPT rules in order with a field carrying two tags (encrypted twice);
// encrypt.kms.type / encrypt.kms.key.id registering the KEK on demand, whichever client comes first;
// encrypt.dek.expiry.days rotation (records under three DEK versions in one topic, written by Go and
// recrypt in turn); shared KEKs (DEKs made by the registry) and pre-registered client-wrapped KEKs.
// (preserve.source.fields: neither the Go client v2.11.1 nor recrypt has it; nothing to compare.)
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_SECRET, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { startSerializedFormatProxy, type Proxy } from '../engine/proto-descriptors.js';
import { createCell, encryptRule, expectAllDirections, FORMATS, kmsParams } from './cell.js';
import { GoClient, type Format } from './go-client.js';
import { customer, SCHEMAS } from './schemas.js';
import { canonical } from './wire.js';

let registry: TestRegistry;
let proxy: Proxy;
let go: GoClient;
beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startSerializedFormatProxy(registry.url);
  go = new GoClient(registry.url, { LOCAL_SECRET });
});
afterAll(async () => {
  await go?.close();
  await proxy?.close();
  await registry?.close();
});

const LOCAL = kmsParams('local-kms', '');

async function registryGet(path: string): Promise<unknown> {
  const res = await fetch(`${registry.url}${path}`);
  expect(res.status, path).toBe(200);
  return res.json();
}

async function registerKek(name: string, shared: boolean): Promise<void> {
  const res = await fetch(`${registry.url}/dek-registry/v1/keks`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, kmsType: 'local-kms', kmsKeyId: LOCAL['encrypt.kms.key.id'], shared }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

describe.each(FORMATS)('%s', (format: Format) => {
  const { schema, typeName } = SCHEMAS[format];
  const values = [0, 1, 2].map((i) => customer(format, i));

  it.each(['ERROR,NONE', 'NONE,NONE', 'DLQ,ERROR', 'ERROR'])('onFailure %s: every direction', async (onFailure) => {
    const cell = await createCell(registry.url, go, {
      format, schema, typeName, protoUrl: proxy.url,
      rules: (kek) => [encryptRule('encryptPII', kek, { ...LOCAL, 'encrypt.dek.algorithm': 'AES256_GCM' }, ['PII'], onFailure)],
    });
    for (const { value, secrets } of values) await expectAllDirections(cell, value, { secrets });
  });

  it('two ENCRYPT rules in order, a field with both tags encrypted twice (GCM then SIV), read back', async () => {
    // The rules differ by tag: encryptPII (AES256_GCM) on PII, encryptKey (AES256_SIV) on KEY. The
    // Customer's name carries both: it is encrypted by the first rule, then its ciphertext by the second.
    const twoTags = format === 'PROTOBUF'
      ? schema.replace('string name = 2 [(confluent.field_meta).tags = "PII"];', 'string name = 2 [(confluent.field_meta) = { tags: ["PII", "KEY"] }];')
      : schema.replace('"name":"name","type":"string","confluent:tags":["PII"]', '"name":"name","type":"string","confluent:tags":["PII","KEY"]')
        .replace('"name":{"type":"string","confluent:tags":["PII"]}', '"name":{"type":"string","confluent:tags":["PII","KEY"]}');
    expect(twoTags).not.toBe(schema);
    const cell = await createCell(registry.url, go, {
      format, schema: twoTags, typeName, protoUrl: proxy.url,
      rules: (kek) => [
        encryptRule('encryptPII', kek, { ...LOCAL, 'encrypt.dek.algorithm': 'AES256_GCM' }, ['PII']),
        encryptRule('encryptKey', `${kek}-key`, { ...LOCAL, 'encrypt.dek.algorithm': 'AES256_SIV' }, ['KEY']),
      ],
    });
    for (const { value, secrets } of values) await expectAllDirections(cell, value, { secrets });
  });

  it('encrypt.kms.type and encrypt.kms.key.id register the KEK on demand: Go first, or recrypt first', async () => {
    for (const first of ['go', 'recrypt'] as const) {
      let kekName = '';
      const cell = await createCell(registry.url, go, {
        format, schema, typeName, protoUrl: proxy.url,
        rules: (kek) => { kekName ||= kek; return [encryptRule('encryptPII', kek, { ...LOCAL, 'encrypt.dek.algorithm': 'AES128_GCM' })]; },
      });
      const { value } = values[1]!;
      await fetch(`${registry.url}/dek-registry/v1/keks/${kekName}`).then((r) => expect(r.status).toBe(404));
      const firstCipher = first === 'go' ? await cell.goWrite(cell.enc, value) : await cell.recryptEncrypt(await cell.goWrite(cell.plain, value));
      const kek = await registryGet(`/dek-registry/v1/keks/${kekName}`) as { kmsType: string; kmsKeyId: string; shared: boolean };
      expect(kek).toMatchObject({ kmsType: 'local-kms', kmsKeyId: LOCAL['encrypt.kms.key.id'] });
      expect(kek.shared ?? false).toBe(false);
      // The other client reuses the KEK and its one DEK.
      await expectAllDirections(cell, value);
      expect(await cell.goRead(cell.enc, firstCipher)).toEqual(cell.goValue(value));
      expect(await registryGet(`/dek-registry/v1/keks/${kekName}/deks/${cell.enc}-value/versions?algorithm=AES128_GCM`)).toEqual([1]);
    }
  });

  it('encrypt.dek.expiry.days: Go and recrypt rotate the DEK in turn; one topic holds three versions; all read back', async () => {
    // One clock for everyone: this process's Date (recrypt, the JS serdes and the in-process dev
    // registry, which stamps each DEK's creation time) and the Go client's, moved together.
    const DAY = 86_400_000;
    let kekName = '';
    const cell = await createCell(registry.url, go, {
      // Read Date.now at each call, so that the faked Date below reaches recrypt and the JS serdes.
      format, schema, typeName, protoUrl: proxy.url, clock: () => Date.now(),
      rules: (kek) => { kekName ||= kek; return [encryptRule('encryptPII', kek, { ...LOCAL, 'encrypt.dek.algorithm': 'AES256_GCM', 'encrypt.dek.expiry.days': '1' })]; },
    });
    const records: { bytes: Buffer; i: number }[] = [];
    const goWrites = async (i: number): Promise<void> => { records.push({ bytes: await cell.goWrite(cell.enc, values[i]!.value), i }); };
    const recryptWrites = async (i: number): Promise<void> => {
      records.push({ bytes: await cell.recryptEncrypt(await cell.goWrite(cell.plain, values[i]!.value)), i });
    };
    const advance = async (ms: number): Promise<void> => {
      vi.setSystemTime(Date.now() + ms);
      await go.setClock(Date.now());
    };
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      await advance(0);
      await goWrites(0); // v1, by Go
      await recryptWrites(1); // v1 reused by recrypt
      await advance(2 * DAY);
      await goWrites(2); // v1 expired: Go creates v2
      await recryptWrites(0); // v2 reused by recrypt
      await advance(2 * DAY);
      await recryptWrites(1); // v2 expired: recrypt creates v3
      await goWrites(2); // v3 reused by Go
      expect(await registryGet(`/dek-registry/v1/keks/${kekName}/deks/${cell.enc}-value/versions?algorithm=AES256_GCM`)).toEqual([1, 2, 3]);
      expect(records.map((r) => nameDekVersion(format, r.bytes))).toEqual([1, 1, 2, 2, 3, 3]);
    } finally {
      vi.useRealTimers();
      await go.setClock(0);
    }
    for (const { bytes, i } of records) {
      const { value } = values[i]!;
      expect(await cell.goRead(cell.enc, bytes)).toEqual(cell.goValue(value));
      expect(await cell.jsRead(cell.enc, bytes)).toEqual(cell.jsExpected(value));
      expect(await cell.goRead(cell.plain, await cell.recryptDecrypt(bytes))).toEqual(cell.goValue(value));
    }
  });

  it.each([true, false])('a pre-registered KEK with shared: %s (DEKs made by the registry, or wrapped by the clients)', async (shared) => {
    const kekName = uniqueName('kek');
    await registerKek(kekName, shared);
    const cell = await createCell(registry.url, go, {
      format, schema, typeName, protoUrl: proxy.url,
      rules: () => [encryptRule('encryptPII', kekName, { ...LOCAL, 'encrypt.dek.algorithm': 'AES256_SIV' })],
    });
    for (const { value, secrets } of values) await expectAllDirections(cell, value, { secrets });
    const dek = await registryGet(`/dek-registry/v1/keks/${kekName}/deks/${cell.enc}-value?algorithm=AES256_SIV`) as { encryptedKeyMaterial?: string };
    expect(typeof dek.encryptedKeyMaterial).toBe('string');
  });
});

/** The DEK version in the ciphertext of the record's `name` field (0x00 and a 4-byte version come first). */
function nameDekVersion(format: Format, record: Buffer): number {
  const { schema, typeName } = SCHEMAS[format];
  const decoded = format === 'JSON' ? record.subarray(5).toString('utf8') : canonical(format, record, schema, typeName)[1]!;
  const name = (JSON.parse(decoded) as { name: string }).name;
  const ciphertext = Buffer.from(name, 'base64');
  expect(ciphertext[0]).toBe(0);
  return ciphertext.readUInt32BE(1);
}
