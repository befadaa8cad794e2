// libevent's flag values, under the names libevent gives them (EV_READ is EV.READ, BEV_EVENT_EOF is BEV.EOF).

/** Event flags (event.h). */
export const EV = Object.freeze({
  TIMEOUT: 0x01,
  READ: 0x02,
  WRITE: 0x04,
  SIGNAL: 0x08,
  PERSIST: 0x10,
  ET: 0x20,
  CLOSED: 0x80,
});

/** Bufferevent event flags (BEV_EVENT_*) and flush modes (BEV_NORMAL, BEV_FLUSH, BEV_FINISHED). */
export const BEV = Object.freeze({
  READING: 0x01,
  WRITING: 0x02,
  EOF: 0x10,
  ERROR: 0x20,
  TIMEOUT: 0x40,
  CONNECTED: 0x80,
  NORMAL: 0,
  FLUSH: 1,
  FINISHED: 2,
});

/** End-of-line styles for EvBuffer.readLine (EVBUFFER_EOL_*). */
export const EOL = Object.freeze({
  ANY: 0,
  CRLF: 1,
  CRLF_STRICT: 2,
  LF: 3,
  NUL: 4,
});

export type EolStyle = (typeof EOL)[keyof typeof EOL];
