// A linear-time matcher for compiled `path()` routes. A backtracking regex takes quadratic time on
// routes with two adjacent parameters whose characters overlap ('<slug:a>-<slug:b>/x' against
// 'a-a-a-…/y' tries every split), and a request path is attacker-controlled. This simulates all the
// ways through the route at once (a Pike VM), keeping the one a backtracking engine would pick first,
// so the result is what Django's regex gives (greedy parameters) in O(path length × route length).

/** One step of a route: a code unit, one code unit of a class, or a parameter's capture boundary. */
export type Instruction =
  | { readonly op: 'unit'; readonly unit: number }
  | { readonly op: 'class'; readonly test: (unit: number) => boolean }
  /** Try `preferred` first, then the next instruction (a greedy loop goes back to its class). */
  | { readonly op: 'split'; readonly preferred: number }
  | { readonly op: 'save'; readonly slot: number }
  | { readonly op: 'match' };

interface Thread {
  readonly pc: number;
  readonly slots: readonly number[];
}

/**
 * Runs `program` from the start of `input`. Returns the capture slots of the preferred match (slot
 * 2k and 2k+1 bound parameter k) and where it ended, or null. An `endpoint` match must end at the
 * end of the input; otherwise the match is a prefix.
 */
export function runRoute(
  program: readonly Instruction[],
  slotCount: number,
  input: string,
  endpoint: boolean,
): { slots: readonly number[]; end: number } | null {
  // seen[pc] === stamp: a thread of higher priority already reached pc at this position.
  const seen = new Uint32Array(program.length);
  let stamp = 1;
  let current: Thread[] = [];
  addThread(program, current, seen, stamp, 0, new Array<number>(slotCount).fill(-1), 0);
  let found: { slots: readonly number[]; end: number } | null = null;
  for (let at = 0; current.length > 0; at++) {
    const next: Thread[] = [];
    stamp++;
    const unit = at < input.length ? input.charCodeAt(at) : -1;
    for (const thread of current) {
      const instruction = program[thread.pc]!;
      if (instruction.op === 'match') {
        if (endpoint && at !== input.length) continue;
        // Threads after this one have lower priority: a backtracking engine would never reach them.
        found = { slots: thread.slots, end: at };
        break;
      }
      if (unit === -1) continue;
      const accepts =
        instruction.op === 'unit'
          ? instruction.unit === unit
          : instruction.op === 'class' && instruction.test(unit);
      if (accepts) addThread(program, next, seen, stamp, thread.pc + 1, thread.slots, at + 1);
    }
    if (unit === -1) break;
    current = next;
  }
  return found;
}

// Follows splits and saves (which consume nothing) in priority order, so `list` stays ordered.
function addThread(
  program: readonly Instruction[],
  list: Thread[],
  seen: Uint32Array,
  stamp: number,
  pc: number,
  slots: readonly number[],
  at: number,
): void {
  if (seen[pc] === stamp) return;
  seen[pc] = stamp;
  const instruction = program[pc]!;
  if (instruction.op === 'split') {
    addThread(program, list, seen, stamp, instruction.preferred, slots, at);
    addThread(program, list, seen, stamp, pc + 1, slots, at);
  } else if (instruction.op === 'save') {
    const saved = [...slots];
    saved[instruction.slot] = at;
    addThread(program, list, seen, stamp, pc + 1, saved, at);
  } else {
    list.push({ pc, slots });
  }
}
