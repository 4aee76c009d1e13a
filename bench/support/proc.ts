/** What the benchmarks read from /proc: a process's CPU time and the machine's load. */
import { readFileSync } from 'node:fs';

/** utime + stime of a process in clock ticks; 0 once it is gone. */
export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The 1, 5 and 15-minute load averages, as `/proc/loadavg` gives them. */
export const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
