// CPU pinning for benchmark processes: the server gets CPU 0 and the load
// generator CPU 1 (via `taskset`), or both run unpinned when that is impossible.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export const SERVER_CPU = 0;
export const LOADGEN_CPU = 1;

let cached;

/** @returns {{ pinned: boolean, note: string }} */
export function pinning() {
  if (cached) return cached;
  let hasTaskset = true;
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch {
    hasTaskset = false;
  }
  if (!hasTaskset) {
    cached = { pinned: false, note: 'taskset not found: server and load generator ran unpinned' };
  } else if (availableParallelism() < 2) {
    cached = { pinned: false, note: 'fewer than 2 CPUs: server and load generator ran unpinned' };
  } else {
    cached = {
      pinned: true,
      note: `server pinned to CPU ${SERVER_CPU}, load generator to CPU ${LOADGEN_CPU} (taskset)`,
    };
  }
  return cached;
}

/** The [command, args] that run `command args` on `cpu` when pinning is possible. */
export function pinnedCommand(cpu, command, args) {
  if (!pinning().pinned) return [command, args];
  return ['taskset', ['-c', String(cpu), command, ...args]];
}
