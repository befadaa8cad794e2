// The request object a WebSocketServer hands to verifyClient, handleProtocols and 'connection' when
// its native listener accepted the connection: the fields of Node's IncomingMessage that
// WebSocket code reads, so handlers written for `ws` work unchanged.
import type { HttpHead } from './handshake.ts';

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
