import { describe, expect, it } from 'vitest';
import { BEV, EV, tcpPair, waitFor } from '../helpers.ts';

describe('socket bufferevent over TCP', () => {
  it('echoes bytes written by the client back through the server', async () => {
    const { client, server } = await tcpPair();
    server.setCallbacks({ read: (bev) => bev.output.addBuffer(bev.input) });
    server.enable(EV.READ | EV.WRITE);
    const received: Buffer[] = [];
    client.setCallbacks({ read: (bev) => received.push(bev.read()) });
    client.enable(EV.READ | EV.WRITE);
    client.write('hello, libevent');
    await waitFor(() => Buffer.concat(received).length === 15);
    expect(Buffer.concat(received).toString()).toBe('hello, libevent');
    client.free();
    server.free();
    expect(BEV.EOF).toBe(0x10);
  });
});
