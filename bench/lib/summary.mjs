// Folds repeated runs of one server into one table row: the median run by
// throughput among the undisturbed runs, their throughput range, and one-line
// notes on failures and on runs disturbed by other load on the machine.

/** Other load above these levels makes a run's numbers suspect. */
const OTHER_CPU_LIMIT_PERCENT = 10;
const STEAL_CPU_LIMIT_PERCENT = 5;
const NOTE_MAX_CHARS = 300;

function disturbance(m) {
  const reasons = [];
  if (m.otherCpuPercent > OTHER_CPU_LIMIT_PERCENT)
    reasons.push(`other processes used ${m.otherCpuPercent.toFixed(0)}% CPU`);
  if (m.stealCpuPercent > STEAL_CPU_LIMIT_PERCENT)
    reasons.push(`the hypervisor stole ${m.stealCpuPercent.toFixed(0)}% CPU`);
  return reasons.join(', ');
}

/** A multi-line error (say, a server's stack trace) as one markdown-safe line. */
export function oneLine(text) {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('at ') && line !== '^' && !line.startsWith('Node.js v'));
  const joined = lines.join(' ⏎ ').replaceAll('|', '\\|');
  return joined.length > NOTE_MAX_CHARS ? `${joined.slice(0, NOTE_MAX_CHARS)}…` : joined;
}

/**
 * @param {string} name
 * @param {import('./measure.mjs').Measurement[]} runs at least one
 * @returns {{ name: string, error?: string, median?: object, minMbPerSecond?: number,
 *   maxMbPerSecond?: number, notes: string[] }}
 *   Any failed run fails the row: a server that fails sometimes is not measured.
 */
export function summarizeRuns(name, runs) {
  const failed = runs.filter((m) => m.error);
  if (failed.length > 0) {
    const error = oneLine(failed[0].error);
    return { name, error, notes: [`${name}: FAILED in ${failed.length} of ${runs.length} runs: ${error}`] };
  }
  const notes = [];
  const undisturbed = runs.filter((m, i) => {
    const reasons = disturbance(m);
    if (reasons) notes.push(`${name}: run ${i + 1} disturbed (${reasons} during the window)`);
    return !reasons;
  });
  let counted = undisturbed;
  if (undisturbed.length === 0) {
    notes.push(`${name}: every run was disturbed: its numbers are not reliable`);
    counted = runs;
  } else if (undisturbed.length < runs.length) {
    notes.push(`${name}: disturbed runs left out of the median and range`);
  }
  const bySpeed = [...counted].sort((a, b) => a.mbPerSecond - b.mbPerSecond);
  return {
    name,
    median: bySpeed[Math.floor((bySpeed.length - 1) / 2)],
    minMbPerSecond: bySpeed[0].mbPerSecond,
    maxMbPerSecond: bySpeed[bySpeed.length - 1].mbPerSecond,
    notes,
  };
}
