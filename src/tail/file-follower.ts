// Follows one log file by name, like `tail -F`, woken only by inotify on the libevent loop (through
// the engine's WatchHub): the directory is watched for the name (created, moved in, deleted, moved
// away) and the open file for writes. Rules (docs/tail.md):
// - a write → read what was appended, at most readChunkBytes per loop pass (the rest on the next);
// - the file shrank → a 'truncated' notice, read again from its start;
// - the name moved away → keep reading the old file (a writer may still append to it) until a new
//   file appears at the name; then read the old one to its end and follow the new one from its
//   start ('rotated');
// - the name deleted → read the old file to its end, close it, 'waiting' until it is created again;
// - missing at start → 'waiting'; created later → 'opened', followed from its start.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { BuffereventError } from '../errors.ts';
import { Event } from '../event.ts';
import { IN, type InotifyEvent } from '../inotify.ts';
import { lastLineStart, readBacklog } from './backlog.ts';
import { line, notice, type TailItem } from './items.ts';
import type { TailLimits } from './limits.ts';
import { LineSplitter } from './line-splitter.ts';
import type { WatchClient, WatchHub } from './watch-hub.ts';

const DIRECTORY_EVENTS = IN.CREATE | IN.MOVED_TO | IN.DELETE | IN.MOVED_FROM | IN.ONLYDIR;

export interface FollowerCounters {
  /** Times inotify woke this follower (loop passes with events for its watches). */
  wakeups: number;
  /** read() calls on the followed file (backlog reads excluded). */
  reads: number;
}

export class FileFollower implements WatchClient {
  readonly path: string;
  readonly #directory: string;
  readonly #name: string;
  readonly #limits: TailLimits;
  readonly #emit: (items: TailItem[]) => void;
  readonly #splitter: LineSplitter;
  readonly #chunk: Buffer;
  readonly counters: FollowerCounters = { wakeups: 0, reads: 0 };
  readonly #hub: WatchHub;
  #started = false;
  // Activated to read on in the next loop pass when one pass's budget was not enough.
  #continueEvent: Event | undefined;
  #continueQueued = false;
  #directoryWatch = -1;
  #fileWatch = -1;
  #fd = -1;
  #inode = 0;
  #device = 0;
  #position = 0;
  // The name refers to another file now, or no file: leave the current one once it is read to its end.
  #leaveWhenDrained = false;

  constructor(filePath: string, limits: TailLimits, hub: WatchHub, emit: (items: TailItem[]) => void) {
    this.path = filePath;
    this.#hub = hub;
    this.#directory = path.dirname(filePath);
    this.#name = path.basename(filePath);
    this.#limits = limits;
    this.#emit = emit;
    this.#splitter = new LineSplitter(limits.maxLineBytes);
    this.#chunk = Buffer.allocUnsafe(limits.readChunkBytes);
  }

  /** Watches the directory and opens the file if it exists. ERR_TAIL_UNAVAILABLE when the directory cannot be watched. */
  start(): void {
    try {
      this.#directoryWatch = this.#hub.watch(this.#directory, DIRECTORY_EVENTS, this);
    } catch (error) {
      throw new BuffereventError(
        `the directory of this log file cannot be watched (${(error as BuffereventError).systemCode ?? 'error'}): check that it exists and is readable by the server, and the inotify limits`,
        'ERR_TAIL_UNAVAILABLE',
      );
    }
    this.#started = true;
    try {
      this.#continueEvent = new Event(-1, 0, () => {
        this.#continueQueued = false;
        this.#pass();
      });
      if (this.#open(false)) this.#pass();
    } catch (error) {
      this.stop(); // nothing stays watched or open for a follower that did not start
      throw error;
    }
  }

  /** Removes the watches and closes the file. Idempotent. */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#closeFile();
    this.#continueEvent?.free();
    this.#continueEvent = undefined;
    this.#hub.unwatch(this.#directoryWatch, this);
    this.#directoryWatch = -1;
  }

  get watches(): number {
    return (this.#directoryWatch >= 0 ? 1 : 0) + (this.#fileWatch >= 0 ? 1 : 0);
  }

  /** The file's fd while it is open (the inotify fd is the hub's). */
  get openFds(): number {
    return this.#fd >= 0 ? 1 : 0;
  }

  /**
   * What a new viewer starts with: the last lines up to the end of the last complete line read so
   * far (later lines reach it from the follower: no gap, no repeat), or 'waiting' with no file.
   */
  backlog(): TailItem[] {
    if (this.#fd < 0) return [notice('waiting')];
    const end = this.#position - this.#splitter.pendingBytes;
    return readBacklog(this.#fd, end, {
      lines: this.#limits.backlogLines,
      maxBytes: this.#limits.backlogBytes,
      maxLineBytes: this.#limits.maxLineBytes,
    }).map(line);
  }

  /** @internal WatchClient */
  onWatchEvent(event: InotifyEvent): void {
    if (!this.#started) return;
    if (event.mask & IN.Q_OVERFLOW) {
      this.#checkName(); // events were lost: look at the name itself
    } else if (event.wd === this.#directoryWatch && event.name === this.#name) {
      if (event.mask & (IN.CREATE | IN.MOVED_TO)) this.#checkName();
      else if (event.mask & IN.DELETE && this.#fd >= 0) this.#leaveWhenDrained = true;
      // IN.MOVED_FROM: the writer may still append to the moved file; read on until a new one comes.
    }
  }

  /** @internal WatchClient */
  onWatchEventsDone(): void {
    if (!this.#started) return;
    this.counters.wakeups++;
    this.#pass();
  }

  // Compares the file at the name with the open one.
  #checkName(): void {
    let stats;
    try {
      stats = statSync(this.path);
    } catch {
      if (this.#fd >= 0) this.#leaveWhenDrained = true;
      return;
    }
    if (this.#fd < 0) {
      if (this.#open(true)) this.#emit([notice('opened')]);
    } else if (stats.ino !== this.#inode || stats.dev !== this.#device) {
      this.#leaveWhenDrained = true;
    }
  }

  // Opens the file at the name and watches it; false when there is none (or it cannot be read).
  #open(fromStart: boolean): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return false;
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new Error('not a regular file');
      // Gone between open and watch: this throws, and its deletion event is on the way.
      this.#fileWatch = this.#hub.watch(this.path, IN.MODIFY, this);
      this.#fd = fd;
      this.#inode = stats.ino;
      this.#device = stats.dev;
      this.#splitter.reset();
      this.#position = fromStart ? 0 : lastLineStart(fd, stats.size, this.#limits.backlogBytes);
      return true;
    } catch {
      if (this.#fd === fd) this.#closeFile();
      else closeSync(fd);
      return false;
    }
  }

  #closeFile(): void {
    if (this.#fileWatch >= 0) this.#hub.unwatch(this.#fileWatch, this);
    this.#fileWatch = -1;
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  // One bounded step of reading; schedules the next step when there is more.
  #pass(): void {
    if (this.#fd < 0 || !this.#started) return;
    const items: TailItem[] = [];
    try {
      this.#read(items);
    } catch {
      // The file cannot be read any more (EIO, a stale network file): leave it as if it were deleted;
      // its re-creation at the name is picked up as usual.
      this.#flushPartial(items);
      this.#closeFile();
      this.#leaveWhenDrained = false;
      items.push(notice('waiting'));
    }
    if (items.length > 0) this.#emit(items);
  }

  #read(items: TailItem[]): void {
    const size = fstatSync(this.#fd).size;
    if (size < this.#position) {
      this.#flushPartial(items);
      items.push(notice('truncated'));
      this.#position = 0;
    }
    const wanted = Math.min(this.#chunk.length, size - this.#position);
    if (wanted > 0) {
      const got = readSync(this.#fd, this.#chunk, 0, wanted, this.#position);
      this.counters.reads++;
      this.#position += got;
      const lines: string[] = [];
      this.#splitter.push(this.#chunk.subarray(0, got), lines);
      for (const text of lines) items.push(line(text));
    }
    if (this.#position < size) {
      this.#queueContinue();
    } else if (this.#leaveWhenDrained) {
      // Events describe the past: the name may refer to this very file again (deleted and created
      // while this follower had not looked yet, and opened since).
      if (this.#nameIsOpenFile()) this.#leaveWhenDrained = false;
      else this.#switchFile(items);
    }
  }

  #nameIsOpenFile(): boolean {
    try {
      const stats = statSync(this.path);
      return stats.ino === this.#inode && stats.dev === this.#device;
    } catch {
      return false;
    }
  }

  // The current file is read to its end and no longer at the name.
  #switchFile(items: TailItem[]): void {
    this.#flushPartial(items);
    this.#closeFile();
    this.#leaveWhenDrained = false;
    if (this.#open(true)) {
      items.push(notice('rotated'));
      this.#queueContinue();
    } else {
      items.push(notice('waiting'));
    }
  }

  #flushPartial(items: TailItem[]): void {
    const partial = this.#splitter.flush();
    if (partial !== undefined) items.push(line(partial));
  }

  #queueContinue(): void {
    if (this.#continueQueued || !this.#continueEvent) return;
    this.#continueQueued = true;
    this.#continueEvent.activate();
  }
}
