// Confluent's Go client (test/conformance/go) as a long-lived child process speaking JSON lines: one
// process per test file, many requests in flight (it answers in order), so thousands of records cost
// one process start. Built (cached) by scripts/go-conformance.sh.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The formats; AVRO is typed (struct) Avro as generated Go code uses it, AVRO_GENERIC map[string]any records. */
export type GoFormat = 'AVRO' | 'AVRO_GENERIC' | 'PROTOBUF' | 'JSON';
/** The three schema formats. */
export type Format = 'AVRO' | 'PROTOBUF' | 'JSON';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Builds the Go oracle if needed and returns its path. */
export function buildGoOracle(): string {
  return execFileSync('bash', [resolve(ROOT, 'scripts/go-conformance.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

interface Response { id: number; payload?: string; value?: unknown; error?: string }

export class GoClientError extends Error {}

export class GoClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderr = '';
  private exited: Error | undefined;

  constructor(registryUrl: string, env: NodeJS.ProcessEnv = {}) {
    const bin = buildGoOracle();
    this.child = spawn(bin, [], { env: { ...process.env, SCHEMA_REGISTRY_URL: registryUrl, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const resp = JSON.parse(line) as Response;
      const waiter = this.pending.get(resp.id);
      this.pending.delete(resp.id);
      waiter?.resolve(resp);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`Go oracle exited (${code ?? signal}): ${this.stderr}`);
      for (const w of this.pending.values()) w.reject(this.exited);
      this.pending.clear();
    });
  }

  private call(request: Record<string, unknown>): Promise<Response> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject });
      this.child.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  /** Serializes `value` (in the Go convention, see toGo) with the latest schema of `${topic}-value`. */
  async serialize(format: GoFormat, topic: string, value: unknown, typeName?: string): Promise<Buffer> {
    const r = await this.call({ op: 'serialize', format, topic, value, typeName });
    if (r.error !== undefined) throw new GoClientError(`Go serialize (${format}): ${r.error}`);
    return Buffer.from(r.payload!, 'base64');
  }

  async deserialize(format: GoFormat, topic: string, payload: Buffer): Promise<unknown> {
    const r = await this.call({ op: 'deserialize', format, topic, payload: payload.toString('base64') });
    if (r.error !== undefined) throw new GoClientError(`Go deserialize (${format}): ${r.error}`);
    return r.value;
  }

  /** Moves the Go executors' clock (DEK expiry); 0 goes back to the real clock. */
  async setClock(nowMs: number): Promise<void> {
    await this.call({ op: 'clock', nowMs });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    await done;
  }
}

/**
 * A JS value (as given to the JS serdes) in the Go oracle's Avro/JSON convention: bytes become
 * {"$bytes": base64}; bigints become numbers; undefined properties are dropped.
 */
export function toGo(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toGo);
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [k, toGo(v)]));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== '$typeName' && v !== undefined) out[k] = toGo(v);
    return out;
  }
  return value;
}
