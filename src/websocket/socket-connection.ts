// The native connection as a WebSocket holds it. A subclass only so that `socket` is an in-object
// field: set on the native class's own instance after construction, it took a property array of
// its own (40 bytes on every connection), while a JavaScript subclass's instances get in-object
// room for the fields its constructor sets, and napi's link to the native object fits there too.
import { native, type NativeBufferevent, type NativeWebSocketOptions } from '../native.ts';

export class SocketConnection extends native.WebSocketConnection {
  declare socket: object;

  /** `socket` is what the native side's events are reported for (the dispatcher reads it). */
  constructor(bufferevent: NativeBufferevent, options: NativeWebSocketOptions, socket: object) {
    super(bufferevent, options);
    // Before any event can come: the first is reported on the next pass at the earliest.
    this.socket = socket;
  }
}
