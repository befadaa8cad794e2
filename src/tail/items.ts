// What a viewer receives: log lines and notices about the file, in the order they happened.
export type TailNoticeKind =
  /** The file does not exist (yet, or any more): it is picked up when it is created. */
  | 'waiting'
  /** The file appeared at its name: following it from its start. */
  | 'opened'
  /** The file shrank (truncated in place, e.g. copy-truncate rotation): read again from its start. */
  | 'truncated'
  /** The name now refers to another file (rotation by rename, or deleted and re-created): the old one was read to its end, the new one is followed from its start. */
  | 'rotated'
  /** This viewer was too slow: `count` lines were dropped from its queue before this point. */
  | 'skipped';

export interface TailLine {
  readonly type: 'line';
  /** Valid text without a line terminator; see docs/tail.md for how bytes become text. */
  readonly text: string;
}

export interface TailNotice {
  readonly type: 'notice';
  readonly notice: TailNoticeKind;
  /** A sentence for people. */
  readonly text: string;
  /** For 'skipped': the number of lines dropped. */
  readonly count?: number;
}

export type TailItem = TailLine | TailNotice;

export function line(text: string): TailLine {
  return { type: 'line', text };
}

const NOTICE_TEXT: Record<Exclude<TailNoticeKind, 'skipped'>, string> = {
  waiting: 'The log file does not exist right now; waiting for it to be created.',
  opened: 'The log file appeared; following it from its start.',
  truncated: 'The log file was truncated; reading it again from its start.',
  rotated: 'The log file was replaced (rotated or re-created); following the new file from its start.',
};

export function notice(kind: Exclude<TailNoticeKind, 'skipped'>): TailNotice {
  return { type: 'notice', notice: kind, text: NOTICE_TEXT[kind] };
}

export function skippedNotice(count: number): TailNotice {
  return {
    type: 'notice',
    notice: 'skipped',
    count,
    text: `Skipped ${count} line${count === 1 ? '' : 's'}: this viewer could not keep up.`,
  };
}
