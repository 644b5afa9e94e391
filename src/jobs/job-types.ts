/**
 * The TypeScript shape of a loaded recrypt/v1 Job: what job-schema.ts accepts, with its defaults
 * applied (fields marked "defaulted" are always present after loading). Written by hand; a unit test
 * validates typed fixtures against the schema so the two cannot drift apart silently.
 */
import type { Rule } from '../registry/types.js';

export type JobMode = 'encrypt' | 'decrypt' | 'reencrypt';
export type SubjectNameStrategy = 'topic' | 'record' | 'topic-record';
export type StartAt = 'earliest' | 'latest' | 'committed';
export type StopAt = 'never' | 'end';
export type DlqPayload = 'reference' | 'redacted' | 'source' | 'encrypted';
export type KmsType = 'aws-kms' | 'azure-kms' | 'gcp-kms' | 'hcvault' | 'local-kms';
export type KeyHandling = 'passthrough' | 'rules';

/** Exactly one selector is set. */
export type SourceSelector =
  | { readonly topic: string; readonly topics?: undefined; readonly topicPattern?: undefined }
  | { readonly topic?: undefined; readonly topics: readonly string[]; readonly topicPattern?: undefined }
  | { readonly topic?: undefined; readonly topics?: undefined; readonly topicPattern: string };

export type JobSource = SourceSelector & {
  readonly subjectNameStrategy: SubjectNameStrategy; // defaulted: topic
  readonly startAt: StartAt; // defaulted: committed
  readonly stopAt: StopAt; // defaulted: never
};

/** latest, a version number, or the latest version carrying these metadata properties. */
export type TargetSchemaRef = 'latest' | number | { readonly metadata: Readonly<Record<string, string>> };

/**
 * Target subjects that share one DEK per KEK and algorithm (issue #23), so equal plaintexts encrypt to
 * equal AES256_SIV ciphertexts across their topics. Every job of the group names the same group.
 */
export interface JobJoinGroup {
  /** [a-z0-9-]; names the group's DEK scope (join-group:<name>). */
  readonly name: string;
  /** Every target subject of the group, this job's included; the first one sorted is the anchor. */
  readonly subjects: readonly string[];
}

export interface JobTarget {
  /** May contain the placeholder {topic} (required with several source topics). */
  readonly topic: string;
  /** Absent: '<target topic>-value'. May contain {topic}. */
  readonly subject?: string;
  readonly schema: TargetSchemaRef; // defaulted: latest
  readonly createTopic: boolean; // defaulted: false
  readonly joinGroup?: JobJoinGroup;
  /** keys: rules only. Absent: '<target topic>-key'. May contain {topic}. */
  readonly keySubject?: string;
  /** Absent: source. */
  readonly partition?: OutputPartition;
  /**
   * latest: re-encrypt and upgrade in one pass: records of every version of the source subject migrate
   * through its JSONata rules to its latest version, which the target subject's latest schema must be
   * (runtime/prepare.ts checks it).
   */
  readonly upgrade?: 'latest';
}

/** source: each record keeps its source partition; keyHash: Kafka's default partitioner over the output key. */
export type OutputPartition = 'source' | 'keyHash';

/** A ruleSet as a job writes it (no enableAt: rules put on the target apply from the start). */
export interface JobRuleSet {
  readonly domainRules?: readonly Rule[];
  readonly encodingRules?: readonly Rule[];
  readonly migrationRules?: readonly Rule[];
}

export interface DlqKek {
  readonly name: string;
  readonly kmsType: KmsType;
  readonly kmsKeyId: string;
}

export interface JobDlq {
  /** May contain {topic}. */
  readonly topic: string;
  readonly payload: DlqPayload; // defaulted: reference
  /** Present when payload is encrypted. */
  readonly kek?: DlqKek;
  /** Circuit breaker: halt with DLQ_STORM when more than maxRatio x window of the last `window` records went to the DLQ. */
  readonly maxRatio: number; // defaulted: 0.5
  readonly window: number; // defaulted: 1000
}

export interface JobProcessing {
  readonly batchSize: number; // 500
  readonly maxInFlight: number; // 64
  readonly commitIntervalMs: number; // 1000
  readonly transactionTimeoutMs: number; // 60000
  readonly retryBackoffMs: number; // 500
  readonly retryBackoffMaxMs: number; // 30000
  readonly stallTimeoutMs: number; // 300000
  /** Engine worker threads; absent: derived from the CPUs (runtime/prepare.ts). */
  readonly workers?: number;
}

export interface JobBackfill {
  readonly taskRecords: number; // 1000000
  readonly relaxOrdering: boolean; // false
  readonly continueStreaming: boolean; // false
}

export interface JobSpec {
  readonly mode: JobMode;
  readonly source: JobSource;
  readonly target: JobTarget;
  readonly rules?: JobRuleSet;
  readonly dlq?: JobDlq;
  readonly exactlyOnce: boolean; // defaulted: true
  readonly allowPlaintextOnEncryptFailure: boolean; // defaulted: false
  readonly keys: KeyHandling; // defaulted: passthrough
  readonly processing: JobProcessing; // defaulted
  readonly backfill: JobBackfill; // defaulted
}

export interface JobMetadata {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface Job {
  readonly apiVersion: 'recrypt/v1';
  readonly kind: 'Job';
  readonly metadata: JobMetadata;
  readonly spec: JobSpec;
}
