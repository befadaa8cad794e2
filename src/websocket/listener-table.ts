// The listener table of an EventEmitter that lives long and in large numbers (a WebSocket).
// EventEmitter keeps its listeners in `_events`, an object created with a null prototype, which V8
// keeps in dictionary mode: about 180 bytes of heap for every emitter, used or not. Node's
// EventEmitter reads and writes that table only by property access, `delete` and own keys, so an
// object made by a constructor whose prototype has no properties behaves the same (no inherited
// names: `emit('toString')` finds nothing) while V8 keeps it a small fast-mode object with its
// first few listeners stored inline: about 40% of the cost.
import type { EventEmitter } from 'node:events';

function ListenerTable(this: object): void {}
ListenerTable.prototype = Object.create(null) as object;

/** Gives `emitter`, just constructed, a fast listener table in place of the dictionary one. */
export function useFastListenerTable(emitter: EventEmitter): void {
  const table = new (ListenerTable as unknown as new () => object)();
  (emitter as unknown as { _events: object })._events = table;
}
