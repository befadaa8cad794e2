// evutil_socketpair: two connected, non-blocking, close-on-exec Unix stream sockets.
import { native } from './native.ts';

export function socketpair(): [number, number] {
  return native.socketpair();
}
