// What the kill -9 tests share (exactly-once.test.ts, exactly-once-threads.test.ts): the job they run,
// its ENCRYPT rule, and the check that a target holds every source record in order with its metadata.
import { expect } from 'vitest';
import type { RawRecord } from '../helpers/kafka.js';

/** A bounded job (earliest to end) from `source` to `target`; `processing`: extra lines under spec.processing. */
export function killTestJob(name: string, mode: string, source: string, target: string, rules: string, processing?: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: ${mode}
  source:
    topic: ${source}
    startAt: earliest
    stopAt: end
  target:
    topic: ${target}
    createTopic: true
${processing === undefined ? '' : `  processing:\n${processing}\n`}${rules}`;
}

export function encryptRules(kek: string, algorithm = 'AES256_GCM'): string {
  return `  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: demo
          encrypt.dek.algorithm: ${algorithm}
        onFailure: ERROR,ERROR
`;
}

/** Every source record once, in order, with partition, key, timestamp and headers kept. */
export function expectSameRecords(source: RawRecord[], target: RawRecord[]): void {
  expect(target).toHaveLength(source.length);
  for (let i = 0; i < source.length; i++) {
    const s = source[i]!;
    const t = target[i]!;
    expect(t.partition).toBe(s.partition);
    expect(t.key).toEqual(s.key);
    expect(t.timestamp).toBe(s.timestamp);
    expect(t.headers).toEqual(s.headers);
    expect(t.value === null).toBe(s.value === null);
  }
}
