/**
 * The verification report: per partition, the data records the source holds in the backfilled range,
 * the records the target partition received, and the records sent to a DLQ. They add up when
 * source = target + dlq for every partition.
 */
import type { KafkaConnection } from '../kafka/connection.js';
import { partitionKey } from '../kafka/types.js';
import { countRecords } from './kafka-offsets.js';
import type { BackfillPlan, PartitionReport, VerifyReport } from './types.js';

export interface VerifyInput {
  readonly plan: BackfillPlan;
  /** Target high watermarks when the backfill finished (before any streaming after the cut-over). */
  readonly targetEnd: ReadonlyMap<string, number>;
  /** DLQ records per source partition (partitionKey of the source). */
  readonly dlq: ReadonlyMap<string, number>;
}

export async function verifyBackfill(connection: KafkaConnection, input: VerifyInput): Promise<VerifyReport> {
  const { plan } = input;
  const endOf = (topic: string, partition: number) => input.targetEnd.get(partitionKey(topic, partition)) ?? 0;
  const [source, target] = await Promise.all([
    countRecords(connection, plan.partitions.map((p) => ({ topic: p.topic, partition: p.partition, from: p.from, to: p.to }))),
    countRecords(connection, plan.partitions.map((p) => ({ topic: p.targetTopic, partition: p.partition, from: p.targetStart, to: endOf(p.targetTopic, p.partition) }))),
  ]);
  const partitions: PartitionReport[] = plan.partitions.map((p) => {
    const s = source.get(partitionKey(p.topic, p.partition)) ?? 0;
    const t = target.get(partitionKey(p.targetTopic, p.partition)) ?? 0;
    const d = input.dlq.get(partitionKey(p.topic, p.partition)) ?? 0;
    return { topic: p.topic, partition: p.partition, targetTopic: p.targetTopic, from: p.from, to: p.to, source: s, target: t, dlq: d, ok: s === t + d };
  });
  const targetEnd: Record<string, number> = {};
  for (const p of plan.partitions) targetEnd[`${p.targetTopic}/${p.partition}`] = endOf(p.targetTopic, p.partition);
  return {
    job: plan.job,
    at: Date.now(),
    partitions,
    source: partitions.reduce((n, p) => n + p.source, 0),
    target: partitions.reduce((n, p) => n + p.target, 0),
    dlq: partitions.reduce((n, p) => n + p.dlq, 0),
    ok: partitions.every((p) => p.ok),
    targetEnd,
  };
}

export function formatReport(report: VerifyReport): string[] {
  const lines = [`verification of backfill ${report.job}: ${report.ok ? 'OK' : 'MISMATCH'}`];
  lines.push('  partition                          range               source     target        dlq');
  for (const p of report.partitions) {
    const name = `${p.topic}/${p.partition}`.padEnd(34);
    const range = `[${p.from}, ${p.to})`.padEnd(18);
    lines.push(`  ${name} ${range} ${String(p.source).padStart(9)} ${String(p.target).padStart(10)} ${String(p.dlq).padStart(10)}${p.ok ? '' : '  <- does not add up'}`);
  }
  lines.push(`  total${' '.repeat(48)}${String(report.source).padStart(9)} ${String(report.target).padStart(10)} ${String(report.dlq).padStart(10)}`);
  return lines;
}
