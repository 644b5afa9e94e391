/** The job files the stack-bound suites run (recrypt run, backfill workers). */

export type JobMode = 'encrypt' | 'decrypt' | 'reencrypt';

export interface BenchJob {
  readonly name: string;
  readonly mode: JobMode;
  readonly source: string;
  readonly target: string;
  /** The ENCRYPT rule put on the target subject (encrypt, reencrypt); decrypt has none. */
  readonly rule?: { readonly kek: string; readonly kmsKeyId: string; readonly algorithm: 'AES256_GCM' | 'AES256_SIV' };
  readonly batchSize: number;
  /** stopAt: end (recrypt run to the end offsets taken at start); else the job streams (backfill). */
  readonly stopAtEnd: boolean;
  readonly transactionTimeoutMs?: number;
  /** processing.workers (engine worker threads); absent: the job default. */
  readonly workers?: number;
}

export function jobYaml(job: BenchJob): string {
  const rules = job.rule ? `
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${job.rule.kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: ${job.rule.kmsKeyId}
          encrypt.dek.algorithm: ${job.rule.algorithm}
        onFailure: ERROR,ERROR` : '';
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${job.name}
spec:
  mode: ${job.mode}
  source:
    topic: ${job.source}
    startAt: earliest${job.stopAtEnd ? '\n    stopAt: end' : ''}
  target:
    topic: ${job.target}
    createTopic: true${rules}
  exactlyOnce: true
  processing:
    batchSize: ${job.batchSize}${job.transactionTimeoutMs === undefined ? '' : `\n    transactionTimeoutMs: ${job.transactionTimeoutMs}`}${
  job.workers === undefined ? '' : `\n    workers: ${job.workers}`}
`;
}
