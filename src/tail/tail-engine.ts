// The tail engine: configured log files, one follower per file shared by all of its viewers
// (started by the first viewer, stopped by the last), and a bounded queue per viewer.
import { BuffereventError } from '../errors.ts';
import { FileFollower } from './file-follower.ts';
import type { TailItem } from './items.ts';
import { resolveTailLimits, type TailLimits } from './limits.ts';
import { LogCatalog, type TailLogsConfig } from './log-catalog.ts';
import type { TailSink } from './sink.ts';
import { TailViewer } from './viewer.ts';
import { WatchHub } from './watch-hub.ts';

export interface TailOpenOptions {
  /** The logged-in user, checked against the file's `users`. */
  user?: string | undefined;
  sink: TailSink;
  /** Called when the sink throws (the viewer is then stopped). Default: a process warning. */
  onError?: ((error: unknown) => void) | undefined;
}

export interface TailEngineStats {
  /** Files being followed (each has at least one viewer). */
  followers: number;
  /** Watches the followers hold: per follower its directory and, while it exists, its file (the kernel
   * shares one watch between followers of files in one directory). */
  watches: number;
  /** fds held: the engine's one inotify fd while any file is followed, and each open file. */
  openFds: number;
  viewers: number;
  /** Summed over the current followers: inotify wakeups and file reads. */
  wakeups: number;
  reads: number;
  /** Lines dropped for slow viewers, over the engine's life. */
  skippedLines: number;
}

interface FollowedFile {
  follower: FileFollower;
  viewers: Set<TailViewer>;
}

export class TailEngine {
  readonly limits: Readonly<TailLimits>;
  readonly #catalog: LogCatalog;
  readonly #files = new Map<string, FollowedFile>();
  readonly #hub = new WatchHub();
  #skippedByStopped = 0;

  /** ERR_TAIL_CONFIG for a bad log list or limit, naming the key. */
  constructor(logs: TailLogsConfig, limits: Partial<TailLimits> = {}) {
    this.#catalog = new LogCatalog(logs);
    this.limits = Object.freeze(resolveTailLimits(limits));
  }

  /** The files `user` may view, for a page's list. */
  logs(user?: string): Array<{ id: string; title: string }> {
    return this.#catalog.visibleTo(user);
  }

  /**
   * Starts a viewer of the file with id `logId` (a client's value: anything but a configured id is
   * refused). Its sink gets the backlog first, then every line as it is written. Throws
   * ERR_TAIL_UNKNOWN_LOG, ERR_TAIL_FORBIDDEN, or ERR_TAIL_UNAVAILABLE (the file's directory cannot
   * be watched).
   */
  open(logId: unknown, options: TailOpenOptions): TailViewer {
    const entry = this.#catalog.resolve(logId, options?.user);
    const sink = requireSink(options?.sink);
    // Keyed by path: two ids configured with the same file still share one follower.
    let file = this.#files.get(entry.path);
    if (file === undefined) {
      const viewers = new Set<TailViewer>();
      const follower = new FileFollower(entry.path, this.limits, this.#hub, (items) =>
        fanOut(viewers, items),
      );
      follower.start(); // throws before anything is kept
      file = { follower, viewers };
      this.#files.set(entry.path, file);
    }
    const followed = file;
    let viewer: TailViewer | undefined;
    try {
      viewer = new TailViewer({
        logId: entry.id,
        user: options.user,
        sink,
        queueLines: this.limits.viewerQueueLines,
        batchLines: this.limits.batchLines,
        onStop: (stopped) => this.#viewerStopped(followed, stopped),
        onError: options.onError ?? ((error) => process.emitWarning(`tail viewer stopped: ${String(error)}`)),
      });
      followed.viewers.add(viewer);
      viewer.deliver(followed.follower.backlog());
    } catch (error) {
      // The sink's onDrain threw, or the backlog could not be read: nothing of this viewer stays.
      if (viewer) viewer.stop();
      else if (followed.viewers.size === 0) this.#stopFollower(followed);
      throw error;
    }
    return viewer;
  }

  stats(): TailEngineStats {
    const stats: TailEngineStats = {
      followers: this.#files.size,
      watches: 0,
      openFds: this.#hub.openFds,
      viewers: 0,
      wakeups: 0,
      reads: 0,
      skippedLines: this.#skippedByStopped,
    };
    for (const { follower, viewers } of this.#files.values()) {
      stats.watches += follower.watches;
      stats.openFds += follower.openFds;
      stats.viewers += viewers.size;
      stats.wakeups += follower.counters.wakeups;
      stats.reads += follower.counters.reads;
      for (const viewer of viewers) stats.skippedLines += viewer.stats().skippedLines;
    }
    return stats;
  }

  /** Stops every viewer (and so every follower). */
  close(): void {
    for (const { viewers } of [...this.#files.values()]) for (const viewer of [...viewers]) viewer.stop();
  }

  #viewerStopped(file: FollowedFile, viewer: TailViewer): void {
    if (!file.viewers.delete(viewer)) return;
    this.#skippedByStopped += viewer.stats().skippedLines;
    if (file.viewers.size === 0) this.#stopFollower(file);
  }

  #stopFollower(file: FollowedFile): void {
    file.follower.stop();
    this.#files.delete(file.follower.path);
  }
}

function requireSink(sink: unknown): TailSink {
  const candidate = sink as Partial<TailSink> | null | undefined;
  if (typeof candidate?.write !== 'function' || typeof candidate.onDrain !== 'function') {
    throw new BuffereventError(
      'options.sink must be an object with write(batch) and onDrain(listener) (see webSocketSink)',
      'ERR_INVALID_ARG',
    );
  }
  return candidate as TailSink;
}

function fanOut(viewers: ReadonlySet<TailViewer>, items: TailItem[]): void {
  for (const viewer of viewers) viewer.deliver(items);
}
