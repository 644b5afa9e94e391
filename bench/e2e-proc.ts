/**
 * Watching a process from outside through /proc (Linux): resident memory (VmRSS, and the kernel's own
 * high-water mark VmHWM), CPU time of the whole process and of its main thread (the JavaScript thread
 * of a Node process), the broker's CPU time and the whole machine's, sampled every 100 ms. CPU shares
 * are computed over a window of the samples (e.g. first to last commit), in cores: 1.0 = one core busy.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  /** Date.now() of the sample. */
  readonly t: number;
  /** utime + stime of the process (all threads), in seconds. */
  readonly cpu: number;
  /** utime + stime of the main thread (tid = pid), in seconds. */
  readonly mainCpu: number;
  /** utime + stime of the broker, in seconds (0 when unknown). */
  readonly brokerCpu: number;
  /** Busy and total CPU seconds of the whole machine, over all cores. */
  readonly machineBusy: number;
  readonly machineTotal: number;
  /** Bytes. */
  readonly rss: number;
  readonly hwm: number;
}

export interface CpuSplit {
  /** Seconds of the window. */
  readonly seconds: number;
  /** Average cores busy over the window. */
  readonly process: number;
  readonly mainThread: number;
  readonly broker: number;
  /** Everything else on the machine (other processes, the benchmark runner itself). */
  readonly other: number;
  /** Cores of the machine. */
  readonly cores: number;
}

let ticksPerSecond: number | undefined;

export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // USER_HZ on every Linux architecture Node supports
    }
  }
  return ticksPerSecond;
}

/** utime + stime (clock ticks) from the text of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat. */
export function parseStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** A field of /proc/<pid>/status in bytes ("VmRSS:   123456 kB"), 0 when absent. */
export function parseStatusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Busy and total jiffies of the aggregate "cpu" line of /proc/stat. */
export function parseMachineTicks(stat: string): { busy: number; total: number } {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return { busy: 0, total: 0 };
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process is gone
  }
}

function cpuSeconds(path: string): number | undefined {
  const text = read(path);
  return text === undefined ? undefined : parseStatTicks(text) / clockTicks();
}

export function sample(pid: number, brokerPid: number | undefined): ProcSample | undefined {
  const cpu = cpuSeconds(`/proc/${pid}/stat`);
  const status = read(`/proc/${pid}/status`);
  if (cpu === undefined || status === undefined) return undefined;
  const mainCpu = cpuSeconds(`/proc/${pid}/task/${pid}/stat`) ?? cpu;
  const brokerCpu = brokerPid === undefined ? 0 : cpuSeconds(`/proc/${brokerPid}/stat`) ?? 0;
  const machine = parseMachineTicks(read('/proc/stat') ?? '');
  return {
    t: Date.now(), cpu, mainCpu, brokerCpu,
    machineBusy: machine.busy / clockTicks(), machineTotal: machine.total / clockTicks(),
    rss: parseStatusKb(status, 'VmRSS'), hwm: parseStatusKb(status, 'VmHWM'),
  };
}

/** Samples `pid` every `intervalMs` until stopped or the process is gone. */
export class ProcMonitor {
  readonly samples: ProcSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, private readonly brokerPid: number | undefined, intervalMs = 100) {
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
  }

  private take(): void {
    const s = sample(this.pid, this.brokerPid);
    if (s) this.samples.push(s);
  }

  /** One last sample when the process still exists, then stops sampling. */
  stop(): void {
    this.take();
    clearInterval(this.timer);
  }

  /** Highest VmHWM (the kernel's peak RSS) and VmRSS seen. */
  get peakRss(): number {
    return this.samples.reduce((m, s) => Math.max(m, s.hwm, s.rss), 0);
  }

  /** CPU split between the first sample at or after `from` and the last at or before `to` (ms). */
  cpuSplit(from = -Infinity, to = Infinity): CpuSplit | undefined {
    return cpuSplitOf(this.samples, from, to);
  }
}

export function cpuSplitOf(samples: readonly ProcSample[], from = -Infinity, to = Infinity): CpuSplit | undefined {
  const inside = samples.filter((s) => s.t >= from && s.t <= to);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last || last.t - first.t < 50) return undefined;
  const seconds = (last.t - first.t) / 1000;
  const process = (last.cpu - first.cpu) / seconds;
  const broker = (last.brokerCpu - first.brokerCpu) / seconds;
  const machine = (last.machineBusy - first.machineBusy) / seconds;
  const cores = Math.round((last.machineTotal - first.machineTotal) / seconds) || 1;
  return {
    seconds, process, mainThread: (last.mainCpu - first.mainCpu) / seconds, broker,
    other: Math.max(0, machine - process - broker), cores,
  };
}

export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = (read('/proc/loadavg') ?? '').split(' ').slice(0, 3).map(Number);
  return [a, b, c];
}
