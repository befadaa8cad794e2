// Loop benchmark: how late libevent timers fire inside Node's loop (next to Node's own setTimeout in
// the same run), and what an idle process costs (passes, wakeups and CPU per second with a live,
// idle connection). Prints a markdown section.
import { Bufferevent, Event, EV, EventBase, socketpair } from '../dist/index.js';

const TIMERS = Number(process.env.TIMERS ?? 400);
const IDLE_MS = Number(process.env.IDLE_MS ?? 2000);

function measureLateness(schedule) {
  return new Promise((resolve) => {
    const lateness = [];
    let chains = 4;
    const next = () => {
      const delay = 1 + Math.floor(Math.random() * 20);
      const start = performance.now();
      schedule(delay, () => {
        lateness.push(performance.now() - start - delay);
        if (lateness.length < TIMERS) next();
        else if (--chains === 0) resolve(lateness);
      });
    };
    // Four timer chains at once, so timers overlap as they do in a server.
    for (let i = 0; i < chains; i++) next();
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function row(name, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const early = sorted.filter((value) => value < -0.001).length;
  const fmt = (value) => value.toFixed(3);
  return `| ${name} | ${sorted.length} | ${fmt(percentile(sorted, 50))} | ${fmt(percentile(sorted, 99))} | ${fmt(sorted.at(-1))} | ${early} |`;
}

const libevent = await measureLateness((ms, fire) => Event.timer(ms, fire));
const node = await measureLateness((ms, fire) => setTimeout(fire, ms));

const base = EventBase.default();
const [mine, theirs] = socketpair();
const idle = Bufferevent.socket({ fd: mine });
idle.setCallbacks({ read: (bev) => bev.read() });
idle.enable(EV.READ);
await new Promise((resolve) => setTimeout(resolve, 50));
const before = base.stats();
const cpuBefore = process.cpuUsage();
await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
const cpu = process.cpuUsage(cpuBefore);
const after = base.stats();
idle.free();
const seconds = IDLE_MS / 1000;
const perSecond = (value) => (value / seconds).toFixed(2);

console.log(`## Loop: timer lateness and idle cost

Timer lateness in ms (fired minus scheduled; 4 overlapping chains of 1–20 ms timers). Goal: libevent p99 < 1 ms on a quiet machine; never early.

| timers | count | p50 | p99 | max | early |
|---|---|---|---|---|---|
${row('libevent Event.timer', libevent)}
${row('node setTimeout', node)}

Idle for ${IDLE_MS} ms with one live bufferevent enabled for reading (plus the one Node timer that ends the wait). Goal: 0 passes per second.

| passes/s | wakeups/s | CPU ms/s |
|---|---|---|
| ${perSecond(after.passes - before.passes)} | ${perSecond(after.wakeups - before.wakeups)} | ${((cpu.user + cpu.system) / 1000 / seconds).toFixed(2)} |
`);
void theirs;
