/**
 * The metrics a job runtime reports (service/metrics.ts's JobMetrics implements them): labels are job
 * names, topics, rule names, actions and codes, never record values, keys or secrets.
 */
import type { EngineStats } from '../engine/index.js';
import type { KeysMetricsHook } from '../keys/index.js';
import type { KmsCallCounter, KmsCallTimer } from '../kms/metrics.js';

export interface RuntimeMetrics {
  readonly keysHook: KeysMetricsHook;
  readonly kmsCount: KmsCallCounter;
  readonly kmsTime: KmsCallTimer;
  transformed(job: string, seconds: number): void;
  engineStats(job: string, stats: EngineStats): void;
  ruleFailure(job: string, rule: string, action: string, code: string): void;
  dlqRouted(job: string, topic: string, policy: string, cause: string): void;
  dlqBlocked(job: string, topic: string, policy: string): void;
  dlqFailed(job: string, topic: string, policy: string, code: string): void;
}
