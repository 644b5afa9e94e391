/**
 * `recrypt audit`, `recrypt inspect` and `recrypt rewrap-deks`. Usage errors print here and exit 2;
 * RecryptErrors go up to main (exit 1). Only `inspect --decrypt` prints record values, to stdout.
 */
import cliProgress from 'cli-progress';
import { auditTopic } from '../audit/audit-topic.js';
import { inspectRecord, valueToJson, type InspectResult } from '../audit/inspect.js';
import { formatReport } from '../audit/report.js';
import { rewrapDeks, type RewrapResult } from '../audit/rewrap.js';
import { parseOffsetSpec, type OffsetSpec } from '../audit/topic-reader.js';
import type { SubjectNameStrategy } from '../engine/index.js';
import { DekManager } from '../keys/index.js';
import { kmsRegistryFor, registryClients } from '../runtime/index.js';
import { loadServiceConfig } from '../service/config.js';
import { defineCommand, parseCommand } from './args.js';
import { UsageError, withUsage } from './common.js';

export const AUDIT_USAGE = `  audit --topic T [--from earliest|OFFSET|TIME] [--to end|OFFSET|TIME] [--subject-strategy topic|record|topic-record] [--json]
                            report plaintext in encrypted fields (by partition/offset), keys in use,
                            undecodable records; exit 1 when anything is plaintext or undecodable
  inspect --topic T --partition P --offset O [--decrypt] [--json]
                            one record: framing, schema, fields; ciphertext with DEK version and
                            algorithm; values only with --decrypt
  rewrap-deks --kek NAME --kms-key-id NEW [--kms-type TYPE] [--switch] [--dry-run] [--json]
                            re-wrap every DEK of a KEK under another KMS key, without touching topics`;

// Each command's own --help: its line above, the environment it needs, and an example.
const AUDIT = defineCommand({
  name: 'audit',
  usage: `usage:\n${AUDIT_USAGE.split('\n  inspect')[0]}\n
  --batch-size N            records per read (default: the reader's)

example:
  recrypt audit --topic customers-enc --from 2026-01-01T00:00:00Z --json > audit.json`,
  options: {
    topic: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    'subject-strategy': { type: 'string' }, json: { type: 'boolean' }, 'batch-size': { type: 'string' },
  },
});

const INSPECT = defineCommand({
  name: 'inspect',
  usage: `usage:\n  inspect${AUDIT_USAGE.split('\n  inspect')[1]!.split('\n  rewrap-deks')[0]}\n
  --subject-strategy topic|record|topic-record   how the value subject is named (default topic)

example:
  recrypt inspect --topic customers-enc --partition 0 --offset 42`,
  options: {
    topic: { type: 'string' }, partition: { type: 'string' }, offset: { type: 'string' },
    decrypt: { type: 'boolean' }, json: { type: 'boolean' }, 'subject-strategy': { type: 'string' },
  },
});

const REWRAP = defineCommand({
  name: 'rewrap-deks',
  usage: `usage:\n  rewrap-deks${AUDIT_USAGE.split('\n  rewrap-deks')[1]}\n
  --switch       make the new key the KEK's primary (see docs/operations.md, KEK rotation)
  --dry-run      list what would be re-wrapped, change nothing

example:
  recrypt rewrap-deks --kek orders-kek --kms-key-id arn:aws:kms:eu-west-1:111122223333:key/NEW --dry-run`,
  options: {
    kek: { type: 'string' }, 'kms-key-id': { type: 'string' }, 'kms-type': { type: 'string' },
    'dry-run': { type: 'boolean' }, switch: { type: 'boolean' }, json: { type: 'boolean' },
  },
});



function strategyOf(value: string | undefined): SubjectNameStrategy {
  const s = value ?? 'topic';
  if (s !== 'topic' && s !== 'record' && s !== 'topic-record') throw new UsageError('--subject-strategy must be topic, record or topic-record');
  return s;
}

function offsetOf(name: string, value: string | undefined, fallback: OffsetSpec): OffsetSpec {
  if (value === undefined) return fallback;
  const spec = parseOffsetSpec(value);
  if (spec === undefined) throw new UsageError(`${name} must be earliest, end, an offset or an ISO-8601 time`);
  return spec;
}

function intOf(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`${name} is required`);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`${name} must be a whole number`);
  return Number(value);
}

export function audit(args: string[]): Promise<void> {
  return withUsage(AUDIT.usage, async () => {
    const { values } = parseCommand(AUDIT, args);
    if (!values.topic) throw new UsageError('--topic is required');
    const from = offsetOf('--from', values.from, { kind: 'earliest' });
    const to = offsetOf('--to', values.to, { kind: 'end' });
    const strategy = strategyOf(values['subject-strategy']);
    const batchSize = values['batch-size'] === undefined ? undefined : intOf('--batch-size', values['batch-size']);
    const config = loadServiceConfig();
    const { schemaRegistry } = registryClients(config);
    const bar = values.json ? undefined : new cliProgress.SingleBar({
      stream: process.stderr, hideCursor: true, etaBuffer: 20, fps: 5,
      format: 'audit {bar} {percentage}% | {value}/{total} records | {rate} records/s | eta {eta_formatted}',
    }, cliProgress.Presets.shades_classic);
    let started = Date.now();
    let stop = false;
    const onSignal = () => { stop = true; };
    process.once('SIGINT', onSignal);
    try {
      const report = await auditTopic({
        connection: config.kafka, schemaRegistry, topic: values.topic, from, to, subjectNameStrategy: strategy,
        ...(batchSize ? { batchSize } : {}),
        onStart: (total) => { started = Date.now(); bar?.start(total, 0, { rate: 0 }); },
        onProgress: (done) => bar?.update(done, { rate: Math.round(done / Math.max((Date.now() - started) / 1000, 0.001)) }),
        shouldStop: () => stop,
      });
      bar?.stop();
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else for (const line of formatReport(report)) console.log(line);
      if (stop) console.error('recrypt audit: interrupted; the report covers what was read');
      if (!report.clean || stop) process.exitCode = 1;
    } finally {
      bar?.stop();
      process.removeListener('SIGINT', onSignal);
    }
  });
}

export function inspect(args: string[]): Promise<void> {
  return withUsage(INSPECT.usage, async () => {
    const { values } = parseCommand(INSPECT, args);
    if (!values.topic) throw new UsageError('--topic is required');
    const partition = intOf('--partition', values.partition);
    const offset = intOf('--offset', values.offset);
    const strategy = strategyOf(values['subject-strategy']);
    const config = loadServiceConfig();
    const { schemaRegistry, dekRegistry } = registryClients(config);
    const keys = values.decrypt ? new DekManager({ dekRegistry, kms: kmsRegistryFor(config), kmsProps: config.kmsProps }) : undefined;
    const result = await inspectRecord({
      connection: config.kafka, schemaRegistry, topic: values.topic, partition, offset, subjectNameStrategy: strategy,
      ...(keys ? { keys } : {}),
    });
    if (result === null) {
      console.error(`recrypt inspect: no record at ${values.topic}/${partition}@${offset} (out of range, a transaction marker, or aborted)`);
      process.exitCode = 1;
      return;
    }
    if (values.json) console.log(valueToJson(result));
    else for (const line of formatInspect(result)) console.log(line);
    if (result.error !== undefined || result.fields.some((f) => f.decryptError !== undefined)) process.exitCode = 1;
  });
}

function formatInspect(r: InspectResult): string[] {
  const lines = [
    `record ${r.topic}/${r.partition}@${r.offset}  timestamp ${new Date(r.timestamp).toISOString()}`,
    `  key: ${r.keyBytes === null ? 'null' : `${r.keyBytes} bytes`}  value: ${r.valueBytes === null ? 'null (tombstone)' : `${r.valueBytes} bytes`}`,
    `  headers: ${r.headers.length === 0 ? '-' : r.headers.join(', ')}`,
  ];
  if (r.framing) {
    const f = r.framing;
    lines.push(`  framing: magic 0x0${f.magic}, ${f.schemaId !== undefined ? `schema id ${f.schemaId}` : `schema guid ${f.guid}`} (in ${f.idSource})${f.messageIndexes ? `, message indexes [${f.messageIndexes.join(', ')}]` : ''}`);
  }
  if (r.schema) lines.push(`  schema: id ${r.schema.id} ${r.schema.type}, subject ${r.schema.subject}`);
  if (r.error) lines.push(`  cannot decode: ${r.error}`);
  if (r.schema) {
    lines.push('  rules:');
    if (r.rules.length === 0) lines.push('    no ENCRYPT rule');
    for (const rule of r.rules) lines.push(`    ${rule.rule} [${rule.type}] kek=${rule.kek} ${rule.algorithm}${rule.expiryDays ? ` expiry ${rule.expiryDays}d` : ''}: ${rule.fields.join(', ') || '-'}`);
  }
  if (r.payloadEncrypted) lines.push(`  payload encrypted by ${r.payloadEncrypted.rule} (kek ${r.payloadEncrypted.kek}, ${r.payloadEncrypted.algorithm}, ${r.payloadEncrypted.bytes} bytes)`);
  if (r.fields.length > 0) lines.push('  fields:');
  for (const f of r.fields) {
    const size = f.bytes === undefined ? '' : ` ${f.bytes} bytes`;
    if (f.status === 'ciphertext') lines.push(`    ${f.field} (${f.kind}): ciphertext ${f.ciphertext}${size}, kek ${f.kek}, ${f.algorithm}, DEK version ${f.dekVersion}, rule ${f.rule}`);
    else if (f.status === 'plaintext') lines.push(`    ${f.field} (${f.kind}): PLAINTEXT (${f.reason})${size}, should be encrypted by rule ${f.rule}`);
    else lines.push(`    ${f.field} (${f.kind}): ${f.status}${size}`);
    if (f.decryptError !== undefined) lines.push(`      decrypt failed: ${f.decryptError}`);
    else if ('decrypted' in f) lines.push(`      decrypted: ${valueToJson(f.decrypted)}`);
  }
  if (r.decryptedValue !== undefined) lines.push('  decrypted value:', ...valueToJson(r.decryptedValue).split('\n').map((l) => `    ${l}`));
  return lines;
}

export function rewrap(args: string[]): Promise<void> {
  return withUsage(REWRAP.usage, async () => {
    const { values } = parseCommand(REWRAP, args);
    if (!values.kek) throw new UsageError('--kek is required');
    if (!values['kms-key-id']) throw new UsageError('--kms-key-id is required');
    const config = loadServiceConfig();
    const { schemaRegistry, dekRegistry } = registryClients(config);
    const result = await rewrapDeks({
      dekRegistry, kms: kmsRegistryFor(config), kmsProps: config.kmsProps, schemas: schemaRegistry,
      kekName: values.kek, newKmsKeyId: values['kms-key-id'],
      ...(values['kms-type'] ? { newKmsType: values['kms-type'] } : {}),
      switchPrimary: values.switch === true, dryRun: values['dry-run'] === true,
      ...(values.json ? {} : { onDek: (e) => console.error(`  ${e.subject} ${e.algorithm} v${e.version}${e.deleted ? ' (soft-deleted)' : ''}: ${e.status}${e.error ? ` ${e.error}` : ''}`) }),
    });
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else for (const line of formatRewrap(result)) console.log(line);
    if (!result.ok) process.exitCode = 1;
  });
}

function formatRewrap(r: RewrapResult): string[] {
  const count = (s: string) => r.deks.filter((d) => d.status === s).length;
  const lines = [
    `${r.dryRun ? 'dry run: ' : ''}KEK ${r.kek}: ${r.from.kmsType} -> ${r.to.kmsType}, mode ${r.mode}`,
    `  DEKs: ${r.deks.length} (${count('rewrapped')} re-wrapped, ${count('would-rewrap')} to re-wrap, ${count('already-new-key')} already under the new key, ${count('failed')} failed)`,
  ];
  for (const u of r.kekUpdates) lines.push(`  KEK: ${u}`);
  for (const d of r.deks.filter((e) => e.status === 'failed')) lines.push(`  FAILED ${d.subject} ${d.algorithm} v${d.version}: ${d.error ?? ''}`);
  if (r.mode === 'alternate' && !r.dryRun && r.ok) {
    lines.push('  The KEK keeps its kms key id (rules that name it still match); clients fall back to the new key.',
      '  Re-run after long-running producers have refreshed their KEK cache, then disable the old key.');
    // A KEK without DEKs was most likely registered with a mistyped key id: moving it is what helps.
    if (r.deks.length === 0) lines.push(`  The KEK has no DEK: to correct its kms key id itself, run again with --switch (docs/operations.md, "KEK registered with the wrong key id").`);
  }
  if (r.ok && !r.dryRun) lines.push(r.deks.length === 0 && r.mode === 'switch' ? `OK: KEK ${r.kek} now uses ${r.to.kmsType} key ${r.to.kmsKeyId}` : 'OK: every DEK unwraps under the new key');
  return lines;
}
