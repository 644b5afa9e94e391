/**
 * Prometheus metrics. Labels are job names, topics, partitions, rule names, actions and error codes:
 * never record values, keys, key ids or secrets.
 */
import client from 'prom-client';
import type { EngineStats } from '../engine/index.js';
import type { PipelineObserver } from '../kafka/pipeline.js';
import type { KeysMetricsHook } from '../keys/index.js';
import type { KmsCallCounter, KmsCallTimer } from '../kms/metrics.js';

export class JobMetrics {
  readonly registry = new client.Registry();
  private readonly records = new client.Counter({ name: 'recrypt_records_total', help: 'Source records committed, by outcome (written, dlq)', labelNames: ['job', 'outcome'], registers: [this.registry] });
  private readonly batches = new client.Histogram({
    name: 'recrypt_batch_seconds', help: 'Time from poll to transaction commit per batch', labelNames: ['job'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  private readonly halts = new client.Counter({ name: 'recrypt_partition_halts_total', help: 'Partitions halted by a permanent failure with action ERROR', labelNames: ['job', 'topic', 'partition', 'code'], registers: [this.registry] });
  private readonly halted = new client.Gauge({ name: 'recrypt_halted_partitions', help: 'Partitions currently halted', labelNames: ['job'], registers: [this.registry] });
  private readonly transient = new client.Counter({ name: 'recrypt_transient_errors_total', help: 'Transient failures retried with backoff (KMS, registry, broker)', labelNames: ['job', 'code'], registers: [this.registry] });
  private readonly aborts = new client.Counter({ name: 'recrypt_transaction_aborts_total', help: 'Transactions aborted and replayed', labelNames: ['job', 'code'], registers: [this.registry] });
  private readonly rules = new client.Counter({ name: 'recrypt_rule_failures_total', help: 'Rule failures by the action taken', labelNames: ['job', 'rule', 'action', 'code'], registers: [this.registry] });
  private readonly keys = new client.Counter({ name: 'recrypt_key_operations_total', help: 'KMS wrap/unwrap and DEK registry calls', labelNames: ['operation', 'outcome', 'kms_type'], registers: [this.registry] });
  private readonly kmsCalls = new client.Counter({ name: 'recrypt_kms_calls_total', help: 'KMS wrap/unwrap calls (retries included) by outcome', labelNames: ['kms_type', 'operation', 'outcome'], registers: [this.registry] });
  private readonly kmsSeconds = new client.Histogram({ name: 'recrypt_kms_call_seconds', help: 'KMS call latency', labelNames: ['kms_type', 'operation'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  private readonly commitSeconds = new client.Histogram({ name: 'recrypt_transaction_commit_seconds', help: 'Time to produce, send offsets and commit one transaction', labelNames: ['job'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  private readonly recordsIn = new client.Counter({ name: 'recrypt_records_in_total', help: 'Source records consumed and processed (committed)', labelNames: ['job'], registers: [this.registry] });
  private readonly dlqRecords = new client.Counter({ name: 'recrypt_dlq_records_total', help: 'DLQ records built that passed the plaintext guard and the DLQ circuit breaker, by topic, policy and cause (counted when built: a batch transformed again after an aborted transaction counts again; recrypt_records_total{outcome="dlq"} counts committed ones)', labelNames: ['job', 'topic', 'policy', 'cause'], registers: [this.registry] });
  private readonly dlqBlocks = new client.Counter({ name: 'recrypt_dlq_guard_blocks_total', help: 'DLQ records the plaintext guard blocked (the partition halts)', labelNames: ['job', 'topic', 'policy'], registers: [this.registry] });
  private readonly dlqFailures = new client.Counter({ name: 'recrypt_dlq_failures_total', help: 'DLQ records that could not be built or had no topic (the partition halts)', labelNames: ['job', 'topic', 'policy', 'code'], registers: [this.registry] });
  private readonly lag = new client.Gauge({ name: 'recrypt_consumer_lag', help: 'Records between the committed offset and the partition end', labelNames: ['job', 'topic', 'partition'], registers: [this.registry] });
  /** Per job, the partitions whose lag series is published (a partition revoked from this pod must not keep its last lag). */
  private readonly lagSeries = new Map<string, Map<string, { topic: string; partition: string }>>();
  private readonly fieldOps = new client.Counter({ name: 'recrypt_field_operations_total', help: 'Fields encrypted and decrypted, by DEK algorithm', labelNames: ['job', 'operation', 'algorithm'], registers: [this.registry] });
  private readonly dekMisses = new client.Counter({ name: 'recrypt_dek_cache_misses_total', help: 'Fetches of a DEK not yet cached (DEK registry and, once per DEK, KMS)', labelNames: ['job'], registers: [this.registry] });
  private readonly schemaMisses = new client.Counter({ name: 'recrypt_schema_cache_misses_total', help: 'Writer schemas compiled into a plan (a schema seen for the first time, per topic)', labelNames: ['job'], registers: [this.registry] });
  private readonly transformSeconds = new client.Histogram({ name: 'recrypt_transform_seconds', help: 'Time to transform one batch (decode, rules, encode)', labelNames: ['job'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly jobUp = new client.Gauge({ name: 'recrypt_job_running', help: '1 while the job runs without halted partitions', labelNames: ['job'], registers: [this.registry] });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'recrypt_process_' });
  }

  readonly keysHook: KeysMetricsHook = (metric, labels) => {
    this.keys.inc({ operation: metric, outcome: labels.outcome, kms_type: labels.kmsType ?? '' });
  };

  readonly kmsCount: KmsCallCounter = (labels) => {
    this.kmsCalls.inc({ kms_type: labels.kmsType, operation: labels.operation, outcome: labels.outcome });
  };

  readonly kmsTime: KmsCallTimer = (labels, seconds) => {
    this.kmsSeconds.observe({ kms_type: labels.kmsType, operation: labels.operation }, seconds);
  };

  /**
   * The job's lag per partition it owns now. Series of partitions it no longer owns (a rebalance moved
   * them, or the job stopped: pass []) are removed: a stale last value would make a draining backlog
   * look stuck on the pod that lost it.
   */
  publishLag(job: string, partitions: readonly { topic: string; partition: number; lag: number }[]): void {
    const previous = this.lagSeries.get(job) ?? new Map<string, { topic: string; partition: string }>();
    const current = new Map<string, { topic: string; partition: string }>();
    for (const p of partitions) {
      const labels = { topic: p.topic, partition: String(p.partition) };
      current.set(`${labels.topic}\u0000${labels.partition}`, labels);
      this.lag.set({ job, ...labels }, p.lag);
    }
    for (const [key, labels] of previous) if (!current.has(key)) this.lag.remove({ job, ...labels });
    this.lagSeries.set(job, current);
  }

  transformed(job: string, seconds: number): void {
    this.transformSeconds.observe({ job }, seconds);
  }

  engineStats(job: string, stats: EngineStats): void {
    for (const [algorithm, n] of Object.entries(stats.encrypted)) if (n) this.fieldOps.inc({ job, operation: 'encrypt', algorithm }, n);
    for (const [algorithm, n] of Object.entries(stats.decrypted)) if (n) this.fieldOps.inc({ job, operation: 'decrypt', algorithm }, n);
    if (stats.dekMisses) this.dekMisses.inc({ job }, stats.dekMisses);
    if (stats.schemaMisses) this.schemaMisses.inc({ job }, stats.schemaMisses);
  }

  ruleFailure(job: string, rule: string, action: string, code: string): void {
    this.rules.inc({ job, rule, action, code });
  }

  dlqRouted(job: string, topic: string, policy: string, cause: string): void {
    this.dlqRecords.inc({ job, topic, policy, cause });
  }

  dlqBlocked(job: string, topic: string, policy: string): void {
    this.dlqBlocks.inc({ job, topic, policy });
  }

  dlqFailed(job: string, topic: string, policy: string, code: string): void {
    this.dlqFailures.inc({ job, topic, policy, code });
  }

  observer(job: string, extra: PipelineObserver = {}): PipelineObserver {
    let haltedCount = 0;
    return {
      onBatchCommitted: (info) => {
        this.recordsIn.inc({ job }, info.records);
        this.records.inc({ job, outcome: 'written' }, info.written);
        this.commitSeconds.observe({ job }, info.commitMs / 1000);
        if (info.dlq) this.records.inc({ job, outcome: 'dlq' }, info.dlq);
        this.batches.observe({ job }, info.latencyMs / 1000);
        extra.onBatchCommitted?.(info);
      },
      onHalt: (tp, offset, error) => {
        haltedCount += 1;
        this.halts.inc({ job, topic: tp.topic, partition: String(tp.partition), code: error.code });
        this.halted.set({ job }, haltedCount);
        extra.onHalt?.(tp, offset, error);
      },
      onTransientError: (error, retryInMs) => {
        this.transient.inc({ job, code: error.code });
        extra.onTransientError?.(error, retryInMs);
      },
      onAbort: (error) => {
        this.aborts.inc({ job, code: error.code });
        extra.onAbort?.(error);
      },
      onAssigned: (tps) => extra.onAssigned?.(tps),
      onRevoked: (tps) => extra.onRevoked?.(tps),
    };
  }
}
