// A Kafka broker of the test's own (KRaft, one node, the stack's jars), reached only through a TCP
// proxy the test can cut and restore: a broker outage without touching the shared stack. The broker
// advertises the proxy's port, so every client connection goes through it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import kafkajs from 'kafkajs';

const ROOT = resolve(import.meta.dirname, '../../..');

function kafkaLibs(): string {
  const version = /<kafka\.version>(.*)<\/kafka\.version>/.exec(readFileSync(join(ROOT, 'stack/kafka/pom.xml'), 'utf8'))?.[1];
  const cache = process.env.RECRYPT_CACHE_DIR ?? join(homedir(), '.cache/recrypt');
  return join(cache, `kafka-${version}`, 'libs');
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function run(args: string[], log: string): ChildProcess {
  return spawn('java', ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(log, 'log4j2.properties')}`, '-cp', `${kafkaLibs()}/*`, ...args], { stdio: 'ignore' });
}

export interface OwnKafka {
  readonly bootstrap: string;
  /** Closes every proxied connection and refuses new ones: to the clients, the broker is gone. */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOwnKafka(timeoutMs = 120_000): Promise<OwnKafka> {
  const [brokerPort, controllerPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'recrypt-own-kafka-'));
  writeFileSync(join(dir, 'log4j2.properties'), 'rootLogger.level=ERROR\n');
  writeFileSync(join(dir, 'server.properties'), [
    'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`,
    'controller.listener.names=CONTROLLER', 'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT', `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1', 'auto.create.topics.enable=false', 'offsets.topic.replication.factor=1', 'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1', 'transaction.state.log.num.partitions=1',
    'min.insync.replicas=1', 'group.initial.rebalance.delay.ms=0',
    'share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1', '',
  ].join('\n'));
  const format = run(['kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', join(dir, 'server.properties')], dir);
  const formatted = await new Promise<number | null>((r) => format.on('exit', r));
  if (formatted !== 0) throw new Error(`own Kafka: storage format failed (${formatted})`);
  const broker = run(['kafka.Kafka', join(dir, 'server.properties')], dir);

  const sockets = new Set<net.Socket>();
  let proxy: net.Server | undefined;
  const listen = async () => {
    proxy = net.createServer((client) => {
      const upstream = net.connect(brokerPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((r) => proxy!.listen(proxyPort, '127.0.0.1', () => r()));
  };
  const cut = async () => {
    const server = proxy;
    proxy = undefined;
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  };
  const stop = async () => {
    await cut();
    broker.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  await listen();

  const bootstrap = `127.0.0.1:${proxyPort}`;
  const deadline = Date.now() + timeoutMs;
  const admin = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 0 } }).admin();
  for (;;) {
    try {
      await admin.connect();
      await admin.listTopics();
      await admin.disconnect();
      break;
    } catch {
      await admin.disconnect().catch(() => undefined);
      if (Date.now() > deadline || broker.exitCode !== null) {
        await stop();
        throw new Error('own Kafka did not come up');
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return { bootstrap, cut, restore: listen, stop };
}

/**
 * A KRaft cluster id: 16 random bytes in base64url, like Kafka's own. One that starts with '-' would be
 * read as an option by the storage tool (Kafka's random-uuid never hands those out either).
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
