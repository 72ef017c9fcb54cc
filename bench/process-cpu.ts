// CPU time of the processes in a run ("broker CPU per message" is the figure that moves
// when the hot path changes; throughput on a shared 2-core machine mostly does not). The load
// generator measures itself with process.cpuUsage(); another process (the broker, given by
// --broker-pid) is read from Linux's /proc.
import { readFileSync } from 'node:fs';

/** user and system CPU milliseconds consumed so far */
export interface CpuSample {
  userMs: number;
  sysMs: number;
}

/** CPU over a run, and per acked message */
export interface CpuUsage extends CpuSample {
  perMessageUs: number;
}

/** /proc/<pid>/stat counts in clock ticks: USER_HZ, 100 on Linux (part of its user-space ABI). */
const MS_PER_TICK = 10;

export function sampleSelf(): CpuSample {
  const { user, system } = process.cpuUsage();
  return { userMs: user / 1000, sysMs: system / 1000 };
}

/** Reads utime and stime of `pid` (all its threads: GC helpers and the libuv pool included). */
export function sampleProcess(pid: number): CpuSample {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the CPU time of process ${pid}: ${(error as NodeJS.ErrnoException).code ?? String(error)} (is it running, on Linux?)`,
      { cause: error },
    );
  }
  // the command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15
  return { userMs: Number(fields[11]) * MS_PER_TICK, sysMs: Number(fields[12]) * MS_PER_TICK };
}

/** Peak resident set (VmHWM) of `pid` in MB, or undefined where /proc does not say. */
export function peakRssMb(pid: number): number | undefined {
  return statusMb(pid, 'VmHWM');
}

/** Resident set now (VmRSS) of `pid` in MB, or undefined where /proc does not say. */
export function rssMb(pid: number): number | undefined {
  return statusMb(pid, 'VmRSS');
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export function cpuBetween(before: CpuSample, after: CpuSample, messages: number): CpuUsage {
  const userMs = Math.round(after.userMs - before.userMs);
  const sysMs = Math.round(after.sysMs - before.sysMs);
  return { userMs, sysMs, perMessageUs: messages > 0 ? Math.round(((userMs + sysMs) * 1000) / messages) : 0 };
}
