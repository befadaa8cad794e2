// CPU over a measured window for the through-the-server benchmarks: the server's whole process tree
// (`serve --workers N` forks workers, whose CPU the parent's /proc stat does not include), helper
// processes (redis-server) apart, and the rest of the machine (other engineers' processes on a
// shared box: more than a few % means the numbers were disturbed).
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { readCpuSeconds, readPeakRssKiB, readSystemCpuSeconds } from './proc-stats.mjs';

/** `pid` and all its descendants that are still alive. */
export function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${pids[i]}/task`)) {
        const children = readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8').trim();
        if (children) pids.push(...children.split(' ').map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const cpuOf = (pids) =>
  pids.reduce((sum, pid) => {
    try {
      return sum + readCpuSeconds(pid);
    } catch {
      return sum;
    }
  }, 0);

/** Sum of the peak RSS (VmHWM) of the server's process tree, in MiB. */
export function treePeakRssMiB(pid) {
  let kib = 0;
  for (const member of processTree(pid)) {
    try {
      kib += readPeakRssKiB(member) ?? 0;
    } catch {
      // gone meanwhile
    }
  }
  return kib / 1024;
}

/** Sum of the current RSS (VmRSS) of the process tree, in MiB. */
function treeRssMiB(tree) {
  let kib = 0;
  for (const pid of tree) {
    try {
      kib += Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kib / 1024;
}

/**
 * Seconds the main thread of `pid` spent runnable but waiting for a CPU (/proc/<pid>/schedstat,
 * second field): on a shared machine, how much of the window the server could not run.
 */
function runQueueSeconds(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return NaN;
  }
}

/** Call `start()` when the window opens and `end()` when it closes, then `result(otherPids)`. */
export function windowCpu(serverPid, helperPids = []) {
  let first;
  let last;
  const sample = () => {
    const tree = processTree(serverPid);
    return {
      tree,
      server: cpuOf(tree),
      helpers: cpuOf(helperPids),
      system: readSystemCpuSeconds().busy,
      waiting: runQueueSeconds(serverPid),
      rssMiB: treeRssMiB(tree),
      wall: performance.now() / 1000,
    };
  };
  return {
    start: () => (first = sample()),
    end: () => (last = sample()),
    /** Percent of one core; `knownOtherPercent` (the load generator's) is not counted as other load. */
    result(knownOtherPercent = 0) {
      if (!first || !last) return null;
      const wall = last.wall - first.wall;
      const server = ((last.server - first.server) / wall) * 100;
      const helpers = helperPids.length ? ((last.helpers - first.helpers) / wall) * 100 : null;
      const busy = ((last.system - first.system) / wall) * 100;
      return {
        serverCpuPercent: server,
        helperCpuPercent: helpers,
        otherCpuPercent: Math.max(0, busy - server - (helpers ?? 0) - knownOtherPercent),
        serverProcesses: last.tree.length,
        serverWaitingPercent: ((last.waiting - first.waiting) / wall) * 100,
        /** Resident memory at the end of the window: what serving the load holds. */
        serverRssMiB: last.rssMiB,
      };
    },
  };
}
