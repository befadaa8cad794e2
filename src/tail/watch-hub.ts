// One inotify instance for all of an engine's followers. Inotify instances are a scarce per-user
// resource (fs.inotify.max_user_instances is 128 on many systems, shared by every process of the
// user), watches are not; so the engine opens one instance, watched by one Event on the libevent
// loop, when its first file is followed and closes it with the last. The kernel gives the same wd
// when one inode is watched twice (two log files in one directory both watch it): each wd keeps the
// set of its clients and is removed only when the last of them lets go.
import { EV } from '../constants.ts';
import { Event } from '../event.ts';
import { IN, Inotify, type InotifyEvent } from '../inotify.ts';

export interface WatchClient {
  /** An event for one of this client's watches, or IN.Q_OVERFLOW (events were lost: look again). */
  onWatchEvent(event: InotifyEvent): void;
  /** After each wakeup in which the client got events. */
  onWatchEventsDone(): void;
}

export class WatchHub {
  #inotify: Inotify | undefined;
  #event: Event | undefined;
  readonly #clients = new Map<number, Set<WatchClient>>();

  /** 1 while the inotify instance is open. */
  get openFds(): number {
    return this.#inotify ? 1 : 0;
  }

  /** Adds a watch for `client` and returns its wd; throws ERR_INOTIFY_INIT or ERR_INOTIFY_WATCH. */
  watch(path: string, mask: number, client: WatchClient): number {
    const inotify = this.#open();
    let wd: number;
    try {
      wd = inotify.addWatch(path, mask);
    } catch (error) {
      this.#closeIfUnused();
      throw error;
    }
    let clients = this.#clients.get(wd);
    if (!clients) this.#clients.set(wd, (clients = new Set()));
    clients.add(client);
    return wd;
  }

  /** Lets go of `client`'s watch `wd`; the kernel's watch goes with its last client. */
  unwatch(wd: number, client: WatchClient): void {
    const clients = this.#clients.get(wd);
    if (!clients?.delete(client) || clients.size > 0) return;
    this.#clients.delete(wd);
    try {
      this.#inotify?.removeWatch(wd);
    } catch {
      // the kernel removed it already (its file is gone); IN.IGNORED is on its way
    }
    this.#closeIfUnused();
  }

  #open(): Inotify {
    if (this.#inotify) return this.#inotify;
    const inotify = new Inotify();
    this.#inotify = inotify;
    this.#event = new Event(inotify.fd, EV.READ | EV.PERSIST, () => this.#dispatch()).add();
    return inotify;
  }

  #closeIfUnused(): void {
    if (this.#clients.size > 0) return;
    this.#event?.free();
    this.#inotify?.close();
    this.#event = this.#inotify = undefined;
  }

  #dispatch(): void {
    if (!this.#inotify) return;
    const woken = new Set<WatchClient>();
    for (const event of this.#inotify.readEvents()) {
      if (event.mask & IN.Q_OVERFLOW) {
        for (const clients of this.#clients.values()) for (const client of clients) woken.add(client);
        for (const client of woken) client.onWatchEvent(event);
        continue;
      }
      const clients = this.#clients.get(event.wd);
      if (!clients) continue;
      if (event.mask & IN.IGNORED) {
        this.#clients.delete(event.wd); // the kernel dropped the watch: its clients' unwatch is a no-op
        continue;
      }
      for (const client of clients) {
        woken.add(client);
        client.onWatchEvent(event);
      }
    }
    for (const client of woken) client.onWatchEventsDone();
    this.#closeIfUnused();
  }
}
