// The chat page: the lobby (/chat/) lists active rooms and joins one; a room (/chat/<room>/) shows
// the history, new messages, who is there, and sends on Enter. Every text is set with textContent,
// so a message is always shown as text, never interpreted as HTML.
import { atBottom, loadSession, reconnectingSocket } from './common.js';

/** Messages kept in the page; older ones are removed. */
const MAX_MESSAGES = 1000;
const ROOM_PATH = /^\/chat\/([A-Za-z0-9_-]{1,64})\/$/;

function timeOf(at) {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function messageItem(message) {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.dateTime = new Date(message.at).toISOString();
  time.textContent = timeOf(message.at);
  const user = document.createElement('span');
  user.className = 'user';
  user.textContent = message.user;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.text;
  item.append(time, user, text);
  return item;
}

async function lobby() {
  document.getElementById('lobby').hidden = false;
  document.getElementById('join-room').addEventListener('submit', (event) => {
    event.preventDefault();
    const room = document.getElementById('room-name').value.trim();
    if (/^[A-Za-z0-9_-]{1,64}$/.test(room)) location.assign(`/chat/${room}/`);
  });
  await refreshRooms();
  // The list follows who is chatting: every few seconds while the page is visible, and at once when
  // it becomes visible again.
  setInterval(() => {
    if (document.visibilityState === 'visible') void refreshRooms();
  }, ROOM_LIST_REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refreshRooms();
  });
}

const ROOM_LIST_REFRESH_MS = 10_000;

async function refreshRooms() {
  const list = document.getElementById('room-list');
  let rooms;
  try {
    const response = await fetch('/api/rooms', { credentials: 'same-origin' });
    if (response.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    if (!response.ok) return; // keep what is shown; the next refresh tries again
    ({ rooms } = await response.json());
  } catch {
    return; // the server is unreachable for a moment
  }
  const items = rooms.map(({ room, members }) => {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = `/chat/${room}/`;
    link.textContent = room;
    item.append(link, ` · ${members} here`);
    return item;
  });
  if (items.length === 0) {
    const empty = document.createElement('li');
    empty.textContent = 'No one is chatting right now. Join a room to start one.';
    items.push(empty);
  }
  list.replaceChildren(...items);
}

function room(name) {
  document.getElementById('room').hidden = false;
  document.getElementById('room-title').textContent = `# ${name}`;
  document.title = `${name} · Chat · bufferevent`;
  const messages = document.getElementById('messages');
  const members = document.getElementById('members');
  const status = document.getElementById('status');
  const input = document.getElementById('message');
  const seen = new Set();

  // New messages in one go (a joining user gets the whole history at once): the scroll position is
  // read once and set once, so the page lays out once per batch, not once per message.
  const append = (batch) => {
    const fresh = batch.filter((message) => !seen.has(message.id));
    if (fresh.length === 0) return;
    for (const message of fresh) seen.add(message.id);
    const follow = atBottom(messages);
    messages.append(...fresh.slice(-MAX_MESSAGES).map(messageItem));
    while (messages.childElementCount > MAX_MESSAGES) messages.firstElementChild.remove();
    if (follow) messages.scrollTop = messages.scrollHeight;
  };

  const socket = reconnectingSocket(`/ws/chat/${name}/`, {
    onStatus: (text) => (status.textContent = text),
    onMessage: (data) => {
      if (data.type === 'history') append(data.messages);
      else if (data.type === 'message') append([data]);
      else if (data.type === 'presence') {
        members.replaceChildren(
          ...data.users.map((user) => {
            const item = document.createElement('li');
            item.textContent = user;
            return item;
          }),
        );
      } else if (data.type === 'error') status.textContent = data.message;
    },
  });

  document.getElementById('send').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text === '') return;
    if (socket.send({ type: 'message', text })) {
      input.value = '';
      status.textContent = ''; // an earlier refusal (too fast, too long) no longer applies
    } else status.textContent = 'Not connected; your message was kept. Try again in a moment.';
  });
  input.focus();
}

await loadSession();
const match = ROOM_PATH.exec(location.pathname);
if (match) room(match[1]);
else await lobby();
