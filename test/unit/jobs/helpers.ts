import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes job files into a fresh temp dir; returns their paths in the order given. */
export function writeJobFiles(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'recrypt-jobs-'));
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}

/** A valid encrypt job; `extra` lines are appended under spec (indented by the caller). */
export const VALID_JOB = `apiVersion: recrypt/v1
kind: Job
metadata:
  name: customers-backfill
spec:
  mode: encrypt
  source:
    topic: customers
  target:
    topic: customers.enc
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params:
          encrypt.kek.name: pii-kek
        onFailure: ERROR,NONE
`;
