// The log page: pick a configured log file (by id: the page never sees a path), Start to get the
// last lines and then every new one as it is written, Stop to end. Auto-scroll stays at the bottom
// until the reader scrolls up, and resumes when they scroll back down. The page keeps at most
// MAX_LINES lines; older ones are removed (and the page says so).
import { renderAnsi } from './ansi.js';
import { atBottom, loadSession, reconnectingSocket } from './common.js';

const MAX_LINES = 5000;

const select = document.getElementById('log-choice');
const startButton = document.getElementById('start');
const stopButton = document.getElementById('stop');
const follow = document.getElementById('follow');
const status = document.getElementById('status');
const lines = document.getElementById('lines');
const limitNote = document.getElementById('limit-note');
limitNote.textContent = `The page keeps the last ${MAX_LINES.toLocaleString()} lines.`;

let following = null; // the log id being followed, or null
let removed = 0;

let pending = []; // nodes waiting for the next frame
let flushScheduled = false;

/**
 * Queues `nodes` for the end of the view; they go in once per frame. However fast lines arrive, the
 * page lays out once per frame (reading the scroll position forces layout), and while the tab is
 * hidden (no frames) the queue keeps only the last MAX_LINES nodes.
 */
function appendNodes(nodes) {
  for (const node of nodes) pending.push(node);
  if (pending.length > MAX_LINES) {
    removed += pending.length - MAX_LINES;
    pending = pending.slice(-MAX_LINES);
  }
  if (!flushScheduled) {
    flushScheduled = true;
    requestAnimationFrame(flush);
  }
}

function flush() {
  flushScheduled = false;
  const nodes = pending;
  pending = [];
  const stick = follow.checked && atBottom(lines);
  const fragment = document.createDocumentFragment();
  fragment.append(...nodes);
  lines.append(fragment);
  while (lines.childElementCount > MAX_LINES) {
    lines.firstElementChild.remove();
    removed++;
  }
  if (removed > 0)
    limitNote.textContent = `The page keeps the last ${MAX_LINES.toLocaleString()} lines; ${removed.toLocaleString()} older lines were removed from the page.`;
  if (stick) lines.scrollTop = lines.scrollHeight;
}

function lineNode(text) {
  const line = document.createElement('span');
  line.className = 'line';
  line.append(renderAnsi(text), '\n');
  return line;
}

function noticeNode(text) {
  const notice = document.createElement('span');
  notice.className = 'notice';
  notice.textContent = `— ${text} —\n`;
  return notice;
}

function appendNotice(text) {
  appendNodes([noticeNode(text)]);
}

// Start is for a file not being followed yet (starting the same one again would only repeat its
// backlog); choosing another file enables it again, to switch.
function updateStart() {
  startButton.disabled = select.options.length === 0 || select.value === following;
}

// A button that was pressed and then disabled loses focus; a keyboard user would be sent back to
// the top of the page. After the user's own Start or Stop, focus goes to the other button.
let focusNext = null;

function setFollowing(id) {
  following = id;
  stopButton.disabled = id === null;
  select.disabled = false;
  updateStart();
  const target = focusNext;
  focusNext = null;
  const lost = document.activeElement === document.body || document.activeElement?.disabled;
  if (target !== null && !target.disabled && lost) target.focus();
}

select.addEventListener('change', updateStart);

lines.addEventListener('scroll', () => {
  // Scrolling up pauses auto-scroll; back at the bottom it resumes.
  follow.checked = atBottom(lines);
});

const socket = reconnectingSocket('/ws/tail/', {
  onStatus: (text) => (status.textContent = text),
  onOpen: () => {
    // After a reconnect, pick up where the reader was. The server sends the backlog again, so the
    // lines shown just before the break may appear twice; the notice says why.
    if (following === null) return;
    appendNotice('reconnected; the last lines of the file follow again');
    socket.send({ type: 'start', log: following });
  },
  onMessage: (message) => {
    switch (message.type) {
      case 'logs': {
        const previous = select.value;
        select.replaceChildren(
          ...message.logs.map(({ id, title }) => {
            const option = document.createElement('option');
            option.value = id;
            option.textContent = title;
            return option;
          }),
        );
        if (previous) select.value = previous;
        // Nothing to choose: the controls say so instead of inviting a Start that cannot work.
        const none = message.logs.length === 0;
        select.disabled = none;
        updateStart();
        if (none) {
          status.textContent = 'No log files are configured for you.';
          lines.dataset.placeholder = 'An administrator can add log files to the configuration.';
        }
        break;
      }
      case 'started':
        setFollowing(message.log);
        status.textContent = `Following ${message.title}.`;
        appendNotice(`following ${message.title}`);
        break;
      case 'items':
        appendNodes(
          message.items.map((item) => (item.type === 'line' ? lineNode(item.text) : noticeNode(item.text))),
        );
        break;
      case 'stopped':
        setFollowing(null);
        status.textContent = 'Stopped.';
        appendNotice('stopped');
        break;
      case 'error':
        status.textContent = message.message;
        if (message.fatal) setFollowing(null);
        break;
    }
  },
});

document.getElementById('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!select.value) return;
  focusNext = stopButton;
  startButton.disabled = true;
  if (!socket.send({ type: 'start', log: select.value })) {
    startButton.disabled = false;
    status.textContent = 'Not connected yet; try again in a moment.';
  }
});

stopButton.addEventListener('click', () => {
  focusNext = startButton;
  socket.send({ type: 'stop' });
});

await loadSession();
