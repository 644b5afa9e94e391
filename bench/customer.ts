/**
 * The benchmark's record: Customer {id: long, name: string PII, email: string PII, country: string,
 * balance: double}, and a deterministic generator (same records on every run, so runs compare).
 */

export const CUSTOMER_SCHEMA = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'bench',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'country', type: 'string' },
    { name: 'balance', type: 'double' },
  ],
});

/** The same record as a proto3 message (name and email tagged PII through confluent/meta.proto). */
export const CUSTOMER_PROTO = `syntax = "proto3";
package bench;
import "confluent/meta.proto";
message Customer {
  int64 id = 1;
  string name = 2 [(confluent.field_meta).tags = "PII"];
  string email = 3 [(confluent.field_meta).tags = "PII"];
  string country = 4;
  double balance = 5;
}
`;

/** The same record as a JSON Schema (draft-07). */
export const CUSTOMER_JSON_SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#', title: 'Customer', type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string', 'confluent:tags': ['PII'] },
    email: { type: 'string', 'confluent:tags': ['PII'] },
    country: { type: 'string' },
    balance: { type: 'number' },
  },
  required: ['id', 'name', 'email', 'country', 'balance'],
});

export interface Customer {
  id: number;
  name: string;
  email: string;
  country: string;
  balance: number;
}

const FIRST = ['Alice', 'Bob', 'Chiara', 'Dmitri', 'Eun-ji', 'Farah', 'Gustav', 'Hana', 'Ibrahim', 'Jelena', 'Kofi', 'Lucía'];
const LAST = ['Andersen', 'Bakker', 'Costa', 'Dubois', 'Esposito', 'Fischer', 'García', 'Horvat', 'Ivanova', 'Jansen', 'Kowalski'];
const DOMAINS = ['example.com', 'mail.example.org', 'corp.example.net'];
const COUNTRIES = ['NL', 'DE', 'FR', 'IT', 'ES', 'PL', 'SE', 'US', 'GB', 'JP'];

/** A small deterministic PRNG (mulberry32): the data, not its randomness, is what matters here. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` customers with realistic field sizes (name ~14 chars, email ~28, both PII). */
export function customers(count: number, seed = 42): Customer[] {
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const out: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const id = 1_000_000 + i;
    out.push({
      id,
      name: `${first} ${last}`,
      email: `${first}.${last}.${id}@${pick(DOMAINS)}`.toLowerCase(),
      country: pick(COUNTRIES),
      balance: Math.round(rnd() * 10_000_000) / 100,
    });
  }
  return out;
}
