/**
 * What a credential looks like, by key name and by value. One source for the job loader (secrets.ts)
 * and the Helm chart's values schema (test/unit/ship/values-schema.ts builds values.schema.json from
 * these), so `helm install` and `recrypt validate` refuse the same things. The patterns are written in
 * the common subset of ECMAScript and RE2 (Go, which helm's JSON schema validator uses): no flags, no
 * lookaround, no backreferences; case-insensitivity is spelled out as character classes.
 */

/** `secret` -> `[Ss][Ee][Cc][Rr][Ee][Tt]`. */
function caseless(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');
}

/** A word as part of a key: any separator (`.`, `_`, `-`, white space) may sit between its letters. */
function keyWord(word: string): string {
  return [...word].map((c) => caseless(c)).join('[-._\\s]*');
}

/** Words that mark a key as a credential (`client.secret`, `aws.secret.access.key`, `sasl.jaas.config`, `VAULT_TOKEN`). */
export const SECRET_KEY_WORDS = ['secret', 'password', 'passwd', 'token', 'credential', 'private', 'accesskey', 'apikey', 'jaas', 'userinfo'] as const;

/** Matches a key holding one of SECRET_KEY_WORDS, whatever its case and separators. */
export const SECRET_KEY_PATTERN = SECRET_KEY_WORDS.map(keyWord).join('|');

/** A name that holds a secret-like word, as in `LOCAL_SECRET=`, `password=`, `aws_secret_access_key:`. */
// Unanchored, so no leading name characters; bounded after the word, so a long value cannot make the
// match backtrack quadratically.
const SECRET_NAME = `(${['secret', 'password', 'passwd', 'token', 'credential'].map(caseless).join('|')})[-._A-Za-z0-9]{0,64}`;

export interface CredentialPattern {
  /** What the value holds, for the error message (never the value itself). */
  readonly what: string;
  /** Regular expression source (ECMAScript and RE2), unanchored. */
  readonly source: string;
}

/** The most specific first: the first match names the credential. */
export const CREDENTIAL_PATTERNS: readonly CredentialPattern[] = [
  // scheme://user:password@host (an empty user too: redis://:password@host); user@host alone is fine.
  { what: 'a URL with a password (user:password@)', source: '[A-Za-z][-+.A-Za-z0-9]{0,31}://[^\\s/?#@:]*:[^\\s/?#@]+@' },
  { what: 'an AWS access key id', source: '\\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\\b' },
  // 40 characters of base64 after a secret-like name, with = or : (aws_secret_access_key: ...).
  { what: 'an AWS secret access key', source: `${SECRET_NAME}["']?\\s*[=:]\\s*["']?[A-Za-z0-9/+]{40}([^A-Za-z0-9/+=]|$)` },
  // NAME=value with a secret-like NAME: env lines (LOCAL_SECRET=...), JAAS (password="..."). Placeholders
  // such as `$VAR`, `${VAR}`, `<secret>`, `...` or `***` are not values.
  { what: 'a secret assignment (NAME=value)', source: `${SECRET_NAME}["']?\\s*=\\s*["']?[^\\s"'$<>.*{}][^\\s"']{3,}` },
  { what: 'a Vault token', source: '\\bhv[sbr]\\.[-_A-Za-z0-9]{24,}|\\bs\\.[A-Za-z0-9]{24}\\b' },
  { what: 'a private key', source: '-----BEGIN [A-Z ]*PRIVATE KEY-----' },
  { what: 'a bearer token', source: `\\b${caseless('bearer')}\\s+[-._~+/A-Za-z0-9]{20,}` },
  { what: 'a JSON Web Token', source: '\\beyJ[-_A-Za-z0-9]{8,}\\.eyJ[-_A-Za-z0-9]{8,}\\.[-_A-Za-z0-9]{8,}' },
];

/** Every CREDENTIAL_PATTERNS source as one alternation (for a schema's `not: { pattern }`). */
export const CREDENTIAL_PATTERN = CREDENTIAL_PATTERNS.map((p) => `(${p.source})`).join('|');

const COMPILED = CREDENTIAL_PATTERNS.map((p) => ({ what: p.what, re: new RegExp(p.source) }));
const SECRET_KEY_RE = new RegExp(SECRET_KEY_PATTERN);

/** True for keys such as `client.secret`, `aws.secret.access.key`, `sasl.jaas.config`, `hcvault.token`. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

/** What credential `text` holds (see CREDENTIAL_PATTERNS), or undefined. */
export function credentialIn(text: string): string | undefined {
  return COMPILED.find((p) => p.re.test(text))?.what;
}
