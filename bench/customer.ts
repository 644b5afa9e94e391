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
