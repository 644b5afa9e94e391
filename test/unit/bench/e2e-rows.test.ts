// The end-to-end suite's rows: options, ratios paired within rounds, summaries, scale-row sizes, the
// per-format source records, and the start-up suite's timeline.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { customerAt } from '../../../bench/e2e-data.js';
import { compare, DEFAULT_E2E_OPTIONS, notesLengthFor, scaleRowRecords, withEnvOverrides } from '../../../bench/e2e.js';
import { encoderFor, recordAt, schemaText } from '../../../bench/e2e-formats.js';
import { pairedRatios, parseLogLines, summarize, type RunResult } from '../../../bench/e2e-runs.js';
import { medianTimeline, startTimeline } from '../../../bench/startup.js';
import { createProtobufCodec } from '../../../src/formats/index.js';

const run = (contender: RunResult['contender'], round: number, steadyRate: number, extra: Partial<RunResult> = {}): RunResult => ({
  contender, run: round, records: 1000, wallSeconds: 1, steadySeconds: 1000 / steadyRate, wallRate: steadyRate / 2, steadyRate, steadyMBps: 1,
  batches: 2, p50BatchMs: 10, p99BatchMs: 20, maxBatchMs: 20, inBatchShare: 1, peakRss: 100, rssTimeline: [], ...extra,
});

describe('e2e options', () => {
  it('selects formats, paths and scale rows from the environment', () => {
    const o = withEnvOverrides(DEFAULT_E2E_OPTIONS, {
      BENCH_E2E_FORMATS: 'json,avro', BENCH_E2E_PATHS: 'decrypt', BENCH_E2E_SCALE_PARTITIONS: 'none', BENCH_E2E_SCALE_BYTES: '100,4096',
    });
    expect(o).toMatchObject({ formats: ['json', 'avro'], paths: ['decrypt'], scalePartitions: [], scaleRecordBytes: [100, 4096] });
    expect(() => withEnvOverrides(DEFAULT_E2E_OPTIONS, { BENCH_E2E_FORMATS: 'xml' })).toThrow(/BENCH_E2E_FORMATS: xml/);
    expect(withEnvOverrides(DEFAULT_E2E_OPTIONS, { BENCH_E2E_FORMATS: 'none' }).formats).toEqual([]);
    expect(() => withEnvOverrides(DEFAULT_E2E_OPTIONS, { BENCH_E2E_SCALE_BYTES: '100,big' })).toThrow(/BENCH_E2E_SCALE_BYTES/);
  });

  it('sizes the record-size rows by bytes, at least ten batches, at most the row count', () => {
    expect(scaleRowRecords(200_000, 100, 500)).toBe(200_000);
    expect(scaleRowRecords(200_000, 10_240, 500)).toBe(5_000);
    expect(scaleRowRecords(2_000_000, 10_240, 500)).toBe(19_531);
    expect(scaleRowRecords(3_000, 10_240, 500)).toBe(3_000);
  });

  it('pads an Avro customer to about the requested size', () => {
    const type = avro.Type.forSchema(JSON.parse(schemaText('avro', 1)) as avro.Schema);
    for (const bytes of [100, 1_000, 10_240]) {
      const size = 5 + type.toBuffer(recordAt(12_345, notesLengthFor(bytes))).length + String(1_012_345).length;
      expect(Math.abs(size - bytes)).toBeLessThanOrEqual(10); // names and emails differ in length from record to record
    }
    expect(notesLengthFor(50)).toBe(0);
  });
});

describe('ratios and summaries', () => {
  it('pairs ratios by round and takes their median', () => {
    const mine = [run('recrypt', 1, 90), run('recrypt', 2, 60), run('recrypt', 3, 80)];
    const others = [run('pipe', 3, 100), run('pipe', 1, 100), run('pipe', 2, 50)];
    const r = pairedRatios(mine, others, (x) => x.steadyRate);
    expect(r.perRound).toEqual([{ run: 1, ratio: 0.9 }, { run: 2, ratio: 1.2 }, { run: 3, ratio: 0.8 }]);
    expect(r.median).toBe(0.9);
    expect(pairedRatios(mine, [], (x) => x.steadyRate)).toEqual({ perRound: [] });
  });

  it('summarizes medians, the highest RSS, and compares recrypt with the pipe and the libraries of the same rounds', () => {
    const runs = [
      run('recrypt', 1, 50, { peakRss: 300 }), run('pipe', 1, 100), run('baseline', 1, 5, { serdeSeconds: 3, transactionSeconds: 1 }),
      run('recrypt', 2, 40, { peakRss: 200, p99BatchMs: 40 }), run('pipe', 2, 50), run('baseline', 2, 2, { serdeSeconds: 1, transactionSeconds: 3 }),
    ];
    const s = summarize(runs.filter((r) => r.contender === 'recrypt'));
    expect(s).toMatchObject({ runs: 2, steadyRate: 45, peakRss: 300, p99BatchMs: 30 });
    const c = compare(runs);
    expect(c.vsPipe).toBeCloseTo((0.5 + 0.8) / 2);
    expect(c.vsBaseline).toBeCloseTo((10 + 20) / 2);
    expect(c.baseline?.serdeShare).toBe(0.5);
    expect(c.perRound).toEqual([{ run: 1, vsPipe: 0.5, vsBaseline: 10 }, { run: 2, vsPipe: 0.8, vsBaseline: 20 }]);
    expect(compare(runs.filter((r) => r.contender !== 'baseline')).vsBaseline).toBeUndefined();
  });
});

describe('source records per format', () => {
  it('frames records that decode back to the customer in every format', () => {
    const avroType = avro.Type.forSchema(JSON.parse(schemaText('avro')) as avro.Schema);
    const [a] = encoderFor('avro', 7, 0)(42, 43);
    expect(a!.readUInt32BE(1)).toBe(7);
    expect(avroType.fromBuffer(a!.subarray(5))).toEqual(customerAt(42));

    const padded = avro.Type.forSchema(JSON.parse(schemaText('avro', 30)) as avro.Schema);
    expect(padded.fromBuffer(encoderFor('avro', 7, 30)(3, 4)[0]!.subarray(5))).toEqual(recordAt(3, 30));
    expect(recordAt(3, 30).notes).toHaveLength(30);

    const [p] = encoderFor('protobuf', 8, 0)(42, 43);
    expect(p![5]).toBe(0); // message indexes [0]
    const decoded = createProtobufCodec({ schemaType: 'PROTOBUF', schema: schemaText('protobuf') }).messageType.decode(p!.subarray(6)).toJSON();
    expect({ ...decoded, id: Number(decoded['id']) }).toEqual(customerAt(42));

    const [j] = encoderFor('json', 9, 0)(42, 43);
    expect(JSON.parse(j!.toString('utf8', 5))).toEqual(customerAt(42));
    expect(() => schemaText('json', 10)).toThrow(/Avro only/);
  });
});

describe('start-up timeline', () => {
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const line = (ms: number, msg: string) => JSON.stringify({ level: 'debug', time: new Date(t0 + ms).toISOString(), msg });
  it('reads milestones from the log lines against the spawn time', () => {
    const stderr = [line(800, 'created target topic'), 'noise', line(950, 'partitions assigned'), line(1000, 'batch committed'), line(1200, 'batch committed')].join('\n');
    expect(startTimeline(stderr, t0, t0 + 1500)).toEqual({ targetCreatedMs: 800, assignedMs: 950, firstCommitMs: 1000, lastCommitMs: 1200, exitMs: 1500 });
    expect(startTimeline('', t0, t0 + 10)).toEqual({ exitMs: 10 });
    expect(parseLogLines(`${line(5, 'x')}\n{not json\n`)).toHaveLength(1);
  });

  it('takes the median of each milestone over the starts that logged it', () => {
    expect(medianTimeline([{ firstCommitMs: 900, exitMs: 1400 }, { firstCommitMs: 1100, exitMs: 1600 }, { exitMs: 1500 }]))
      .toEqual({ firstCommitMs: 1000, exitMs: 1500 });
  });
});

describe('bench job files', () => {
  it('are valid jobs for every mode, with the rule, batch size and worker threads asked for', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { jobYaml } = await import('../../../bench/jobs.js');
    const { validateJobFiles } = await import('../../../src/jobs/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'bench-jobs-'));
    const rule = { kek: 'k', kmsKeyId: 'key', algorithm: 'AES256_SIV' } as const;
    const files = [
      jobYaml({ name: 'a', mode: 'encrypt', source: 's', target: 't', rule: { ...rule, algorithm: 'AES256_GCM' }, batchSize: 250, stopAtEnd: true, transactionTimeoutMs: 60_000 }),
      jobYaml({ name: 'b', mode: 'decrypt', source: 's', target: 't2', batchSize: 500, stopAtEnd: true, workers: 0 }),
      jobYaml({ name: 'c', mode: 'reencrypt', source: 's', target: 't3', rule, batchSize: 500, stopAtEnd: false }),
    ].map((text, i) => {
      const file = join(dir, `job-${i}.yaml`);
      writeFileSync(file, text);
      return file;
    });
    const result = await validateJobFiles(files);
    expect(result.problems).toEqual([]);
    const [a, b, c] = result.jobs;
    expect(a?.spec).toMatchObject({ mode: 'encrypt', source: { stopAt: 'end' }, processing: { batchSize: 250, transactionTimeoutMs: 60_000 } });
    expect(a?.spec.rules?.domainRules?.[0]?.params).toMatchObject({ 'encrypt.dek.algorithm': 'AES256_GCM', 'encrypt.kek.name': 'k' });
    expect(b?.spec).toMatchObject({ mode: 'decrypt', processing: { workers: 0 } });
    expect(b?.spec.rules).toBeUndefined();
    expect(c?.spec.rules?.domainRules?.[0]?.params).toMatchObject({ 'encrypt.dek.algorithm': 'AES256_SIV' });
    expect(c?.spec.source.stopAt).not.toBe('end');
  });
});

describe('backfill options', () => {
  it('reads the worker counts as a comma list', async () => {
    const { backfillEnvOverrides, DEFAULT_BACKFILL_OPTIONS } = await import('../../../bench/backfill.js');
    expect(backfillEnvOverrides(DEFAULT_BACKFILL_OPTIONS, { BENCH_BACKFILL_WORKERS: '1, 2' }).workers).toEqual([1, 2]);
    expect(backfillEnvOverrides(DEFAULT_BACKFILL_OPTIONS, { BENCH_BACKFILL_RECORDS: '5000' })).toMatchObject({ records: 5000, workers: DEFAULT_BACKFILL_OPTIONS.workers });
    expect(() => backfillEnvOverrides(DEFAULT_BACKFILL_OPTIONS, { BENCH_BACKFILL_WORKERS: '1,0' })).toThrow(/got 0/);
  });
});

describe('format=serialized probe', () => {
  it('tells a registry that serves descriptors from one that answers with the .proto text', async () => {
    const { createServer } = await import('node:http');
    const { servesSerializedProtobuf } = await import('../../../bench/e2e-formats.js');
    const answers: Record<string, string> = { '/schemas/ids/1?format=serialized': 'CgdkZWZhdWx0EgViZW5jaA==', '/schemas/ids/2?format=serialized': schemaText('protobuf') };
    const server = createServer((req, res) => {
      const schema = answers[req.url ?? ''];
      res.writeHead(schema ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(schema ? { schema, schemaType: 'PROTOBUF' } : { error_code: 40403 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      expect(await servesSerializedProtobuf(url, 1)).toBe(true);
      expect(await servesSerializedProtobuf(`${url}/`, 2)).toBe(false);
      await expect(servesSerializedProtobuf(url, 3)).rejects.toThrow(/HTTP 404/);
    } finally {
      server.close();
    }
  });
});
