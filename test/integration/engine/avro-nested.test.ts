// Tagged Avro fields in the places where users reported plaintext left behind (CSFLE-NOTES section 4):
// named types reused by name, unions (one referring to the same record twice), records in arrays and
// maps, arrays of maps of records. Every tagged value must be encrypted (checked on the bytes), and both
// directions must round trip against the official serdes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptRule, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { ALGORITHMS, createPair, expectBothWays } from './harness.js';

let registry: TestRegistry;
beforeAll(async () => { registry = await startTestRegistry(); });
afterAll(async () => { await registry.close(); });

const schema = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'demo',
  fields: [
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    {
      name: 'address',
      type: {
        type: 'record', name: 'Address', namespace: 'demo.geo',
        fields: [
          { name: 'street', type: 'string', 'confluent:tags': ['PII'] },
          { name: 'city', type: 'string' },
          { name: 'geo', type: ['null', 'bytes'], default: null, 'confluent:tags': ['PII'] },
        ],
      },
    },
    { name: 'previous', type: { type: 'array', items: 'demo.geo.Address' } },
    { name: 'homes', type: { type: 'map', values: 'demo.geo.Address' } },
    { name: 'billing', type: ['null', 'demo.geo.Address'], default: null },
    // The same record reachable twice from one union: directly and through an array.
    { name: 'shipTo', type: ['null', 'demo.geo.Address', { type: 'array', items: 'demo.geo.Address' }], default: null },
    {
      name: 'contact',
      type: [
        'null',
        { type: 'record', name: 'Email', fields: [{ name: 'address', type: 'string', 'confluent:tags': ['PII'] }] },
        { type: 'record', name: 'Phone', fields: [{ name: 'number', type: 'string', 'confluent:tags': ['PII'] }, { name: 'ext', type: 'int' }] },
      ],
      default: null,
    },
    { name: 'history', type: { type: 'array', items: { type: 'map', values: 'demo.geo.Address' } } },
    { name: 'aliases', type: { type: 'array', items: 'string' }, 'confluent:tags': ['PII'] },
    { name: 'labels', type: { type: 'map', values: 'string' }, 'confluent:tags': ['PII'] },
    { name: 'nickname', type: ['null', 'string'], default: null, 'confluent:tags': ['PII'] },
    { name: 'blob', type: ['null', 'string', 'bytes'], default: null, 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
  ],
});

const address = (tag: string) => ({ street: `street-canary-${tag}`, city: `city-${tag}`, geo: Buffer.from(`geo-canary-${tag}`) });
const full = {
  name: 'Alice Canary-avro', address: address('main'), previous: [address('prev1'), address('prev2')],
  homes: { summer: address('summer'), winter: address('winter') }, billing: address('billing'),
  shipTo: [address('ship1'), address('ship2')], contact: { 'demo.Phone': { number: 'phone-canary-555', ext: 12 } }, // avsc wraps ambiguous unions
  history: [{ y2020: address('h2020') }, { y2021: address('h2021') }],
  aliases: ['alias-canary-a', 'alias-canary-b'], labels: { vip: 'label-canary-v' }, nickname: 'nick-canary-x',
  blob: Buffer.from('blob-canary-bytes'), country: 'NL',
};
const other = {
  ...full, billing: null, shipTo: address('shipdirect'), contact: { 'demo.Email': { address: 'email-canary@example.com' } },
  nickname: null, blob: 'blob-canary-string', homes: {}, history: [],
};

function secretsOf(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.includes('canary')) out.push(v);
    else if (Buffer.isBuffer(v) && v.toString('utf8').includes('canary')) out.push(v.toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

describe('Avro: tagged fields inside nested records, arrays, maps and unions', () => {
  for (const algorithm of ALGORITHMS) {
    for (const expiry of ['0', '1']) {
      it(`every tagged occurrence is encrypted and round trips both ways (${algorithm}, expiry ${expiry})`, async () => {
        const pair = await createPair(registry.url, {
          format: 'AVRO', schema,
          ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'), { 'encrypt.dek.algorithm': algorithm, 'encrypt.dek.expiry.days': expiry })] },
        });
        expect(secretsOf(full).length).toBeGreaterThan(20);
        await expectBothWays(pair, full, secretsOf(full));
        await expectBothWays(pair, other, secretsOf(other));
      });
    }
  }

  it('metadata.tags reach fields of a named type wherever it is used (demo.geo.Address.city)', async () => {
    const pair = await createPair(registry.url, {
      format: 'AVRO', schema, metadata: { tags: { 'demo.geo.Address.city': ['PII'] } },
      ruleSet: { domainRules: [encryptRule('encryptPII', uniqueName('kek'))] },
    });
    const cities = ['city-main', 'city-prev1', 'city-summer', 'city-billing', 'city-ship1', 'city-h2020'];
    await expectBothWays(pair, full, [...secretsOf(full), ...cities]);
  });
});
