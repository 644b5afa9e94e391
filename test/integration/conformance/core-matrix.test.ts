// The core conformance matrix against Confluent's Go client (issue #27): Avro, Protobuf and JSON Schema
// x AES128_GCM, AES256_GCM, AES256_SIV x local-kms and aws-kms (moto), every direction (see cell.ts):
// Go writes -> recrypt decrypts / re-encrypts -> Go and the JS serdes read; recrypt writes -> Go reads.
// For AES256_SIV, Go's ciphertext and recrypt's are byte-identical for the same plaintext and DEK.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SECRET, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { stack } from '../helpers/stack.js';
import { startSerializedFormatProxy, type Proxy } from '../engine/proto-descriptors.js';
import { ALGORITHMS, createCell, encryptRule, expectAllDirections, FORMATS, KMS_TYPES, kmsParams } from './cell.js';
import { GoClient } from './go-client.js';
import { customer, SCHEMAS } from './schemas.js';
import { canonical } from './wire.js';

const RECORDS_PER_CELL = 6;

let registry: TestRegistry;
let proxy: Proxy;
let go: GoClient;
let awsKeyArn: string;
beforeAll(async () => {
  registry = await startTestRegistry();
  proxy = await startSerializedFormatProxy(registry.url);
  go = new GoClient(registry.url, { LOCAL_SECRET });
  const admin = new KMSClient({ region: 'us-east-1', endpoint: stack.kmsEndpoint });
  awsKeyArn = (await admin.send(new CreateKeyCommand({ Description: 'recrypt Go conformance' }))).KeyMetadata!.Arn!;
  admin.destroy();
});
afterAll(async () => {
  await go?.close();
  await proxy?.close();
  await registry?.close();
});

describe.each(FORMATS)('%s', (format) => {
  describe.each(KMS_TYPES)('%s', (kms) => {
    it.each(ALGORITHMS)('%s: Go <-> recrypt <-> JS, every direction', async (algorithm) => {
      const cell = await createCell(registry.url, go, {
        format, ...SCHEMAS[format], protoUrl: proxy.url, kms,
        rules: (kek) => [encryptRule('encryptPII', kek, { ...kmsParams(kms, awsKeyArn), 'encrypt.dek.algorithm': algorithm })],
      });
      const { schema, typeName } = SCHEMAS[format];
      for (let i = 0; i < RECORDS_PER_CELL; i++) {
        const { value, secrets } = customer(format, i);
        const { goCipher, recryptCipher } = await expectAllDirections(cell, value, { secrets });
        if (algorithm === 'AES256_SIV') {
          // Deterministic: the same plaintext under the same DEK gives the same record from Go and recrypt.
          // Byte for byte where the format fixes the bytes (see wire.ts for Avro blocks and Protobuf order).
          expect(canonical(format, recryptCipher, schema, typeName), 'SIV: recrypt and Go give identical bytes').toEqual(canonical(format, goCipher, schema, typeName));
          expect(canonical(format, await cell.goWrite(cell.enc, value), schema, typeName)).toEqual(canonical(format, goCipher, schema, typeName));
        } else {
          expect(canonical(format, recryptCipher, schema, typeName)).not.toEqual(canonical(format, goCipher, schema, typeName));
        }
      }
    });
  });
});
