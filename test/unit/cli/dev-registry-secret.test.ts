// `recrypt dev-registry` takes the local-kms secret where recrypt's jobs do (service/config.ts):
// LOCAL_SECRET, else the file named by LOCAL_SECRET_FILE (a Kubernetes Secret mount). Shared KEKs need
// it: the registry itself wraps and unwraps their DEKs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const mainModule = pathToFileURL(resolve(root, 'src/cli/main.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'recrypt-devreg-secret-'));
const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function startRegistry(env: NodeJS.ProcessEnv): Promise<string> {
  const script = `import { main } from ${JSON.stringify(mainModule)}; await main(['dev-registry', '--port', '0']);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    child.once('exit', (code) => rej(new Error(`dev-registry exited ${code}`)));
  });
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe('recrypt dev-registry and the local-kms secret', () => {
  it('reads LOCAL_SECRET_FILE when LOCAL_SECRET is unset: a shared KEK gets its DEK made and wrapped', async () => {
    const file = join(dir, 'secret');
    writeFileSync(file, 'a-file-mounted-local-secret\n');
    const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_SECRET_FILE: file };
    delete env.LOCAL_SECRET;
    const url = await startRegistry(env);
    expect((await post(`${url}/dek-registry/v1/keks`, { name: 'shared-kek', kmsType: 'local-kms', kmsKeyId: 'k', shared: true })).status).toBe(200);
    const dek = await post(`${url}/dek-registry/v1/keks/shared-kek/deks/orders-value`, { subject: 'orders-value', algorithm: 'AES256_GCM' });
    expect(dek.status, JSON.stringify(dek.json)).toBe(200);
    expect(dek.json.encryptedKeyMaterial).toEqual(expect.any(String));
    expect(dek.json.keyMaterial).toEqual(expect.any(String));
  }, 60_000);
});
