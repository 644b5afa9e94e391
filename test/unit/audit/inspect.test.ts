// inspectSourceRecord without Kafka: records framed by hand, a registry in memory, DEKs handed out by a
// stand-in for keys/'s dekForRead. Field values are shown by shape and decrypted only with keys; a DEK
// version keys/ cannot give is that field's DEK_NOT_FOUND; an ENCRYPT_PAYLOAD payload is decrypted
// with the DEK version its prefix names.
import { describe, expect, it } from 'vitest';
import { inspectSourceRecord } from '../../../src/audit/inspect.js';
import { createAesGcmFieldCipher, encodeBase64, withVersionPrefix, type FieldCipher } from '../../../src/crypto/index.js';
import { RegistryError } from '../../../src/registry/index.js';
import type { RegisteredSchema, Rule, SchemaRegistryApi } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import type { SourceRecord } from '../../../src/util/records.js';
import { encodeFrame, encodeSchemaIdHeader, VALUE_SCHEMA_ID_HEADER } from '../../../src/wire/index.js';

const params = { 'encrypt.kek.name': 'k1', 'encrypt.dek.expiry.days': '7' };
const fieldRule: Rule = { name: 'pii', type: 'ENCRYPT', mode: 'WRITEREAD', tags: ['PII'], params };
const payloadRule: Rule = { name: 'whole', type: 'ENCRYPT_PAYLOAD', mode: 'WRITEREAD', tags: [], params };
const personSchema = JSON.stringify({
  type: 'object', title: 'Person',
  properties: { name: { type: 'string', 'confluent:tags': ['PII'] }, ssn: { type: ['string', 'null'], 'confluent:tags': ['PII'] }, age: { type: 'integer' } },
});
const schemas = new Map<number, RegisteredSchema>([
  [1, { id: 1, schemaType: 'JSON', schema: personSchema, ruleSet: { domainRules: [fieldRule] } }],
  [2, { id: 2, schemaType: 'JSON', schema: personSchema, ruleSet: { encodingRules: [payloadRule] } }],
]);

function registry(): SchemaRegistryApi {
  const notFound = () => Promise.reject(new RegistryError('REGISTRY_NOT_FOUND', 'not found', { status: 404, errorCode: 40403, method: 'GET', path: '/' }));
  return {
    getById: (id) => (schemas.has(id) ? Promise.resolve(schemas.get(id)!) : notFound()),
    getByGuid: notFound, getVersion: notFound, getLatestWithMetadata: notFound, register: notFound, lookup: notFound, getLatest: notFound,
  };
}

// DEK versions 3 and 5 exist; any other is not found.
const ciphers = new Map<number, FieldCipher>([3, 5].map((v) => [v, createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, v))]));
const asked: number[] = [];
const keys = {
  dekForRead: (_ref: unknown, _params: unknown, version: number): Promise<FieldCipher> => {
    asked.push(version);
    const cipher = ciphers.get(version);
    return cipher ? Promise.resolve(cipher) : Promise.reject(new RecryptError('DEK_NOT_FOUND', `no DEK version ${version}`));
  },
};
const seal = (plaintext: string, version: number) => withVersionPrefix(version, ciphers.get(version)?.encrypt(Buffer.from(plaintext)) ?? Buffer.alloc(40, 7));
const rec = (value: Buffer, headers: SourceRecord['headers'] = []): SourceRecord => ({ topic: 'people', partition: 0, offset: 0, key: null, value, headers, timestamp: 0 });
const options = { schemaRegistry: registry(), subjectNameStrategy: 'topic' as const };

describe('inspectSourceRecord', () => {
  it('shows covered fields by shape and decrypts them only with keys; a DEK version keys/ lacks fails that field alone', async () => {
    const value = { name: encodeBase64(seal('Ann', 3)), ssn: encodeBase64(seal('123', 4)), age: 30 };
    const record = rec(encodeFrame(1, Buffer.from(JSON.stringify(value))));

    const shown = await inspectSourceRecord(record, options);
    expect(shown.framing).toEqual({ magic: 0, idSource: 'payload', schemaId: 1 });
    expect(shown.fields.map((f) => [f.field, f.status, f.dekVersion])).toEqual([['$.name', 'ciphertext', 3], ['$.ssn', 'ciphertext', 4]]);
    expect(shown.fields.every((f) => f.decrypted === undefined)).toBe(true);
    expect(shown.decryptedValue).toBeUndefined();

    asked.length = 0;
    const decrypted = await inspectSourceRecord(record, { ...options, keys });
    expect(asked.sort()).toEqual([3, 4]);
    const [name, ssn] = decrypted.fields;
    expect(name).toMatchObject({ field: '$.name', decrypted: 'Ann' });
    expect(name!.decryptError).toBeUndefined();
    expect(ssn).toMatchObject({ field: '$.ssn', decryptError: 'DEK_NOT_FOUND' });
    expect(ssn!.decrypted).toBeUndefined();
    expect(decrypted.decryptedValue).toEqual({ ...value, name: 'Ann' });
  });

  it('decrypts an ENCRYPT_PAYLOAD payload with the DEK version its prefix names, framed by the value header', async () => {
    const payload = seal(JSON.stringify({ name: 'Bo', ssn: null, age: 41 }), 5);
    const record = rec(payload, [{ key: VALUE_SCHEMA_ID_HEADER, value: encodeSchemaIdHeader({ id: 2 }) }]);

    const shown = await inspectSourceRecord(record, options);
    expect(shown.framing).toEqual({ magic: 0, idSource: 'header', schemaId: 2 });
    expect(shown.payloadEncrypted).toEqual({ rule: 'whole', kek: 'k1', algorithm: 'AES256_GCM', bytes: payload.length });
    expect(shown.fields).toEqual([]);

    asked.length = 0;
    const decrypted = await inspectSourceRecord(record, { ...options, keys });
    expect(asked).toEqual([5]);
    expect(decrypted.error).toBeUndefined();
    expect(decrypted.decryptedValue).toEqual({ name: 'Bo', ssn: null, age: 41 });

    const unknownVersion = await inspectSourceRecord(rec(seal('{}', 9), record.headers), { ...options, keys });
    expect(unknownVersion.error).toBe('DEK_NOT_FOUND');
    const noPrefix = await inspectSourceRecord(rec(Buffer.from([1, 2, 3]), record.headers), { ...options, keys });
    expect(noPrefix.error).toBe('CRYPTO_BAD_CIPHERTEXT');
  });
});
