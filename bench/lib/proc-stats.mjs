// Reads another process's CPU time and peak RSS from /proc (Linux only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicksPerSecond;

function clockTicks() {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      clockTicksPerSecond = 100; // the Linux default
    }
    if (!(clockTicksPerSecond > 0)) clockTicksPerSecond = 100;
  }
  return clockTicksPerSecond;
}

/** User + system CPU seconds used so far by all threads of `pid`. */
export function readCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/**
 * Seconds the main thread of `pid` spent runnable but waiting for a CPU so far
 * (/proc/<pid>/schedstat, second field): on a shared machine, time the server could not run.
 * NaN when unknown (a kernel without schedstat, or the process is gone): never throws.
 */
export function readRunQueueSeconds(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return NaN;
  }
}

/** Peak resident set size of `pid` in KiB (VmHWM), or null when unknown. */
export function readPeakRssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) : null;
}

/**
 * CPU seconds the whole machine spent so far: `busy` (user + nice + system, the
 * same time that processes' utime + stime count) and `steal` (taken by the
 * hypervisor). Interrupt time is left out of both on purpose.
 */
export function readSystemCpuSeconds() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system) / clockTicks(), steal: (steal || 0) / clockTicks() };
}
