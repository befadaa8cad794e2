// The request object a WebSocketServer hands to verifyClient, handleProtocols and 'connection' when
// its native listener accepted the connection: the fields of Node's IncomingMessage that
// WebSocket code reads, so handlers written for `ws` work unchanged.
import type { EvBuffer } from '../evbuffer.ts';
import type { SocketAddress } from '../listener.ts';
import { HandshakeRejection, parseHead, type HttpHead } from './handshake.ts';

const HEAD_END = '\r\n\r\n';

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
 * The request at the start of `input` once its whole head arrived (null before), with the head's
 * length in bytes; nothing is removed from `input`. Throws a HandshakeRejection: 431 for a head
 * over `maxHeaderSize` (also one still incomplete), 400 for a malformed one.
 */
export function readUpgradeRequest(
  input: EvBuffer,
  maxHeaderSize: number,
  peer: SocketAddress,
): { request: UpgradeRequest; headLength: number } | null {
  const headEnd = input.search(HEAD_END);
  const headLength = headEnd + HEAD_END.length;
  if (headEnd < 0 ? input.length > maxHeaderSize : headLength > maxHeaderSize) {
    throw new HandshakeRejection(
      431,
      `the request head exceeds ${maxHeaderSize} bytes`,
      'WS_ERR_HEADER_TOO_LARGE',
    );
  }
  if (headEnd < 0) return null;
  const head = parseHead(input.copyOut(headEnd).toString('latin1'), 'request');
  const request = new UpgradeRequest(head, {
    remoteAddress: peer.address,
    remotePort: peer.port,
    remoteFamily: peer.family,
    encrypted: false,
  });
  return { request, headLength };
}
