// `recrypt dlq replay`'s usage, report lines and exit codes, in process (no Kafka: usage errors stop
// before any connection; the lines and outcomes are pure).
import { describe, expect, it } from 'vitest';
import { replayOutcome, reportLine } from '../../../src/cli/dlq-commands.js';
import type { PipelineSummary } from '../../../src/kafka/pipeline.js';
import type { ReplayReport } from '../../../src/runtime/dlq-replay-plan.js';
import { captureCli, cli } from '../cli/in-process.js';

captureCli();

describe('recrypt dlq usage', () => {
  it('dlq replay --help prints its options and an example, exit 0; help dlq and dlq alone print the subcommands', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await cli('dlq', 'replay', flag);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/usage: recrypt dlq replay FILE/);
      expect(r.stdout).toMatch(/--dry-run/);
      expect(r.stdout).toMatch(/--max-attempts N/);
      expect(r.stdout).toMatch(/example:\n\s+recrypt dlq replay /);
    }
    for (const args of [['dlq'], ['help', 'dlq']]) {
      const r = await cli(...args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/replay +run the records of the job's DLQ/);
    }
  });

  it.each([
    [['dlq', 'replay'], /dlq replay: needs exactly one FILE/],
    [['dlq', 'replay', 'job.yaml', '--dryrun'], /unknown option --dryrun \(did you mean --dry-run\?\)/],
    [['dlq', 'replay', 'job.yaml', '--max-attempts', '0'], /--max-attempts needs a whole number of at least 1/],
    [['dlq', 'replay', 'job.yaml', '--max-attempts', 'two'], /--max-attempts needs a whole number of at least 1/],
    [['dlq', 'redrive'], /dlq: unknown subcommand redrive/],
  ])('%j is a usage error, exit 2', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/usage: recrypt dlq replay/);
  });
});

const report = (over: Partial<ReplayReport>): ReplayReport => ({
  dlq: { topic: 'c.dlq', partition: 0, offset: 4 }, source: { topic: 'c', partition: 0, offset: 9 }, part: 'value',
  policy: 'redacted', rule: 'pii', exception: 'RULE_UNSUPPORTED_FIELD_TYPE: RecryptError', attempts: 0,
  decision: { replay: true, from: 'source-record', why: 'the source record is still in its topic' }, ...over,
});

describe('report lines', () => {
  it('name the DLQ record, its source, its failure and what the replay does, by coordinates only', () => {
    expect(reportLine(report({ result: 'written' })))
      .toBe('dlq c.dlq/0@4  source c/0@9  [redacted, pii, RULE_UNSUPPORTED_FIELD_TYPE: RecryptError]  replay from the source record -> written');
    expect(reportLine(report({ part: 'key', attempts: 2, decision: { replay: false, why: 'gone' } })))
      .toBe('dlq c.dlq/0@4  source c/0@9 (key)  [redacted, pii, RULE_UNSUPPORTED_FIELD_TYPE: RecryptError, replays 2]  NOT replayable: gone');
    expect(reportLine({ dlq: { topic: 'c.dlq', partition: 1, offset: 0 }, decision: { replay: false, why: 'no __source.topic header: not a recrypt DLQ record' } }))
      .toBe('dlq c.dlq/1@0  source unknown  NOT replayable: no __source.topic header: not a recrypt DLQ record');
  });
});

describe('replayOutcome: exit codes as run', () => {
  const summary = (over: Partial<PipelineSummary> = {}): PipelineSummary => ({ partitions: [], records: 1, written: 1, dlq: 0, durationMs: 10, halted: false, ...over });

  it('0 when every record reached the target; 4 when one was not replayable or went back to the DLQ', () => {
    expect(replayOutcome(summary(), [report({ result: 'written' })], undefined)).toEqual({ code: 0 });
    expect(replayOutcome(summary(), [report({ decision: { replay: false, why: 'x' } })], undefined)).toMatchObject({ code: 4 });
    expect(replayOutcome(summary({ dlq: 1 }), [report({ result: 'dlq-again' })], undefined)).toMatchObject({ code: 4, line: expect.stringContaining('1 DLQ record not replayed') });
  });

  it('3 when a DLQ partition halted, 5 when a signal stopped it first', () => {
    const halted = { topic: 'c.dlq', partition: 0, records: 0, written: 0, dlq: 0, committed: 4, done: false, halted: { offset: 4, code: 'CRYPTO_DECRYPT' } };
    expect(replayOutcome(summary({ halted: true, partitions: [halted as never] }), [], undefined)).toMatchObject({ code: 3 });
    const open = { topic: 'c.dlq', partition: 0, records: 0, written: 0, dlq: 0, committed: 4, done: false };
    expect(replayOutcome(summary({ partitions: [open as never] }), [], 'SIGTERM')).toMatchObject({ code: 5 });
  });
});
