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

/** Where a TCP connect starts from (Node's net.connect options of the same names). */
export interface LocalEndpoint {
  /** A numeric IPv4/IPv6 address of this machine to bind the socket to before connecting. */
  localAddress?: string;
  /** The local port (0–65535; 0 or omitted: the kernel picks one). Needs localAddress. */
  localPort?: number;
}

export type ConnectTarget = ({ host: string; port: number } & LocalEndpoint) | { path: string };

export interface ConnectHostnameOptions extends LocalEndpoint {
  /** 0 any (default), 4 IPv4 only, 6 IPv6 only. */
  family?: 0 | 4 | 6;
}

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
