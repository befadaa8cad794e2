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

type Table = { _events: object | undefined; _eventsCount: number };

/**
 * The base of WebSocket: an EventEmitter in every way (prototype chain, statics, `instanceof`)
 * whose constructor sets only `_events`, left undefined until the first listener, and
 * `_eventsCount`. EventEmitter's own constructor also sets `_maxListeners` to undefined and two
 * symbols to what the prototype holds, which its methods read the same when they are missing: three
 * fields, 24 bytes on every socket. With EventEmitter.captureRejections on, the socket keeps the
 * setting it was made under, as EventEmitter's constructor records it.
 */
export const LeanEventEmitter = function LeanEventEmitter(this: Table): void {
  if (EventEmitter.captureRejections) (EventEmitter as unknown as (this: object) => void).call(this);
  this._events = undefined;
  this._eventsCount = 0;
} as unknown as typeof EventEmitter;
Object.setPrototypeOf(LeanEventEmitter.prototype, EventEmitter.prototype);
Object.setPrototypeOf(LeanEventEmitter, EventEmitter);
// EventEmitter reads its capture setting from the instance, which its constructor sets from the
// global one; missing, it would come from EventEmitter.prototype, which follows the global setting
// as it changes. A socket made while it was off stays off, as an EventEmitter would: the setting
// is read here, from our prototype. (Node names the symbol only by its description.)
const captureSymbol = Object.getOwnPropertySymbols(EventEmitter.prototype).find(
  (symbol) => symbol.description === 'kCapture',
);
if (captureSymbol !== undefined) {
  Object.defineProperty(LeanEventEmitter.prototype, captureSymbol, { value: false, writable: true });
}

// Every way to add a listener ends in one of these: once() calls on(), prependOnceListener()
// calls prependListener(), and `on` and `addListener` are two properties holding one function.
const ADDERS = ['on', 'addListener', 'prependListener'] as const;

/** Gives `prototype`'s adders the making of the fast table (see LeanEventEmitter). */
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
