/**
 * The Dockerfile: hadolint passes, and since no Docker engine runs here, its steps are checked against
 * what they must match: scripts/lib.sh's librdkafka build packages and bootstrap.sh's install command,
 * the shared libraries the built bindings actually link against (ldd here, mapped to Debian packages
 * with dpkg -S), the entrypoint and default command the Helm chart relies on, and a .dockerignore that
 * lets in every path the Dockerfile copies.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, findTool, run, titled } from './tools.js';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** Instructions with line continuations joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages: { from: string; lines: string[] }[] = [];
for (const line of instructions) {
  if (/^FROM /i.test(line)) stages.push({ from: line, lines: [] });
  else stages.at(-1)?.lines.push(line);
}
const args = new Map(instructions.filter((l) => /^ARG /.test(l)).map((l) => l.slice(4).split('=') as [string, string]));
const resolve = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
const [build, runtime] = stages;
const aptInstalled = (lines: string[]) =>
  lines.filter((l) => l.startsWith('RUN ') && l.includes('apt-get install'))
    .flatMap((l) => l.split('apt-get install')[1]!.split('&&')[0]!.split(/\s+/))
    .filter((w) => w && !w.startsWith('-'));

const hadolint = findTool('hadolint');

describe(titled('Dockerfile: hadolint', hadolint), () => {
  it.skipIf(hadolint.missing)('lints clean', () => {
    const out = run(hadolint.path!, ['--no-color', 'Dockerfile']);
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  });
});

describe('Dockerfile: the same steps as the README and bootstrap.sh', () => {
  it('has a node:20-bookworm builder and a node:20-bookworm-slim runtime', () => {
    expect(stages).toHaveLength(2);
    expect(resolve(build!.from)).toBe('FROM node:20-bookworm AS build');
    expect(resolve(runtime!.from)).toBe('FROM node:20-bookworm-slim AS runtime');
  });

  it("installs scripts/lib.sh's librdkafka build packages (not the local stack's services) and the node-gyp toolchain", () => {
    const libSh = readFileSync(join(ROOT, 'scripts/lib.sh'), 'utf8');
    // The local stack's services and tools (openssl makes the secure stack's CA), not the image's.
    const stack = new Set(['redis-server', 'python3-venv', 'openssl']);
    const wanted = /APT_PACKAGES=\(([^)]*)\)/.exec(libSh)![1]!.split(/\s+/).filter((p) => p && !stack.has(p));
    expect(wanted.length).toBeGreaterThan(4);
    expect(aptInstalled(build!.lines)).toEqual(expect.arrayContaining([...wanted, 'python3', 'make', 'g++']));
  });

  it('builds the bindings as bootstrap.sh does, then builds and prunes dev dependencies', () => {
    const bootstrap = readFileSync(join(ROOT, 'scripts/bootstrap.sh'), 'utf8');
    expect(bootstrap).toMatch(/CKJS_LINKING=dynamic npm ci/);
    const runs = build!.lines.filter((l) => l.startsWith('RUN '));
    const ci = runs.findIndex((l) => /CKJS_LINKING=dynamic .*npm ci\b/.test(l));
    const compile = runs.findIndex((l) => /npm run build/.test(l));
    const prune = runs.findIndex((l) => /npm prune --omit=dev/.test(l));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(compile).toBeGreaterThan(ci);
    expect(prune).toBeGreaterThanOrEqual(compile);
    // package.json and the lock come in before npm ci (the slow layer caches on them alone).
    const copyLock = build!.lines.findIndex((l) => /^COPY package\.json package-lock\.json/.test(l));
    expect(copyLock).toBeGreaterThanOrEqual(0);
    expect(copyLock).toBeLessThan(build!.lines.indexOf(runs[ci]!));
  });

  it('runs as uid 10001 under tini with the entrypoint and command the Helm chart expects', () => {
    expect(runtime!.lines).toContain('USER 10001:10001');
    expect(runtime!.lines).toContain('ENTRYPOINT ["tini", "--", "node", "bin/recrypt.js"]');
    expect(runtime!.lines).toContain('CMD ["serve", "/etc/recrypt/jobs"]');
    expect(aptInstalled(runtime!.lines)).toContain('tini');
    expect(existsSync(join(ROOT, 'bin/recrypt.js'))).toBe(true);
    const values = readFileSync(join(ROOT, 'helm/recrypt/values.yaml'), 'utf8');
    expect(values).toMatch(/args: \["serve", "\/etc\/recrypt\/jobs"\]/);
    expect(values).toMatch(/runAsUser: 10001/);
  });

  it('copies the build output, production node_modules and the job schema into the runtime', () => {
    const copied = runtime!.lines.filter((l) => l.startsWith('COPY --from=build')).map((l) => l.split(/\s+/).at(-2));
    expect(copied).toEqual(expect.arrayContaining(['/app/dist', '/app/bin', '/app/node_modules', '/app/jobs/schema.json', '/app/package.json']));
  });

  it('installs a runtime package for every shared library the built bindings link against', () => {
    const release = join(ROOT, 'node_modules/@confluentinc/kafka-javascript/build/Release');
    const binaries = [
      ...readdirSync(release).filter((f) => f.endsWith('.node')).map((f) => join(release, f)),
      ...readdirSync(join(release, '../deps')).filter((f) => /\.so(\.\d+)*$/.test(f)).map((f) => join(release, '../deps', f)),
    ];
    expect(binaries.length).toBeGreaterThan(0);
    const bundled = new Set(binaries.map((b) => b.split('/').pop()!));
    const libs = new Set<string>();
    for (const binary of binaries) {
      const ldd = run('ldd', [binary]);
      // librdkafka++ finds its sibling librdkafka through the loader's path at run time, not its RPATH.
      const missing = [...ldd.stdout.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]!).filter((l) => !bundled.has(l));
      expect(missing, binary).toEqual([]);
      for (const m of ldd.stdout.matchAll(/=> (\/(?:usr\/)?lib\S+)/g)) libs.add(m[1]!);
    }
    // In every node image already: glibc, libstdc++ and libgcc (node itself needs them).
    const inBase = new Set(['libc6', 'libstdc++6', 'libgcc-s1']);
    const runtimePackages = new Set(aptInstalled(runtime!.lines));
    // One dpkg -S for all of them (each lib under /lib and /usr/lib: merged-/usr systems list either).
    const candidates = [...libs].flatMap((lib) => [lib, lib.replace(/^\/lib\//, '/usr/lib/')]);
    const owners = new Map<string, string>();
    for (const line of run('dpkg', ['-S', ...new Set(candidates)]).stdout.split('\n')) {
      const m = /^([^:\s]+)(?::\S+)?: (\S+)$/.exec(line);
      if (m) owners.set(m[2]!, m[1]!);
    }
    const needed = new Set<string>();
    for (const lib of libs) {
      const pkg = owners.get(lib) ?? owners.get(lib.replace(/^\/lib\//, '/usr/lib/'));
      expect(pkg, `dpkg -S ${lib}`).toBeDefined();
      if (!inBase.has(pkg!)) needed.add(pkg!);
    }
    expect([...needed].filter((p) => !runtimePackages.has(p))).toEqual([]);
    expect([...needed].sort()).toEqual(expect.arrayContaining(['libssl3', 'libsasl2-2', 'libzstd1', 'liblz4-1', 'zlib1g']));
  });

  it('.dockerignore lets in exactly the paths the Dockerfile copies from the context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const sources = build!.lines.filter((l) => /^COPY /.test(l) && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const source of sources) expect(allowed, source).toContain(source);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });
});
