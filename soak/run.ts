/**
 * `npm run soak`: an hour (--minutes) of continuous re-encryption (AES256_GCM under one KEK to
 * AES256_SIV under another) by two `recrypt serve` instances on a private stack, at a fixed produce
 * rate, one instance SIGKILLed every --kill-every minutes and replaced under its name. Every
 * --sample-seconds it reads each process's RSS, V8 heap used and event-loop delay p99 from its
 * /metrics (RSS from /proc when a scrape fails) and the group's lag; at the end a read_committed reader
 * checks that every produced record is in the target exactly once, and judge.ts says whether RSS
 * stayed flat after warm-up. Writes .soak/soak-<date>.json and .svg (--publish: docs/soak.svg too),
 * prints PASS or FAIL with the figures and exits 0 or 1.
 *
 * The killed instance is always soak-1: soak-0 lives the whole run, so its RSS is judged over the
 * longest window, through every rebalance the kills cause; each soak-1 incarnation is judged over its
 * own life when it outlives the warm-up.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildRecrypt } from './build.js';
import { checkExactlyOnce, createTopic, customer, encryptedPool, GroupLag, KMS_KEY_ID, officialSerdes, PacedProducer } from './data.js';
import { procRss, SoakFleet, tail } from './fleet.js';
import { defaultWarmupMs, judgeRss, type Sample } from './judge.js';
import { parseOptions } from './options.js';
import { processFigures } from './prometheus.js';
import { chartOf, figuresOf, type SoakReport } from './report.js';
import { ROOT, startSoakStack, type SoakStack } from './stack.js';
import { renderSvg } from './svg.js';

const NAMES = ['soak-0', 'soak-1'];
const VICTIM = 'soak-1';
const POOL_SIZE = 512;

const print = (text: string) => process.stdout.write(`${text}\n`);
const log = (line: string) => print(`${new Date().toISOString().slice(11, 19)} [soak] ${line}`);

const aborter = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { log(`${signal}: stopping`); aborter.abort(new Error(`interrupted by ${signal}`)); });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (aborter.signal.aborted) { reject(aborter.signal.reason as Error); return; }
    const timer = setTimeout(() => { aborter.signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(aborter.signal.reason as Error); };
    aborter.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function jobYaml(name: string, source: string, target: string, kek: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: reencrypt
  source: { topic: ${source}, startAt: earliest }
  target: { topic: ${target}, createTopic: true }
  processing: { workers: 0 }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: ${kek}, encrypt.kms.type: local-kms, encrypt.kms.key.id: ${KMS_KEY_ID}, encrypt.dek.algorithm: AES256_SIV }
        onFailure: ERROR,ERROR
`;
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return process.argv.includes('--help') ? 0 : 2;
  }
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const outDir = resolve(ROOT, options.out);
  const runDir = join(outDir, `soak-${stamp}`);
  const jsonFile = join(outDir, `soak-${stamp}.json`);
  const svgFile = join(outDir, `soak-${stamp}.svg`);
  mkdirSync(join(runDir, 'jobs'), { recursive: true });
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  log(`${options.minutes} min at ${options.rate} records/s, SIGKILL ${VICTIM} every ${options.killEveryMinutes} min, sample every ${options.sampleSeconds} s`);
  log(`output: ${jsonFile}, ${svgFile}, logs in ${runDir}`);

  const buildDir = join(ROOT, '.stack', `soak-build-${process.pid}`);
  const recrypt = options.build ? await buildRecrypt(buildDir) : { argv: [process.execPath, join(ROOT, 'bin', 'recrypt.js')], compiled: false, note: 'sources (--no-build)' };
  log(`recrypt: ${recrypt.note}`);

  let stack: SoakStack | undefined;
  let fleet: SoakFleet | undefined;
  let producer: PacedProducer | undefined;
  let groupLag: GroupLag | undefined;
  let report: SoakReport | undefined;
  const save = () => {
    if (!report) return;
    writeFileSync(jsonFile, `${JSON.stringify(report, null, 1)}\n`);
    writeFileSync(svgFile, renderSvg(chartOf(report)));
  };
  try {
    stack = await startSoakStack(`soak-${process.pid}`);
    const env = stack.env;
    const bootstrap = env.KAFKA_BOOTSTRAP_SERVERS!;
    log(`private stack ${stack.name} on ports ${stack.portBase}..${stack.portBase + 3}`);
    const secret = readFileSync(env.LOCAL_SECRET_FILE!, 'utf8').trim();

    const id = stamp.replace(/[^0-9]/g, '').slice(2, 14);
    const source = `soak-gcm-${id}`;
    const target = `soak-siv-${id}`;
    const jobName = `soak-${id}`;
    await createTopic(bootstrap, source, options.partitions);
    const pool = await encryptedPool(env.SCHEMA_REGISTRY_URL!, source, `soak-gcm-kek-${id}`, secret, POOL_SIZE);
    writeFileSync(join(runDir, 'jobs', 'job.yaml'), jobYaml(jobName, source, target, `soak-siv-kek-${id}`));

    const startedAt = Date.now();
    const since = () => Date.now() - startedAt;
    fleet = new SoakFleet(recrypt.argv, join(runDir, 'jobs'), join(runDir, 'logs'), {
      ...process.env, ...env, REDIS_URL: undefined, LOCAL_SECRET: undefined, LOG_LEVEL: 'info',
      // A killed pod's partitions wait for the group to notice it is gone: 10 s here (librdkafka's default is 45 s).
      KAFKA_PROP_SESSION_TIMEOUT_MS: '10000', KAFKA_PROP_HEARTBEAT_INTERVAL_MS: '1000',
    }, startedAt);
    const f = fleet;
    report = {
      startedAt: new Date(startedAt).toISOString(), options: {
        minutes: options.minutes, rate: options.rate, killEveryMinutes: options.killEveryMinutes, sampleSeconds: options.sampleSeconds,
        partitions: options.partitions, instances: NAMES.length,
      },
      stack: { name: stack.name, portBase: stack.portBase }, build: recrypt.note,
      job: { name: jobName, mode: 'reencrypt', source, target, change: 'AES256_GCM -> AES256_SIV, new KEK' },
      incarnations: f.incarnations, samples: [], fleet: [], kills: [],
    };
    const r = report;

    producer = new PacedProducer(bootstrap, source, options.partitions, pool, options.rate);
    groupLag = new GroupLag(bootstrap, `recrypt-${jobName}`, source);
    await groupLag.connect();
    const lagNow = groupLag;
    const p = producer;

    const first = await Promise.all(NAMES.map((name) => f.start(name)));
    await Promise.all(first.map((l) => f.ready(l)));
    log(`fleet ready in ${Math.round(since() / 1000)} s (pids ${first.map((l) => l.incarnation.pid).join(', ')})`);
    await p.start();
    // The clock of the run proper (kills, its end) starts with the producer; the samples since the fleet started.
    const producing = since();

    // --- the sampler: every instance's /metrics (or /proc) and the group's lag ---
    let sampling = true;
    const sampleOnce = async () => {
      const at = since();
      await Promise.all(f.running.map(async (live) => {
        let figures = {};
        try {
          const res = await fetch(`http://127.0.0.1:${live.port}/metrics`, { signal: AbortSignal.timeout(5000) });
          figures = processFigures(await res.text());
        } catch { /* starting, stopping or too busy to answer: /proc still has its RSS */ }
        const fig = figures as ReturnType<typeof processFigures>;
        const rss = fig.rssBytes ?? procRss(live.incarnation.pid);
        const sample: Sample = {
          at, incarnation: live.incarnation.id,
          ...(rss === undefined ? {} : { rssBytes: rss }),
          ...(fig.heapUsedBytes === undefined ? {} : { heapUsedBytes: fig.heapUsedBytes }),
          ...(fig.eventLoopP99Seconds === undefined ? {} : { eventLoopP99Ms: Math.round(fig.eventLoopP99Seconds * 10_000) / 10 }),
          ...(fig.consumerLag === undefined ? {} : { consumerLag: fig.consumerLag }),
        };
        if (rss !== undefined) r.samples.push(sample);
      }));
      const lag = await lagNow.lag().catch(() => undefined);
      r.fleet.push({ at, produced: p.produced, instances: f.running.length, ...(lag === undefined ? {} : { groupLag: lag }) });
    };
    let lastMinute = -1;
    const sampler = (async () => {
      while (sampling) {
        const tick = Date.now();
        await sampleOnce();
        const minute = Math.floor(since() / 60_000);
        if (minute !== lastMinute) {
          lastMinute = minute;
          const last = r.fleet[r.fleet.length - 1];
          const now = f.running.map((l) => {
            const s = [...r.samples].reverse().find((x) => x.incarnation === l.incarnation.id);
            return `${l.incarnation.name}#${l.incarnation.id} ${s?.rssBytes ? Math.round(s.rssBytes / 1048576) : '?'} MiB rss, ` +
              `${s?.heapUsedBytes ? Math.round(s.heapUsedBytes / 1048576) : '?'} MiB heap, loop p99 ${s?.eventLoopP99Ms ?? '?'} ms`;
          });
          log(`minute ${minute}: produced ${p.produced}, group lag ${last?.groupLag ?? '?'}; ${now.join('; ')}`);
          save();
        }
        await new Promise((res) => setTimeout(res, Math.max(0, options.sampleSeconds * 1000 - (Date.now() - tick))));
      }
    })();

    // --- the kills: soak-1 every K minutes, replaced under its name ---
    const endAt = producing + options.minutes * 60_000;
    const killEvery = options.killEveryMinutes * 60_000;
    const recoveries: Promise<void>[] = [];
    try {
      for (let next = producing + killEvery; next < endAt - 1000; next += killEvery) {
        await sleep(Math.max(0, next - since()));
        const victim = f.get(VICTIM);
        if (!victim) throw new Error(`${VICTIM} is not running at minute ${Math.round(next / 60_000)}: ${tail(join(runDir, 'logs', `${VICTIM}.${f.incarnations.filter((i) => i.name === VICTIM).at(-1)?.id}.log`))}`);
        const at = since();
        await f.stop(VICTIM, 'SIGKILL');
        const replacement = await f.start(VICTIM);
        const kill = { at, name: VICTIM, incarnation: victim.incarnation.id, replacement: replacement.incarnation.id } as SoakReport['kills'][number];
        r.kills.push(kill);
        log(`SIGKILL ${VICTIM}#${victim.incarnation.id} (pid ${victim.incarnation.pid}), replacement #${replacement.incarnation.id} pid ${replacement.incarnation.pid}`);
        recoveries.push(f.ready(replacement).then(() => {
          kill.readyAfterMs = since() - at;
          log(`${VICTIM}#${replacement.incarnation.id} ready ${Math.round(kill.readyAfterMs / 1000)} s after the kill`);
        }));
      }
      await sleep(Math.max(0, endAt - since()));
      await Promise.all(recoveries);
      for (const name of NAMES) if (!f.get(name)) throw new Error(`${name} died on its own: see ${runDir}/logs`);

      // --- drain: stop producing, wait for a group lag of 0 ---
      const produced = await p.stop();
      r.produced = produced;
      const stoppedAt = Date.now();
      const drainLimit = Math.max(5, options.minutes / 3) * 60_000;
      log(`produced ${produced} records (${p.sendErrors} failed sends retried); draining (up to ${Math.round(drainLimit / 60_000)} min)`);
      for (;;) {
        const lag = await lagNow.lag().catch(() => undefined);
        if (lag === 0) break;
        if (Date.now() - stoppedAt > drainLimit) throw new Error(`the fleet did not catch up in ${drainLimit / 60_000} min (lag ${lag})`);
        await sleep(1000);
      }
      r.drainMs = Date.now() - stoppedAt;
      log(`drained in ${Math.round(r.drainMs / 1000)} s`);
    } finally {
      sampling = false;
      await sampler;
    }
    for (const name of NAMES) {
      const exit = await f.stop(name, 'SIGTERM');
      if (exit.code !== 0) log(`${name} exited ${exit.code ?? exit.signal} after SIGTERM`);
    }

    // --- the verdicts ---
    const { deserializer } = officialSerdes(env.SCHEMA_REGISTRY_URL!, secret);
    r.exactlyOnce = await checkExactlyOnce(bootstrap, target, options.partitions, r.produced!,
      (value) => deserializer.deserialize(target, value) as Promise<unknown>, (seq) => customer(seq % POOL_SIZE));
    r.rss = judgeRss(r.samples, r.incarnations, { durationMs: endAt, warmupMs: defaultWarmupMs(options.minutes * 60_000) });
    r.figures = figuresOf(r);
    r.pass = r.exactlyOnce.pass && r.rss.pass;
    r.endedAt = new Date().toISOString();
    save();
    if (options.publish) copyFileSync(svgFile, join(ROOT, 'docs', 'soak.svg'));

    const eo = r.exactlyOnce;
    const fig = r.figures;
    print([
      '',
      `soak ${r.pass ? 'PASS' : 'FAIL'}: ${options.minutes} min, ${eo.produced} records at ${options.rate}/s, ${r.kills.length} SIGKILLs ` +
        `(replacement ready in ${r.kills.map((k) => `${Math.round((k.readyAfterMs ?? 0) / 1000)} s`).join(', ') || '-'}), drained in ${Math.round((r.drainMs ?? 0) / 1000)} s`,
      `  exactly once ${eo.pass ? 'ok' : 'FAILED'}: read ${eo.read} of ${eo.produced} (read_committed), lost ${eo.lost}, duplicated ${eo.duplicated}, ` +
        `out of order ${eo.outOfOrder}, foreign ${eo.foreign}, ${eo.decrypted} decrypted with ${eo.decryptMismatches} mismatches`,
      `  ${r.rss.summary}`,
      `  max RSS ${fig.maxRssMb} MiB, max heap used ${fig.maxHeapUsedMb} MiB, event-loop p99 median ${fig.medianEventLoopP99Ms} ms / max ${fig.maxEventLoopP99Ms} ms, max group lag ${fig.maxGroupLag}`,
      `  ${jsonFile}`,
      `  ${svgFile}${options.publish ? ' (and docs/soak.svg)' : ''}`,
    ].join('\n'));
    return r.pass ? 0 : 1;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (report) { report.error = message; report.pass = false; report.endedAt = new Date().toISOString(); save(); }
    print(`\nsoak FAIL: ${message}${report ? `\n  ${jsonFile}` : ''}`);
    return 1;
  } finally {
    await producer?.stop().catch(() => undefined);
    await groupLag?.disconnect();
    await fleet?.killAll();
    await stack?.destroy(join(runDir, 'stack-logs')).catch((err: Error) => log(`stopping the private stack: ${err.message}`));
    rmSync(buildDir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err: unknown) => { console.error(err); process.exit(1); });
