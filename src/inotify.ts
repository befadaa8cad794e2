// Inotify: a Linux inotify instance whose fd an Event watches on the libevent loop (EV.READ |
// EV.PERSIST), so changes to files arrive as loop callbacks instead of by polling. The tail engine
// (src/tail/) follows log files with it.
import { native, type NativeInotify } from './native.ts';
import { BuffereventError } from './errors.ts';

/** inotify(7)'s event and flag bits, as the kernel defines them. */
export const IN = Object.freeze({
  ACCESS: 0x1,
  MODIFY: 0x2,
  ATTRIB: 0x4,
  CLOSE_WRITE: 0x8,
  CLOSE_NOWRITE: 0x10,
  OPEN: 0x20,
  MOVED_FROM: 0x40,
  MOVED_TO: 0x80,
  CREATE: 0x100,
  DELETE: 0x200,
  DELETE_SELF: 0x400,
  MOVE_SELF: 0x800,
  ALL_EVENTS: 0xfff,
  /** Reported only: the file system was unmounted. */
  UNMOUNT: 0x2000,
  /** Reported only, with wd -1: the kernel's event queue overflowed and events were lost. */
  Q_OVERFLOW: 0x4000,
  /** Reported only: the watch was removed (removeWatch, or its file is gone). */
  IGNORED: 0x8000,
  ONLYDIR: 0x1000000,
  DONT_FOLLOW: 0x2000000,
  EXCL_UNLINK: 0x4000000,
  MASK_CREATE: 0x10000000,
  MASK_ADD: 0x20000000,
  /** Reported only: the event is about a directory. */
  ISDIR: 0x40000000,
  ONESHOT: 0x80000000,
});

export interface InotifyEvent {
  /** The watch it is about (-1 for IN.Q_OVERFLOW). */
  wd: number;
  mask: number;
  /** Pairs an IN.MOVED_FROM with its IN.MOVED_TO; 0 otherwise. */
  cookie: number;
  /** The entry's name inside a watched directory; '' for events about the watched file itself. */
  name: string;
}

const WATCH_BITS =
  IN.ALL_EVENTS | IN.ONLYDIR | IN.DONT_FOLLOW | IN.EXCL_UNLINK | IN.MASK_CREATE | IN.MASK_ADD | IN.ONESHOT;

export class Inotify {
  readonly #native: NativeInotify;
  readonly #fd: number;
  #closed = false;

  /** A new instance with its own non-blocking, close-on-exec fd; no watches yet. */
  constructor() {
    this.#native = new native.Inotify();
    this.#fd = this.#native.fd();
  }

  /** The fd to watch for EV.READ. Stays readable until readEvents() has read every event. */
  get fd(): number {
    this.#check();
    return this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Watches `path` for the IN.* events in `mask` and returns the watch descriptor. Watching the same
   * file again returns the same wd (its mask replaced, or combined with IN.MASK_ADD). Fails with
   * ERR_INOTIFY_WATCH carrying errno (ENOENT, EACCES, ENOSPC at the watch limit, ...).
   */
  addWatch(path: string, mask: number): number {
    this.#check();
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
      throw new BuffereventError('path must be a non-empty string without NUL characters', 'ERR_INVALID_ARG');
    }
    if (
      typeof mask !== 'number' ||
      !Number.isInteger(mask) ||
      mask < 1 ||
      mask > 0xffffffff ||
      (mask & ~WATCH_BITS) !== 0 ||
      (mask & IN.ALL_EVENTS) === 0
    ) {
      throw new BuffereventError(
        'mask must combine IN.* event bits (at least one event, e.g. IN.MODIFY | IN.CREATE)',
        'ERR_INVALID_ARG',
      );
    }
    return this.#native.addWatch(path, mask);
  }

  /** Stops a watch; the kernel then reports IN.IGNORED for it. ERR_INOTIFY_WATCH (EINVAL) if it is not active. */
  removeWatch(wd: number): void {
    this.#check();
    if (typeof wd !== 'number' || !Number.isInteger(wd) || wd < 0 || wd > 0x7fffffff) {
      throw new BuffereventError('wd must be a watch descriptor returned by addWatch()', 'ERR_INVALID_ARG');
    }
    this.#native.removeWatch(wd);
  }

  /**
   * The events queued now, oldest first; [] when there are none. Reads at most 64 KiB of records per
   * call: when more are queued the fd stays readable and the next call returns them.
   */
  readEvents(): InotifyEvent[] {
    this.#check();
    const flat = this.#native.readEvents();
    const events: InotifyEvent[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      events.push({
        wd: flat[i] as number,
        mask: flat[i + 1] as number,
        cookie: flat[i + 2] as number,
        name: flat[i + 3] as string,
      });
    }
    return events;
  }

  /** Closes the fd and every watch with it. Idempotent; other methods then throw ERR_FREED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #check(): void {
    if (this.#closed) throw new BuffereventError('this Inotify was closed', 'ERR_FREED');
  }
}
