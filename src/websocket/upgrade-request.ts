// The request object a WebSocketServer hands to verifyClient, handleProtocols and 'connection' when
// its native listener accepted the connection: the fields of Node's IncomingMessage that
// WebSocket code reads, so handlers written for `ws` work unchanged.
import type { Bufferevent } from '../bufferevent.ts';
import type { SocketAddress } from '../listener.ts';
import { native } from '../native.ts';
import { buffereventHandles } from '../native-handles.ts';
import { HandshakeRejection, parseHead, type HttpHead } from './handshake.ts';

/** What native wsReadRequestHead answers instead of a head (native/ws/handshake_head.h). */
const HEAD_INCOMPLETE = 0;
const HEAD_TOO_LARGE = 1;
/** The blank line ending a head, which wsReadRequestHead leaves out of the text it returns. */
const HEAD_END_LENGTH = 4;

export interface UpgradeRequestSocket {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: 'IPv4' | 'IPv6' | undefined;
  encrypted: false;
}

export class UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: Record<string, string>;
  readonly rawHeaders: string[];
  readonly socket: UpgradeRequestSocket;

  constructor(head: HttpHead, socket: UpgradeRequestSocket) {
    [this.method, this.url] = head.startLine;
    this.httpVersion = head.httpVersion;
    this.headers = head.headers;
    this.rawHeaders = head.rawHeaders;
    this.socket = socket;
  }
}

/**
 * The request at the start of the bufferevent's input once its whole head arrived (null before),
 * with the head's length in bytes (the blank line included). With `drain` the head is removed from
 * the input, otherwise nothing is. Throws a HandshakeRejection: 431 for a head over `maxHeaderSize`
 * (also one still incomplete), 400 for a malformed one.
 */
export function readUpgradeRequest(
  bufferevent: Bufferevent,
  maxHeaderSize: number,
  peer: SocketAddress,
  drain: boolean,
): { request: UpgradeRequest; headLength: number } | null {
  const text = native.wsReadRequestHead(
    buffereventHandles.of(bufferevent, 'bufferevent'),
    maxHeaderSize,
    drain,
  );
  if (text === HEAD_TOO_LARGE) {
    throw new HandshakeRejection(
      431,
      `the request head exceeds ${maxHeaderSize} bytes`,
      'WS_ERR_HEADER_TOO_LARGE',
    );
  }
  if (text === HEAD_INCOMPLETE) return null;
  const request = new UpgradeRequest(parseHead(text, 'request'), {
    remoteAddress: peer.address,
    remotePort: peer.port,
    remoteFamily: peer.family,
    encrypted: false,
  });
  return { request, headLength: text.length + HEAD_END_LENGTH };
}
