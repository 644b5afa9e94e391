/**
 * Secrets written into a job file are errors: credentials come from the environment or mounted files.
 * Walks the YAML tree of a document (valid or not, so a typo'd key does not hide a secret) and flags
 * every key that looks like a credential and carries a value, and every key or value that holds one
 * wherever it sits (a URL with user:password@, a Vault token in a label, LOCAL_SECRET=... in a doc
 * string, AWS keys, private keys, bearer tokens, JWTs: credential-patterns.ts). Problems name the place
 * and the kind of credential, never the value.
 */
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import { credentialIn, isSecretKey } from './credential-patterns.js';
import { formatPath, type PathSegment, type Problem } from './problem.js';
import { positionAt, type SourceDocument } from './yaml-source.js';

export { isSecretKey } from './credential-patterns.js';

export const SECRET_REASON = 'secrets come from env or mounted files, never from job YAML';

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
        const keyStart = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
        if (key !== undefined && isSecretKey(key) && hasValue(pair.value)) {
          report(here, keyStart, 'looks like a credential');
          continue;
        }
        const inKey = key === undefined ? undefined : credentialIn(key);
        if (inKey !== undefined) {
          report(path, keyStart, `a key holds ${inKey}`); // the path would print the key
          continue;
        }
        walk(pair.value, here);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      const what = credentialIn(node.value);
      if (what !== undefined) report(path, node.range?.[0], `holds ${what}`);
    }
  };
  walk(src.doc.contents, []);
  return problems;
}
