// Shared by the pages: the session (user and CSRF token for the sign-out form) and a WebSocket that
// reconnects with back-off after the server restarts or the network drops.

/** The close code of a WebSocket whose session signed out (src/server/session-group.ts). */
const SIGNED_OUT = 4001;

/** Loads /api/session; sends the browser to the login page when the session is gone. */
export async function loadSession() {
  const response = await fetch('/api/session', { credentials: 'same-origin' });
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    throw new Error('not logged in');
  }
  const session = await response.json();
  for (const input of document.querySelectorAll('form.logout input[name="csrfToken"]'))
    input.value = session.csrfToken;
  return session;
}

/** ws:// or wss:// URL of `path` on this server. */
export function socketUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

/**
 * A WebSocket to `path` that reconnects (1 s, 2 s, 4 s … up to 30 s, with jitter) until `close()`.
 * `handlers`: onOpen(socket), onMessage(data), onStatus(text), onRefused() for a close the server
 * means as final (1008, 4xxx) — it is not retried.
 */
export function reconnectingSocket(path, handlers) {
  let socket = null;
  let attempt = 0;
  let closed = false;
  let timer = null;

  const connect = () => {
    socket = new WebSocket(socketUrl(path));
    socket.addEventListener('open', () => {
      attempt = 0;
      handlers.onStatus?.('');
      handlers.onOpen?.(socket);
    });
    socket.addEventListener('message', (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handlers.onMessage?.(data);
    });
    socket.addEventListener('close', (event) => {
      socket = null;
      if (closed) return;
      if (event.code === SIGNED_OUT) {
        // Signed out in another tab (or by the server): this page's session is over.
        location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
        return;
      }
      if (event.code === 1008 || (event.code >= 4000 && event.code < 5000)) {
        handlers.onStatus?.(`Disconnected: ${event.reason || 'refused by the server'}.`);
        handlers.onRefused?.(event);
        return;
      }
      const delay = Math.min(30_000, 1000 * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt++;
      handlers.onStatus?.(`Connection lost; reconnecting in ${Math.round(delay / 1000)} s…`);
      timer = setTimeout(async () => {
        // A session that ended (logged out elsewhere, server restarted without it) goes to login.
        try {
          const response = await fetch('/api/session', { credentials: 'same-origin' });
          if (response.status === 401) {
            location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
            return;
          }
        } catch {
          // The server is still down: try the socket anyway, it backs off again.
        }
        if (!closed) connect();
      }, delay);
    });
  };
  connect();
  return {
    send(value) {
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(value));
      return true;
    },
    get open() {
      return socket?.readyState === WebSocket.OPEN;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.close(1000);
    },
  };
}

/** Whether `element` is scrolled to (or within a few pixels of) its bottom. */
export function atBottom(element) {
  return element.scrollHeight - element.scrollTop - element.clientHeight < 8;
}
