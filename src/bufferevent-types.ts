// The option types of Bufferevent, apart from the class so that it stays about behaviour. (The
// callback types live with the class: they name it.)
export interface SocketOptions {
  /** An existing connected or connecting socket (made non-blocking). Omit to create one on connect(). */
  fd?: number;
  /** Close the fd when the bufferevent is freed (BEV_OPT_CLOSE_ON_FREE). Default true. */
  closeOnFree?: boolean;
  /** Run callbacks from the loop rather than in the middle of libevent's work (BEV_OPT_DEFER_CALLBACKS). Default true. */
  deferCallbacks?: boolean;
  /**
   * Read up to this many bytes per wakeup instead of libevent's 4096 (e.g. 65536). The read high
   * watermark and rate limits still hold. Default 0: libevent's own reads.
   */
  maxReadPerWakeup?: number;
  /**
   * When the output is empty, write() sends at once and queues only what the kernel did not take.
   * Write callbacks and the write low watermark behave as if the bytes had passed through the output.
   */
  writeThrough?: boolean;
}

export type ConnectTarget = { host: string; port: number } | { path: string };

export interface Watermark {
  low: number;
  high: number;
}

export interface Timeouts {
  /** Idle read timeout in ms; null or 0 for none; omitted keeps the current value. */
  read?: number | null;
  write?: number | null;
}

export type BuffereventKind = 'socket' | 'pair' | 'filter';

export interface FilterOptions {
  /** Free the underlying bufferevent with the filter (BEV_OPT_CLOSE_ON_FREE). Default true. */
  closeOnFree?: boolean;
}
