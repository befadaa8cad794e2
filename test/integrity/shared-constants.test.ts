// Constants that C++ and TypeScript both use are written on both sides; this test is what keeps the
// two copies equal: libevent's flags against the headers the addon was built with, and the binding's
// own callback ids, event kinds and opcodes by reading both sources.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BEV, EOL, EV } from '../../src/index.ts';
import { native } from '../../src/native.ts';

const root = new URL('../../', import.meta.url);
const source = (file: string) => readFileSync(new URL(file, root), 'utf8');

/** The members of `enum [class] name [: type] { ... }` in C++, as { Name: value } without the k prefix. */
function cppEnum(file: string, name: string): Record<string, number> {
  const match = new RegExp(`enum(?:\\s+class)?\\s+${name}\\b[^{]*\\{([^}]*)\\}`).exec(source(file));
  if (!match) throw new Error(`enum ${name} not found in ${file}`);
  return members(match[1]!.replace(/\/\/[^\n]*/g, ''), (member) => member.replace(/^k/, ''));
}

/** The members of `const enum name { ... }` in TypeScript. */
function tsEnum(file: string, name: string): Record<string, number> {
  const match = new RegExp(`const enum ${name} \\{([^}]*)\\}`).exec(source(file));
  if (!match) throw new Error(`const enum ${name} not found in ${file}`);
  return members(match[1]!, (member) => member);
}

function members(body: string, rename: (name: string) => string): Record<string, number> {
  const result: Record<string, number> = {};
  let next = 0;
  for (const entry of body.split(',')) {
    const [rawName, rawValue] = entry.split('=').map((part) => part.trim());
    if (!rawName) continue;
    const value = rawValue === undefined ? next : Number(rawValue);
    result[rename(rawName)] = value;
    next = value + 1;
  }
  return result;
}

describe('libevent flags in src/constants.ts', () => {
  const headers = native.libeventConstants;

  it('match EV_* from event2/event.h', () => {
    for (const [name, value] of Object.entries(EV))
      expect([name, value]).toEqual([name, headers[`EV_${name}`]]);
  });

  it('match BEV_EVENT_* and the flush modes from event2/bufferevent.h', () => {
    for (const [name, value] of Object.entries(BEV)) {
      const header = ['NORMAL', 'FLUSH', 'FINISHED'].includes(name) ? `BEV_${name}` : `BEV_EVENT_${name}`;
      expect([name, value]).toEqual([name, headers[header]]);
    }
  });

  it('match EVBUFFER_EOL_* from event2/buffer.h', () => {
    for (const [name, value] of Object.entries(EOL)) {
      expect([name, value]).toEqual([name, headers[`EVBUFFER_EOL_${name}`]]);
    }
  });
});

describe("the binding's own ids, C++ against TypeScript", () => {
  it.each([
    ['native/buffer_event.h', 'BuffereventCallback', 'src/bufferevent.ts', 'Callback'],
    ['native/listener.cc', 'ListenerCallback', 'src/listener.ts', 'ListenerCallback'],
    ['native/ws/connection.h', 'ConnectionEvent', 'src/websocket/websocket.ts', 'NativeEvent'],
    ['native/ws/frame.h', 'Opcode', 'src/websocket/websocket.ts', 'Opcode'],
  ])('%s %s equals %s %s', (cppFile, cppName, tsFile, tsName) => {
    const cpp = cppEnum(cppFile, cppName);
    const ts = tsEnum(tsFile, tsName);
    expect(Object.keys(ts).length).toBeGreaterThan(1);
    for (const [name, value] of Object.entries(ts)) expect([name, value]).toEqual([name, cpp[name]]);
  });
});
