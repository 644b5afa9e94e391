// The in-place JSON path (formats/json-splice.ts) through the engine, against Confluent's JS serdes.
// The engine's sign of the path: a spliced record keeps its input's whitespace, while the general path
// re-stringifies compactly. With AES256_SIV (deterministic) a compact input must give the official
// serializer's bytes exactly; every output must read back through the official deserializer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encryptRule, officialSerdes, recryptEngine, register, sourceRecord, startTestRegistry, type TestRegistry,
} from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { output } from './harness.js';

const schema = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#', title: 'Account', type: 'object',
  definitions: {
    Address: { type: 'object', properties: { street: { type: 'string', 'confluent:tags': ['PII'] }, zip: { type: ['string', 'null'], 'confluent:tags': ['PII'] } } },
  },
  properties: {
    id: { type: 'integer' },
    owner: { type: 'string', 'confluent:tags': ['PII'] },
    flags: { type: 'array', items: { type: 'boolean' } },
    address: { $ref: '#/definitions/Address' },
    either: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    profile: { type: 'object', properties: { bio: { type: 'string', 'confluent:tags': ['PII'] }, score: { type: 'number' } } },
    note: { type: 'string' },
  },
});
// A tagged array of strings: spliced up to 8 items (the plan's slots), a longer one takes the general path.
const arraySchema = JSON.stringify({
  type: 'object', properties: { id: { type: 'integer' }, aliases: { type: 'array', items: { type: 'string' }, 'confluent:tags': ['PII'] } },
});

function account(i: number) {
  return {
    id: i * 1_000_003, owner: `Ówner "${i}" \\ 🦊\n\u0001`, flags: [true, false].slice(0, i % 3),
    address: { street: `${i} Long Street`.repeat(1 + (i % 5)), zip: i % 2 ? null : `Z${i}` },
    either: i % 2 ? 'text' : i, ...(i % 3 === 0 ? {} : { profile: { bio: `bio ${i} \u2028 ünï`, score: i / 3 } }), note: 'untagged',
  };
}

const frame = (id: number, text: string): Buffer => {
  const prefix = Buffer.alloc(5);
  prefix.writeInt32BE(id, 1);
  return Buffer.concat([prefix, Buffer.from(text, 'utf8')]);
};

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

async function subjects(jsonSchema: string) {
  const source = uniqueName('json-plain');
  const target = uniqueName('json-siv');
  const back = uniqueName('json-back');
  const plainId = await register(registry.url, `${source}-value`, { schemaType: 'JSON', schema: jsonSchema });
  await register(registry.url, `${back}-value`, { schemaType: 'JSON', schema: jsonSchema });
  await register(registry.url, `${target}-value`, {
    schemaType: 'JSON', schema: jsonSchema,
    ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.algorithm': 'AES256_SIV' })] },
  });
  const encrypt = await recryptEngine(registry.url, { mode: 'encrypt', targetSubject: `${target}-value`, targetTopic: target });
  const decrypt = await recryptEngine(registry.url, { mode: 'decrypt', targetSubject: `${back}-value`, targetTopic: back });
  return { source, target, back, plainId, encrypt: encrypt.transformer, decrypt: decrypt.transformer };
}

describe('in-place JSON Schema path', () => {
  it('writes the official serializer\'s bytes for compact input (AES256_SIV), and reads them back', async () => {
    const s = await subjects(schema);
    const official = officialSerdes(registry.url, 'JSON');
    const values = Array.from({ length: 24 }, (_, i) => account(i));
    const sources = await Promise.all(values.map(async (_, i) => sourceRecord(s.source, await official.serializer.serialize(s.source, account(i)), i)));
    const results = await s.encrypt.process(sources);
    for (let i = 0; i < values.length; i++) {
      const ours = output(results[i]);
      expect(ours.includes(Buffer.from('Long Street'))).toBe(false);
      const theirs = await official.serializer.serialize(s.target, account(i));
      expect(ours.subarray(5).toString('utf8'), `record ${i}`).toBe(theirs.subarray(5).toString('utf8'));
      expect(await official.deserializer.deserialize(s.target, ours)).toEqual(values[i]);
    }
    const plainAgain = await s.decrypt.process(results.map((r, i) => sourceRecord(s.target, output(r), i)));
    for (let i = 0; i < values.length; i++) {
      expect(await official.deserializer.deserialize(s.back, output(plainAgain[i]))).toEqual(values[i]);
      // Decrypted plaintext is written JSON-escaped as JSON.stringify does: the source bytes again.
      expect(output(plainAgain[i]).subarray(5).equals(sources[i]!.value!.subarray(5))).toBe(true);
    }
  });

  it('takes the in-place path: formatted input keeps its whitespace both ways; a tagged array longer than its slots takes the general path', async () => {
    const s = await subjects(schema);
    const official = officialSerdes(registry.url, 'JSON');
    const values = Array.from({ length: 12 }, (_, i) => account(i));
    const pretty = values.map((v, i) => sourceRecord(s.source, frame(s.plainId, JSON.stringify(v, null, 2)), i));
    const encrypted = (await s.encrypt.process(pretty)).map(output);
    for (let i = 0; i < values.length; i++) {
      const text = encrypted[i]!.subarray(5).toString('utf8');
      expect(text.startsWith('{\n  "id": ')).toBe(true);
      expect(text.includes('Long Street')).toBe(false);
      expect(await official.deserializer.deserialize(s.target, encrypted[i]!)).toEqual(values[i]);
    }
    const decrypted = (await s.decrypt.process(encrypted.map((v, i) => sourceRecord(s.target, v, i)))).map(output);
    for (let i = 0; i < values.length; i++) {
      expect(decrypted[i]!.subarray(5).toString('utf8')).toBe(JSON.stringify(values[i], null, 2));
    }

    const a = await subjects(arraySchema);
    const short = { id: 1, aliases: ['first "alias"', 'second'] };
    const long = { id: 2, aliases: Array.from({ length: 9 }, (_, i) => `alias ${i}`) };
    const [spliced, general] = (await a.encrypt.process([short, long].map((v, i) => sourceRecord(a.source, frame(a.plainId, JSON.stringify(v, null, 2)), i)))).map(output);
    expect(spliced!.subarray(5).toString('utf8').startsWith('{\n  "id": 1,\n  "aliases": [\n    "')).toBe(true);
    expect(general!.subarray(5).toString('utf8').startsWith('{"id":2,"aliases":["')).toBe(true);
    expect(await official.deserializer.deserialize(a.target, spliced!)).toEqual(short);
    expect(await official.deserializer.deserialize(a.target, general!)).toEqual(long);
  });

  it('leaves what does not scan to the general path, which reports it', async () => {
    const s = await subjects(schema);
    const official = officialSerdes(registry.url, 'JSON');
    // A duplicate tagged key: JSON.parse keeps the last; so does the general path's output.
    const [dup] = await s.encrypt.process([sourceRecord(s.source, frame(s.plainId, '{"owner":"first","id":1,"owner":"second"}'))]);
    expect(await official.deserializer.deserialize(s.target, output(dup))).toEqual({ id: 1, owner: 'second' });
    const [bad] = await s.encrypt.process([sourceRecord(s.source, frame(s.plainId, '{"owner":"x",'))]);
    expect(bad !== undefined && 'halt' in bad ? bad.halt.code : bad).toBe('FORMAT_DECODE');
  });
});
