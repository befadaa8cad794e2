// EventBase: the libevent event_base this thread's Node environment runs inside its own loop.
import { native, type NativeStats } from './native.ts';
import { BuffereventError } from './errors.ts';
import { requireMilliseconds } from './validate.ts';

export type EventBaseStats = NativeStats;

export interface DnsOptions {
  /** Name servers as "IP" or "IP:port", replacing those from /etc/resolv.conf. */
  servers?: string[];
  /** Per-attempt timeout in milliseconds. */
  timeoutMs?: number;
  /** Attempts per name server before giving up. */
  attempts?: number;
}

export class EventBase {
  static #default: EventBase | undefined;

  /** The base of this thread (each worker thread has its own). */
  static default(): EventBase {
    EventBase.#default ??= new EventBase();
    return EventBase.#default;
  }

  readonly method: string;
  /** User priorities are 0 (most urgent) to priorities - 1. */
  readonly priorities: number;
  readonly defaultPriority: number;
  readonly libeventVersion: string = native.libeventVersion;

  private constructor() {
    const info = native.baseInfo();
    this.method = info.method;
    this.priorities = info.priorities;
    this.defaultPriority = info.defaultPriority;
  }

  /** Loop passes, wakeups and live objects (the tests use these counts). */
  stats(): EventBaseStats {
    return native.baseStats();
  }

  /** Configures the resolver used by Bufferevent.connectHostname. */
  configureDns(options: DnsOptions): void {
    if (typeof options !== 'object' || options === null) {
      throw new BuffereventError(
        'options must be an object { servers?, timeoutMs?, attempts? }',
        'ERR_INVALID_ARG',
      );
    }
    const checked: DnsOptions = {};
    if (options.servers !== undefined) {
      if (!Array.isArray(options.servers) || options.servers.some((server) => typeof server !== 'string')) {
        throw new BuffereventError(
          'servers must be an array of "IP" or "IP:port" strings',
          'ERR_INVALID_DNS_SERVER',
        );
      }
      checked.servers = options.servers;
    }
    if (options.timeoutMs !== undefined) {
      if (requireMilliseconds(options.timeoutMs, 'timeoutMs') === 0) {
        throw new BuffereventError('timeoutMs must be above 0', 'ERR_INVALID_TIMEOUT');
      }
      checked.timeoutMs = options.timeoutMs;
    }
    if (options.attempts !== undefined) {
      if (!Number.isInteger(options.attempts) || options.attempts < 1 || options.attempts > 255) {
        throw new BuffereventError('attempts must be an integer from 1 to 255', 'ERR_INVALID_ARG');
      }
      checked.attempts = options.attempts;
    }
    native.configureDns(checked);
  }
}
