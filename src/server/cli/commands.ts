// Every command of the `bufferevent` program, in the order `bufferevent --help` lists them. A new
// command is one module exporting a Command, added here.
import type { Command } from './command.ts';
import { serveCommand } from './serve-command.ts';
import { userAdd, userList, userPasswd, userRemove } from './user-commands.ts';

export const COMMANDS: readonly Command[] = [serveCommand, userAdd, userPasswd, userRemove, userList];

/** What a group name (the first word of two-word commands) is about, for its --help. */
export const GROUPS: Readonly<Record<string, string>> = {
  user: 'Manage the users who can log in (the users file)',
};
