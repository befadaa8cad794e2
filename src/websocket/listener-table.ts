// The listener table of an EventEmitter that lives long and in large numbers (a WebSocket).
// EventEmitter keeps its listeners in `_events`, an object created with a null prototype, which V8
// keeps in dictionary mode: about 180 bytes of heap for every emitter, used or not. Node's
// EventEmitter reads and writes that table only by property access, `delete` and own keys, so an
// object made by a constructor whose prototype has no properties behaves the same (no inherited
// names: `emit('toString')` finds nothing) while V8 keeps it a small fast-mode object with its
// first few listeners stored inline: about 40% of the cost.
//
// Many sockets never get a listener (a subscriber that only receives publishes; a server whose
// sockets are only counted), so the table is made on the first listener. EventEmitter itself
// accepts `_events` undefined everywhere (emit, listeners, listenerCount, removeListener, ...)
// and would make its dictionary table there; the adders below make the fast one first.
import { EventEmitter } from 'node:events';

function ListenerTable(this: object): void {}
ListenerTable.prototype = Object.create(null) as object;

type Table = { _events: object | undefined };

/** Leaves `emitter`, just constructed, without a table until its first listener. */
export function deferListenerTable(emitter: EventEmitter): void {
  (emitter as unknown as Table)._events = undefined;
}

// Every way to add a listener ends in one of these: once() calls on(), prependOnceListener()
// calls prependListener(), and `on` and `addListener` are two properties holding one function.
const ADDERS = ['on', 'addListener', 'prependListener'] as const;

/** Gives `prototype`'s adders the making of the fast table (see deferListenerTable). */
export function makeListenerTablesOnFirstListener(prototype: EventEmitter): void {
  for (const name of ADDERS) {
    const add = EventEmitter.prototype[name] as (this: EventEmitter, ...args: unknown[]) => EventEmitter;
    Object.defineProperty(prototype, name, {
      value: function (this: EventEmitter, event: unknown, listener: unknown): EventEmitter {
        const emitter = this as unknown as Table;
        if (emitter._events === undefined) {
          emitter._events = new (ListenerTable as unknown as new () => object)();
        }
        return add.call(this, event, listener);
      },
      writable: true,
      configurable: true,
    });
  }
}
