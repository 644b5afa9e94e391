import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type KekRecord } from '../../../src/devregistry/store.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'devreg-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const kek = (name: string): KekRecord => ({ name, kmsType: 'local-kms', kmsKeyId: 'k', kmsProps: {}, shared: false, ts: 1, deleted: false });

describe('Store', () => {
  it('replays committed ops after a reopen', async () => {
    const dir = tempDir();
    const a = await Store.open(dir);
    await a.exclusive(() => a.commit([{ op: 'kek', rec: kek('k1') }, { op: 'kek', rec: kek('k2') }]));
    await a.exclusive(() => a.commit([{ op: 'kek-remove', name: 'k1' }]));
    await a.close();
    const b = await Store.open(dir);
    expect([...b.keks.keys()]).toEqual(['k2']);
    await b.close();
  });

  it('drops a torn last line (a crash mid-append) and keeps everything before it', async () => {
    const dir = tempDir();
    const a = await Store.open(dir);
    await a.exclusive(() => a.commit([{ op: 'kek', rec: kek('kept') }]));
    await a.close();
    appendFileSync(join(dir, 'registry.log'), '[{"op":"kek","rec":{"name":"torn"');
    const b = await Store.open(dir);
    expect([...b.keks.keys()]).toEqual(['kept']);
    // the reopen compacted the log: the torn tail is gone for good
    expect(readFileSync(join(dir, 'registry.log'), 'utf8')).not.toContain('torn');
    await b.close();
  });

  it('refuses a log corrupted in the middle rather than silently losing data', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'registry.log'), '[{"op":"next-id","value":3}]\nGARBAGE\n[{"op":"next-id","value":4}]\n');
    await expect(Store.open(dir)).rejects.toThrow(/corrupt at line 2/);
  });

  it('keeps ids increasing across reopen', async () => {
    const dir = tempDir();
    const a = await Store.open(dir);
    await a.exclusive(() => a.commit([{ op: 'next-id', value: 42 }]));
    await a.close();
    const b = await Store.open(dir);
    expect(b.nextId).toBe(42);
    await b.close();
  });

  it('runs exclusive sections one at a time, even when one fails', async () => {
    const s = await Store.open(undefined);
    const order: string[] = [];
    const slow = s.exclusive(async () => {
      order.push('a-start');
      await new Promise((r) => setTimeout(r, 20));
      order.push('a-end');
      throw new Error('a failed');
    });
    const fast = s.exclusive(async () => {
      order.push('b');
    });
    await expect(slow).rejects.toThrow('a failed');
    await fast;
    expect(order).toEqual(['a-start', 'a-end', 'b']);
    await s.close();
  });
});
