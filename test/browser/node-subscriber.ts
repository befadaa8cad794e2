// A subscriber beside the browser's: a client of the ws package with its own perMessageDeflate
// offer, so one topic has subscribers that agreed different things (another window, no context
// takeover, no compression) and a publish must reach each as its agreement says.
import { WebSocket as WsClient, type PerMessageDeflateOptions } from 'ws';
import { waitFor } from '../helpers.ts';
import { digestOf, type MessageDigest } from './socket-page.ts';
import type { ServerSideConnection, SocketServer } from './socket-servers.ts';

export class NodeSubscriber {
  readonly received: MessageDigest[] = [];

  private constructor(
    private readonly client: WsClient,
    readonly connection: ServerSideConnection,
  ) {
    client.on('message', (data: Buffer, isBinary: boolean) => this.received.push(digestOf(data, isBinary)));
  }

  static async open(
    server: SocketServer,
    perMessageDeflate: false | PerMessageDeflateOptions,
  ): Promise<NodeSubscriber> {
    const target = server.uniqueTarget('/subscribe');
    const client = new WsClient(`${server.directUrl}${target}`, { perMessageDeflate });
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    return new NodeSubscriber(client, await server.connectionFor(target));
  }

  /** What the client's `extensions` says: the agreed parameters. */
  get extensions(): string {
    return this.client.extensions;
  }

  async receivedAll(count: number): Promise<MessageDigest[]> {
    await waitFor(() => this.received.length >= count, 60_000, `${count} messages at the ws client`);
    return this.received;
  }

  async close(server: SocketServer): Promise<void> {
    this.client.close(1000);
    await server.closed(this.connection);
  }
}
