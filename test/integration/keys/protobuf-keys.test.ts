// `keys: rules` end to end with Protobuf keys (#23): a key message with a `(confluent.field_meta)` tagged
// field and a Protobuf value, both written by Confluent's JS ProtobufSerializer (KEY and VALUE serdes),
// moved by `recrypt run` in encrypt mode; Confluent's ProtobufDeserializer reads both parts back to the
// source, the tagged key field is ciphertext on the wire and every record keeps its partition.
//
// Confluent's JS Protobuf serdes fetch schemas as `?format=serialized` (a FileDescriptorProto), which the
// dev registry does not produce: they go through the converting proxy of the engine tests, while
// `recrypt run` talks to the dev registry directly.
import {
  FieldEncryptionExecutor, LocalKmsDriver, ProtobufDeserializer, ProtobufSerializer, RuleRegistry, SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { create, createMutableRegistry } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageDesc, messageRegistry, startSerializedFormatProxy, type Proxy } from '../engine/proto-descriptors.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { encryptRule, register } from '../helpers/csfle.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const KEY_PROTO = `syntax = "proto3";
package demo;
import "confluent/meta.proto";
message CustomerKey {
  string customer = 1 [(confluent.field_meta).tags = "PII"];
  string region = 2;
}
`;
const VALUE_PROTO = `syntax = "proto3";
package demo;
import "confluent/meta.proto";
message Customer {
  string name = 1 [(confluent.field_meta) = { tags: ["PII"] }];
  double balance = 2;
}
`;

interface Row { key: { customer: string; region: string }; value: { name: string; balance: number } }

const keyTypes = messageRegistry(KEY_PROTO);
const valueTypes = messageRegistry(VALUE_PROTO);
const keyDesc = messageDesc(keyTypes, 'demo.CustomerKey');
const valueDesc = messageDesc(valueTypes, 'demo.Customer');

let proxy: Proxy;
const created: string[] = [];
beforeAll(async () => { proxy = await startSerializedFormatProxy(stack.registryUrl); });
afterAll(async () => {
  await proxy.close();
  if (created.length) await deleteTopics(...created);
});

/** Confluent's Protobuf serdes for one part (KEY or VALUE), with their own executor registry and client. */
function serdes(type: SerdeType) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new SchemaRegistryClient({ baseURLs: [proxy.url], cacheCapacity: 1000 });
  const ruleConfig = { secret: stack.localSecret };
  const registry = createMutableRegistry(type === SerdeType.KEY ? keyTypes : valueTypes);
  return {
    serializer: new ProtobufSerializer(client, type, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig, registry }, rules),
    deserializer: new ProtobufDeserializer(client, type, { ruleConfig }, rules),
  };
}

function jobYaml(name: string, source: string, target: string, kek: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: encrypt
  keys: rules
  source:
    topic: ${source}
    startAt: earliest
    stopAt: end
  target:
    topic: ${target}
    createTopic: true
    partition: source
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: mykey
          encrypt.dek.algorithm: AES256_GCM
        onFailure: ERROR,ERROR
`;
}

describe('recrypt run with keys: rules, Protobuf keys', () => {
  it('encrypts the tagged key field and the value in one record, keeps the partition; Confluent\'s Protobuf deserializers read both back', async () => {
    const n = 60;
    const source = await createTopic('pkeys-src', 3, { 'retention.ms': '-1' });
    created.push(source);
    await register(stack.registryUrl, `${source}-key`, { schemaType: 'PROTOBUF', schema: KEY_PROTO });
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'PROTOBUF', schema: VALUE_PROTO });
    const tag = uniqueName('t');
    const rows: Row[] = Array.from({ length: n }, (_, i) => ({
      key: { customer: `ProtoKeyCanary-${i}-${tag}`, region: i % 2 ? 'eu-region' : 'us-region' },
      value: { name: `ProtoName-${i}-${tag}`, balance: i / 4 },
    }));
    const keys = serdes(SerdeType.KEY);
    const values = serdes(SerdeType.VALUE);
    const produced = await Promise.all(rows.map(async (row, i) => ({
      key: Buffer.from(await keys.serializer.serialize(source, create(keyDesc, row.key))),
      value: Buffer.from(await values.serializer.serialize(source, create(valueDesc, row.value))),
      partition: i % 3,
    })));
    // The source is plaintext: the key canary is on the wire before recrypt.
    expect(produced[0]!.key.includes(Buffer.from(rows[0]!.key.customer))).toBe(true);
    await produceRaw(source, produced);

    const target = uniqueName('pkeys-enc');
    created.push(target);
    const kek = uniqueName('kek');
    const targetKeyId = await register(stack.registryUrl, `${target}-key`, {
      schemaType: 'PROTOBUF', schema: KEY_PROTO, ruleSet: { domainRules: [encryptRule('encryptKeyPII', kek)] },
    });

    const run = await recrypt(['run', writeJobFile(jobYaml(uniqueName('pkeys-enc').toLowerCase(), source, target, kek))]);
    expect(run.stdout + run.stderr).not.toContain('ProtoKeyCanary-');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${n} records \\(${n} written, 0 to DLQ\\)`));

    const out = await consumeRaw(target, { count: n });
    expect(out).toHaveLength(n);
    const readKeys = serdes(SerdeType.KEY);
    const readValues = serdes(SerdeType.VALUE);
    const seen = new Set<number>();
    for (const record of out) {
      const key = await readKeys.deserializer.deserialize(target, record.key!) as { customer: string; region: string };
      const value = await readValues.deserializer.deserialize(target, record.value!) as { name: string; balance: number };
      const i = rows.findIndex((r) => r.value.name === value.name);
      expect(i).toBeGreaterThanOrEqual(0);
      seen.add(i);
      expect({ customer: key.customer, region: key.region }).toEqual(rows[i]!.key);
      expect(value.balance).toBe(rows[i]!.value.balance);
      expect(record.partition).toBe(i % 3);
      // On the wire: the tagged key field and the tagged value field are ciphertext, the untagged key field is as it was.
      expect(record.key!.includes(Buffer.from(rows[i]!.key.customer))).toBe(false);
      expect(record.key!.includes(Buffer.from(rows[i]!.key.region))).toBe(true);
      expect(record.value!.includes(Buffer.from(rows[i]!.value.name))).toBe(false);
      // The output key is framed under the target key subject's latest schema (with its rule), not the source's.
      expect(record.key![0]).toBe(0);
      expect(record.key!.readInt32BE(1)).toBe(targetKeyId);
      expect(targetKeyId).not.toBe(produced[i]!.key.readInt32BE(1));
    }
    expect(seen.size).toBe(n);
  });
});
