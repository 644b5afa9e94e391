/**
 * What an audit reports: positions (partition, offset), field names, schema ids, KEK names, DEK
 * versions and algorithms. Never a record value, key or key material.
 */
import type { PlaintextReason } from './detect.js';

export interface RuleCoverage {
  readonly rule: string;
  readonly type: string;
  readonly kek: string;
  readonly algorithm: string;
  readonly expiryDays: number;
  /** Full names of the fields the rule covers in the schema it belongs to. */
  readonly fields: readonly string[];
}

export interface SchemaSummary {
  readonly schemaId: number;
  readonly subject: string;
  readonly schemaType: string;
  records: number;
  /** The writer schema's ENCRYPT rules as readers run them (READ side). */
  readonly rules: readonly RuleCoverage[];
  /** The ENCRYPT rules of the subject's latest schema: what SHOULD protect these records. */
  readonly expected: readonly RuleCoverage[];
  readonly latestSchemaId: number | null;
  /** Fields the latest schema's rules cover but the writer schema's rules do not. */
  readonly unprotectedFields: readonly string[];
  /** Tagged fields (inline or metadata.tags) that no ENCRYPT rule of the writer or latest schema covers. */
  readonly taggedUnencrypted: readonly string[];
}

export interface PlaintextFinding {
  readonly partition: number;
  readonly offset: number;
  readonly schemaId: number;
  readonly field: string;
  /** `(none)` for a tagged field that no rule covers. */
  readonly rule: string;
  readonly reason: PlaintextReason;
  /** For `tagged-no-rule`: the field's tags. */
  readonly tags?: readonly string[];
}

export interface UndecodableRecord {
  readonly partition: number;
  readonly offset: number;
  readonly code: string;
}

export interface KeyUsage {
  readonly kek: string;
  readonly algorithm: string;
  /** 1 when the rule has no DEK expiry (no version prefix). */
  readonly version: number;
  /** Ciphertext field values seen under this DEK. */
  values: number;
}

export interface PartitionRange {
  readonly partition: number;
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
  records: number;
}

export interface AuditReport {
  readonly topic: string;
  readonly partitions: readonly PartitionRange[];
  readonly records: number;
  readonly tombstones: number;
  readonly durationMs: number;
  readonly recordsPerSecond: number;
  readonly schemas: readonly SchemaSummary[];
  readonly plaintext: { readonly count: number; readonly records: number; readonly findings: readonly PlaintextFinding[]; readonly truncated: boolean };
  readonly keys: readonly KeyUsage[];
  readonly undecodable: { readonly count: number; readonly records: readonly UndecodableRecord[]; readonly truncated: boolean };
  /** True when nothing was plaintext and every record decoded. */
  readonly clean: boolean;
}

export function formatReport(report: AuditReport): string[] {
  const lines: string[] = [];
  const secs = report.durationMs / 1000;
  lines.push(`audit of ${report.topic}: ${report.records} records (${report.tombstones} tombstones) in ${secs.toFixed(1)} s, ${report.recordsPerSecond} records/s`);
  for (const p of report.partitions) lines.push(`  partition ${p.partition}: offsets ${p.from}..${p.to - 1}, ${p.records} records`);
  lines.push('');
  lines.push('writer schemas:');
  for (const s of report.schemas) {
    lines.push(`  schema id ${s.schemaId} (${s.schemaType}, subject ${s.subject}): ${s.records} records`);
    if (s.rules.length === 0) lines.push('    no ENCRYPT rule');
    for (const r of s.rules) lines.push(`    rule ${r.rule} [${r.type}] kek=${r.kek} ${r.algorithm}${r.expiryDays ? ` expiry ${r.expiryDays}d` : ''}: ${r.fields.join(', ') || '-'}`);
    if (s.latestSchemaId === null) lines.push(`    subject ${s.subject} has no latest schema`);
    else {
      lines.push(`    latest schema id ${s.latestSchemaId} expects:${s.expected.length === 0 ? ' no ENCRYPT rule' : ''}`);
      for (const r of s.expected) lines.push(`      rule ${r.rule} [${r.type}] kek=${r.kek} ${r.algorithm}: ${r.fields.join(', ') || '-'}`);
    }
    if (s.unprotectedFields.length > 0) lines.push(`    NOT covered by the writer schema's rules: ${s.unprotectedFields.join(', ')}`);
    if (s.taggedUnencrypted.length > 0) lines.push(`    tagged, but NO rule encrypts: ${s.taggedUnencrypted.join(', ')}`);
  }
  lines.push('');
  lines.push('keys in use:');
  if (report.keys.length === 0) lines.push('  none');
  for (const k of report.keys) lines.push(`  kek ${k.kek} ${k.algorithm} DEK version ${k.version}: ${k.values} values`);
  lines.push('');
  const pt = report.plaintext;
  lines.push(`plaintext: ${pt.count} values in ${pt.records} records`);
  for (const f of pt.findings) {
    lines.push(f.reason === 'tagged-no-rule'
      ? `  partition ${f.partition} offset ${f.offset}: ${f.field} (tagged ${(f.tags ?? []).join(', ')}, no rule encrypts it; schema id ${f.schemaId})`
      : `  partition ${f.partition} offset ${f.offset}: ${f.field} (rule ${f.rule}, schema id ${f.schemaId}, ${f.reason})`);
  }
  if (pt.truncated) lines.push(`  ... (first ${pt.findings.length} shown)`);
  const un = report.undecodable;
  lines.push(`undecodable: ${un.count} records`);
  for (const u of un.records) lines.push(`  partition ${u.partition} offset ${u.offset}: ${u.code}`);
  if (un.truncated) lines.push(`  ... (first ${un.records.length} shown)`);
  lines.push('');
  lines.push(report.clean ? 'OK: every tagged field is ciphertext' : 'FAIL: plaintext or undecodable records found');
  return lines;
}
