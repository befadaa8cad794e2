// The --help texts, generated from the command table so they cannot drift from what is parsed.
import type { Command } from './command.ts';

export const PROGRAM = 'bufferevent';

function wrap(text: string, indent: string, width = 78): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}

function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows
    .map(([left, right]) => `  ${left.padEnd(width)}  ${wrap(right, ' '.repeat(width + 4)).trimStart()}`)
    .join('\n');
}

/** Top-level commands: the one-word commands and the groups. */
export function programHelp(commands: readonly Command[], groups: Readonly<Record<string, string>>): string {
  const rows: [string, string][] = [];
  for (const command of commands) {
    const [first, second] = command.name.split(' ');
    if (second === undefined) rows.push([first!, command.summary]);
    else if (!rows.some(([left]) => left === first)) rows.push([first!, groups[first!] ?? '']);
  }
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    table(rows),
    '',
    `Run "${PROGRAM} <command> --help" for a command's options.`,
    '',
  ].join('\n');
}

export function groupHelp(group: string, commands: readonly Command[], about: string | undefined): string {
  const members = commands.filter((command) => command.name.startsWith(`${group} `));
  return [
    `Usage: ${PROGRAM} ${group} <command> [options]`,
    '',
    ...(about === undefined ? [] : [wrap(about, ''), '']),
    'Commands:',
    table(members.map((command) => [command.name.slice(group.length + 1), command.summary])),
    '',
    `Run "${PROGRAM} ${group} <command> --help" for a command's options.`,
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const usage = [
    PROGRAM,
    command.name,
    ...command.arguments.map((argument) => `<${argument.name}>`),
    '[options]',
  ];
  const sections = [`Usage: ${usage.join(' ')}`, '', wrap(command.description, ''), ''];
  if (command.arguments.length > 0)
    sections.push(
      'Arguments:',
      table(command.arguments.map((argument) => [`<${argument.name}>`, argument.description])),
      '',
    );
  const options: [string, string][] = command.options.map((option) => [
    option.value === undefined ? `--${option.name}` : `--${option.name} ${option.value}`,
    option.description,
  ]);
  options.push(['--help', 'Show this help.']);
  sections.push('Options:', table(options), '');
  return sections.join('\n');
}
