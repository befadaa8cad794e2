// `bufferevent user add|passwd|remove|list`: the users file from the command line. Which file:
// --users-file, else the config file's "usersFile" (--config), else ./bufferevent-users.json.
import path from 'node:path';
import { DEFAULT_USERS_FILE, loadConfig } from '../config.ts';
import { UsersFile } from '../users-file.ts';
import { validateUsername } from '../usernames.ts';
import { refuseTogether } from './args.ts';
import { generatePassword, promptNewPassword, readPasswordFromStdin } from './password-input.ts';
import { EXIT, type Command, type CommandContext, type OptionSpec } from './command.ts';

const FILE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'users-file',
    value: 'PATH',
    description: `The users file (default: "usersFile" of --config, else ./${DEFAULT_USERS_FILE}).`,
  },
  { name: 'config', value: 'PATH', description: 'The server config file, to find the users file in.' },
];

const PASSWORD_OPTIONS: readonly OptionSpec[] = [
  { name: 'password-stdin', description: 'Read the password from stdin (a pipe) instead of prompting.' },
  { name: 'generate', description: 'Generate a random password and print it once.' },
];

const NAME = { name: 'name', description: 'The username: 1 to 64 letters, digits, ".", "_", "-", "@".' };

export async function usersFileOf({
  options,
  io,
}: Pick<CommandContext, 'options' | 'io'>): Promise<UsersFile> {
  if (typeof options['users-file'] === 'string')
    return new UsersFile(path.resolve(io.cwd, options['users-file']));
  if (typeof options.config === 'string') {
    const config = await loadConfig(path.resolve(io.cwd, options.config));
    return new UsersFile(config.usersFile);
  }
  return new UsersFile(path.resolve(io.cwd, DEFAULT_USERS_FILE));
}

/** The new password from --generate, --password-stdin or the prompt, and whether it must be shown. */
async function newPassword(context: CommandContext, name: string): Promise<[string, boolean]> {
  if (context.options.generate === true) return [generatePassword(), true];
  if (context.options['password-stdin'] === true) return [await readPasswordFromStdin(context.io), false];
  return [await promptNewPassword(context.io, name), false];
}

function printGenerated(context: CommandContext, name: string, password: string): void {
  context.io.stdout.write(`Password for ${name} (shown once, stored only as a hash): ${password}\n`);
}

export const userAdd: Command = {
  name: 'user add',
  summary: 'Add a user who can log in',
  description:
    'Adds <name> to the users file (created with mode 0600 if missing). The password is typed twice ' +
    'at a terminal without echo, read from stdin with --password-stdin, or generated with --generate; ' +
    'it is never taken as an argument. Only its scrypt hash is stored.',
  arguments: [NAME],
  options: [
    ...FILE_OPTIONS,
    ...PASSWORD_OPTIONS,
    { name: 'admin', description: 'Make the user an administrator (may see /metrics).' },
  ],
  async run(context) {
    refuseTogether(context.options, 'generate', 'password-stdin');
    const name = validateUsername(context.args[0]);
    const users = await usersFileOf(context);
    // Checked before asking for a password, so nobody types one for nothing.
    await users.assertAbsent(name);
    const [password, generated] = await newPassword(context, name);
    await users.add(name, password, { admin: context.options.admin === true });
    context.io.stdout.write(`Added user ${name} to ${users.path}\n`);
    if (generated) printGenerated(context, name, password);
    return EXIT.ok;
  },
};

export const userPasswd: Command = {
  name: 'user passwd',
  summary: "Change a user's password",
  description:
    "Replaces <name>'s password (typed twice without echo, --password-stdin or --generate). Sessions " +
    'already logged in stay valid until they expire or the user logs out.',
  arguments: [NAME],
  options: [...FILE_OPTIONS, ...PASSWORD_OPTIONS],
  async run(context) {
    refuseTogether(context.options, 'generate', 'password-stdin');
    const name = validateUsername(context.args[0]);
    const users = await usersFileOf(context);
    // Fails before the prompt when there is no such user.
    await users.assertPresent(name);
    const [password, generated] = await newPassword(context, name);
    await users.setPassword(name, password);
    context.io.stdout.write(`Changed the password of ${name} in ${users.path}\n`);
    if (generated) printGenerated(context, name, password);
    return EXIT.ok;
  },
};

export const userRemove: Command = {
  name: 'user remove',
  summary: 'Remove a user',
  description: 'Removes <name> from the users file. It can no longer log in.',
  arguments: [NAME],
  options: FILE_OPTIONS,
  async run(context) {
    const name = validateUsername(context.args[0]);
    const users = await usersFileOf(context);
    await users.remove(name);
    context.io.stdout.write(`Removed user ${name} from ${users.path}\n`);
    return EXIT.ok;
  },
};

export const userList: Command = {
  name: 'user list',
  summary: 'List the users',
  description:
    'Prints one user per line: name, "admin" for administrators, when it was added and last changed.',
  arguments: [],
  options: [...FILE_OPTIONS, { name: 'json', description: 'Print a JSON array instead.' }],
  async run(context) {
    const users = await usersFileOf(context);
    const list = await users.list();
    if (context.options.json === true) {
      context.io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return EXIT.ok;
    }
    if (list.length === 0) {
      context.io.stderr.write(`No users in ${users.path}\n`);
      return EXIT.ok;
    }
    const width = Math.max(4, ...list.map((user) => user.name.length));
    const row = (name: string, role: string, created: string, updated: string): string =>
      `${name.padEnd(width)}  ${role.padEnd(5)}  ${created.padEnd(24)}  ${updated}`.trimEnd() + '\n';
    context.io.stdout.write(row('NAME', 'ROLE', 'CREATED', 'PASSWORD CHANGED'));
    for (const user of list)
      context.io.stdout.write(row(user.name, user.admin ? 'admin' : 'user', user.created, user.updated));
    return EXIT.ok;
  },
};
