// The log writer of bench/server-tail.mjs: appends `rate` lines a second to `file` for `seconds`
// seconds, pacing itself (every tick it appends, in one write, the lines due by then), then exits
// and prints what it wrote as one JSON line. Each line is `<sequence> <epoch ms> ` padded with x to
// `lineBytes` (newline included): the epoch time of the append, in ms with µs, so a viewer in another
// process measures append-to-receipt. Usage: node tail-writer.mjs '<json options>'
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const { file, rate, seconds, lineBytes } = JSON.parse(process.argv[2]);
const TICK_MS = 5;
const epochMs = () => performance.timeOrigin + performance.now();

const fd = openSync(file, 'a');
const start = performance.now();
const cpuStart = process.cpuUsage();
let written = 0;
let writes = 0;
await new Promise((resolve) => {
  const tick = () => {
    const elapsed = (performance.now() - start) / 1000;
    const due = Math.min(Math.floor(elapsed * rate), Math.floor(seconds * rate));
    if (due > written) {
      const stamp = epochMs().toFixed(3);
      let chunk = '';
      for (; written < due; written++) chunk += `${`${written} ${stamp} `.padEnd(lineBytes - 1, 'x')}\n`;
      writeSync(fd, chunk);
      writes++;
    }
    if (elapsed >= seconds) {
      clearInterval(timer);
      resolve();
    }
  };
  const timer = setInterval(tick, TICK_MS);
});
closeSync(fd);
const wall = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
process.stdout.write(
  `${JSON.stringify({ lines: written, writes, seconds: wall, linesPerSecond: written / wall, cpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100 })}\n`,
);
