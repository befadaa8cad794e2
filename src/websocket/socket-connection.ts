// The native WebSocket connections as JavaScript holds them: by id (ConnectionId, see
// native/ws/connection_table.h), a small integer in the WebSocket's own object, rather than by an
// object per connection, which cost each one its header, napi's wrap (an External and a reference)
// and every call an unwrap of `this`. The native side reports an event by id; the WebSocket it is
// for is found here, by the id's slot.
import { native, type ConnectionId } from '../native.ts';

/** The native functions, each taking a connection's id first. */
export const connections = native.WebSocketConnection;
/** What a WebSocket holds when it has no native connection (before open, after close). */
export const NO_CONNECTION: ConnectionId = -1;
/** An id's low bits name its slot in the native table; the rest tell its uses of that slot apart. */
const SLOT_MASK = (1 << 23) - 1;

/**
 * The WebSocket of each open connection, by its id's slot. The native table reuses the last freed
 * slot first, so this array stays as dense as the connections are. What it finds for an id may be
 * a later connection's owner in the same slot: the caller compares ids.
 */
export class ConnectionOwners<Owner> {
  readonly #owners: (Owner | undefined)[] = [];

  set(id: ConnectionId, owner: Owner): void {
    this.#owners[id & SLOT_MASK] = owner;
  }

  get(id: ConnectionId): Owner | undefined {
    return this.#owners[id & SLOT_MASK];
  }

  /** Forgets `owner`, unless its slot holds another's by now. */
  delete(id: ConnectionId, owner: Owner): void {
    if (this.#owners[id & SLOT_MASK] === owner) this.#owners[id & SLOT_MASK] = undefined;
  }
}
