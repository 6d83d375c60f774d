// What the kernel says about a process (Linux /proc), read from outside it: CPU time and memory high-water mark.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time the process has used so far, in milliseconds (resolution: one clock tick, 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks();
}

/** Resident memory now (VmRSS) and its peak so far (VmHWM), in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** The 1-minute load average, to say how busy the machine was. */
export const loadAverage = () => os.loadavg()[0]!;

/** CPU time used so far by every process whose command name is `name` (e.g. the PostgreSQL server's), in ms. */
export function cpuMsOfAll(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === name) total += cpuMs(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** `pid` and every process descended from it (read from /proc). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

/** CPU time of `pid` and its descendants (those alive now), in ms. */
export function cpuMsOfTree(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    try {
      return sum + cpuMs(p);
    } catch {
      return sum;
    }
  }, 0);
}

/** Resident memory and peaks of `pid` and its descendants, summed (the peaks of separate processes need not coincide). */
export function memoryMbOfTree(pid: number): { rss: number; peak: number } {
  return processTree(pid).reduce(
    (sum, p) => {
      try {
        const m = memoryMb(p);
        return { rss: sum.rss + m.rss, peak: sum.peak + m.peak };
      } catch {
        return sum;
      }
    },
    { rss: 0, peak: 0 },
  );
}

/** Proportional set size (each shared page divided among the processes sharing it) and RSS, in MB. */
export function pssMb(pid: number): { pss: number; rss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? Number.NaN);
  return { pss: kb('Pss') / 1024, rss: kb('Rss') / 1024 };
}

/** The processes descended from `pid` (a PostgreSQL postmaster's backends and helpers). */
export function childrenOf(pid: number): number[] {
  return processTree(pid).slice(1);
}
