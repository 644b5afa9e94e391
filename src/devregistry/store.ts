/**
 * The dev registry's state and its persistence.
 *
 * State lives in memory; every change is a commit of one or more ops, appended to `registry.log` in
 * dataDir as ONE JSON line and fsynced before it is applied in memory and answered, so an
 * acknowledged write survives a crash (SIGKILL, power loss). A torn last line (a crash mid-append)
 * is dropped on load; because a commit is one line, a commit is all or nothing. On open the log is
 * replayed, then compacted into a fresh log (write to a temp file, fsync, rename, fsync the dir).
 *
 * Writers are serialized by `exclusive()`: check-then-write sequences (create DEK if absent) run one
 * at a time, which is what makes concurrent creates of one key give exactly one winner.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DekAlgorithm, RuleSet, SchemaMetadata, SchemaReference, SchemaType } from '../registry/types.js';

export interface SchemaRecord {
  id: number;
  guid: string;
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
  metadata?: SchemaMetadata;
  ruleSet?: RuleSet;
  /** Canonical content key: equal keys mean the same schema (same id). */
  contentKey: string;
}

export interface VersionRecord {
  subject: string;
  version: number;
  id: number;
  deleted: boolean;
}

export type ConfigRecord = Record<string, unknown>;

export interface KekRecord {
  name: string;
  kmsType: string;
  kmsKeyId: string;
  kmsProps: Record<string, string>;
  doc?: string;
  shared: boolean;
  ts: number;
  deleted: boolean;
}

export interface DekRecord {
  kekName: string;
  subject: string;
  version: number;
  algorithm: DekAlgorithm;
  encryptedKeyMaterial: string;
  ts: number;
  deleted: boolean;
}

export type Op =
  | { op: 'schema'; rec: SchemaRecord }
  | { op: 'version'; rec: VersionRecord }
  | { op: 'version-remove'; subject: string; version: number }
  | { op: 'config'; subject: string | null; config: ConfigRecord | null }
  | { op: 'kek'; rec: KekRecord }
  | { op: 'kek-remove'; name: string }
  | { op: 'dek'; rec: DekRecord }
  | { op: 'dek-remove'; kekName: string; subject: string; algorithm: DekAlgorithm; version: number }
  | { op: 'next-id'; value: number };

const LOG_FILE = 'registry.log';
const SEP = '\u0000';

export function dekKey(kekName: string, subject: string, algorithm: string, version: number): string {
  return [kekName, subject, algorithm, version].join(SEP);
}

export class Store {
  readonly schemasById = new Map<number, SchemaRecord>();
  readonly idByContent = new Map<string, number>();
  readonly idByGuid = new Map<string, number>();
  /** subject -> version -> record */
  readonly subjects = new Map<string, Map<number, VersionRecord>>();
  /** '' is the global config. */
  readonly configs = new Map<string, ConfigRecord>();
  readonly keks = new Map<string, KekRecord>();
  readonly deks = new Map<string, DekRecord>();
  nextId = 1;

  private handle: FileHandle | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly dataDir: string | undefined) {}

  /** Opens (or creates) the store in dataDir; without dataDir the state is in memory only. */
  static async open(dataDir: string | undefined): Promise<Store> {
    const store = new Store(dataDir);
    if (dataDir !== undefined) {
      mkdirSync(dataDir, { recursive: true });
      const path = join(dataDir, LOG_FILE);
      if (existsSync(path)) {
        for (const ops of parseLog(readFileSync(path, 'utf8'))) for (const op of ops) store.apply(op);
      }
      store.compact(path);
      store.handle = await open(path, 'a');
    }
    return store;
  }

  /** Runs fn with every other writer excluded (a global write lock). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Makes ops durable (one fsynced line), then applies them. Call inside exclusive(). */
  async commit(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    if (this.closed) throw new Error('store is closed');
    if (this.handle !== undefined) {
      await this.handle.appendFile(`${JSON.stringify(ops)}\n`, 'utf8');
      await this.handle.datasync();
    }
    for (const op of ops) this.apply(op);
  }

  async close(): Promise<void> {
    // let queued writers finish first
    await this.exclusive(async () => {
      this.closed = true;
      if (this.handle !== undefined) {
        await this.handle.close();
        this.handle = undefined;
      }
    });
  }

  versionsOf(subject: string): Map<number, VersionRecord> | undefined {
    return this.subjects.get(subject);
  }

  private apply(op: Op): void {
    switch (op.op) {
      case 'schema':
        this.schemasById.set(op.rec.id, op.rec);
        this.idByContent.set(op.rec.contentKey, op.rec.id);
        this.idByGuid.set(op.rec.guid, op.rec.id);
        if (op.rec.id >= this.nextId) this.nextId = op.rec.id + 1;
        return;
      case 'version': {
        let versions = this.subjects.get(op.rec.subject);
        if (versions === undefined) {
          versions = new Map();
          this.subjects.set(op.rec.subject, versions);
        }
        versions.set(op.rec.version, op.rec);
        return;
      }
      case 'version-remove': {
        const versions = this.subjects.get(op.subject);
        versions?.delete(op.version);
        if (versions !== undefined && versions.size === 0) this.subjects.delete(op.subject);
        return;
      }
      case 'config':
        if (op.config === null) this.configs.delete(op.subject ?? '');
        else this.configs.set(op.subject ?? '', op.config);
        return;
      case 'kek':
        this.keks.set(op.rec.name, op.rec);
        return;
      case 'kek-remove':
        this.keks.delete(op.name);
        return;
      case 'dek':
        this.deks.set(dekKey(op.rec.kekName, op.rec.subject, op.rec.algorithm, op.rec.version), op.rec);
        return;
      case 'dek-remove':
        this.deks.delete(dekKey(op.kekName, op.subject, op.algorithm, op.version));
        return;
      case 'next-id':
        if (op.value > this.nextId) this.nextId = op.value;
        return;
    }
  }

  private snapshotOps(): Op[] {
    const ops: Op[] = [{ op: 'next-id', value: this.nextId }];
    for (const rec of this.schemasById.values()) ops.push({ op: 'schema', rec });
    for (const versions of this.subjects.values()) for (const rec of versions.values()) ops.push({ op: 'version', rec });
    for (const [subject, config] of this.configs) ops.push({ op: 'config', subject: subject === '' ? null : subject, config });
    for (const rec of this.keks.values()) ops.push({ op: 'kek', rec });
    for (const rec of this.deks.values()) ops.push({ op: 'dek', rec });
    return ops;
  }

  /** Rewrites the log as a snapshot of the current state, atomically. */
  private compact(path: string): void {
    const dir = this.dataDir as string;
    const tmp = `${path}.tmp`;
    const ops = this.snapshotOps();
    const fd = openSync(tmp, 'w');
    try {
      // chunks keep lines a sane size; the rename below is what makes the snapshot atomic
      for (let i = 0; i < ops.length; i += 500) writeSync(fd, `${JSON.stringify(ops.slice(i, i + 500))}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dir);
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some platforms cannot fsync a directory; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Parses the log; a line that does not parse (a torn tail after a crash) ends the replay. */
function parseLog(text: string): Op[][] {
  const out: Op[][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (Array.isArray(parsed)) out.push(parsed as Op[]);
    } catch {
      if (lines.slice(i + 1).some((l) => l.trim() !== '')) {
        throw new Error(`dev registry log is corrupt at line ${i + 1} (not just a torn tail)`);
      }
      break;
    }
  }
  return out;
}
