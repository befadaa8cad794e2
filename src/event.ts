// Event: a raw libevent event on an fd (read/write, optionally persistent, with a timeout), a timer or
// a signal. The callback gets the fd and libevent's flags for what happened (EV.READ, EV.TIMEOUT, ...).
import { constants as osConstants } from 'node:os';
import { native, type NativeEvent } from './native.ts';
import { EV } from './constants.ts';
import { BuffereventError } from './errors.ts';
import { EventBase } from './event-base.ts';
import { requireFd, requireFunction, requireInteger, requireMilliseconds } from './validate.ts';

export type EventCallbackFn = (fd: number, what: number) => void;

export class Event {
  readonly #native: NativeEvent;
  readonly #callback: EventCallbackFn;
  #freed = false;
  // No fd and no signal: only a timeout or activate() can run it.
  readonly #waitsOnNothing: boolean;
  readonly fd: number;

  static {
    native.setHooks({ event: (owner, fd, what) => (owner as Event).#fire(fd, what) });
  }

  /** An event on `fd` for EV.READ and/or EV.WRITE, optionally | EV.PERSIST | EV.ET. Call add() to start it. */
  constructor(fd: number, what: number, callback: EventCallbackFn) {
    const allowed = EV.READ | EV.WRITE | EV.PERSIST | EV.ET | EV.SIGNAL | EV.TIMEOUT | EV.CLOSED;
    if (!Number.isInteger(what) || (what & ~allowed) !== 0) {
      throw new BuffereventError(
        'what must combine EV.READ, EV.WRITE, EV.PERSIST, EV.ET, EV.CLOSED',
        'ERR_INVALID_ARG',
      );
    }
    const watchesFd = (what & (EV.READ | EV.WRITE | EV.CLOSED)) !== 0;
    if (fd === -1 && watchesFd) {
      // libevent accepts it and never fires: an added event that would hold the process forever.
      throw new BuffereventError(
        'an event for EV.READ, EV.WRITE or EV.CLOSED needs an fd (0 or more); without one, use Event.timer() or activate()',
        'ERR_INVALID_FD',
      );
    }
    this.fd =
      what & EV.SIGNAL
        ? requireInteger(fd, 'signal', 1, 64, 'ERR_INVALID_SIGNAL')
        : fd === -1
          ? -1
          : requireFd(fd);
    this.#waitsOnNothing = this.fd === -1;
    this.#callback = requireFunction(callback, 'callback');
    this.#native = new native.Event(this, this.fd, what);
  }

  /** A timer firing after `ms` (every `ms` with persist), already added. */
  static timer(ms: number, callback: EventCallbackFn, options: { persist?: boolean } = {}): Event {
    const timeout = ms === null ? 0 : requireMilliseconds(ms, 'ms');
    const event = new Event(-1, options.persist ? EV.PERSIST : 0, callback);
    return event.add(timeout);
  }

  /** A persistent signal event, already added. libevent takes over the signal's handler while it is added. */
  static signal(signal: number | NodeJS.Signals, callback: EventCallbackFn): Event {
    const number = typeof signal === 'string' ? osConstants.signals[signal] : signal;
    if (number === undefined)
      throw new BuffereventError(`unknown signal ${String(signal)}`, 'ERR_INVALID_SIGNAL');
    return new Event(number, EV.SIGNAL | EV.PERSIST, callback).add();
  }

  /** Makes the event pending, with an optional timeout in ms (event_add). */
  add(timeoutMs?: number): this {
    this.#check();
    if (timeoutMs !== undefined) {
      this.#native.add(requireMilliseconds(timeoutMs, 'timeoutMs'));
    } else if (this.#waitsOnNothing) {
      throw new BuffereventError(
        'an event with no fd and no signal can only fire by its timeout: pass add(timeoutMs), or call activate() to run it',
        'ERR_INVALID_TIMEOUT',
      );
    } else {
      this.#native.add();
    }
    return this;
  }

  /** Makes the event non-pending (event_del). */
  del(): this {
    this.#check();
    this.#native.del();
    return this;
  }

  /** Makes the event active now (event_active); the callback runs from the loop. */
  activate(what: number = EV.TIMEOUT): this {
    this.#check();
    this.#native.activate(requireInteger(what, 'what', 1, 0xff));
    return this;
  }

  /** Whether the event is pending for any of `what` (default: any). */
  pending(what: number = EV.READ | EV.WRITE | EV.SIGNAL | EV.TIMEOUT): boolean {
    this.#check();
    return this.#native.pending(requireInteger(what, 'what', 1, 0xff));
  }

  get priority(): number {
    this.#check();
    return this.#native.getPriority();
  }

  set priority(priority: number) {
    this.#check();
    const base = EventBase.default();
    this.#native.setPriority(
      requireInteger(priority, 'priority', 0, base.priorities - 1, 'ERR_INVALID_PRIORITY'),
    );
  }

  get freed(): boolean {
    return this.#freed;
  }

  /** Deletes and frees the event. Idempotent; the callback never runs after it. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#native.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }

  #check(): void {
    if (this.#freed) throw new BuffereventError('this event was freed', 'ERR_FREED');
  }

  #fire(fd: number, what: number): void {
    if (!this.#freed) this.#callback(fd, what);
  }
}
