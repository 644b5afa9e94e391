/**
 * The CPUs this process may use: a container's CPU limit from its cgroup (v2 `cpu.max`, v1
 * `cpu.cfs_quota_us` / `cpu.cfs_period_us`), never more than the cores the process can be scheduled on
 * (os.availableParallelism). Kubernetes sets the quota from the pod's CPU limit; without a limit (or
 * outside a container) the cores count. Files, not env: reading them here keeps service/config.ts the
 * one env reader.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Where the cgroup files are (tests point it at a directory of their own). */
export interface CgroupPaths {
  readonly v2CpuMax: string;
  readonly v1Quota: string;
  readonly v1Period: string;
}

const DEFAULT_PATHS: CgroupPaths = {
  v2CpuMax: '/sys/fs/cgroup/cpu.max',
  v1Quota: '/sys/fs/cgroup/cpu/cpu.cfs_quota_us',
  v1Period: '/sys/fs/cgroup/cpu/cpu.cfs_period_us',
};

/** The CPU limit in cores (fractional, e.g. 1.5), or undefined when no cgroup sets one. */
export function cgroupCpuLimit(paths: CgroupPaths = DEFAULT_PATHS): number | undefined {
  const v2 = read(paths.v2CpuMax);
  if (v2 !== undefined) {
    // "<quota> <period>" or "max <period>".
    const [quota, period] = v2.split(/\s+/);
    return quotaOf(quota, period);
  }
  return quotaOf(read(paths.v1Quota), read(paths.v1Period));
}

/** The cores this process can use: the cgroup limit rounded up, at most the schedulable cores, at least 1. */
export function usableCpus(paths: CgroupPaths = DEFAULT_PATHS, cores: number = availableParallelism()): number {
  const limit = cgroupCpuLimit(paths);
  return Math.max(1, Math.min(cores, limit === undefined ? cores : Math.ceil(limit)));
}

function quotaOf(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period);
  // v1 says "no limit" with a quota of -1.
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}
