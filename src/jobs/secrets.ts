/**
 * Secrets written into a job file are errors: credentials come from the environment or mounted files.
 * Walks the YAML tree of a document (valid or not, so a typo'd key does not hide a secret) and flags
 * every key that looks like a credential and carries a value, and every value holding a PEM private
 * key. Problems name the key and its place, never the value.
 */
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import { formatPath, type PathSegment, type Problem } from './problem.js';
import { positionAt, type SourceDocument } from './yaml-source.js';

export const SECRET_REASON = 'secrets come from env or mounted files, never from job YAML';

/** Substrings of a key (lowercased, separators removed) that mark it as a credential. */
const SECRET_WORDS = ['secret', 'password', 'passwd', 'token', 'credential', 'private', 'accesskey', 'apikey', 'jaas', 'userinfo'];

/** True for keys such as `client.secret`, `aws.secret.access.key`, `sasl.jaas.config`, `hcvault.token`. */
export function isSecretKey(key: string): boolean {
  const compact = key.toLowerCase().replace(/[._\-\s]/g, '');
  return SECRET_WORDS.some((w) => compact.includes(w));
}

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function hasValue(node: unknown): boolean {
  if (node === null || node === undefined) return false;
  if (isScalar(node)) return node.value !== null && node.value !== undefined && String(node.value) !== '';
  if (isMap(node) || isSeq(node)) return node.items.length > 0;
  return isAlias(node);
}

export function findSecrets(src: SourceDocument): Problem[] {
  const problems: Problem[] = [];
  const report = (path: PathSegment[], offset: number | undefined, what: string): void => {
    const pos = positionAt(src, offset ?? src.doc.range[0]);
    problems.push({
      code: 'JOB_UNSAFE',
      severity: 'error',
      file: src.file,
      document: src.index,
      line: pos.line,
      column: pos.column,
      path: formatPath(path),
      message: `${what}: ${SECRET_REASON}`,
      expected: 'no credential in the job file; set it in the environment or a mounted file',
    });
  };
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyValue: unknown = isScalar(pair.key) ? pair.key.value : undefined;
        const key = keyValue === null || keyValue === undefined || typeof keyValue === 'object' ? undefined : String(keyValue);
        const here = key === undefined ? path : [...path, key];
        if (key !== undefined && isSecretKey(key) && hasValue(pair.value)) {
          report(here, (pair.key as { range?: [number, number, number] }).range?.[0], 'looks like a credential');
          continue;
        }
        walk(pair.value, here);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && PEM_PRIVATE_KEY.test(node.value)) {
      report(path, node.range?.[0], 'holds a private key');
    }
  };
  walk(src.doc.contents, []);
  return problems;
}
