// util/cpu-limit.ts: the pod's CPU limit from cgroup v2 or v1 files, capped by the schedulable cores.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupCpuLimit, usableCpus, type CgroupPaths } from '../../../src/util/cpu-limit.js';

let dir: string | undefined;
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); dir = undefined; });

function cgroup(files: { v2?: string; quota?: string; period?: string }): CgroupPaths {
  dir = mkdtempSync(join(tmpdir(), 'recrypt-cgroup-'));
  const paths = { v2CpuMax: join(dir, 'cpu.max'), v1Quota: join(dir, 'quota'), v1Period: join(dir, 'period') };
  if (files.v2 !== undefined) writeFileSync(paths.v2CpuMax, files.v2);
  if (files.quota !== undefined) writeFileSync(paths.v1Quota, files.quota);
  if (files.period !== undefined) writeFileSync(paths.v1Period, files.period);
  return paths;
}

describe('cgroup CPU limit', () => {
  it('reads cgroup v2 cpu.max', () => {
    expect(cgroupCpuLimit(cgroup({ v2: '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuLimit(cgroup({ v2: 'max 100000\n' }))).toBeUndefined();
  });

  it('reads cgroup v1 quota and period; -1 is no limit', () => {
    expect(cgroupCpuLimit(cgroup({ quota: '400000', period: '100000' }))).toBe(4);
    expect(cgroupCpuLimit(cgroup({ quota: '-1', period: '100000' }))).toBeUndefined();
  });

  it('has no limit without the files or with garbage in them', () => {
    expect(cgroupCpuLimit(cgroup({}))).toBeUndefined();
    expect(cgroupCpuLimit(cgroup({ v2: 'what ever' }))).toBeUndefined();
  });

  it('usable CPUs: the limit rounded up, at most the cores, at least one', () => {
    expect(usableCpus(cgroup({ v2: '150000 100000' }), 8)).toBe(2);
    expect(usableCpus(cgroup({ v2: '1600000 100000' }), 8)).toBe(8);
    expect(usableCpus(cgroup({ v2: '10000 100000' }), 8)).toBe(1);
    expect(usableCpus(cgroup({}), 3)).toBe(3);
  });
});
